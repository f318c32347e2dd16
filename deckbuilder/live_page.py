"""The live preview page of build-deck serve: the preview page (preview.py), a page of cards at a time,
with the last build's problems at the top, the cards it changed marked, and a script that waits for the
next build and reloads the page's content in place: the scroll position stays, the changed card is
brought into view, the night-mode and phone-width switches keep their state.

Images are not embedded: the cards' <img src="name.svg"> load from the server, by the names they have
in the package, as in Anki. The page is paged (NOTES_PER_PAGE source cards each): a deck of 10,000
cards makes some 70,000 card sides, far more than a browser lays out quickly. After a build the page
fetches only the cards that changed, when nothing else moved, and the browser lays out only the cards
in view (content-visibility): an edit shows in a fraction of a second.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

from .errors import Problem
from .preview import card_count, note_block, page_html, sections
from .render.rendered import RenderedCard

NOTES_PER_PAGE = 50


@dataclass(frozen=True)
class LiveState:
    """What the page shows besides the cards: the build it comes from and what that build found."""

    version: int = 0  # one more with every build shown
    problems: tuple[Problem, ...] = ()  # of the last build, as the terminal shows them
    failed: bool = False  # the last build had errors: the cards shown are the last good build's
    changed: frozenset[str] = field(default_factory=frozenset)  # card ids the last good build changed


def page_order(rendered: list[RenderedCard]) -> list[tuple[int, str, RenderedCard]]:
    """(section number, section name, card) in the order the pages show them."""
    return [(i, name, card) for i, (name, cards) in enumerate(sections(rendered).items(), 1) for card in cards]


def page_count(order: list) -> int:
    return max(1, -(-len(order) // NOTES_PER_PAGE))


def page_of(rendered: list[RenderedCard], card_id: str) -> int | None:
    """The page showing the card with this id (None: no such card)."""
    position = 0
    for cards in sections(rendered).values():
        for card in cards:
            if card.source.id == card_id:
                return position // NOTES_PER_PAGE + 1
            position += 1
    return None


def live_page_html(rendered: list[RenderedCard], deck_name: str, page: int, state: LiveState, nonce: str,
                   only: frozenset[str] | None = None) -> str:  # fmt: skip
    """Page ``page`` (from 1; out of range: the nearest) of the live preview; ``only``: with just these
    cards in it, for the page to put in place of its own (a card changed: the page stays as it is)."""
    order = page_order(rendered)
    pages = page_count(order)
    page = min(max(page, 1), pages)
    starts: dict[int, tuple[int, str]] = {}  # section number -> (its first page, its name)
    for position, (i, name, _) in enumerate(order):
        starts.setdefault(i, (position // NOTES_PER_PAGE + 1, name))
    shown = order[(page - 1) * NOTES_PER_PAGE : page * NOTES_PER_PAGE]
    toc = " · ".join(
        f'<a href="?page={first}#section-{i}">{html.escape(name)}</a>' for i, (first, name) in starts.items()
    )
    bar = (
        f'<span class="preview-toc" id="preview-toc">{card_count(rendered)} cards: {toc}</span>\n'
        f"{_pager(page, pages)}\n"
        '<span class="preview-status" id="preview-status" role="status">live</span>'
    )
    layout = [[i, [card.source.id for j, _, card in shown if j == i]] for i in dict.fromkeys(i for i, _, _ in shown)]
    data = json.dumps({"version": state.version, "page": page, "layout": layout}).replace("<", "\\u003c")
    script = (
        f'\n<script type="application/json" id="preview-live">{data}</script>'
        f'\n<script nonce="{nonce}">{LIVE_JS}</script>'
    )
    head = f"\n<style>{LIVE_CSS}</style>"
    if only is not None:
        shown = [(i, name, card) for i, name, card in shown if card.source.id in only]
    main = _cards(shown, starts, page, state.changed) if shown else '<p class="preview-empty">No cards yet.</p>'
    return page_html(deck_name, bar, main, head, problems_banner(state), script, nonce)


def _cards(shown: list, starts: dict, page: int, changed: frozenset[str]) -> str:
    parts, open_section = [], None
    for i, name, card in shown:
        if i != open_section:
            if open_section is not None:
                parts.append("</section>")
            starts_here = starts[i][0] == page
            heading = f'<h2 id="section-{i}">' if starts_here else "<h2>"
            parts.append(f"<section>{heading}{html.escape(name)}{'' if starts_here else ' (continued)'}</h2>")
            open_section = i
        css_class = "preview-note preview-changed" if card.source.id in changed else "preview-note"
        parts.append(note_block(card, {}, css_class))
    parts.append("</section>")
    return "".join(parts)


def _pager(page: int, pages: int) -> str:
    if pages == 1:
        return '<nav class="preview-pager" id="preview-pager"></nav>'
    links = [f"page {page} of {pages}:"]
    for label, target, rel in (("first", 1, ""), ("‹ previous", page - 1, "prev"), ("next ›", page + 1, "next")):
        if 1 <= target <= pages and target != page:
            links.append(f'<a href="?page={target}"{f" rel={rel}" if rel else ""}>{label}</a>')
    return f'<nav class="preview-pager" id="preview-pager">{" ".join(links)}</nav>'


def problems_banner(state: LiveState) -> str:
    """The last build's errors and warnings, escaped (card text is untrusted), or an empty placeholder."""
    if not state.problems:
        return '\n<div id="preview-problems"></div>'
    errors = sum(problem.severity == "error" for problem in state.problems)
    warnings = len(state.problems) - errors
    counts = f"{errors} error(s), {warnings} warning(s)"
    if state.failed:
        summary = f"{counts}: the package was not written; the cards below are from the last good build."
    else:
        summary = f"{counts}."
    css_class = "preview-problems" + ("" if state.failed else " preview-warnings-only")
    lines = html.escape("\n".join(map(str, state.problems)))
    return (
        f'\n<div id="preview-problems" class="{css_class}" role="alert">'
        f"<p><strong>{html.escape(summary)}</strong></p><pre>{lines}</pre></div>"
    )


LIVE_CSS = """
.preview-pager a, .preview-status { font-size: 16px; }
.preview-pager a { color: inherit; margin-left: 6px; }
.preview-status { color: #57606a; }
.preview-dark .preview-status { color: #aeb7c0; }
/* The problems stay in view below the bar (its height is set by the script). */
.preview-problems { position: sticky; top: var(--preview-bar-height, 0px); z-index: 1; max-height: 40vh;
  overflow: auto; margin: 0; padding: 8px 12px; border-bottom: 3px solid #cf222e; background: #ffebe9;
  color: #1f2328; font-size: 16px; }
.preview-problems p { margin: 0; }
.preview-problems pre { margin: 4px 0 0; font-size: 15px; white-space: pre-wrap; overflow-wrap: anywhere; }
.preview-problems.preview-warnings-only { border-bottom-color: #9a6700; background: #fff8c5; }
.preview-dark .preview-problems { background: #3b1219; color: #ffdcd7; border-bottom-color: #f85149; }
.preview-dark .preview-problems.preview-warnings-only { background: #3b2e00; color: #f8e3a1;
  border-bottom-color: #d29922; }
/* Cards out of view are not laid out (a page of many cards would take seconds); the size they take
   meanwhile is a guess until they have been shown once. */
.preview-note { content-visibility: auto; contain-intrinsic-size: auto 1200px; }
/* The card the last build changed. */
.preview-note.preview-changed { outline: 3px solid #bf8700; outline-offset: 6px; border-radius: 2px; }
.preview-note.preview-changed > h3::after { content: " \\2014  changed"; font-weight: normal; color: #7d4e00; }
.preview-dark .preview-note.preview-changed > h3::after { color: #e3b341; }
.preview-empty { font-size: 18px; }
"""

# Waits for the next build (a long poll of /changes), then fetches the page holding the card that changed
# (or this page) and puts its parts in place of this page's; plain JavaScript, no build step.
LIVE_JS = r"""
(() => {
const live = JSON.parse(document.getElementById("preview-live").textContent);
// What a build changes (the bar's switches stay, and so do their state and listeners).
const parts = ["preview-card-css", "preview-toc", "preview-pager", "preview-problems", "preview-main"];
const barHeight = () => {
  const bar = document.getElementById("preview-bar");
  return getComputedStyle(bar).position === "sticky" ? bar.getBoundingClientRect().height : 0;
};
function layout() {
  document.body.style.setProperty("--preview-bar-height", barHeight() + "px");
}
// The switches keep their state when the whole page is loaded again, too.
function keepSwitches() {
  for (const id of ["preview-night", "preview-phone"]) {
    const box = document.getElementById(id);
    const saved = sessionStorage.getItem(id);
    if (saved !== null) box.checked = saved === "1";
    box.addEventListener("change", () => { sessionStorage.setItem(id, box.checked ? "1" : "0"); layout(); });
  }
  apply();
}
function top() {
  // Below the bar and the problems: where the reader's eyes are.
  const problems = document.getElementById("preview-problems");
  return Math.max(barHeight(), problems.getBoundingClientRect().bottom);
}
function anchor() {
  // The first card in view, and where it is on the screen.
  const limit = top();
  for (const note of document.querySelectorAll(".preview-note")) {
    const box = note.getBoundingClientRect();
    if (box.bottom > limit) return { id: note.id, offset: box.top };
  }
  return null;
}
function inView(element) {
  const box = element.getBoundingClientRect();
  return box.bottom > top() && box.top < innerHeight;
}
function status(text) {
  const element = document.getElementById("preview-status");
  if (element) element.textContent = text;
}
function layoutOf(doc) {
  return JSON.stringify(JSON.parse(doc.getElementById("preview-live").textContent).layout);
}
function swap(fresh, ids) {
  for (const id of ids) {
    const old = document.getElementById(id), next = fresh.getElementById(id);
    if (old && next) old.replaceWith(document.adoptNode(next));
  }
}
async function fetchPage(page, notes) {
  const only = notes ? `&notes=${notes.map(encodeURIComponent).join(",")}` : "";
  const response = await fetch(`/?page=${page}${only}`, { cache: "no-store" });
  if (!response.ok) throw new Error(`the page: HTTP ${response.status}`);
  return new DOMParser().parseFromString(await response.text(), "text/html");
}
async function reload(news) {
  const page = news.page || live.page;
  const kept = page === live.page ? anchor() : null;
  // Only the cards that changed, when the page holds them and nothing else moved; else the whole page.
  const shown = id => document.getElementById(`card-${id}`);
  const here = page === live.page && !news.many ? news.changed.filter(shown) : null;
  let fresh = await fetchPage(page, here);
  if (here && layoutOf(fresh) === JSON.stringify(live.layout)) {
    swap(fresh, ["preview-card-css", "preview-toc", "preview-pager", "preview-problems"]);
    for (const note of document.querySelectorAll(".preview-changed")) note.classList.remove("preview-changed");
    swap(fresh, here.map(id => `card-${id}`));
  } else {
    if (here) fresh = await fetchPage(page, null);
    swap(fresh, parts);
  }
  apply();  // the night-mode classes on the new cards
  const data = JSON.parse(fresh.getElementById("preview-live").textContent);
  Object.assign(live, { version: data.version, page: data.page, layout: data.layout });
  if (Number(new URLSearchParams(location.search).get("page") || 1) !== data.page) {
    history.replaceState(null, "", `?page=${data.page}`);
  }
  layout();
  const moved = kept && document.getElementById(kept.id);
  if (moved) await scrollUntil(moved, () => kept.offset);
  const changed = document.querySelector(".preview-changed");
  if (changed && !inView(changed)) await scrollUntil(changed, () => top() + 8);
  await new Promise(requestAnimationFrame);
  window.previewShown = { version: live.version, at: Date.now() };  // for the benchmark
}
async function scrollUntil(element, where) {
  // Cards that scrolling brings into view are laid out a frame later, and only then take their real
  // height instead of the guess: after a scroll, scroll again until the element stays where it should be.
  const frame = () => new Promise(requestAnimationFrame);
  for (let attempt = 0; attempt < 10; attempt++) {
    const off = element.getBoundingClientRect().top - where();
    if (Math.abs(off) < 1) return;
    window.scrollBy(0, off);
    await frame();
    await frame();
  }
}
async function follow() {
  for (;;) {
    try {
      const response = await fetch(`/changes?since=${live.version}`, { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const news = await response.json();
      if (news.version !== live.version) await reload(news);
      status(news.building ? "live: building..." : `live: build ${news.builds}${news.failed ? " has errors" : ""}`);
    } catch (error) {
      status("not connected: is build-deck serve running? retrying...");
      await new Promise(resolve => setTimeout(resolve, 1000));
    }
  }
}
keepSwitches();
layout();
addEventListener("resize", layout);
window.previewShown = { version: live.version, at: Date.now() };
follow();
})();
"""

"""The deck in the real Anki desktop: what a learner sees and studies there.

Anki (aqt, Qt WebEngine) runs under Xvfb with a throwaway profile (tests/anki_desktop.py);
packages go through Anki's own import dialog with its default options, cards are shown by
its reviewer and studied with its scheduler, and the checks run as JavaScript in the
reviewer's page. Screenshots go to test-artifacts/anki-desktop/.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml
from anki_desktop import PHONE_WIDTH, AnkiDesktop
from click.testing import CliRunner

from deckbuilder import BuildOptions, build
from deckbuilder.cli import main

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-artifacts" / "anki-desktop"
MODES = {"light": False, "night": True}
SIDES = {"question": False, "answer": True}

# The cards the reviewer checks run on: the first card, of the named card file if it has
# one, else of the deck, that shows what the check needs (see PICK).
REVIEWED = {
    "code": ("sparse-vs-categorical-crossentropy", "Q&A with code"),  # a line that wraps on a phone
    "cloze-in-code": ("sparse-vs-categorical-crossentropy", "blank in code"),
    "diagram": ("transfer-learning", "blank in code, diagram"),  # also the README's card
    "mathjax": ("batch-normalization", "math"),
}

# `-m desktop` selects this tier, `-m "not desktop"` leaves it out (the marker is registered in setup.cfg).
pytestmark = pytest.mark.desktop


# --- the cards folder ---------------------------------------------------------------------


def deck_name(cards: Path) -> str:
    return yaml.safe_load((cards / "deck.yaml").read_text(encoding="utf-8"))["name"]


def card_files(cards: Path) -> dict[str, Path]:
    """{card id: file relative to the cards folder}, in file order."""
    files = {}
    for path in sorted(cards.rglob("*.md")):
        found = re.search(r"^id:\s*(\S+)", path.read_text(encoding="utf-8"), re.MULTILINE)
        if found:
            files[found.group(1)] = path.relative_to(cards)
    return files


def build_to(cards: Path, output: Path, cache: Path) -> Path:
    build(BuildOptions(cards_dir=cards, media_dir=ROOT / "media", output=output, cache_dir=cache))
    return output


def build_with_cli(cards: Path, output: Path) -> str:
    """Build as a user does, with the command line; returns what it printed."""
    args = ["--cards", str(cards), "--media", str(ROOT / "media"), "-o", str(output)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.output


# --- Anki ---------------------------------------------------------------------------------


def start_anki(base: Path, display: str, scale: float = 1):
    """Anki with a fresh profile; stopped by the caller."""
    return AnkiDesktop(base, display, scale)


@pytest.fixture
def anki(tmp_path, display):
    """A fresh Anki for one test: an empty collection."""
    app = start_anki(tmp_path / "anki", display)
    yield app
    app.stop()


@pytest.fixture(scope="module")
def bundled_apkg(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("bundled")
    return build_to(ROOT / "cards", tmp / "deck.apkg", tmp / "cache")


# --- 1. the reviewer at phone width, light and night ----------------------------------------

INSPECT_JS = r"""(() => {
const qa = document.getElementById("qa");
const root = document.scrollingElement;

// The text of the card without its <style>: what a learner can read (hidden parts too).
const copy = qa.cloneNode(true);
copy.querySelectorAll("style, script").forEach(e => e.remove());
const text = copy.textContent;

// Colours that must change between light and night mode.
const colours = {};
const pre = qa.querySelector("pre");
if (pre) colours["code background"] = getComputedStyle(pre).backgroundColor;
for (const span of qa.querySelectorAll("pre span[class]")) {
  const key = `code .${span.className}`;
  if (!(key in colours)) colours[key] = getComputedStyle(span).color;
}

// Visual lines of a range: its client rects grouped by line (a rect whose middle lies
// inside the current line's box is on that line); each line's left edge.
function visualLines(range) {
  const rects = [...range.getClientRects()].filter(r => r.width > 0.5).sort((a, b) => a.top - b.top);
  const lines = [];
  for (const r of rects) {
    const line = lines[lines.length - 1];
    const middle = (r.top + r.bottom) / 2;
    if (line && middle > line.top && middle < line.bottom) line.left = Math.min(line.left, r.left);
    else lines.push({ top: r.top, bottom: r.bottom, left: r.left });
  }
  return lines.map(l => l.left);
}

// The source lines of a code block, as pieces [text node, from, to]: a line ends at a
// newline or where a block box (a line element of its own) starts or ends.
function sourceLines(code) {
  const blockOf = node => {
    let e = node.parentElement;
    while (e !== code && /^(inline|contents)/.test(getComputedStyle(e).display)) e = e.parentElement;
    return e;
  };
  const lines = [];
  let line = null, block = null;
  const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
  for (let node; (node = walker.nextNode());) {
    if (blockOf(node) !== block) [line, block] = [null, blockOf(node)];
    for (let from = 0; ;) {
      const newline = node.data.indexOf("\n", from);
      const to = newline === -1 ? node.data.length : newline;
      if (to > from) {
        if (!line) lines.push((line = []));
        line.push([node, from, to]);
      }
      if (newline === -1) break;
      [line, from] = [null, newline + 1];
    }
  }
  return lines;
}

// Every source line of every code block that wraps: where its text starts (after the
// indentation) and where each continuation starts.
function wrappedLines() {
  const found = [];
  for (const code of qa.querySelectorAll("pre code")) {
    for (const pieces of sourceLines(code)) {
      const text = pieces.map(([node, from, to]) => node.data.slice(from, to)).join("");
      if (!text.trim()) continue;
      // The first and last non-blank characters, as DOM points.
      const point = at => {
        for (const [node, from, to] of pieces) {
          if (at <= to - from) return [node, from + at];
          at -= to - from;
        }
      };
      const range = document.createRange();
      range.setStart(...point(text.length - text.trimStart().length));
      range.setEnd(...point(text.trimEnd().length));
      const lefts = visualLines(range);
      if (lefts.length > 1) found.push({ line: text.trim(), start: lefts[0], continuations: lefts.slice(1) });
    }
  }
  return found;
}

return {
  width: innerWidth,
  scrollWidth: root.scrollWidth,
  clientWidth: root.clientWidth,
  bodyClass: document.body.className,
  mathjax: qa.querySelectorAll("mjx-container").length,
  rawMath: /\\\(|\\\[/.test(text),
  clozeMarker: text.includes("{{c"),
  clozeInCode: qa.querySelectorAll("pre .cloze").length,
  images: [...qa.querySelectorAll("img")].map(img => ({
    src: img.getAttribute("src"), loaded: img.complete && img.naturalWidth > 0 })),
  colours,
  wraps: wrappedLines(),
};
})()"""


# Picks a card by what its HTML shows, as Anki renders it.
PICK = r"""
import re

def shows(card, want):
    question, answer = card.question(), card.answer()
    cloze = card.note_type()["type"] == 1
    blank_in_code = cloze and re.search(r'<pre\b(?:(?!</pre>).)*?class="cloze"', question, re.S)
    return {
        "Q&A with code": not cloze and "<pre" in answer,
        "blank in code": blank_in_code,
        "blank in code, diagram": blank_in_code and "<img" in question,
        "math": "\\(" in answer,
    }[want]

def pick(prefer, want):
    ids = sorted(mw.col.find_cards(f'"Id:{prefer}"')) + sorted(mw.col.find_cards(""))
    return next((cid for cid in ids if shows(mw.col.get_card(cid), want)), None)
"""


def pick(app: AnkiDesktop, prefer: str, want: str) -> int:
    card_id = app.run(PICK + "\npick(prefer, want)", prefer=prefer, want=want)
    assert card_id, f"no card of the deck shows {want!r}: the reviewer checks need one"
    return card_id


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory, display, bundled_apkg) -> dict[tuple[str, str, str], dict]:
    """{(card, mode, side): what the page showed} for every card of REVIEWED, in an Anki
    with the bundled deck imported and a phone-sized reviewer; a screenshot of each."""
    shutil.rmtree(SHOTS, ignore_errors=True)
    app = start_anki(tmp_path_factory.mktemp("anki") / "base", display)
    try:
        app.import_package(bundled_apkg)
        app.phone_width()
        picked = {label: pick(app, prefer, want) for label, (prefer, want) in REVIEWED.items()}
        results = {}
        for mode, night in MODES.items():
            for label, card_id in picked.items():
                for side, answer in SIDES.items():
                    app.show(card_id, answer=answer, night=night)
                    results[(label, mode, side)] = app.js(INSPECT_JS)
                    app.screenshot(SHOTS / f"{label}-{side}-{mode}.png")
        return results
    finally:
        app.stop()


def lines(results: dict, problem) -> list[str]:
    """``problem(result)`` (a message or None) for each rendering, as report lines."""
    found = []
    for (label, mode, side), result in results.items():
        message = problem(result)
        if message:
            found.append(f"{label} {mode} {side}: {message}")
    return found


def test_the_reviewer_is_phone_sized_and_in_the_right_mode(reviewed):
    assert not lines(reviewed, lambda r: None if PHONE_WIDTH[0] <= r["width"] <= PHONE_WIDTH[1] else r["width"])
    for (label, mode, side), result in reviewed.items():
        assert ("nightMode" in result["bodyClass"].split()) == MODES[mode], (label, mode, side, result["bodyClass"])


def test_no_card_scrolls_sideways(reviewed):
    def overflow(r):
        return r["scrollWidth"] > r["clientWidth"] and f"the page is {r['scrollWidth']}px wide in {r['clientWidth']}px"

    assert not lines(reviewed, overflow)


def test_code_colours_change_in_night_mode(reviewed):
    unchanged, compared = [], set()
    for (label, mode, side), light in reviewed.items():
        if mode != "light" or label not in ("code", "cloze-in-code"):
            continue
        night = reviewed[(label, "night", side)]["colours"]
        for key, colour in light["colours"].items():
            compared.add(key)
            if night.get(key) == colour:
                unchanged.append(f"{label} {side}: {key} stays {colour}")
    assert "code background" in compared and len(compared) >= 5, compared  # background and token kinds
    assert not unchanged


def test_mathjax_is_typeset(reviewed):
    assert reviewed[("mathjax", "light", "answer")]["mathjax"] > 0
    assert not lines(reviewed, lambda r: r["rawMath"] and "a raw \\( or \\[ is left in the text")


def test_no_cloze_marker_is_left_and_the_blank_is_in_the_code(reviewed):
    assert not lines(reviewed, lambda r: r["clozeMarker"] and "{{c is left in the text")
    assert reviewed[("cloze-in-code", "light", "question")]["clozeInCode"] == 1


def test_images_load(reviewed):
    assert all(reviewed[("diagram", mode, side)]["images"] for mode in MODES for side in SIDES)
    assert not lines(reviewed, lambda r: [i["src"] for i in r["images"] if not i["loaded"]])


def test_wrapped_code_lines_hang_under_their_start(reviewed):
    """A code line that wraps must continue to the right of where its text starts: at the
    left edge it reads as a dedent, which in Python is a different program."""
    wrapped = [(label, w) for (label, mode, side), r in reviewed.items() for w in r["wraps"]]
    assert wrapped, "no code line wraps at this width any more: pick a card with a longer line"
    dedented = {
        f"{label}: {w['line']!r} starts at x={w['start']:.0f}, continues at x={min(w['continuations']):.0f}"
        for label, w in wrapped
        if min(w["continuations"]) <= w["start"] + 0.5
    }
    assert not dedented, f"{len(dedented)} wrapped line(s) continue at or left of their start:\n" + "\n".join(
        sorted(dedented)
    )


# --- 2. the order a new learner studies in ------------------------------------------------


def test_a_new_learner_studies_the_first_section_first_in_file_order(anki, bundled_apkg):
    """Anki's default options, its own scheduler: select the top deck, Study, then Show
    Answer and Good for the first 20 cards (Anki's default new cards a day)."""
    files = card_files(ROOT / "cards")
    first = sorted({path.parts[0] for path in files.values()})[0]
    in_section = [source_id for source_id, path in files.items() if path.parts[0] == first]
    anki.import_package(bundled_apkg)
    cards_in_section = anki.run(
        "sum(mw.col.get_card(c).note()['Id'] in ids for c in mw.col.find_cards(''))", ids=in_section
    )
    count = min(20, cards_in_section)
    studied = anki.study(deck_name(ROOT / "cards"), count)
    assert len(studied) == count
    # (card file id, "qa" or "clozeN") of each card shown
    shown = anki.run(
        """
        def kind(card):
            return f"cloze{card.ord + 1}" if card.note_type()["type"] == 1 else "qa"
        [(mw.col.get_card(c).note()["Id"], kind(mw.col.get_card(c))) for c in ids]
        """,
        ids=studied,
    )
    appeared = list(dict.fromkeys(source_id for source_id, _ in shown))  # each file's first card
    problems = []
    if any(files[source_id].parts[0] != first for source_id, _ in shown):
        problems.append(f"not all from the first section, {first}/")
    if appeared != in_section[: len(appeared)]:
        problems.append("the files do not come in their order")
    # A cloze right after the Q&A card of the same file asks for the term just shown.
    for (file_a, kind_a), (file_b, kind_b) in itertools.pairwise(shown):
        if file_a == file_b and kind_a == "qa":
            problems.append(f"{kind_b} right after the Q&A card of {file_a}")
    studied_as = "\n".join(f"  {files[source_id]} {kind}" for source_id, kind in shown)
    assert not problems, "; ".join(problems) + f"\nstudied:\n{studied_as}"


# --- 3. renaming the deck -----------------------------------------------------------------

# A step such as: rename the deck "Old name" to "New name" (any quotes).
QUOTED = r"[\"'‘“]([^\"'’”\n]+)[\"'’”]"
RENAME_STEP = re.compile(rf"rename\b[^\n]*?{QUOTED}[^\n]*?\bto\b[^\n]*?{QUOTED}", re.IGNORECASE)


def follow_printed_steps(app: AnkiDesktop, printed: str) -> list[str]:
    """Do in Anki what the build told the user to do before importing: a step such as
    rename "Old name" to "New name" renames the deck (as its Rename action does)."""
    done = []
    for old, new in RENAME_STEP.findall(printed):
        app.run(
            """
            from aqt.operations.deck import rename_deck
            rename_deck(parent=mw, deck_id=mw.col.decks.id_for_name(old), new_name=new).run_in_background()
            wait_for(lambda: mw.col.decks.id_for_name(new), what="the rename")
            """,
            old=old,
            new=new,
        )
        done.append(f"renamed {old!r} to {new!r}")
    return done


def cards_per_tree(app: AnkiDesktop) -> dict[str, int]:
    """{top-level deck: number of cards in its tree}, empty trees too."""
    return app.run(
        """
        trees = {deck.name.split("::")[0]: 0 for deck in mw.col.decks.all_names_and_ids()}
        for did, count in mw.col.db.all("select did, count() from cards group by did"):
            top = mw.col.decks.name(did).split("::")[0]
            trees[top] += count
        trees
        """
    )


def test_renaming_the_deck_keeps_every_card_in_one_tree(anki, tmp_path):
    """Rename the deck in deck.yaml, rebuild, do what the build says, import: every card
    is in the renamed tree, and the old tree is gone or empty."""
    cards = shutil.copytree(ROOT / "cards", tmp_path / "cards")
    output = tmp_path / "out" / "deck.apkg"
    build_with_cli(cards, output)
    anki.import_package(output)
    old, new = deck_name(cards), "Keras Interview Prep"
    total = cards_per_tree(anki)[old]

    config = cards / "deck.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(f"name: {old}", f"name: {new}"), encoding="utf-8")
    printed = build_with_cli(cards, output)
    steps = follow_printed_steps(anki, printed)
    anki.import_package(output)
    trees = cards_per_tree(anki)
    elsewhere = {name: count for name, count in trees.items() if name != new and count}
    assert trees.get(new) == total and not elsewhere, (
        f"cards per deck tree after the rename: {trees} (of {total} cards); "
        f"steps followed: {steps or 'none'}; the build printed:\n{printed}"
    )
    anki.screenshot(SHOTS / "rename-deck-list.png")


# --- 4. study history survives a rebuild ----------------------------------------------------

SCHEDULING = """
cards = {str(c): [getattr(mw.col.get_card(c), k) for k in ("type", "queue", "due", "ivl", "reps", "left", "did")]
         for c in ids}
reviews = mw.col.db.all("select id, cid, ease, ivl, type from revlog order by id")
cards, reviews
"""


def with_paragraph_after_heading(text: str, paragraph: str) -> str:
    """A card file's text with a paragraph added under its question (after the front matter)."""
    front = re.match(r"---\n.*?\n---\n", text, re.DOTALL)
    head, body = text[: front.end()], text[front.end() :]
    return head + re.sub(r"^(# .*)$", lambda m: f"{m.group(1)}\n\n{paragraph}", body, count=1, flags=re.MULTILINE)


def test_history_survives_an_edit_and_a_rebuild(anki, tmp_path):
    cards = shutil.copytree(ROOT / "cards", tmp_path / "cards")
    output, cache = tmp_path / "out" / "deck.apkg", tmp_path / "cache"
    anki.import_package(build_to(cards, output, cache))
    studied = anki.study(deck_name(cards), 6)
    before_cards, before_reviews = anki.run(SCHEDULING, ids=studied)
    assert len(before_reviews) == 6

    edited = anki.run("mw.col.get_card(ids[0]).note()['Id']", ids=studied)
    notes = anki.run("len({mw.col.get_card(c).nid for c in ids})", ids=list(anki.cards_of(edited).values()))
    marker = "Edited after studying: the learner sees this sentence."
    path = cards / card_files(cards)[edited]
    path.write_text(with_paragraph_after_heading(path.read_text(encoding="utf-8"), marker), encoding="utf-8")
    log = anki.import_package(build_to(cards, output, cache))
    updated = re.search(r"(\d+) notes? (?:was|were) used to update existing ones", log)
    assert updated and int(updated.group(1)) == notes, log  # the edited file's Q&A and cloze notes

    after_cards, after_reviews = anki.run(SCHEDULING, ids=studied)
    assert after_cards == before_cards
    assert after_reviews == before_reviews
    anki.show(anki.cards_of(edited)["qa"], answer=True)
    assert marker in anki.js("document.getElementById('qa').innerText")
    anki.screenshot(SHOTS / "history-edited-answer.png")


# --- 5. the README's screenshots, from the real app (opt-in) --------------------------------


def test_readme_screenshots(tmp_path, display, bundled_apkg):
    """BUILD_DECK_UPDATE_SCREENSHOTS=1 writes docs/phone-light.png and docs/phone-night.png:
    the README's card at phone width, its answer side down to the revealed cloze, at 2x."""
    if os.environ.get("BUILD_DECK_UPDATE_SCREENSHOTS") != "1":
        pytest.skip("set BUILD_DECK_UPDATE_SCREENSHOTS=1 to regenerate the README's screenshots")
    app = start_anki(tmp_path / "anki", display, scale=2)
    try:
        app.import_package(bundled_apkg)
        app.phone_width()
        card_id = pick(app, *REVIEWED["diagram"])
        for mode, night in MODES.items():
            app.show(card_id, answer=True, night=night)
            # A window as tall as the whole card (no scrollbar), grabbed down to the code block
            # that holds the revealed cloze.
            path = SHOTS / "docs" / f"phone-{mode}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            app.run(
                """
                from aqt.qt import QRect

                zoom = mw.web.zoomFactor()
                height = js("document.scrollingElement.scrollHeight")
                mw.resize(mw.width(), mw.height() + round(height * zoom) - mw.web.height() + 2)
                pause(300)
                js("window.scrollTo(0, 0)")
                bottom = js("document.querySelector('pre .cloze').closest('pre').getBoundingClientRect().bottom + 16")
                pause(100)
                assert mw.web.grab(QRect(0, 0, mw.web.width(), round(bottom * zoom))).save(path)
                """,
                path=str(path),
            )
            assert path.stat().st_size > 10_000
            shutil.copyfile(path, ROOT / "docs" / path.name)
    finally:
        app.stop()


# --- 6. issue #17's syntax in the real reviewer ---------------------------------------------

# No sound player here (and no sound wanted in a test run): record what the reviewer would play, play nothing.
RECORD_SOUNDS = """
from aqt import gui_hooks

played = []

def record_sounds(tags, side, context):
    played.extend([side, tag.filename] for tag in tags)
    tags.clear()

gui_hooks.av_player_will_play_tags.append(record_sounds)
"""

FEATURES_JS = r"""(() => {
const qa = document.getElementById("qa");
const copy = qa.cloneNode(true);
copy.querySelectorAll("style, script").forEach(e => e.remove());
const text = copy.textContent;
const style = (selector, property) => {
  const found = qa.querySelector(selector);
  return found ? getComputedStyle(found)[property] : null;
};
return {
  scrollWidth: document.scrollingElement.scrollWidth,
  clientWidth: document.scrollingElement.clientWidth,
  mathjax: qa.querySelectorAll("mjx-container").length,
  rawMath: /\\\(|\\\[/.test(text),
  dollarsAsText: text.includes("a price of $5 and $10") && text.includes("($ signs stay text)"),
  callouts: [...qa.querySelectorAll(".callout")].map(box => box.className),
  colours: {callout: style(".callout", "backgroundColor"), title: style(".callout-title", "color"),
            mark: style("mark", "backgroundColor")},
  playButtons: qa.querySelectorAll(".replay-button").length,
  typeBox: qa.querySelectorAll("input#typeans").length,
  typedRight: qa.querySelectorAll("code#typeans .typeGood").length,
  typedWrong: qa.querySelectorAll("code#typeans .typeBad, code#typeans .typeMissed").length,
};
})()"""

TYPE_AND_SHOW_ANSWER = """
js("document.getElementById('typeans').value = " + json.dumps(typed))
mw.reviewer._getTypedAnswer()  # what Enter or Show Answer does: read the box, then show the answer
wait_for(lambda: mw.reviewer.state == "answer", what="the answer")
wait_shown(mw.reviewer._showAnswer, "the answer with the comparison")
"""


def test_the_features_card_in_the_real_reviewer(anki, tmp_path):
    """Dollar math typeset by Anki's MathJax, callouts and highlights in both modes, the sound a card plays,
    the reversed card, and the type-in card compared by Anki's reviewer, at phone width."""
    from conftest import features_files, write_tree

    files, media = features_files()
    cards, media_dir = write_tree(tmp_path / "cards", files), write_tree(tmp_path / "media", media)
    output = tmp_path / "out" / "features.apkg"
    result = CliRunner().invoke(main, ["--strict", "--cards", str(cards), "--media", str(media_dir), "-o", str(output)])
    assert result.exit_code == 0, result.output
    anki.run(RECORD_SOUNDS)
    anki.import_package(output)
    anki.phone_width()
    kinds = anki.run(
        """
        names = {"build_deck Q&A": "qa", "build_deck Cloze": "cloze", "build_deck Reverse": "reverse",
                 "build_deck Type answer": "type"}
        {f"{names[mw.col.get_card(c).note_type()['name']]}{mw.col.get_card(c).ord + 1}": c
         for c in mw.col.find_cards('"Id:softmax"')}
        """
    )
    assert sorted(kinds) == ["cloze1", "cloze2", "cloze3", "cloze4", "qa1", "reverse1", "type1"]
    seen = {}
    for mode, night in MODES.items():
        for kind, card_id in kinds.items():
            for side, answer in SIDES.items():
                anki.show(card_id, answer=answer, night=night)
                seen[(kind, mode, side)] = anki.js(FEATURES_JS)
                anki.screenshot(SHOTS / "features" / f"{kind}-{side}-{mode}.png")
    problems = [f"{key}: {r['scrollWidth']}px wide" for key, r in seen.items() if r["scrollWidth"] > r["clientWidth"]]
    problems += [f"{key}: raw math left" for key, r in seen.items() if r["rawMath"]]
    assert not problems, problems
    qa = seen[("qa1", "light", "answer")]
    assert qa["mathjax"] >= 4 and qa["dollarsAsText"]
    assert qa["callouts"] == ["callout callout-tip", "callout callout-warning"] and qa["playButtons"] == 1
    assert all(qa["colours"][key] != seen[("qa1", "night", "answer")]["colours"][key] for key in qa["colours"])
    assert (
        seen[("reverse1", "light", "question")]["callouts"] and not seen[("reverse1", "light", "question")]["typeBox"]
    )
    assert seen[("type1", "light", "question")]["typeBox"] == 1 and not seen[("type1", "light", "question")]["callouts"]
    played = anki.run("played")
    assert ["answer", next(name for side, name in played if name.startswith("beep-"))] in played
    assert ["question", played[-1][1]] in played  # the reversed card's front plays it too

    for typed, right in (("softmax", True), ("sofmax", False)):
        anki.show(kinds["type1"], answer=False, night=False)
        anki.run(TYPE_AND_SHOW_ANSWER, typed=typed)
        compared = anki.js(FEATURES_JS)
        assert (compared["typedRight"] > 0, compared["typedWrong"] == 0) == (True, right), (typed, compared)
        anki.screenshot(SHOTS / "features" / f"type1-typed-{typed}.png")

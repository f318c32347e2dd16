"""Shared Playwright helpers: Debian's Chromium, phone-sized pages, and in-page card checks.

Cards are shown the way Anki shows them: the HTML of card.question()/card.answer() inside
the <html>/<body> classes each client sets, in a 360x740 phone viewport. The page is
served from a fake origin (http://anki.test/) through Playwright's request routing, so
<img src="name.svg"> finds the collection's media files and canvases can read the images.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
ORIGIN = "http://anki.test/"
PHONE = {"width": 360, "height": 740}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True)
class Platform:
    """Where an Anki client puts its classes: on <html>, and after ``card cardN`` on <body>."""

    name: str
    html_class: str
    night_classes: str

    def body_class(self, ordinal: int, night: bool) -> str:
        return f"card card{ordinal}" + (f" {self.night_classes}" if night else "")


PLATFORMS = (
    Platform("desktop", "", "nightMode night_mode"),
    Platform("android", "mobile android", "night_mode nightMode"),
    Platform("ios", "iphone ios mobile", "nightMode"),
)


def chromium_path() -> str:
    """Debian's chromium; skips the test without it, or fails when BUILD_DECK_REQUIRE_BROWSER=1."""
    path = shutil.which("chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        path, why = None, "the playwright package is not installed (pip install -e '.[test]')"
    else:
        why = "Debian's chromium is not installed (apt-get install chromium)"
    if path:
        return path
    reason = f"{why}; the phone rendering tests need a real browser"
    if os.environ.get("BUILD_DECK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"BUILD_DECK_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@contextmanager
def chromium() -> Iterator:
    """A headless Chromium for the duration of the block (one per test module)."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def serve(page, files: dict[str, bytes | Path]) -> None:
    """Answer every request to ORIGIN from ``files`` ({path: content or file}); others get a 404."""

    def handle(route):
        name = route.request.url.removeprefix(ORIGIN).split("?")[0] or "index.html"
        content = files.get(name)
        if isinstance(content, Path):
            route.fulfill(path=str(content))
        elif content is not None:
            route.fulfill(body=content, content_type="text/html; charset=utf-8")
        else:
            route.fulfill(status=404, body=b"not found")

    page.route(f"{ORIGIN}**", handle)


def phone_page(browser, files: dict[str, bytes | Path], scale: float = 1):
    """A 360x740 touch page (mobile meta-viewport handling on) serving ``files``."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=scale, is_mobile=True, has_touch=True)
    page = context.new_page()
    serve(page, files)
    return page


# The card page: Anki's layout (the card HTML in a div#qa inside body.card) and the checks.
CARD_PAGE = """<!doctype html>
<html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<script>%s</script>
</head><body><div id="qa"></div></body></html>
"""

INSPECT_JS = r"""
// WCAG 2 relative luminance and contrast of sRGB colours [r, g, b, a].
function luminance([r, g, b]) {
  const lin = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}
function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
function rgba(css) {
  const v = (css.match(/[\d.]+/g) || [0, 0, 0, 0]).map(Number);
  return v.length === 3 ? [...v, 1] : v;
}
function over(top, bottom) {
  return [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);
}
// The colour behind an element: the nearest ancestor (or itself) with a non-transparent
// background, blended down through translucent ones; an unpainted page is white.
function background(el) {
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const bg = rgba(getComputedStyle(e).backgroundColor);
    if (bg[3] > 0) layers.push(bg);
    if (bg[3] >= 1) break;
  }
  return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255, 1]);
}
const css = c => `rgb(${c.slice(0, 3).map(Math.round).join(", ")})`;
function ownText(el) {
  return [...el.childNodes].filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.data).join("").trim();
}
function where(el) {
  const path = [];
  for (let e = el; e && e.id !== "qa"; e = e.parentElement) {
    path.unshift(e.tagName.toLowerCase() + [...e.classList].map(c => "." + c).join(""));
  }
  return path.slice(-3).join(" > ");
}
function minimumSize(el) {
  if (el.closest(".section, .reference")) return 14;  // captions
  if (el.closest("pre, code")) return 15;              // monospace looks larger
  return 16;                                           // body text
}
// Mean luminance of an image as shown: drawn with its CSS filter over the card's colour.
function shownLuminance(img) {
  const w = Math.min(img.naturalWidth, 240);
  const h = Math.max(1, Math.round((w * img.naturalHeight) / img.naturalWidth));
  const canvas = Object.assign(document.createElement("canvas"), { width: w, height: h });
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = getComputedStyle(document.body).backgroundColor;
  ctx.fillRect(0, 0, w, h);
  ctx.filter = getComputedStyle(img).filter;
  ctx.drawImage(img, 0, 0, w, h);
  const data = ctx.getImageData(0, 0, w, h).data;
  let sum = 0;
  for (let i = 0; i < data.length; i += 4) sum += luminance([data[i], data[i + 1], data[i + 2]]);
  return sum / (data.length / 4);
}

function checkText(root, problems) {
  for (const el of [root, ...root.querySelectorAll("*")]) {
    const text = ownText(el);
    if (!text || ["STYLE", "SCRIPT"].includes(el.tagName) || el.closest("svg")) continue;
    const style = getComputedStyle(el);
    if (!el.getClientRects().length || style.visibility !== "visible") continue;
    const bg = background(el);
    const fg = over(rgba(style.color), bg);
    const ratio = contrast(fg, bg);
    const sample = text.slice(0, 40);
    if (ratio < 4.5) {
      problems.push({ check: "contrast", where: where(el), text: sample,
                      detail: `${ratio.toFixed(2)}:1, ${css(fg)} on ${css(bg)}` });
    }
    const size = parseFloat(style.fontSize);
    if (size < minimumSize(el)) {
      problems.push({ check: "size", where: where(el), text: sample, detail: `${size}px` });
    }
  }
}

function checkLayout(qa, problems) {
  const root = document.scrollingElement;
  if (root.scrollWidth > root.clientWidth) {
    const scrolls = e => e !== qa && (getComputedStyle(e).overflowX !== "visible" || scrolls(e.parentElement));
    const wide = [...qa.querySelectorAll("*")]
      .filter(e => e.getBoundingClientRect().right > root.clientWidth + 0.5 && !scrolls(e.parentElement))
      .slice(0, 3).map(where);
    problems.push({ check: "overflow", where: wide.join(" | "),
                    detail: `page is ${root.scrollWidth}px wide in a ${root.clientWidth}px viewport` });
  }
  for (const pre of qa.querySelectorAll("pre")) {
    const align = getComputedStyle(pre).textAlign;
    if (!["left", "start", "-webkit-left"].includes(align)) {
      problems.push({ check: "align", where: where(pre), detail: `code is text-align: ${align}` });
    }
  }
}

function checkImages(qa, night, problems) {
  for (const img of qa.querySelectorAll("img")) {
    const src = img.getAttribute("src");
    const name = src.slice(0, 60);
    if (!img.complete || img.naturalWidth === 0) {
      problems.push({ check: "image", where: name, detail: "did not load" });
      continue;
    }
    if (img.getBoundingClientRect().width > qa.clientWidth + 0.5) {
      problems.push({ check: "image", where: name, detail: "wider than the card" });
    }
    if (night && /\.jpe?g$|^data:image\/jpeg/.test(src)) {
      // A photo cannot be inverted like a diagram; it must at least be dimmed.
      if (getComputedStyle(img).filter === "none") {
        problems.push({ check: "image", where: name, detail: "a photo not dimmed in night mode" });
      }
    } else if (night) {
      const shown = shownLuminance(img);
      if (shown > 0.2) {
        problems.push({ check: "image", where: name,
                        detail: `a bright box in night mode (mean luminance ${shown.toFixed(2)})` });
      }
    }
  }
}

// Colours that must change between light and night mode.
function themeColours(qa) {
  const colours = { "card background": getComputedStyle(document.body).backgroundColor,
                    "card text": getComputedStyle(document.body).color };
  const first = (key, selector, property) => {
    const el = qa.querySelector(selector);
    if (el) colours[key] = getComputedStyle(el)[property];
  };
  first("code background", "pre.highlight", "backgroundColor");
  first("cloze", ".cloze", "color");
  first("table header", "th", "backgroundColor");
  first("table border", "td", "borderTopColor");
  first("diagram filter", "img", "filter");
  first("callout background", ".callout", "backgroundColor");
  first("callout title", ".callout-title", "color");
  first("highlight", "mark", "backgroundColor");
  for (const span of qa.querySelectorAll("pre.highlight span[class]:not([class^=cloze])")) {
    const key = `code .${span.className}`;
    if (!(key in colours)) colours[key] = getComputedStyle(span).color;
  }
  return colours;
}

async function renderCard(v) {
  const qa = document.getElementById("qa");
  document.documentElement.className = v.htmlClass;
  document.body.className = v.bodyClass;
  qa.innerHTML = v.html;
  await Promise.all([...qa.querySelectorAll("img")].map(img => img.decode().catch(() => null)));
  return qa;
}

// Show each variant in turn and return its problems and theme colours.
window.inspectCards = async variants => {
  const results = [];
  for (const v of variants) {
    const qa = await renderCard(v);
    const problems = [];
    checkText(qa, problems);
    checkLayout(qa, problems);
    checkImages(qa, v.night, problems);
    results.push({ problems, colours: themeColours(qa) });
  }
  return results;
};
window.showCard = async v => { await renderCard(v); };
"""


# What Anki's reviewer puts into a card's HTML before it shows it (aqt/sound.py's av_refs_to_play_icons and
# aqt/reviewer.py's type-answer filters), copied: importing aqt here would set up Qt in the test process.
PLAY_BUTTON = """
<a class="replay-button soundLink" href=# onclick="pycmd('{}'); return false;" draggable="false">
    <svg class="playImage" viewBox="0 0 64 64" version="1.1">
        <circle cx="32" cy="32" r="29" />
        <path d="M56.502,32.301l-37.502,20.101l0.329,-40.804l37.173,20.703Z" />
    </svg>
</a>"""
TYPE_FONT = "font-family: 'Liberation Sans'; font-size: 20px"  # the field's font and size (genanki's defaults)
TYPE_BOX = f"""
<center>
<input type=text id=typeans onkeypress="_typeAnsPress();"
   style="{TYPE_FONT};">
</center>
"""


def reviewer_css() -> str:
    """The rules of Anki desktop's reviewer.css for play buttons and the type-in box (from the installed aqt)."""
    import importlib.util
    import re

    spec = importlib.util.find_spec("_aqt")  # aqt's data, found without importing aqt
    css = (Path(next(iter(spec.submodule_search_locations))) / "data" / "web" / "css" / "reviewer.css").read_text()
    rules = re.findall(r"[^{}]+\{[^{}]*\}", css)
    return "".join(
        rule for rule in rules if re.search(r"replay-button|typeans|type(Good|Bad|Missed)", rule.split("{")[0])
    )


def as_reviewer_shows(card_html: str, comparison: str | None = None) -> str:
    """A card's HTML (card.question()/answer()) as Anki's reviewer shows it: a play button for each sound,
    and where the card has {{type:...}} the type-in box, or on the answer side ``comparison`` (Anki's
    compare_answer of the expected and the typed text)."""
    import re

    card_html = re.sub(r"\[anki:(play:[qa]:\d+)\]", lambda m: PLAY_BUTTON.format(m.group(1)), card_html)
    box = TYPE_BOX if comparison is None else f'<div style="{TYPE_FONT}">{comparison}</div>'
    return f"<style>{reviewer_css()}</style>" + re.sub(r"\[\[type:.+?\]\]", lambda _: box, card_html)


def card_page_files(media_dir: Path) -> dict[str, bytes | Path]:
    """The card page plus every media file, by the names cards use in <img src>."""
    files: dict[str, bytes | Path] = {p.name: p for p in media_dir.iterdir() if p.is_file()}
    files["index.html"] = (CARD_PAGE % INSPECT_JS).encode()
    return files


def variant(html: str, platform: Platform, ordinal: int, night: bool) -> dict:
    """The arguments of inspectCards/showCard for one rendering of a card."""
    return {
        "html": html,
        "htmlClass": platform.html_class,
        "bodyClass": platform.body_class(ordinal, night),
        "night": night,
    }

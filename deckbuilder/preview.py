"""A self-contained HTML page showing every card's front and back, as Anki renders them.

The page uses the note types' own templates and CSS (package/notetypes.py) with a small renderer
for the parts of Anki's template language they use: {{Field}}, {{#Field}}...{{/Field}},
{{^Field}}...{{/Field}}, {{FrontSide}}, {{cloze:Field}}, whose output is the same span
markup Anki's cloze filter produces (tests/test_preview.py compares the two), and {{type:Field}}.
Images, audio and video are embedded as data: URIs, so the page can be mailed or opened anywhere.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from .package.notetypes import (
    CLOZE_BACK,
    CLOZE_FRONT,
    QA_BACK,
    QA_FRONT,
    REVERSE,
    REVERSE_BACK,
    REVERSE_FIELDS,
    REVERSE_FRONT,
    TYPE,
    TYPE_BACK,
    TYPE_FIELDS,
    TYPE_FRONT,
    card_css,
)
from .render.media import MediaLibrary, packaged_name
from .render.rendered import RenderedCard

# --- Anki's template language (the parts our note types use) --------------------------------

_SECTION = re.compile(r"\{\{([#^])\s*([^}]+?)\s*\}\}(.*?)\{\{/\s*\2\s*\}\}", re.DOTALL)
_TAG = re.compile(r"\{\{\s*([^}]+?)\s*\}\}")
# Anki counts a field holding only whitespace, <br> or <div> tags as empty.
_EMPTY_FIELD = re.compile(r"^(?:\s|</?(?:br|div)\s?/?>)*$", re.IGNORECASE)


def render_template(template: str, fields: dict[str, str], ordinal: int = 1, front: str | None = None) -> str:
    """One side of a card: ``front`` is None for the question side, the rendered front for the answer.

    ``ordinal`` is the card's number (Anki's card.ord + 1), which picks the active cloze.
    """

    def section(match: re.Match) -> str:
        shown = not _EMPTY_FIELD.match(fields[match.group(2)])
        return match.group(3) if shown == (match.group(1) == "#") else ""

    previous = None
    while previous != template:  # sections may nest
        previous, template = template, _SECTION.sub(section, template)

    def tag(match: re.Match) -> str:
        name = match.group(1)
        if name == "FrontSide":
            return front or ""
        if name.startswith("cloze:"):
            return reveal_clozes(fields[name.removeprefix("cloze:")], ordinal, question=front is None)
        if name.startswith("type:"):
            return f"[[{name}]]"  # as Anki renders it: its reviewer puts the type-in box there
        return fields[name]

    # One pass over the template: text from fields is never parsed as template syntax.
    return _TAG.sub(tag, template)


# --- Anki's cloze filter ---------------------------------------------------------------------

_CLOZE_TOKEN = re.compile(r"\{\{c(\d+)::|\}\}")
_MATHJAX = re.compile(r"(\\[(\[])(.*?)(\\[)\]])", re.DOTALL)
_HTML_TAG = re.compile(r"<!--.*?-->|<.*?>", re.DOTALL)
_MAX_OPEN_CLOZES = 10  # as in Anki: deeper clozes are read as plain text


@dataclass
class _Cloze:
    number: int
    nodes: list = field(default_factory=list)  # text and nested _Cloze
    hint: str | None = None


def _parse_clozes(text: str) -> list:
    """Text and (nested) clozes, the way Anki's parser reads them."""
    output: list = []
    open_clozes: list[_Cloze] = []
    position = 0
    for match in [*_CLOZE_TOKEN.finditer(text), None]:
        chunk = text[position : match.start() if match else len(text)]
        if chunk and open_clozes:
            if "::" in chunk:  # the first "::" in a cloze's text starts its hint
                chunk, open_clozes[-1].hint = chunk.split("::", 1)
            open_clozes[-1].nodes.append(chunk)
        elif chunk:
            output.append(chunk)
        if match is None:
            break
        position = match.end()
        if match.group(1) is not None:
            if len(open_clozes) < _MAX_OPEN_CLOZES:
                open_clozes.append(_Cloze(int(match.group(1))))
        elif open_clozes:
            closed = open_clozes.pop()
            (open_clozes[-1].nodes if open_clozes else output).append(closed)
        else:
            output.append("}}")
    return output  # like Anki, a cloze never closed is dropped


def _encode_attribute(text: str) -> str:
    """htmlescape's encode_attribute, which Anki uses for data-cloze."""
    named = {'"': "&quot;", "&": "&amp;", "'": "&#x27;", "<": "&lt;", ">": "&gt;"}
    out = []
    for char in text:
        if char in named:
            out.append(named[char])
        elif ord(char) < 256 and not (char.isascii() and char.isalnum()):
            out.append(f"&#x{ord(char):02X};")
        else:
            out.append(char)
    return "".join(out)


def _render_cloze(cloze: _Cloze, ordinal: int, question: bool, found: list[bool]) -> str:
    inner = "".join(
        node if isinstance(node, str) else _render_cloze(node, ordinal, question, found) for node in cloze.nodes
    )
    active = cloze.number == ordinal
    found[0] |= active
    if active and question:
        hint = cloze.hint if cloze.hint is not None else "..."
        attribute = _encode_attribute(inner)
        return f'<span class="cloze" data-cloze="{attribute}" data-ordinal="{cloze.number}">[{hint}]</span>'
    css = "cloze" if active else "cloze-inactive"
    return f'<span class="{css}" data-ordinal="{cloze.number}">{inner}</span>'


def reveal_clozes(text: str, ordinal: int, question: bool) -> str:
    """Anki's {{cloze:Field}}: cloze ``ordinal`` blanked (question) or revealed (answer).

    Empty when the text has no cloze with that number, as in Anki.
    """
    found = [False]
    parts = [n if isinstance(n, str) else _render_cloze(n, ordinal, question, found) for n in _parse_clozes(text)]
    if not found[0]:
        return ""
    # Anki strips tags inside MathJax, so a cloze inside \( \) leaves plain text for MathJax.
    return _MATHJAX.sub(lambda m: m.group(1) + _HTML_TAG.sub("", m.group(2)) + m.group(3), "".join(parts))


# --- the cards of a rendered deck ------------------------------------------------------------


@dataclass(frozen=True)
class PreviewCard:
    """One Anki card: its note's id, its kind and number, and both sides' HTML."""

    card_id: str
    title: str  # "Question → Answer" or "Cloze 3"
    ordinal: int
    front: str
    back: str
    expected: str = ""  # a type-in card's exact answer (HTML), for its type-in box


def preview_cards(card: RenderedCard) -> list[PreviewCard]:
    """The Anki cards of one source card: its Q&A card, one card per cloze number, then its reversed and
    type-in cards (see card_type_previews)."""
    shared = {"Question": card.question, "Reference": card.reference, "Section": card.section, "Id": card.source.id}
    qa = {**shared, "Answer": card.answer}
    front = render_template(QA_FRONT, qa)
    cards = [PreviewCard(card.source.id, "Question → Answer", 1, front, render_template(QA_BACK, qa, 1, front))]
    cloze = {**shared, "Text": card.cloze_text}
    for number in card.cloze_numbers:
        front = render_template(CLOZE_FRONT, cloze, number)
        back = render_template(CLOZE_BACK, cloze, number, front)
        cards.append(PreviewCard(card.source.id, f"Cloze {number}", number, front, back))
    return cards + card_type_previews(card)


# --- reversed and type-in cards ---------------------------------------------------------------


def card_type_previews(card: RenderedCard) -> list[PreviewCard]:
    """The reversed and type-in cards the card asks for (its front matter, or deck.yaml), as Anki renders
    them (the page shows the type-in box as Anki's reviewer does: type_in_box)."""
    from .package.notes import reverse_fields, type_fields

    cards = []
    if card.source.reverse:
        fields = dict(zip(REVERSE_FIELDS, reverse_fields(card), strict=True))
        front = render_template(REVERSE_FRONT, fields)
        cards.append(PreviewCard(card.source.id, REVERSE.templates[0]["name"], 1, front,
                                 render_template(REVERSE_BACK, fields, 1, front)))  # fmt: skip
    if card.source.type_answer:
        fields = dict(zip(TYPE_FIELDS, type_fields(card), strict=True))
        front = render_template(TYPE_FRONT, fields)
        back = render_template(TYPE_BACK, fields, 1, front)
        cards.append(PreviewCard(card.source.id, TYPE.templates[0]["name"], 1, front, back, fields["Expected"]))
    return cards


_TYPE_IN = re.compile(r"\[\[type:[^\]]+\]\]")


def type_in_box(card_html: str, expected: str, answer: bool) -> str:
    """What Anki's reviewer puts where ``[[type:Field]]`` is: an empty box on the question side; on the answer
    side, with nothing typed, the expected text (the markup of Anki's compare_answer)."""
    box = (
        f"<div><code id=typeans>{expected}</code></div>"
        if answer
        else '<center><input type=text id=typeans disabled aria-label="typed answer"></center>'
    )
    return _TYPE_IN.sub(lambda _: box, card_html)


# --- media -------------------------------------------------------------------------------------

_MIME = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
}
_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]+)(")')


def media_type(path: Path) -> str:
    """The MIME type of a media file, by its extension."""
    return _MIME.get(path.suffix.lower(), "application/octet-stream")


def media_data_uris(media_dir: Path | None, names: set[str]) -> dict[str, str]:
    """{packaged name: data: URI} for the media files the cards use."""
    if media_dir is None or not names:
        return {}
    uris = {}
    for path in MediaLibrary(media_dir).files():
        content = path.read_bytes()
        name = packaged_name(path.relative_to(media_dir).as_posix(), content)
        if name in names:
            uris[name] = f"data:{media_type(path)};base64,{base64.b64encode(content).decode('ascii')}"
    return uris


def embed_media(card_html: str, uris: dict[str, str]) -> str:
    """Point every <img src> that names a packaged file at its data: URI; audio and video as players."""
    card_html = embed_sounds(card_html, uris)
    return _IMG_SRC.sub(lambda m: m.group(1) + uris.get(html.unescape(m.group(2)), m.group(2)) + m.group(3), card_html)


_SOUND = re.compile(r"\[sound:([^\]]+)\]")


def embed_sounds(card_html: str, uris: dict[str, str]) -> str:
    """Anki's ``[sound:name]`` as a player of the embedded file (Anki shows a play button there)."""

    def player(match: re.Match) -> str:
        uri = uris.get(match.group(1))
        if uri is None:
            return match.group()
        tag = "video" if uri.startswith("data:video/") else "audio"
        return f'<{tag} class="preview-sound" controls preload="none" src="{uri}"></{tag}>'

    return _SOUND.sub(player, card_html) if "[sound:" in card_html else card_html


# --- the page -----------------------------------------------------------------------------------

# The page's own styles. Its classes start with "preview-" so they never meet the card CSS,
# which styles .card, .section, .question, .answer and friends.
PAGE_CSS = """
body.preview-page { margin: 0; font-family: system-ui, sans-serif; background: #eef0f3; color: #1f2328; }
body.preview-page.preview-dark { background: #0d0f12; color: #e6edf3; }
.preview-bar { position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; gap: 6px 18px;
  align-items: center; padding: 8px 12px; background: #ffffff; border-bottom: 1px solid #d0d7de; }
.preview-dark .preview-bar { background: #161b22; border-bottom-color: #30363d; }
@media (max-width: 600px) { .preview-bar { position: static; } }
.preview-bar h1 { font-size: 18px; margin: 0; }
.preview-bar label { font-size: 16px; white-space: nowrap; }
.preview-bar input { width: 18px; height: 18px; vertical-align: -3px; }
.preview-toc { font-size: 16px; }
.preview-toc a, .preview-page h2 a { color: inherit; }
.preview-main { padding: 8px 12px 40px; }
.preview-page h2 { font-size: 22px; margin: 28px 0 8px; }
.preview-page h3 { font-size: 16px; margin: 0 0 6px; font-weight: 600; }
.preview-note { margin: 0 0 20px; }
.preview-cards { display: flex; flex-wrap: wrap; gap: 16px; }
.preview-card { flex: 1 1 100%; min-width: 0; }
.preview-faces { display: flex; flex-wrap: wrap; gap: 8px; }
.preview-face { flex: 1 1 300px; min-width: 0; max-width: 100%; margin: 0; }
.preview-face figcaption { font-size: 16px; color: #57606a; margin-bottom: 2px; }
.preview-dark .preview-face figcaption { color: #aeb7c0; }
/* The card itself: in Anki it is the <body>, whose margin shows the card's colour too. */
.preview-face > .card { border: 1px solid #d0d7de; border-radius: 8px; padding: 8px 12px; min-height: 80px; }
.preview-dark .preview-face > .card { border-color: #30363d; }
/* Phone width: each side in a 360 px screen, as on a small phone. */
.preview-phone .preview-card { flex: 0 1 auto; }
.preview-phone .preview-face { flex: 0 1 360px; width: 360px; }
.preview-phone .preview-face > .card { box-sizing: border-box; width: 360px; max-width: 100%; }
/* Where Anki shows a play button and a type-in box. */
.preview-sound { display: block; max-width: 100%; margin: 4px 0; }
#typeans { width: 100%; box-sizing: border-box; font-size: 18px; }
"""

PAGE_JS = """
const night = document.getElementById("preview-night");
const phone = document.getElementById("preview-phone");
function apply() {
  // Anki marks night mode on the card element itself (body.card.nightMode).
  for (const card of document.querySelectorAll(".preview-face > .card")) {
    card.classList.toggle("nightMode", night.checked);
    card.classList.toggle("night_mode", night.checked);
  }
  document.body.classList.toggle("preview-dark", night.checked);
  document.body.classList.toggle("preview-phone", phone.checked);
}
night.addEventListener("change", apply);
phone.addEventListener("change", apply);
apply();
"""


def _face(label: str, ordinal: int, card_html: str) -> str:
    # In Anki the card is <body class="card cardN">; here it is a div with the same classes.
    card = f'<div class="card card{ordinal}">\n{card_html}\n</div>'
    return f'<figure class="preview-face"><figcaption>{label}</figcaption>{card}</figure>'


def _card_block(card: PreviewCard, uris: dict[str, str]) -> str:
    front = _face("Front", card.ordinal, embed_media(type_in_box(card.front, card.expected, False), uris))
    back = _face("Back", card.ordinal, embed_media(type_in_box(card.back, card.expected, True), uris))
    title = f"<h3>{html.escape(card.title)}</h3>"
    return f'<article class="preview-card">{title}<div class="preview-faces">{front}{back}</div></article>'


def note_block(card: RenderedCard, uris: dict[str, str], css_class: str = "preview-note") -> str:
    """One source card in the page: its id, then each of its Anki cards' front and back."""
    blocks = "".join(_card_block(c, uris) for c in preview_cards(card))
    return (
        f'<div class="{css_class}" id="card-{html.escape(card.source.id)}">'
        f"<h3>{html.escape(card.source.id)}</h3>"
        f'<div class="preview-cards">{blocks}</div></div>'
    )


def sections(rendered: list[RenderedCard]) -> dict[str, list[RenderedCard]]:
    """The cards grouped by section, in the order the page shows them."""
    groups: dict[str, list[RenderedCard]] = {}
    for card in rendered:
        groups.setdefault(card.section or "Cards", []).append(card)
    return groups


def card_count(rendered: list[RenderedCard]) -> int:
    """How many Anki cards the source cards make (as preview_cards lists them)."""
    return sum(1 + len(card.cloze_numbers) + bool(card.source.reverse) + bool(card.source.type_answer)
               for card in rendered)  # fmt: skip


def page_html(deck_name: str, bar: str, main: str, head: str = "", top: str = "", script: str = "",
              nonce: str = "") -> str:  # fmt: skip
    """A preview page around its parts: the bar's contents after the title and before the switches, the
    <main> contents, and extras for the <head>, above <main> and after the page's own script (``nonce``:
    the one its scripts carry, as a Content-Security-Policy names it)."""
    title = html.escape(deck_name)
    nonce = f' nonce="{nonce}"' if nonce else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: card preview</title>
<style id="preview-card-css">
{card_css()}
</style>
<style>{PAGE_CSS}</style>{head}
</head>
<body class="preview-page">
<header class="preview-bar" id="preview-bar">
<h1>{title}</h1>
{bar}
<label><input type="checkbox" id="preview-night"> Night mode</label>
<label><input type="checkbox" id="preview-phone" checked> Phone width (360 px)</label>
</header>{top}
<main class="preview-main" id="preview-main">
{main}
</main>
<script{nonce}>{PAGE_JS}</script>{script}
</body>
</html>
"""


def preview_html(rendered: list[RenderedCard], deck_name: str, media_dir: Path | None = None) -> str:
    """The whole preview page as one string."""
    uris = media_data_uris(media_dir, {name for card in rendered for name in card.media})
    groups = sections(rendered)
    toc = " · ".join(f'<a href="#section-{i}">{html.escape(name)}</a>' for i, name in enumerate(groups, 1))
    body = []
    for i, (name, cards) in enumerate(groups.items(), 1):
        body.append(f'<section><h2 id="section-{i}">{html.escape(name)}</h2>')
        body.extend(note_block(card, uris) for card in cards)
        body.append("</section>")
    bar = f'<span class="preview-toc">{card_count(rendered)} cards: {toc}</span>'
    return page_html(deck_name, bar, "".join(body))


def write_preview(rendered: list[RenderedCard], deck_name: str, path: Path, media_dir: Path | None = None) -> None:
    """Write the preview page; pass the media folder to embed the images the cards use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(preview_html(rendered, deck_name, media_dir), encoding="utf-8")

"""Syntax highlighting with Pygments that keeps cloze markers intact.

Pygments would split a cloze across several token spans, after which Anki no longer
finds it. So the markers are taken out, the plain code is lexed, and the markers are
put back between token spans, splitting a token where a cloze starts or ends inside it.
"""

from __future__ import annotations

import html
from functools import cache

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES, Token
from pygments.util import ClassNotFound

from ..fast import enabled as speed_up_enabled
from ..fast import lexer as fast_lexer
from .cloze import CLOSE, MARKERS
from .code_theme import CODE_CLASS, MAX_INDENT, LightCodeStyle, NightCodeStyle


@cache
def find_lexer(language: str) -> Lexer | None:
    """The lexer for a fence's language name, reused across cards; None if unknown."""
    try:
        # stripnl/ensurenl off: marker offsets count every character of the source.
        lexer = get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None
    return lexer


# Operators and punctuation carry the wrap points in card.css (.o::after, .p::after).
WRAP_POINT_CLASSES = frozenset({"o", "p"})


@cache
def _css_class(ttype) -> str:
    """The token's class; "" (no span) for tokens drawn exactly like the block's own text.

    Names are the most common tokens and are not coloured, so leaving out their spans
    makes the notes (and the package) markedly smaller, and changes nothing on screen.
    """
    while ttype not in STANDARD_TYPES:
        ttype = ttype.parent
    css = STANDARD_TYPES[ttype]
    if css not in WRAP_POINT_CLASSES and all(
        style.style_for_token(ttype) == style.style_for_token(Token) for style in (LightCodeStyle, NightCodeStyle)
    ):
        return ""
    return css


def highlight(code: str, language: str) -> str:
    """``<pre class="highlight">`` HTML for code that may contain cloze markers, one element per line."""
    lexer = find_lexer(language) if language else None
    plain = MARKERS.sub("", code)
    inserts = _marker_offsets(code)
    tokens = [("", plain)] if lexer is None else _merged(lexer, plain)
    lines = _Lines(plain.split("\n"))
    offset = 0
    pending = 0  # index into inserts
    for css, value in tokens:
        end = offset + len(value)
        start = offset
        while pending < len(inserts) and inserts[pending][0] < end:
            cut, marker = inserts[pending]
            lines.text(css, value[start - offset : cut - offset])
            lines.marker(marker)
            start = cut
            pending += 1
        lines.text(css, value[start - offset :])
        offset = end
    for _, marker in inserts[pending:]:
        lines.marker(marker)
    lang_class = f" language-{html.escape(language)}" if language else ""
    return f'<pre class="{CODE_CLASS}"><code class="code{lang_class}">{lines.html()}</code></pre>'


def line_class(line: str) -> str:
    """The class of a code line's element: its indentation in columns (a tab reaching the next 8)."""
    indent = len(line) - len(line.lstrip(" \t"))
    return f"line indent-{min(len(line[:indent].expandtabs(8)), MAX_INDENT)}"


class _Lines:
    """Writes highlighted code as one ``<span class="line indent-N">`` per source line, so that a
    wrapped line can hang under its own start (card.css): the web views of Anki's clients ignore
    ``text-indent: hanging each-line``.

    A cloze that runs over several lines is closed at the end of each line and opened again (the same
    marker: the same cloze) where the next line's text starts, so that each line's element holds
    whole clozes, as Anki needs. An empty line holds a space, to keep its height.
    """

    def __init__(self, source_lines: list[str]):
        self.classes = [line_class(line) for line in source_lines]
        self.parts: list[str] = [f'<span class="{self.classes[0]}">']
        self.number = 0
        self.open: list[str] = []  # cloze markers open here, outermost first
        self.shown = 0  # how many of them are open in this line's element
        self.has_text = False

    def text(self, css: str, value: str) -> None:
        if self.has_text and self.shown == len(self.open) and "\n" not in value:  # the usual token
            self.parts.append(_span(css, value))
            return
        for index, piece in enumerate(value.split("\n")):
            if index:
                self._next_line()
            if piece:
                self._write(css, piece)

    def marker(self, marker: str) -> None:
        if marker != CLOSE:
            self._show_open()
            self.open.append(marker)
            self.shown += 1
            self.parts.append(marker)
        elif self.open:
            self.open.pop()
            if self.shown > len(self.open):  # (one not opened on this line yet needs no closing)
                self.shown -= 1
                self.parts.append(CLOSE)

    def html(self) -> str:
        if self.number and not self.has_text and not self.shown:
            self.parts.pop()  # the newline that ends the code starts no line of its own
        else:
            self._end_line()
        return "".join(self.parts)

    def _write(self, css: str, piece: str) -> None:
        if not self.has_text:  # the indentation stays outside clozes opened again on this line
            indent = piece[: len(piece) - len(piece.lstrip(" \t"))]
            if indent:
                self.parts.append(_span(css, indent))
                piece = piece[len(indent) :]
                if not piece:
                    return
        self._show_open()
        self.parts.append(_span(css, piece))
        self.has_text = True

    def _show_open(self) -> None:
        self.parts.extend(self.open[self.shown :])
        self.shown = len(self.open)

    def _end_line(self, newline: bool = False) -> None:
        self.parts.extend(CLOSE for _ in range(self.shown))
        if not self.has_text and self.parts[-1].startswith('<span class="line'):
            self.parts.append(" ")  # an empty line: a space keeps its height (and a copied code's blank line)
        # The line break stays in the text (for copying, for screen readers, and where the CSS is not
        # applied), in an element the CSS hides: between the lines' own elements it would show twice.
        self.parts.append('<span class="eol">\n</span></span>' if newline else "</span>")

    def _next_line(self) -> None:
        self._end_line(newline=True)
        self.number += 1
        self.parts.append(f'<span class="{self.classes[self.number]}">')
        self.shown, self.has_text = 0, False


def _marker_offsets(code: str) -> list[tuple[int, str]]:
    # Each earlier marker shifts the offset in the plain code by one.
    return [(match.start() - removed, match.group()) for removed, match in enumerate(MARKERS.finditer(code))]


def _merged(lexer: Lexer, code: str) -> list[tuple[str, str]]:
    """Tokens with CSS classes, neighbours of the same class joined (smaller HTML)."""
    merged: list[tuple[str, str]] = []
    quick = fast_lexer.tokens(lexer, code) if speed_up_enabled("lexer") else None
    for ttype, value in lexer.get_tokens(code) if quick is None else quick:
        css = _css_class(ttype)
        if merged and merged[-1][0] == css:
            merged[-1] = (css, merged[-1][1] + value)
        else:
            merged.append((css, value))
    return merged


def _span(css: str, text: str) -> str:
    if not text:
        return ""
    text = html.escape(text, quote=False)
    return f'<span class="{css}">{text}</span>' if css and text.strip() else text

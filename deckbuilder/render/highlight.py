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
from .cloze import MARKERS
from .code_theme import CODE_CLASS, LightCodeStyle, NightCodeStyle


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
    """``<pre class="highlight">`` HTML for code that may contain cloze markers."""
    lexer = find_lexer(language) if language else None
    plain = MARKERS.sub("", code)
    inserts = _marker_offsets(code)
    tokens = [("", plain)] if lexer is None else _merged(lexer, plain)
    parts: list[str] = []
    offset = 0
    pending = 0  # index into inserts
    for css, value in tokens:
        end = offset + len(value)
        start = offset
        while pending < len(inserts) and inserts[pending][0] < end:
            cut, marker = inserts[pending]
            parts.append(_span(css, value[start - offset : cut - offset]))
            parts.append(marker)
            start = cut
            pending += 1
        parts.append(_span(css, value[start - offset :]))
        offset = end
    parts.extend(marker for _, marker in inserts[pending:])
    lang_class = f" language-{html.escape(language)}" if language else ""
    return f'<pre class="{CODE_CLASS}"><code class="code{lang_class}">{"".join(parts)}</code></pre>'


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

"""Math, kept away from Markdown and handed to Anki's MathJax as it reads it: ``\\( \\)`` and ``\\[ \\]``.

Python-Markdown would turn ``\\(`` into ``(`` and ``_`` into emphasis, so every math span is swapped
for a placeholder before Markdown runs and put back afterwards. Math is written the way MathJax and
Anki write it, or with dollars as most Markdown editors (Obsidian, Pandoc, Typora) do: ``$$...$$`` for
display and ``$...$`` inline, by Pandoc's rule, so that dollar amounts stay text: an opening ``$`` is
followed by a non-space, a closing one preceded by a non-space and not followed by a digit, and neither
kind spans a blank line; ``\\$`` is a dollar sign. Dollars become ``\\( \\)`` and ``\\[ \\]`` (Anki's
MathJax reads nothing else). Inside code nothing changes: a placeholder that Markdown put into code (an
indented block) or into an attribute gets the text back as it was written.
"""

from __future__ import annotations

import html
import re
from typing import NamedTuple

from .cloze import CLOSE, MARKERS, OPEN_BASE, Cloze, ClozeTable

_PLACEHOLDER = "\ue010{}\ue011"  # a private-use character pair, which Markdown copies through untouched
_PLACEHOLDER_BACK = re.compile(r"\ue010(\d+)\ue011")
# Bounded spans: an unmatched backtick or \( must not make the scan quadratic on a large card.
INLINE_CODE = re.compile(r"(?P<ticks>`+)[^`].{0,4000}?(?P=ticks)", re.DOTALL)
# One character of dollar math: an escaped one, any other but a dollar, or a line break not before a blank line.
_DOLLAR_CHAR = r"(?:\\[^\n]|[^\\$\n]|\n(?![ \t]*\n))"
_CODE_OR_MATH = re.compile(
    rf"(?P<code>{INLINE_CODE.pattern})"
    r"|(?P<math>\\\(.{1,4000}?\\\)|\\\[.{1,4000}?\\\])"
    r"|(?P<dollar>\\\$)"
    rf"|\$\$(?P<display>(?:{_DOLLAR_CHAR}|\$(?!\$)){{1,4000}}?)\$\$"
    rf"|\$(?!\$)(?P<inline>(?=\S){_DOLLAR_CHAR}{{1,4000}}?(?<=\S))\$(?!\d)",
    re.DOTALL,
)
# Where a placeholder must get back the text as written: in code, or inside a tag (an attribute).
_CODE_OR_TAG = re.compile(r"<code\b[^>]*>.*?</code>|<[^>]*>", re.DOTALL)
# TeX braces, not counting escaped ones (\{ and \} are literal braces).
_BRACE = re.compile(r"\\.|[{}]", re.DOTALL)

EARLY_END = (
    "cloze {{{{c{number}::...}}}} ends early, at a '}}}}' of the TeX (Anki ends a cloze at the first '}}}}'); "
    "write '}} }}' there instead"
)
ACROSS = (
    "cloze {{{{c{number}::...}}}} starts inside math and ends outside it; put it inside the math or around all of it"
)


class MathSpan(NamedTuple):
    """One protected span: the text as written, what Anki gets, and the clozes that cannot work in it."""

    written: str
    anki: str
    problems: tuple[tuple[Cloze, str], ...] = ()


def protect_math(prose: str, table: ClozeTable) -> tuple[str, list[MathSpan]]:
    """The prose with every math span (and ``\\$``) replaced by a placeholder, and the spans.

    ``prose`` holds the card's cloze markers (see cloze.py); clozes that Anki would break in
    math are found here and reported by restore_math, unless the span turns out to be code.
    """
    spans: list[MathSpan] = []
    if "\\" not in prose and "$" not in prose:
        return prose, spans
    pairs = _cloze_pairs(prose) if MARKERS.search(prose) else {}

    def protect(match: re.Match) -> str:
        if match.group("code"):
            return match.group()
        written = match.group()
        if match.group("dollar"):
            anki = "$"
        elif match.group("display") is not None:
            anki = f"\\[{match.group('display')}\\]"
        elif match.group("inline") is not None:
            anki = f"\\({match.group('inline')}\\)"
        else:
            anki = written
        problems = _cloze_problems(prose, match.start(), match.end(), pairs, table) if pairs else ()
        spans.append(MathSpan(written, anki, problems))
        return _PLACEHOLDER.format(len(spans) - 1)

    return _CODE_OR_MATH.sub(protect, prose), spans


def restore_math(rendered: str, spans: list[MathSpan], report_problem) -> str:
    """The HTML with each placeholder replaced, escaped: by the math for Anki, or in code and attributes by
    the text as written. ``report_problem(cloze, message)`` is called for each cloze that cannot work in math."""

    def for_anki(match: re.Match) -> str:
        span = spans[int(match.group(1))]
        for cloze, message in span.problems:
            report_problem(cloze, message)
        return html.escape(span.anki)  # quotes too: a tag's attribute may hold it

    def as_written(match: re.Match) -> str:
        return html.escape(spans[int(match.group(1))].written)

    out, position = [], 0
    for region in _CODE_OR_TAG.finditer(rendered):
        out.append(_PLACEHOLDER_BACK.sub(for_anki, rendered[position : region.start()]))
        out.append(_PLACEHOLDER_BACK.sub(as_written, region.group()))
        position = region.end()
    out.append(_PLACEHOLDER_BACK.sub(for_anki, rendered[position:]))
    return "".join(out)


# Math in the final HTML, outside code: the text between MathJax's delimiters.
_CODE_OR_MATH_HTML = re.compile(r"<pre\b.*?</pre>|<code\b.*?</code>|(\\\(.*?\\\)|\\\[.*?\\\])", re.DOTALL)


def without_markers_in_math(rendered: str) -> str:
    """The HTML with the cloze markers inside math removed, for the question/answer card, where the others
    become key-term spans: MathJax typesets no math that an element cuts in two (on cloze cards, Anki
    removes the markup of a cloze inside math itself)."""
    if "\\" not in rendered or not MARKERS.search(rendered):
        return rendered
    return _CODE_OR_MATH_HTML.sub(lambda m: MARKERS.sub("", m.group()) if m.group(1) else m.group(), rendered)


def _cloze_pairs(prose: str) -> dict[int, int]:
    """Where each cloze marker's partner is: {open marker offset: close offset, close offset: open offset}
    (-1 for a marker without one)."""
    pairs: dict[int, int] = {}
    opened: list[int] = []
    for match in MARKERS.finditer(prose):
        if match.group() != CLOSE:
            opened.append(match.start())
        elif opened:
            start = opened.pop()
            pairs[start], pairs[match.start()] = match.start(), start
        else:
            pairs[match.start()] = -1
    pairs.update((start, -1) for start in opened)
    return pairs


def _cloze_problems(prose: str, start: int, end: int, pairs: dict[int, int], table: ClozeTable) -> tuple:
    """The clozes Anki would break in the math at prose[start:end]: one that a '}}' of the TeX closed
    (its hidden text has unbalanced braces, or it opened before the math and closes inside it), and
    one that opens inside the math and closes after it."""
    problems = []
    for match in MARKERS.finditer(prose, start, end):
        partner = pairs.get(match.start(), -1)
        if match.group() == CLOSE:
            if 0 <= partner < start:
                problems.append((_cloze_at(prose, partner, table), EARLY_END))
            continue
        cloze = _cloze_at(prose, match.start(), table)
        if partner < 0:
            continue  # never closed: reported as such
        if partner >= end:
            problems.append((cloze, ACROSS))
        elif _unbalanced(MARKERS.sub("", prose[match.end() : partner])):
            problems.append((cloze, EARLY_END))
    return tuple((cloze, message.format(number=cloze.number)) for cloze, message in problems)


def _cloze_at(prose: str, offset: int, table: ClozeTable) -> Cloze:
    return table.clozes[ord(prose[offset]) - OPEN_BASE]


def _unbalanced(tex: str) -> bool:
    depth = 0
    for match in _BRACE.finditer(tex):
        if match.group() == "{":
            depth += 1
        elif match.group() == "}":
            depth -= 1
            if depth < 0:
                return True
    return depth != 0

"""Giveaways: a cloze's answer that its own card shows elsewhere, so that the blank tests nothing.

A cloze card shows, around its blank, the section, the question and the whole text with every other
cloze revealed, the blank's hint, its images' alt text and the text drawn in its SVG diagrams. If the
hidden text can be read in any of these, the learner copies it instead of recalling it. What no string
match can see (a "+" node in a diagram that means `Add`) still needs a person's review.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ElementTree
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .cloze import CLOSE, MARKERS, OPEN_BASE, Cloze, ClozeTable
from .rendered import ImageUse

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_SOUND = re.compile(r"\[sound:[^\]]*\]")
_ALT = re.compile(r"<img\b[^>]*?\balt=\"([^\"]*)\"", re.IGNORECASE)
# Quotes and brackets around an answer (a string's quotes in code) are not part of what it gives away.
_AROUND = " \"'`.,:;()[]{}"
# Answers shorter than this (in letters and digits) match too much ordinary text to be worth a warning.
MIN_ANSWER = 3


class Giveaway(NamedTuple):
    cloze: Cloze
    answer: str
    where: str  # "the question", "another cloze or the text", "the hint", "an image's alt text", "x.svg"


def find_giveaways(table: ClozeTable, full: str, question: str, section: str, images: tuple[ImageUse, ...]):
    """Each cloze number whose answer its card shows elsewhere (the first occurrence of each, once)."""
    spans = _spans(full)
    found = []
    for number in sorted({cloze.number for cloze in table.clozes}):
        mine = [index for index in spans if table.clozes[index].number == number]
        hidden = _without(full, [spans[index] for index in mine])
        shown = {
            "the question or section": _text(question) + " " + _text(section),
            "the hint": " ".join(_text(table.clozes[index].hint) for index in mine),
            "the card's text (other clozes revealed)": _text(MARKERS.sub("", hidden)),
            "an image's alt text": " ".join(_text(alt) for alt in _ALT.findall(hidden + question)),
        }
        for image in images:
            if image.name.endswith(".svg"):
                shown[image.ref] = svg_text(image.source, image.name)
        for index in mine:
            answer = _plain(MARKERS.sub("", full[slice(*spans[index])])).strip(_AROUND)
            where = _where_shown(answer.casefold(), shown)
            if where:
                found.append(Giveaway(table.clozes[index], answer, where))
                break
    return found


def _spans(full: str) -> dict[int, tuple[int, int]]:
    """Each cloze occurrence's (start, end) in the HTML, its markers included, by its index in the table."""
    spans, stack = {}, []
    for match in MARKERS.finditer(full):
        if match.group() != CLOSE:
            stack.append((ord(match.group()) - OPEN_BASE, match.start()))
        elif stack:
            index, start = stack.pop()
            spans.setdefault(index, (start, match.end()))
    return spans


def _without(full: str, spans: list[tuple[int, int]]) -> str:
    """The HTML with the given spans cut out (a blank shows none of its text)."""
    pieces, position = [], 0
    for start, end in sorted(spans):
        if start >= position:
            pieces.append(full[position:start] + " ")
            position = end
    return "".join(pieces) + full[position:]


def _plain(markup: str) -> str:
    # A sound is a play button on the card: its file's name is not something a learner reads.
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", _SOUND.sub(" ", markup)))).strip()


def _text(markup: str) -> str:
    """What a learner reads in ``markup``, compared regardless of case."""
    return _plain(markup).casefold()


def _where_shown(answer: str, shown: dict[str, str]) -> str | None:
    if sum(char.isalnum() for char in answer) < MIN_ANSWER:
        return None
    pattern = re.compile(rf"(?<!\w){re.escape(answer)}(?!\w)")
    return next((where for where, text in shown.items() if pattern.search(text)), None)


@lru_cache(maxsize=256)
def svg_text(path: Path, name: str) -> str:
    """The text an SVG draws (its <text> and <title> content), normalised; "" if it cannot be read.
    ``name``, the packaged name, holds a digest of the content: an edited file is read again."""
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError):
        return ""
    return _text(" ".join(root.itertext()))

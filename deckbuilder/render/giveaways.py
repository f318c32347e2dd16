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
    if not table.clozes:
        return []
    # The card's text once, its markers kept, so that each blank is cut out of it by slicing.
    text = _text(full)
    spans = _spans(text)
    around = {
        "the question or section": _text(question) + " " + _text(section),
        "an image's alt text": " ".join(_text(alt) for alt in _ALT.findall(full + question)),
    }
    for image in images:
        if image.name.endswith(".svg"):
            around[image.ref] = svg_text(image.source, image.name)
    found = []
    for number in sorted({cloze.number for cloze in table.clozes}):
        mine = [index for index in spans if table.clozes[index].number == number]
        shown = {
            "the hint": " ".join(_text(table.clozes[index].hint) for index in mine if table.clozes[index].hint),
            "the card's text (other clozes revealed)": MARKERS.sub("", _without(text, [spans[i] for i in mine])),
            **around,
        }
        for index in mine:
            answer = MARKERS.sub("", text[slice(*spans[index])]).strip(_AROUND)
            where = _where_shown(answer, shown)
            if where:
                found.append(Giveaway(table.clozes[index], _answer_as_written(full, index), where))
                break
    return found


def _answer_as_written(full: str, index: int) -> str:
    """The hidden text of the cloze occurrence ``index``, as the card shows it (not folded to lower case)."""
    start, end = _spans(full)[index]
    return _plain(MARKERS.sub("", full[start:end])).strip(_AROUND)


def _spans(markup: str) -> dict[int, tuple[int, int]]:
    """Each cloze occurrence's (start, end) in the text, its markers included, by its index in the table."""
    spans, stack = {}, []
    for match in MARKERS.finditer(markup):
        if match.group() != CLOSE:
            stack.append((ord(match.group()) - OPEN_BASE, match.start()))
        elif stack:
            index, start = stack.pop()
            spans.setdefault(index, (start, match.end()))
    return spans


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with the given spans cut out (a blank shows none of its text)."""
    pieces, position = [], 0
    for start, end in sorted(spans):
        if start >= position:
            pieces.append(text[position:start] + " ")
            position = end
    return "".join(pieces) + text[position:]


def _plain(markup: str) -> str:
    # A sound is a play button on the card: its file's name is not something a learner reads.
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", _SOUND.sub(" ", markup)))).strip()


def _text(markup: str) -> str:
    """What a learner reads in ``markup``, compared regardless of case (cloze markers kept)."""
    return _plain(markup).casefold()


def _where_shown(answer: str, shown: dict[str, str]) -> str | None:
    if sum(char.isalnum() for char in answer) < MIN_ANSWER:
        return None
    for where, text in shown.items():
        # (the substring test first: most answers are nowhere else, and it is far quicker than the pattern)
        if answer in text and re.search(rf"(?<!\w){re.escape(answer)}(?!\w)", text):
            return where
    return None


@lru_cache(maxsize=256)
def svg_text(path: Path, name: str) -> str:
    """The text an SVG draws (its <text> and <title> content), normalised; "" if it cannot be read.
    ``name``, the packaged name, holds a digest of the content: an edited file is read again."""
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError):
        return ""
    return _text(" ".join(root.itertext()))

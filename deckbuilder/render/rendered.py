"""What rendering produces: the HTML fields of a card (kept apart from the renderer, so that
reading cached cards never imports Markdown or Pygments)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from ..read.cards import SourceCard


class ImageUse(NamedTuple):
    """One image reference of a card and the media file it was resolved to."""

    ref: str
    line: int
    name: str
    source: Path


class RenderedCard(NamedTuple):
    """The HTML fields of one card, ready to be packaged (a tuple: quick to make, like SourceCard)."""

    source: SourceCard
    question: str
    answer: str
    cloze_text: str
    cloze_numbers: tuple[int, ...]
    reference: str
    section: str
    images: tuple[ImageUse, ...]
    code_blocks: tuple[tuple[str, str, str], ...] = ()  # (language, code, HTML): reused when unchanged
    guids: tuple[str, str, str] | tuple[()] = ()  # read.config.note_guids, worked out with the card
    digests: tuple[str, str, str] | tuple[()] = ()  # package.notes.note_digests, likewise

    @property
    def media(self) -> tuple[str, ...]:
        """The packaged names of the media files this card shows."""
        return tuple(sorted({image.name for image in self.images}))

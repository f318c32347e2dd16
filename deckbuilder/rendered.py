"""What rendering produces: the HTML fields of a card (kept apart from the renderer, so that
reading cached cards never imports Markdown or Pygments)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .sources import SourceCard


@dataclass(frozen=True)
class ImageUse:
    """One image reference of a card and the media file it was resolved to."""

    ref: str
    line: int
    name: str
    source: Path


@dataclass(frozen=True)
class RenderedCard:
    """The HTML fields of one card, ready to be packaged."""

    source: SourceCard
    question: str
    answer: str
    cloze_text: str
    cloze_numbers: tuple[int, ...]
    reference: str
    section: str
    images: tuple[ImageUse, ...]

    @property
    def media(self) -> tuple[str, ...]:
        """The packaged names of the media files this card shows."""
        return tuple(sorted({image.name for image in self.images}))

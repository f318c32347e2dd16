"""The Python-Markdown converter cards are rendered with.

new_markdown sets up what decides the HTML (extensions, image resolution, literal ``__dunder__``
names); fast/markdown.py adds what only saves time: tests render with and without it and compare.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import markdown
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.tables import TableExtension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString


class ImageResolver(Treeprocessor):
    """Points ``<img src>`` at the packaged media name (the mkdocs way: on the element tree)."""

    def __init__(self, md: markdown.Markdown):
        super().__init__(md)
        self.resolve = None

    def run(self, root):
        for img in root.iter("img"):
            img.set("src", self.resolve(img.get("src", "")))


class _LiteralDunder(InlineProcessor):
    """``__init__`` is a Python name, not bold "init": in a deck about code, keep it literal."""

    def handleMatch(self, m, data):
        return AtomicString(m.group(0)), m.start(0), m.end(0)


def new_markdown() -> tuple[markdown.Markdown, ImageResolver]:
    """Python-Markdown as this tool renders with it: what decides the HTML."""
    md = markdown.Markdown(
        # Instances, not names: loading extensions by name scans every installed package's entry points.
        extensions=[TableExtension(use_align_attribute=True), SaneListExtension()],
    )
    resolver = ImageResolver(md)
    md.treeprocessors.register(resolver, "build_deck_images", 0)
    # Above Python-Markdown's strong/em patterns (priority 50 for underscores).
    md.inlinePatterns.register(_LiteralDunder(r"(?<!\w)__[A-Za-z0-9]\w*?[A-Za-z0-9]__(?!\w)", md), "dunder", 65)
    return md, resolver


@lru_cache(maxsize=1)
def _converter() -> tuple[markdown.Markdown, ImageResolver]:
    return new_markdown()  # one per process: setting one up costs more than converting a card


def convert(text: str, resolve: Callable[[str], str]) -> str:
    """Markdown to HTML; ``resolve`` gives each image reference's packaged name."""
    md, resolver = _converter()
    resolver.resolve = resolve
    return md.reset().convert(text)

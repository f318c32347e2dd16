"""The Python-Markdown converter cards are rendered with.

new_markdown sets up what decides the HTML (extensions, image resolution, literal ``__dunder__``
names, Obsidian's syntax); fast/markdown.py adds what only saves time: tests render with and without it
and compare.
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

from .media import SOUND_MARK, is_sound
from .obsidian import ObsidianExtension


class ImageResolver(Treeprocessor):
    """Points ``<img src>`` at the packaged media name (the mkdocs way: on the element tree); audio
    and video, which Anki plays from a ``[sound:name]`` tag, become a mark for that tag instead."""

    def __init__(self, md: markdown.Markdown):
        super().__init__(md)
        self.resolve = None

    def run(self, root):
        for parent in [element for element in root.iter() if element.find("img") is not None]:
            for img in parent.findall("img"):
                name = self.resolve(img.get("src", ""))
                if is_sound(name):
                    _replace_with_text(parent, img, SOUND_MARK.format(name))
                else:
                    img.set("src", name)


def _replace_with_text(parent, child, text: str) -> None:
    """Put ``text`` (and the child's tail) where the child element was."""
    text += child.tail or ""
    index = list(parent).index(child)
    if index:
        before = parent[index - 1]
        before.tail = (before.tail or "") + text
    else:
        parent.text = (parent.text or "") + text
    parent.remove(child)


class _LiteralDunder(InlineProcessor):
    """``__init__`` is a Python name, not bold "init": in a deck about code, keep it literal."""

    def handleMatch(self, m, data):
        return AtomicString(m.group(0)), m.start(0), m.end(0)


def new_markdown() -> tuple[markdown.Markdown, ImageResolver]:
    """Python-Markdown as this tool renders with it: what decides the HTML."""
    md = markdown.Markdown(
        # Instances, not names: loading extensions by name scans every installed package's entry points.
        extensions=[TableExtension(use_align_attribute=True), SaneListExtension(), ObsidianExtension()],
        # HTML5 (<br>, not <br />): what Anki's web views read, and what the sanitiser writes, so that
        # sanitising a card's HTML, or leaving it out where it cannot change anything, gives the same bytes.
        output_format="html",
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

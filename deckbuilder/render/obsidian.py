"""Obsidian's Markdown, as an extension of Python-Markdown: notes written in a vault build as they are.

=================  ======  ========  ===================================================================
name               kind    priority  what it makes
=================  ======  ========  ===================================================================
obsidian_embed     inline  186       ``![[file]]`` -> ``<img src="file">`` (resolved like any image: audio
                                     and video become Anki's ``[sound:]``); ``![[file|300]]`` sets the
                                     width, ``![[file|text]]`` the alt text
wikilink           inline  185       ``[[note]]``, ``[[note|alias]]``, ``[[note#heading]]`` -> their text:
                                     a card has no vault to link to
highlight          inline  67        ``==text==`` -> ``<mark>``
callout            block   21        ``> [!kind] Title`` and the quoted lines after it -> a box:
                                     ``<div class="callout callout-kind">`` with a title
=================  ======  ========  ===================================================================

The inline patterns run above the backslash escape (180), so that ``\\|`` (a pipe inside a table cell)
still separates an alias; code spans (190) come first, so nothing here happens inside code.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown.blockprocessors import BlockQuoteProcessor
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.util import AtomicString

_TARGET = r"(?P<target>[^\[\]|\n]+?)"
_LABEL = r"(?:\\?\|(?P<label>[^\[\]\n]*?))?"
EMBED = rf"!\[\[{_TARGET}{_LABEL}\]\]"
WIKILINK = rf"\[\[{_TARGET}{_LABEL}\]\]"
HIGHLIGHT = r"(?<![=\\])==(?![\s=])(?P<text>.+?)(?<![\s=])==(?!=)"
_SIZE = re.compile(r"(?P<width>\d+)(?:x(?P<height>\d+))?")

# Obsidian's callout kinds and their other names (https://help.obsidian.md/callouts); an unknown
# kind looks like a note, as in Obsidian.
CALLOUT_KINDS = {
    "note": "note", "abstract": "abstract", "summary": "abstract", "tldr": "abstract", "info": "info",
    "todo": "todo", "tip": "tip", "hint": "tip", "important": "tip", "success": "success", "check": "success",
    "done": "success", "question": "question", "help": "question", "faq": "question", "warning": "warning",
    "caution": "warning", "attention": "warning", "failure": "failure", "fail": "failure", "missing": "failure",
    "danger": "danger", "error": "danger", "bug": "bug", "example": "example", "quote": "quote", "cite": "quote",
}  # fmt: skip
# The first line of a callout, after its '>': the kind, an optional fold sign (a card shows every
# callout open) and an optional title.
_CALLOUT_HEADER = re.compile(r"\[!(?P<kind>[A-Za-z][\w-]*)\][+-]?(?:[ \t]+(?P<title>.*?))?[ \t]*")


class _Embed(InlineProcessor):
    """``![[file]]``: an image element, which the image resolver then points at the packaged file."""

    def handleMatch(self, m, data):
        img = etree.Element("img", {"src": m.group("target").strip(), "alt": ""})
        label = (m.group("label") or "").strip()
        size = _SIZE.fullmatch(label)
        if size:
            img.set("width", size.group("width"))
            if size.group("height"):
                img.set("height", size.group("height"))
        elif label:
            img.set("alt", label)
        return img, m.start(0), m.end(0)


def wikilink_text(target: str, label: str | None) -> str:
    """What Obsidian shows for a link: its alias, else the note and heading (``note > heading``)."""
    if label and label.strip():
        return label.strip()
    parts = [part.strip() for part in target.split("#")]
    return " > ".join(part for part in parts if part) or target.strip()


class _Wikilink(InlineProcessor):
    """``[[note|alias]]``: the text alone (literal: a note's name is not Markdown)."""

    def handleMatch(self, m, data):
        return AtomicString(wikilink_text(m.group("target"), m.group("label"))), m.start(0), m.end(0)


class _Highlight(InlineProcessor):
    """``==text==``: marked text, its inside rendered as Markdown."""

    def handleMatch(self, m, data):
        mark = etree.Element("mark")
        mark.text = m.group("text")
        return mark, m.start(0), m.end(0)


class _Callout(BlockQuoteProcessor):
    """A quote whose first line is ``[!kind] Title``: a box with the title, the rest parsed inside it."""

    def test(self, parent, block) -> bool:
        quoted = self.RE.search(block)  # the first quoted line, as the quote processor finds it
        return bool(quoted) and bool(_CALLOUT_HEADER.fullmatch(quoted.group(2))) and super().test(parent, block)

    def run(self, parent, blocks) -> None:
        block = blocks.pop(0)
        start = self.RE.search(block).start()
        self.parser.parseBlocks(parent, [block[:start]])  # lines before it: a paragraph
        lines = [self.clean(line) for line in block[start:].lstrip("\n").split("\n")]
        header = _CALLOUT_HEADER.fullmatch(lines[0])
        written = header.group("kind")
        kind = CALLOUT_KINDS.get(written.lower(), "note")
        box = etree.SubElement(parent, "div", {"class": f"callout callout-{kind}"})
        title = etree.SubElement(box, "div", {"class": "callout-title"})
        title.text = header.group("title") or written[:1].upper() + written[1:].lower()
        self.parser.state.set("blockquote")
        self.parser.parseChunk(box, "\n".join(lines[1:]))
        self.parser.state.reset()


class ObsidianExtension(Extension):
    """Embeds, wikilinks, highlights and callouts (see the table above)."""

    def extendMarkdown(self, md) -> None:
        md.inlinePatterns.register(_Embed(EMBED, md), "obsidian_embed", 186)
        md.inlinePatterns.register(_Wikilink(WIKILINK, md), "wikilink", 185)
        md.inlinePatterns.register(_Highlight(HIGHLIGHT, md), "highlight", 67)
        md.parser.blockprocessors.register(_Callout(md.parser), "callout", 21)

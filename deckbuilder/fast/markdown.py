"""Python-Markdown, with the work left out that cannot change its HTML.

Inline processing tries every pattern on every piece of text, and block processors test
every block with regular expressions: most of a conversion's time for cards of short
sentences. What is here skips only what could never match; tests render with and without
it and compare (tests/test_render.py).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from functools import lru_cache

import markdown
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from ..render.markdown import ImageResolver, new_markdown

# Text without a character that starts an inline pattern (code, escape, link, wikilink, image, embed,
# autolink, HTML, entity, emphasis, ``==`` highlight) and without a hard line break (two spaces before a newline).
_PLAIN_TEXT = re.compile(r"(?:[^`\\\[!<&*_ =]| (?! +\n)|=(?!=))*", re.DOTALL)


class _SimpleInline(Treeprocessor):
    """Does the inline pass's work on text it need not see, and marks that text atomic.

    Inline processing tries every pattern on every piece of text and is most of the cost of
    a conversion. Text with none of the characters that start a pattern (and no hard line
    break) would come out unchanged; text whose only inline syntax is code spans (the usual
    sentence in this deck) gets its ``<code>`` elements here, made by Python-Markdown's own
    backtick pattern exactly as the inline pass would make them.
    """

    def __init__(self, md: markdown.Markdown):
        super().__init__(md)
        self.backtick = md.inlinePatterns["backtick"]
        self.left_for_inline_pass = True  # whether any text still needs the inline pass

    def run(self, root):
        self.left_for_inline_pass = False
        for parent in list(root.iter()):
            # Right to left, so that inserting elements after a child leaves the others' places.
            for index in range(len(parent) - 1, -1, -1):
                child = parent[index]
                if child.tail and not isinstance(child.tail, AtomicString):
                    child.tail, codes = self._inline(child.tail)
                    parent[index + 1 : index + 1] = codes
            if parent is not root and parent.text and not isinstance(parent.text, AtomicString):
                parent.text, codes = self._inline(parent.text)  # (the inline pass skips the root's text)
                parent[0:0] = codes

    def skipping_done_work(self, inline_run):
        """The inline pass's run, skipped when no text is left for it (it would walk the whole tree
        and change nothing)."""

        def run(root, ancestors=None):
            return inline_run(root, ancestors) if self.left_for_inline_pass else root

        return run

    def _inline(self, text: str) -> tuple[str | None, list]:
        """The text before the first code span (None if empty), and the code elements, each with the
        text after it as its tail; or the text as it is when other patterns could match it."""
        if _PLAIN_TEXT.fullmatch(text):
            return AtomicString(text), []
        if "\\" in text or "\x02" in text:  # escapes, and Markdown's own placeholders
            self.left_for_inline_pass = True
            return text, []
        pieces, codes = [], []
        position = start = 0
        regex = self.backtick.getCompiledRegExp()
        while match := regex.search(text, position):
            code, begin, position = self.backtick.handleMatch(match, text)
            if code is not None:  # else backticks with no closing run: literal text
                pieces.append(text[start:begin])
                codes.append(code)
                start = position
        pieces.append(text[start:])
        if not all(_PLAIN_TEXT.fullmatch(piece) for piece in pieces):
            self.left_for_inline_pass = True
            return text, []
        for code, tail in zip(codes, pieces[1:], strict=True):
            code.tail = AtomicString(tail) if tail else None
        return (AtomicString(pieces[0]) if pieces[0] else None), codes


# What each inline pattern needs: one of these characters or strings ("break": a hard line break).
_PATTERN_NEEDS = {
    "backtick": "`", "escape": "\\", "reference": "[", "link": "[", "image_link": "[", "image_reference": "[",
    "short_reference": "[", "short_image_ref": "[", "autolink": "<", "automail": "<", "html": "<",
    "entity": "&", "em_strong": "*_", "dunder": "_", "linebreak": ("break",),
    "obsidian_embed": "[", "wikilink": "[", "highlight": ("==",),
}  # fmt: skip
_TRIGGERS = ("`", "\\", "[", "<", "&", "*", "_", "==")


class InlinePatternChooser:
    """Gives Python-Markdown's inline pass only the patterns that can match the text at hand.

    The inline pass tries every pattern on every piece of text, looking each one up in a
    Registry that re-checks its order on every access. A pattern that needs a character the
    text does not hold can never match, so leaving it out changes nothing but the time.
    """

    def __init__(self, md: markdown.Markdown):
        self.inline = md.treeprocessors["inline"]
        names = {md.inlinePatterns[name]: name for name in _PATTERN_NEEDS if name in md.inlinePatterns}
        self.patterns = [(names.get(pattern), pattern) for pattern in md.inlinePatterns]  # in priority order
        self.chosen: dict[frozenset, list] = {}

    def choose(self, text: str) -> None:
        present = {trigger for trigger in _TRIGGERS if trigger in text}
        # Two spaces end a line with a break; a tab becomes spaces first.
        if "\t" in text or "  \n" in text + "\n":
            present.add("break")
        key = frozenset(present)
        if key not in self.chosen:
            self.chosen[key] = [
                pattern
                for name, pattern in self.patterns
                if name is None or any(n in key for n in _PATTERN_NEEDS[name])
            ]
        self.inline.inlinePatterns = self.chosen[key]


# What a block must hold for these block processors' tests to pass (each test searches the whole
# block with a regular expression; most blocks are paragraphs that none of them matches).
_BLOCK_NEEDS = {
    "table": lambda block: "|" in block and "\n" in block,  # a pipe in its first row, and a second row
    "hashheader": lambda block: "#" in block,
    "setextheader": lambda block: "\n=" in block or "\n-" in block,
    "hr": lambda block: "-" in block or "_" in block or "*" in block,
    "quote": lambda block: ">" in block,
    "callout": lambda block: "[!" in block,
}


def _pre_tested(test, could_match):
    def quick_test(parent, block: str) -> bool:
        return could_match(block) and test(parent, block)

    quick_test.__wrapped__ = test
    return quick_test


def speed_up(md: markdown.Markdown) -> InlinePatternChooser:
    """Leave out work that cannot change the HTML (tests render with and without this)."""
    for name, could_match in _BLOCK_NEEDS.items():
        processor = md.parser.blockprocessors[name]
        processor.test = _pre_tested(processor.test, could_match)
    simple = _SimpleInline(md)
    md.treeprocessors.register(simple, "build_deck_simple_inline", 25)  # just before "inline" (20)
    inline = md.treeprocessors["inline"]
    inline.run = simple.skipping_done_work(inline.run)
    return InlinePatternChooser(md)


@lru_cache(maxsize=1)
def _converter() -> tuple[markdown.Markdown, ImageResolver, InlinePatternChooser]:
    md, resolver = new_markdown()
    return md, resolver, speed_up(md)


def convert(text: str, resolve: Callable[[str], str]) -> str:
    """render.markdown.convert, in less time."""
    md, resolver, chooser = _converter()
    resolver.resolve = resolve
    chooser.choose(text)
    return md.reset().convert(text)


# A question of plain words and `code` spans: no emphasis, links, HTML, entities, escapes, math (\( or $),
# highlights or clozes.
_PLAIN_QUESTION = re.compile(r"(?:[^`*_\[\]<>&\\{}$=]|=(?!=)|(`+)[^`]+?\1)*")
_INLINE_CODE_SPAN = re.compile(r"(`+)([^`]+?)\1")


def plain_question(text: str) -> str | None:
    """The HTML Python-Markdown makes of a question heading of plain words and code spans (the usual
    question), without its cost; None for any other."""
    if not _PLAIN_QUESTION.fullmatch(text):
        return None
    return _INLINE_CODE_SPAN.sub(lambda m: f"<code>{m.group(2).strip()}</code>", html.escape(text, quote=False))

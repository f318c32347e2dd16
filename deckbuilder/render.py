"""Render a card's Markdown to the HTML of its Anki fields."""

from __future__ import annotations

import html
import re
from functools import lru_cache

import markdown
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.tables import TableExtension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

from .cloze import ClozeProblem, ClozeTable, mark_clozes
from .errors import Report
from .highlight import find_lexer, highlight
from .media import MediaError, MediaLibrary
from .rendered import ImageUse, RenderedCard
from .sanitize import find_unsafe_html, find_unsafe_links, sanitize
from .sources import SourceCard

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+#.-]*)[^\n`]*$")
# Placeholders are private-use characters, which Markdown copies through untouched.
_BLOCK = "\ue020{}\ue021"
_BLOCK_HTML = re.compile(r"(?:<p>)?\ue020(\d+)\ue021(?:</p>)?")
_MATH = "\ue010{}\ue011"
_MATH_BACK = re.compile(r"\ue010(\d+)\ue011")
# Bounded spans: an unmatched backtick or \( must not make the scan quadratic on a large card.
_INLINE_CODE = re.compile(r"(?P<ticks>`+)[^`].{0,4000}?(?P=ticks)", re.DOTALL)
_CODE_OR_MATH = re.compile(
    rf"(?P<code>{_INLINE_CODE.pattern})|(?P<math>\\\(.{{1,4000}}?\\\)|\\\[.{{1,4000}}?\\\])", re.DOTALL
)
_PARAGRAPH = re.compile(r"^<p>(.*)</p>$", re.DOTALL)
# Text without a character that starts an inline pattern (code, escape, link, image, autolink,
# HTML, entity, emphasis) and without a hard line break (two spaces before a newline).
_PLAIN_TEXT = re.compile(r"(?:[^`\\\[!<&*_ ]| (?! +\n))*", re.DOTALL)
_MAYBE_UNSAFE = re.compile(r"<|\]\(|\]:")
_TAGS = re.compile(r"<[^>]*>")
_SPLIT = "\ue030"  # a paragraph of its own between answer and details
# A question of plain words and `code` spans: no emphasis, links, HTML, entities, escapes, math or clozes.
_PLAIN_QUESTION = re.compile(r"(?:[^`*_\[\]<>&\\{}]|(`+)[^`]+?\1)*")
_INLINE_CODE_SPAN = re.compile(r"(`+)([^`]+?)\1")


class _ImageResolver(Treeprocessor):
    """Points ``<img src>`` at the packaged media name (the mkdocs way: on the element tree)."""

    def __init__(self, md: markdown.Markdown):
        super().__init__(md)
        self.resolve = None

    def run(self, root):
        for img in root.iter("img"):
            img.set("src", self.resolve(img.get("src", "")))


class _SkipPlainText(Treeprocessor):
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

    def run(self, root):
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

    def _inline(self, text: str) -> tuple[str | None, list]:
        """The text before the first code span (None if empty), and the code elements, each with the
        text after it as its tail; or the text as it is when other patterns could match it."""
        if _PLAIN_TEXT.fullmatch(text):
            return AtomicString(text), []
        if "\\" in text or "\x02" in text:  # escapes, and Markdown's own placeholders
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
            return text, []
        for code, tail in zip(codes, pieces[1:], strict=True):
            code.tail = AtomicString(tail) if tail else None
        return (AtomicString(pieces[0]) if pieces[0] else None), codes


class _LiteralDunder(InlineProcessor):
    """``__init__`` is a Python name, not bold "init": in a deck about code, keep it literal."""

    def handleMatch(self, m, data):
        return AtomicString(m.group(0)), m.start(0), m.end(0)


# What each of Python-Markdown's inline patterns needs: one of these characters ("break": a hard line break).
_PATTERN_NEEDS = {
    "backtick": "`", "escape": "\\", "reference": "[", "link": "[", "image_link": "[", "image_reference": "[",
    "short_reference": "[", "short_image_ref": "[", "autolink": "<", "automail": "<", "html": "<",
    "entity": "&", "em_strong": "*_", "dunder": "_", "linebreak": ("break",),
}  # fmt: skip
_TRIGGERS = "`\\[<&*_"


class _InlinePatternChooser:
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
        present = {char for char in _TRIGGERS if char in text}
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
}


def _pre_tested(test, could_match):
    def quick_test(parent, block: str) -> bool:
        return could_match(block) and test(parent, block)

    quick_test.__wrapped__ = test
    return quick_test


def _new_markdown() -> tuple[markdown.Markdown, _ImageResolver]:
    """Python-Markdown as this tool renders with it: what decides the HTML."""
    md = markdown.Markdown(
        # Instances, not names: loading extensions by name scans every installed package's entry points.
        extensions=[TableExtension(use_align_attribute=True), SaneListExtension()],
    )
    resolver = _ImageResolver(md)
    md.treeprocessors.register(resolver, "build_deck_images", 0)
    # Above Python-Markdown's strong/em patterns (priority 50 for underscores).
    md.inlinePatterns.register(_LiteralDunder(r"(?<!\w)__[A-Za-z0-9]\w*?[A-Za-z0-9]__(?!\w)", md), "dunder", 65)
    return md, resolver


def _speed_up(md: markdown.Markdown) -> _InlinePatternChooser:
    """Leave out work that cannot change the HTML (tests render with and without this)."""
    for name, could_match in _BLOCK_NEEDS.items():
        processor = md.parser.blockprocessors[name]
        processor.test = _pre_tested(processor.test, could_match)
    md.treeprocessors.register(_SkipPlainText(md), "build_deck_plain_text", 25)  # just before "inline" (20)
    return _InlinePatternChooser(md)


@lru_cache(maxsize=1)
def _markdown() -> tuple[markdown.Markdown, _ImageResolver, _InlinePatternChooser]:
    md, resolver = _new_markdown()
    return md, resolver, _speed_up(md)


class _Chunk:
    """Renders one stretch of Markdown (question, answer or details) for one card."""

    def __init__(self, card: SourceCard, library: MediaLibrary, report: Report, table: ClozeTable, known: dict):
        self.card, self.library, self.report, self.table = card, library, report, table
        self.images: list[ImageUse] = []
        self.known_blocks = known  # (language, code) -> HTML, from this card's previous rendering
        self.code_blocks: list[tuple[str, str, str]] = []
        # Whether the Markdown has raw HTML or links: without them, Markdown's output is
        # all our own (text escaped, images resolved) and sanitising it would change nothing.
        self.unsafe = False

    def render(self, text: str, first_line: int) -> str:
        blocks: list[str] = []
        problems: list[ClozeProblem] = []
        prose = self._replace_fences(text.split("\n"), first_line, blocks, problems)
        maths: list[str] = []
        if "\\" in prose:
            prose = _CODE_OR_MATH.sub(lambda m: _protect_math(m, maths), prose)
        md, resolver, patterns = _markdown()
        resolver.resolve = lambda ref: self._image(ref, text, first_line)
        patterns.choose(prose)
        rendered = md.reset().convert(prose)
        if maths:
            rendered = _MATH_BACK.sub(lambda m: html.escape(maths[int(m.group(1))], quote=False), rendered)
        if blocks:
            rendered = _BLOCK_HTML.sub(lambda m: blocks[int(m.group(1))], rendered)
        for problem in problems:
            self.report.error(self.card.path, problem.line, problem.message)
        if _MAYBE_UNSAFE.search(text):
            masked = _mask_code(text)
            self.unsafe = self.unsafe or bool(_MAYBE_UNSAFE.search(masked))
            for line, message in find_unsafe_html(masked, first_line) + find_unsafe_links(masked, first_line):
                self.report.warning(self.card.path, line, message)
        return rendered

    def _replace_fences(self, lines: list[str], first_line: int, blocks: list[str], problems) -> str:
        """Highlight fenced code now, leaving a placeholder for Markdown to carry."""
        out: list[str] = []
        prose: list[str] = []
        prose_line = first_line
        i = 0
        while i < len(lines):
            match = _FENCE_OPEN.match(lines[i])
            if not match:
                prose.append(lines[i])
                i += 1
                continue
            fence_line = first_line + i
            hint = f" before the code fence at line {fence_line}; a cloze cannot span a code fence"
            out.append(mark_clozes("\n".join(prose), prose_line, self.table, problems, hint)[0])
            prose = []
            end = _fence_end(lines, i, match.group("fence"))
            if end is None:
                fence = match.group("fence")
                message = f"code fence '{fence}' is never closed; add a closing '{fence}' line"
                self.report.error(self.card.path, fence_line, message)
                end = len(lines)
            blocks.append(self._code_block(match, lines[i + 1 : end], fence_line, first_line + end, problems))
            placeholder = match.group("indent") + _BLOCK.format(len(blocks) - 1)
            out.append(placeholder if match.group("indent") else f"\n{placeholder}\n")
            i = end + 1
            prose_line = first_line + i
        out.append(mark_clozes("\n".join(prose), prose_line, self.table, problems)[0])
        return "\n".join(out)

    def _code_block(self, fence: re.Match, lines: list[str], fence_line: int, end_line: int, problems) -> str:
        """One fenced block, its clozes marked, highlighted."""
        indent = len(fence.group("indent"))
        code = "\n".join(line[indent:] if not line[:indent].strip() else line.lstrip() for line in lines)
        hint = f" inside the code block; a cloze cannot span a code fence (line {end_line})"
        marked, _ = mark_clozes(code + "\n", fence_line + 1, self.table, problems, hint)
        language = fence.group("lang").lower()
        known = self.known_blocks.get((language, marked))
        if known is not None:  # unchanged since the last build: no lexer to load (a tenth of a second)
            self.code_blocks.append((language, marked, known))
            return known
        if language and find_lexer(language) is None:
            self.report.warning(self.card.path, fence_line, f"unknown code language '{language}'; shown as plain text")
            return highlight(marked, language)  # not remembered: the warning must come every time
        block = highlight(marked, language)
        self.code_blocks.append((language, marked, block))
        return block

    def _image(self, ref: str, text: str, first_line: int) -> str:
        # Inline image, else a reference definition ("[name]: ref").
        needle = f"]({ref}" if f"]({ref}" in text else f"]: {ref}"
        line = _line_of(text, needle, first_line)
        try:
            media = self.library.resolve(ref)
        except MediaError as exc:
            self.report.error(self.card.path, line, str(exc))
            return ""
        self.images.append(ImageUse(ref, line, media.name, media.source))
        return media.name


def _mask_code(text: str) -> str:
    """The text with code (fenced and inline) blanked out, line numbers kept: HTML in code is just text."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        match = _FENCE_OPEN.match(lines[i])
        if match:
            end = _fence_end(lines, i, match.group("fence")) or len(lines) - 1
            lines[i : end + 1] = [""] * (end + 1 - i)
            i = end
        i += 1
    return _INLINE_CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), "\n".join(lines))


def _fence_end(lines: list[str], start: int, fence: str) -> int | None:
    closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
    return next((j for j in range(start + 1, len(lines)) if closing.match(lines[j])), None)


def _protect_math(match: re.Match, maths: list[str]) -> str:
    if match.group("code"):
        return match.group()
    maths.append(match.group())
    return _MATH.format(len(maths) - 1)


def _line_of(text: str, needle: str, first_line: int) -> int:
    offset = text.find(needle)
    return first_line + (text.count("\n", 0, offset) if offset >= 0 else 0)


def render_card(card: SourceCard, library: MediaLibrary, report: Report, known_blocks: tuple = ()) -> RenderedCard:
    """Render question, answer, details and reference of one card.

    ``known_blocks``: (language, code, HTML) of code blocks highlighted before, reused as they are.
    """
    table = ClozeTable()
    chunk = _Chunk(card, library, report, table, {(language, code): block for language, code, block in known_blocks})
    question = _render_question(card, chunk)
    if not _TAGS.sub("", question).strip() and "<img" not in question:
        report.error(card.path, card.question_line, "the question is empty: write it after '# '")
    answer, details = _render_body(card, chunk)
    if not answer.strip():
        report.warning(card.path, card.question_line, "the answer is empty")
    if chunk.unsafe:
        media = frozenset(image.name for image in chunk.images)
        answer = sanitize(answer, media)
        details = sanitize(details, media) if details else ""
    full = answer + (f'\n<div class="details">{details}</div>' if details else "")
    for cloze in table.broken(full):
        message = (
            f"cloze {{{{c{cloze.number}::...}}}} does not wrap whole Markdown elements (it spans table cells,"
            " paragraphs or list items, or crosses emphasis); keep it inside one of them"
        )
        chunk.report.error(card.path, cloze.line, message)
    for cloze in table.lost(full):
        message = f"cloze {{{{c{cloze.number}::...}}}} is inside HTML that is removed (such as a comment); "
        message += "it is dropped"
        chunk.report.warning(card.path, cloze.line, message)
    numbers = tuple(table.numbers(full))
    return RenderedCard(
        source=card,
        question=question,
        answer=table.to_terms(answer),
        cloze_text=table.to_anki(full) if numbers else "",
        cloze_numbers=numbers,
        reference=_references(card.references),
        section=" › ".join(card.sections),
        images=tuple(chunk.images),
        code_blocks=tuple(chunk.code_blocks),
    )


def _render_question(card: SourceCard, chunk: _Chunk) -> str:
    if _PLAIN_QUESTION.fullmatch(card.question):
        # Text and code spans only (the usual question): what Markdown would make, without its cost.
        return _INLINE_CODE_SPAN.sub(_code_span, html.escape(card.question, quote=False))
    question = chunk.render(card.question, card.question_line)
    if chunk.table.clozes:
        chunk.report.error(card.path, card.question_line, "clozes belong in the answer, not in the question heading")
    return sanitize(_PARAGRAPH.sub(r"\1", question.strip()), frozenset(image.name for image in chunk.images))


def _code_span(match: re.Match) -> str:
    return f"<code>{match.group(2).strip()}</code>"


def _render_body(card: SourceCard, chunk: _Chunk) -> tuple[str, str]:
    """Answer and details as HTML, converted in one Markdown pass (half the fixed cost of two)."""
    if not card.details.strip():
        return chunk.render(card.answer, card.answer_line), ""
    gap = card.details_line - card.answer_line - card.answer.count("\n") - 1
    text = f"{card.answer}\n\n{_SPLIT}\n" + "\n" * max(gap - 2, 0) + card.details
    rendered = chunk.render(text, card.answer_line)
    answer, _, details = rendered.partition(f"<p>{_SPLIT}</p>")
    return answer.rstrip("\n"), details.strip("\n")


def _references(urls: tuple[str, ...]) -> str:
    links = []
    for url in urls:
        label = re.sub(r"^https?://(www\.)?", "", url).rstrip("/")
        links.append(f'<a href="{html.escape(url)}">{html.escape(label)}</a>')
    return " · ".join(links)

"""Render a card's Markdown to the HTML of its Anki fields."""

from __future__ import annotations

import html
import re
from pathlib import PurePosixPath

from ..errors import LineCounter, Report, quoted
from ..fast import enabled as speed_up_enabled
from ..fast import markdown as fast_markdown
from ..fast import sanitize as fast_sanitize
from ..read.cards import SourceCard
from ..read.fences import FENCE_OPEN, fence_end
from . import markdown
from .cloze import ClozeProblem, ClozeTable, mark_clozes
from .giveaways import find_giveaways
from .highlight import find_lexer, highlight
from .math import INLINE_CODE, protect_math, restore_math, without_markers_in_math
from .media import MEDIA_TYPES, MediaError, MediaLibrary, sound_tags
from .rendered import ImageUse, RenderedCard
from .sanitize import find_unsafe_html, find_unsafe_links, sanitize

# Placeholders are private-use characters, which Markdown copies through untouched.
_BLOCK = "\ue020{}\ue021"
_BLOCK_HTML = re.compile(r"(?:<p>)?\ue020(\d+)\ue021(?:</p>)?")
_PARAGRAPH = re.compile(r"^<p>(.*)</p>$", re.DOTALL)
_MAYBE_UNSAFE = re.compile(r"<|\]\(|\]:")
_TAGS = re.compile(r"<[^>]*>")
_SPLIT = "\ue030"  # a paragraph of its own between answer and details
_SPLIT_HTML = re.compile(r"(?:<p>)?\ue030(?:</p>)?")  # in no paragraph when raw HTML left open holds it
_SOUND_AS_TEXT = (
    "'[sound:...]' is shown as text, as written (a card plays only files this tool packages); "
    "write ![](file.mp3) to play a file from the media folder"
)


class _Chunk:
    """Renders one stretch of Markdown (question, answer or details) for one card."""

    def __init__(self, card: SourceCard, library: MediaLibrary, report: Report, table: ClozeTable, known: dict):
        self.card, self.library, self.report, self.table = card, library, report, table
        self.images: list[ImageUse] = []
        self.known_blocks = known  # (language, code) -> HTML, from this card's previous rendering
        self.code_blocks: list[tuple[str, str, str]] = []

    def render(self, text: str, first_line: int) -> str:
        blocks: list[str] = []
        problems: list[ClozeProblem] = []
        prose = self._replace_fences(text.split("\n"), first_line, blocks, problems)
        if self.table.overflowed:  # the card is refused: rendering its many clozes would only take time
            for problem in problems:
                self.report.error(self.card.path, problem.line, problem.message)
            return ""
        prose, maths = protect_math(prose, self.table)
        rendered = self._convert(prose, lambda ref: self._image(ref, text, first_line))
        # Sanitised last: everything that comes from the card's markup is in the HTML now; what is put in
        # after is escaped text (math, in text or in an attribute) or markup of our own (highlighted code,
        # made of escaped tokens), and cloze and sound markers, which become text (render_card, sound_tags).
        # The final fields are fixed points of the sanitiser (tests/test_hostile.py).
        if not speed_up_enabled("sanitize") or fast_sanitize.needed(prose):
            media_names = frozenset(image.name for image in self.images)
            # Each side of the split on its own: HTML the answer leaves open (a <b>) is closed before the
            # details, as the answer and details are fields of their own.
            parts = _SPLIT_HTML.split(rendered, maxsplit=1)
            rendered = f"\n<p>{_SPLIT}</p>\n".join(sanitize(part, media_names) for part in parts)
        if maths:
            rendered = restore_math(rendered, maths, lambda cloze, why: problems.append(ClozeProblem(cloze.line, why)))
        if blocks:
            rendered = _BLOCK_HTML.sub(lambda m: blocks[int(m.group(1))], rendered)
        rendered = sound_tags(rendered)  # last: a card's own [sound:] text in math or code becomes text too
        for problem in problems:
            self.report.error(self.card.path, problem.line, problem.message)
        if _MAYBE_UNSAFE.search(text):
            masked = _mask_code(text)
            for line, message in find_unsafe_html(masked, first_line) + find_unsafe_links(masked, first_line):
                self.report.warning(self.card.path, line, message)
        if "[sound:" in text:
            lines = LineCounter(masked := _mask_code(text), first_line)
            for match in re.finditer(r"\[sound:", masked):
                self.report.warning(self.card.path, lines.line_of(match.start()), _SOUND_AS_TEXT)
        return rendered

    def _convert(self, prose: str, resolve) -> str:
        if speed_up_enabled("markdown"):
            images, problems = len(self.images), len(self.report.problems)
            try:
                return fast_markdown.convert(prose, resolve)
            except Exception:  # a speed-up must never cost a card: Python-Markdown as it is decides
                del self.images[images:], self.report.problems[problems:]
        return markdown.convert(prose, resolve)

    def _replace_fences(self, lines: list[str], first_line: int, blocks: list[str], problems) -> str:
        """Highlight fenced code now, leaving a placeholder for Markdown to carry."""
        out: list[str] = []
        prose: list[str] = []
        prose_line = first_line
        i = 0
        while i < len(lines):
            match = FENCE_OPEN.match(lines[i])
            if not match:
                prose.append(lines[i])
                i += 1
                continue
            fence_line = first_line + i
            hint = f" before the code fence at line {fence_line}; a cloze cannot span a code fence"
            out.append(mark_clozes("\n".join(prose), prose_line, self.table, problems, hint)[0])
            prose = []
            end = fence_end(lines, i, match.group("fence"))
            if end is None:
                fence = match.group("fence")
                message = f"code fence {quoted(fence)} is never closed; add a closing {quoted(fence)} line"
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
            self.report.warning(
                self.card.path, fence_line, f"unknown code language {quoted(language)}; shown as plain text"
            )
            return highlight(marked, language)  # not remembered: the warning must come every time
        block = highlight(marked, language)
        self.code_blocks.append((language, marked, block))
        return block

    def _image(self, ref: str, text: str, first_line: int) -> str:
        # Inline image, else an embed ("![[ref]]"), else a reference definition ("[name]: ref").
        needle = next((n for n in (f"]({ref}", f"[[{ref}") if n in text), f"]: {ref}")
        line = _line_of(text, needle, first_line)
        if needle.startswith("[[") and PurePosixPath(ref).suffix.lower() not in MEDIA_TYPES:
            message = f"{quoted('![[' + ref + ']]')} embeds a note, which a card cannot show; embed only media files"
            self.report.error(self.card.path, line, message + f" ({', '.join(sorted(MEDIA_TYPES))})")
            return ""
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
        match = FENCE_OPEN.match(lines[i])
        if match:
            end = fence_end(lines, i, match.group("fence")) or len(lines) - 1
            lines[i : end + 1] = [""] * (end + 1 - i)
            i = end
        i += 1
    return INLINE_CODE.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), "\n".join(lines))


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
    if not answer.strip() and not table.overflowed:
        report.warning(card.path, card.question_line, "the answer is empty")
    full = answer + (f'\n<div class="details">{details}</div>' if details else "")
    section = " › ".join(html.escape(section) for section in card.sections)
    _check_clozes(card, table, full, report)
    for giveaway in find_giveaways(table, full, question, section, tuple(chunk.images)):
        message = (
            f"the answer of cloze {{{{c{giveaway.cloze.number}::...}}}}, {quoted(giveaway.answer)}, can be read in"
            f" {giveaway.where} on its card; reword that, or blank it with the same cloze number"
        )
        report.warning(card.path, giveaway.cloze.line, message)
    numbers = tuple(table.numbers(full))
    return RenderedCard(
        source=card,
        question=question,
        answer=table.to_terms(without_markers_in_math(answer)),
        cloze_text=table.to_anki(full) if numbers else "",
        cloze_numbers=numbers,
        reference=_references(card.references),
        section=section,
        images=tuple(chunk.images),
        code_blocks=tuple(chunk.code_blocks),
    )


def _check_clozes(card: SourceCard, table: ClozeTable, full: str, report: Report) -> None:
    """Clozes that Anki could not show as written (errors), or that rendering dropped (warnings)."""
    for cloze in table.in_tags(full):
        message = (
            f"cloze {{{{c{cloze.number}::...}}}} is inside an HTML attribute (an image's alt text or a link's"
            " title), where Anki cannot show it; move it out"
        )
        report.error(card.path, cloze.line, message)
    for cloze in table.broken(full):
        message = (
            f"cloze {{{{c{cloze.number}::...}}}} does not wrap whole Markdown elements (it spans table cells,"
            " paragraphs or list items, or crosses emphasis); keep it inside one of them"
        )
        report.error(card.path, cloze.line, message)
    for cloze in table.lost(full):
        message = f"cloze {{{{c{cloze.number}::...}}}} is inside HTML that is removed (such as a comment); "
        message += "it is dropped"
        report.warning(card.path, cloze.line, message)


def _render_question(card: SourceCard, chunk: _Chunk) -> str:
    quick = fast_markdown.plain_question(card.question) if speed_up_enabled("markdown") else None
    if quick is not None:
        return quick
    question = chunk.render(card.question, card.question_line)
    if chunk.table.clozes:
        chunk.report.error(card.path, card.question_line, "clozes belong in the answer, not in the question heading")
    return _PARAGRAPH.sub(r"\1", question.strip())


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
        links.append(f'<a href="{html.escape(url)}" rel="noopener noreferrer">{html.escape(label)}</a>')
    return " · ".join(links)

"""Find Anki cloze deletions in Markdown and swap them for markers that survive rendering.

Markdown and Pygments would mangle ``{{c1::...}}`` (split it across token spans, escape
it, treat ``_`` as emphasis), so each cloze is replaced by two private-use characters
before rendering and turned back into cloze syntax (or an emphasised term) afterwards.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from ..errors import LineCounter, quoted

# One code point per cloze occurrence (Supplementary Private Use Area-A), so a marker
# is a single character wherever it ends up: in prose, in a code token, in an attribute.
OPEN_BASE = 0xF0000
OPEN_LIMIT = 0xFFFFD
CLOSE = "\ue003"
MARKERS = re.compile(f"[{chr(OPEN_BASE)}-{chr(OPEN_LIMIT)}{CLOSE}]")
_MARKER_OR_TAG = re.compile(
    f"[{chr(OPEN_BASE)}-{chr(OPEN_LIMIT)}{CLOSE}]"
    r"|<(?P<end>/?)(?P<name>[A-Za-z][A-Za-z0-9]*)\b[^>]*?(?P<selfclosing>/?)>"
)
_MARKER_CHARS = f"{chr(OPEN_BASE)}-{chr(OPEN_LIMIT)}{CLOSE}"
_TAG_WITH_MARKER = re.compile(f"<[^>{_MARKER_CHARS}]*[{_MARKER_CHARS}][^>]*>")
_VOID_TAGS = {"br", "hr", "img", "wbr", "input", "col", "source"}
# Anki ignores cloze numbers above 500 when it assigns card ordinals.
MAX_NUMBER = 500
# Occurrences in one card (the same number may occur many times): far more than any card needs.
MAX_CLOZES = 1000

_TOKEN = re.compile(r"\{\{c(\d+)::|\}\}|::")
_VALID_OPEN = re.compile(r"\{\{c\d+::")
_LOOKALIKE = re.compile(r"\{\{?\s*[cC]\s*\d*\s*:{1,2}")


@dataclass(frozen=True)
class Cloze:
    """One ``{{cN::text::hint}}`` occurrence; ``text`` stays in the marked-up source."""

    number: int
    hint: str
    line: int


@dataclass
class ClozeProblem:
    line: int
    message: str


class ClozeTable:
    """Every cloze of one card, indexed by its open marker."""

    def __init__(self) -> None:
        self.clozes: list[Cloze] = []
        self.overflowed = False  # more than MAX_CLOZES were found (and reported)

    def add(self, cloze: Cloze) -> str:
        index = len(self.clozes)
        if OPEN_BASE + index > OPEN_LIMIT:
            raise ValueError("too many clozes")
        self.clozes.append(cloze)
        return chr(OPEN_BASE + index)

    @staticmethod
    def _present(rendered: str) -> set[int]:
        return {ord(m) - OPEN_BASE for m in MARKERS.findall(rendered) if m != CLOSE}

    def numbers(self, rendered: str) -> list[int]:
        """The cloze numbers still present in the rendered HTML: each makes one card."""
        return sorted({self.clozes[index].number for index in self._present(rendered)})

    def lost(self, rendered: str) -> list[Cloze]:
        """Clozes whose markers did not survive rendering (e.g. inside an HTML comment)."""
        present = self._present(rendered)
        return [cloze for index, cloze in enumerate(self.clozes) if index not in present]

    def to_anki(self, rendered: str) -> str:
        """Markers -> ``{{cN::...::hint}}``, with ``::``/``}}`` inside escaped so Anki does not split them."""
        rendered = rendered.replace("::", ":&#58;").replace("}}", "}&#125;")
        closers: list[str] = []

        def swap(match: re.Match) -> str:
            char = match.group()
            if char == CLOSE:
                return closers.pop() if closers else ""
            cloze = self.clozes[ord(char) - OPEN_BASE]
            hint = html.escape(cloze.hint, quote=False).replace("::", ":&#58;").replace("}}", "}&#125;")
            closers.append(f"::{hint}}}}}" if hint else "}}")
            return f"{{{{c{cloze.number}::"

        return MARKERS.sub(swap, rendered)

    def in_tags(self, rendered: str) -> list[Cloze]:
        """Clozes whose markers ended up inside a tag (in an attribute's value) rather than in text."""
        tags = _TAG_WITH_MARKER.findall(rendered)
        inside = {ord(m) - OPEN_BASE for tag in tags for m in MARKERS.findall(tag) if m != CLOSE}
        return [self.clozes[index] for index in sorted(inside)]

    def broken(self, rendered: str) -> list[Cloze]:
        """Clozes that do not wrap whole HTML elements after rendering (Anki needs balanced HTML).

        E.g. a cloze around a table's cell separator ends up split across two cells, or loses its end.
        """
        broken: list[Cloze] = []
        open_clozes: list[tuple[int, list[str]]] = []  # cloze index, tags opened inside it
        position = 0
        while True:
            if not open_clozes:
                # Outside clozes tags do not matter: on to the next marker, from just after the last ">"
                # before it (a tag holding the marker, say in an attribute, starts after that ">" and
                # takes the marker in, as when scanning from the start).
                marker = MARKERS.search(rendered, position)
                if marker is None:
                    break
                position = max(position, rendered.rfind(">", position, marker.start()) + 1)
            match = _MARKER_OR_TAG.search(rendered, position)
            if match is None:
                break
            position = match.end()
            token = match.group()
            if token == CLOSE:
                if open_clozes:
                    index, tags = open_clozes.pop()
                    if tags:
                        broken.append(self.clozes[index])
            elif len(token) == 1:
                open_clozes.append((ord(token) - OPEN_BASE, []))
            elif open_clozes and match.group("name").lower() not in _VOID_TAGS:
                tags = open_clozes[-1][1]
                if match.group("end"):
                    if tags and tags[-1] == match.group("name").lower():
                        tags.pop()
                    else:
                        tags.append("</")  # closes an element the cloze did not open: never balanced
                elif not match.group("selfclosing"):
                    tags.append(match.group("name").lower())
        broken += [self.clozes[index] for index, _ in open_clozes]
        return broken

    @staticmethod
    def to_terms(rendered: str) -> str:
        """Markers -> an emphasised key term, for the question/answer card."""
        return MARKERS.sub(lambda m: "</span>" if m.group() == CLOSE else '<span class="term">', rendered)


def strip_clozes(text: str) -> str:
    """Source text with cloze markup replaced by the hidden text (for checks such as ast.parse)."""
    return MARKERS.sub("", mark_clozes(text, 1, ClozeTable(), [])[0])


def mark_clozes(
    text: str, first_line: int, table: ClozeTable, problems: list[ClozeProblem], unclosed_hint: str = ""
) -> tuple[str, bool]:
    """Replace cloze syntax with markers; returns the text and whether a cloze was left open."""
    if "{" not in text:
        return text, False
    out: list[str] = []
    stack: list[list] = []  # [start offset in out, number, hint_start or None, line]
    pos = 0
    lines = LineCounter(text, first_line)
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token == "::":
            if stack and stack[-1][2] is None:
                out.append(text[pos : match.start()])
                stack[-1][2] = len(out)
                pos = match.end()
            continue
        out.append(text[pos : match.start()])
        pos = match.end()
        if token == "}}":
            if not stack:
                out.append(token)
                continue
            start, number, hint_at, open_line = stack.pop()
            hint = "".join(out[hint_at:]).strip() if hint_at is not None else ""
            body = out[start + 1 : hint_at] if hint_at is not None else out[start + 1 :]
            inner = "".join(body)
            del out[start:]
            if not MARKERS.sub("", inner).strip():
                problems.append(
                    ClozeProblem(open_line, f"empty cloze {{{{c{number}::}}}}: put the hidden text after '::'")
                )
            if len(table.clozes) >= MAX_CLOZES:
                if not table.overflowed:  # reported once
                    message = f"more than {MAX_CLOZES:,} clozes in one card; split it into several cards"
                    problems.append(ClozeProblem(open_line, message))
                    table.overflowed = True
                out.append(inner)
                continue
            out.append(table.add(Cloze(number, hint, open_line)) + inner + CLOSE)
            continue
        number = int(match.group(1))
        line = lines.line_of(match.start())
        if not 1 <= number <= MAX_NUMBER:
            problems.append(ClozeProblem(line, f"cloze number c{number} is out of range; use c1 to c{MAX_NUMBER}"))
            number = max(1, min(number, MAX_NUMBER))
        stack.append([len(out), number, None, line])
        out.append("")  # placeholder for the open marker
    out.append(text[pos:])
    for _start, number, _hint, line in stack:
        problems.append(
            ClozeProblem(
                line, f"cloze {{{{c{number}::... is not closed{unclosed_hint}: add '}}}}' after the hidden text"
            )
        )
    lines = LineCounter(text, first_line)
    for match in _LOOKALIKE.finditer(text):
        if not _VALID_OPEN.match(text, match.start()):
            line = lines.line_of(match.start())
            problems.append(
                ClozeProblem(line, f"malformed cloze {quoted(match.group())}; did you mean '{{{{c1::...}}}}'?")
            )
    return "".join(out), bool(stack)

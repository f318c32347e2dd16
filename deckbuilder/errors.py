"""Problems found in the sources, each tied to a file and line."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

# A path printed as it is: anything else (a space, a colon, a quote, a control character such as a
# newline that would forge a line of its own) is quoted and escaped.
_PLAIN_PATH = re.compile(r"[\w./@+~-]+")
_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


# Text from a card quoted in a message is cut to this many characters (a fence, a reference...).
QUOTED_LIMIT = 60


def quoted(text: str) -> str:
    """``text`` between single quotes, with quotes, backslashes and control characters escaped, and
    cut short (with "...") when it is long."""
    out = []
    if len(text) > QUOTED_LIMIT:
        text = text[: QUOTED_LIMIT - 3] + "..."
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif "\udc80" <= char <= "\udcff":  # a byte of a file name that is not UTF-8
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif not char.isprintable():
            out.append(f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "'" + "".join(out) + "'"


def shown_path(path: str) -> str:
    """A path as messages start with it: plain when it is plain, else quoted."""
    return path if _PLAIN_PATH.fullmatch(path) else quoted(path)


@dataclass(frozen=True, order=True)
class Problem:
    """One error or warning, printed as ``path:line: severity: message``; ``related`` problems (notes
    such as where a clashing id was first used) are printed on the lines after it."""

    path: str
    line: int
    severity: str  # "error", "warning" or "note"
    message: str
    related: tuple[Problem, ...] = ()

    def __str__(self) -> str:
        lines = [f"{shown_path(self.path)}:{self.line}: {self.severity}: {self.message}", *map(str, self.related)]
        return "\n".join(lines)


@dataclass
class Report:
    """Collects every problem of a run so all of them can be shown at once."""

    root: Path
    problems: list[Problem] = field(default_factory=list)

    def where(self, path: Path | str) -> str:
        """The path relative to the cards folder (media files come out as ``../media/x.svg``)."""
        path = Path(path)
        if path == self.root:
            return path.as_posix()
        try:
            return Path(os.path.relpath(path, self.root)).as_posix()
        except ValueError:  # another drive, on Windows
            return path.as_posix()

    def error(self, path: Path | str, line: int, message: str, related: tuple[Problem, ...] = ()) -> None:
        self.problems.append(Problem(self.where(path), line, "error", message, related))

    def warning(self, path: Path | str, line: int, message: str) -> None:
        self.problems.append(Problem(self.where(path), line, "warning", message))

    def note(self, path: Path | str, line: int, message: str) -> Problem:
        """A note to attach to an error (not collected by itself)."""
        return Problem(self.where(path), line, "note", message)

    def has_errors(self, strict: bool = False) -> bool:
        return any(p.severity == "error" or strict for p in self.problems)

    def sorted(self) -> list[Problem]:
        return sorted(set(self.problems))


class LineCounter:
    """The line numbers of offsets in a text, asked for in increasing order: counted on from the last
    offset, not from the start each time (which is quadratic on a card of many matches)."""

    def __init__(self, text: str, first_line: int):
        self.text, self.first_line = text, first_line
        self.offset, self.line = 0, first_line

    def line_of(self, offset: int) -> int:
        if offset < self.offset:  # asked out of order: count afresh
            self.offset, self.line = 0, self.first_line
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def display_path(path: Path | str) -> str:
    """A folder or file as messages name it: relative to the current folder when inside it, else absolute."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:  # another drive, on Windows
        return absolute
    return absolute if relative.startswith("..") else relative


class BuildError(Exception):
    """Raised when the sources have errors; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems

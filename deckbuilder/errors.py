"""Problems found in the sources, each tied to a file and line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One error or warning, printed as ``path:line: severity: message``."""

    path: str
    line: int
    severity: str  # "error" or "warning"
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message}"


@dataclass
class Report:
    """Collects every problem of a run so all of them can be shown at once."""

    root: Path
    problems: list[Problem] = field(default_factory=list)

    def _where(self, path: Path | str) -> str:
        """The path relative to the cards folder (media files come out as ``../media/x.svg``)."""
        path = Path(path)
        if path == self.root:
            return path.as_posix()
        return Path(os.path.relpath(path, self.root)).as_posix()

    def error(self, path: Path | str, line: int, message: str) -> None:
        self.problems.append(Problem(self._where(path), line, "error", message))

    def warning(self, path: Path | str, line: int, message: str) -> None:
        self.problems.append(Problem(self._where(path), line, "warning", message))

    def has_errors(self, strict: bool = False) -> bool:
        return any(p.severity == "error" or strict for p in self.problems)

    def sorted(self) -> list[Problem]:
        return sorted(set(self.problems))


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

"""Fenced code blocks, found one way for every stage (splitting a card and rendering it).

A fence opens with three or more backticks or tildes and closes with a line of at least as many of the
same character; an unclosed fence runs to the end of the text. Inside one, nothing is Markdown: not a
question heading, not a ``## Details`` split.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+#.-]*)[^\n`]*$")


def fence_end(lines: list[str], start: int, fence: str) -> int | None:
    """The index of the line closing the fence opened at ``start``; None when it is never closed."""
    closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
    return next((j for j in range(start + 1, len(lines)) if closing.match(lines[j])), None)


def lines_outside_fences(lines: list[str], start: int = 0) -> Iterator[int]:
    """The indices of the lines from ``start`` that are neither inside a fenced block nor one of its fences."""
    i = start
    while i < len(lines):
        match = FENCE_OPEN.match(lines[i])
        if match is None:
            yield i
            i += 1
            continue
        end = fence_end(lines, i, match.group("fence"))
        i = len(lines) if end is None else end + 1

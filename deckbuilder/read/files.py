"""Find card files and read them as text, refusing what cannot be a card."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import Report

MAX_CARD_BYTES = 1 << 20
# Control characters have no place in a card (U+001F even separates Anki's fields).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The renderer uses private-use characters as placeholders; none may come from a card.
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff]")


def find_card_files(cards_dir: Path) -> list[Path]:
    """Every ``*.md`` file under the folder, in sorted order, hidden ones skipped."""
    found = []
    for folder, subfolders, files in os.walk(cards_dir, followlinks=False):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        relative = os.path.relpath(folder, cards_dir)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        found += [prefix + name for name in files if name.endswith(".md") and not name.startswith(".")]
    return [cards_dir / relative for relative in sorted(found)]


def read_bytes(path: Path, report: Report) -> bytes | None:
    """The file's bytes, or None (reported) when it cannot be read or is too large to be a card."""
    try:
        size = path.stat().st_size
        if size > MAX_CARD_BYTES:
            report.error(path, 1, f"file is {size:,} bytes; cards are limited to {MAX_CARD_BYTES:,} bytes")
            return None
        return path.read_bytes()
    except OSError as exc:
        report.error(path, 1, f"cannot read the file: {exc.strerror or exc}")
        return None


def read_text(path: Path, report: Report, data: bytes | None = None) -> str | None:
    """The file as text with LF line ends, or None after reporting why not."""
    if data is None:
        data = read_bytes(path, report)
        if data is None:
            return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        report.error(path, line, f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8")
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    control = _CONTROL.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        report.error(path, line, f"control character U+{ord(control.group()):04X} in the text; remove it")
        return None
    found = _PRIVATE_USE.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        report.warning(path, line, "private-use characters replaced by U+FFFD (they have no meaning in a card)")
        text = _PRIVATE_USE.sub("\ufffd", text)
    return text

"""Find card files and read them as text, refusing what cannot be a card."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from ..errors import Report

MAX_CARD_BYTES = 1 << 20
# Control characters have no place in a card (U+001F even separates Anki's fields).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The renderer uses private-use characters as placeholders; none may come from a card.
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff]")
# How Python shows the bytes of a file name that are not UTF-8.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


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
    """The file's bytes, or None (reported) when it cannot be read or cannot be a card: too large, not a
    regular file (a pipe would block the build forever) or with a name that is not UTF-8."""
    if _NOT_UTF8.search(str(path)):
        report.error(path, 1, "the file's name is not valid UTF-8; rename it")
        return None
    try:
        return read_regular_file(path, MAX_CARD_BYTES)
    except FileTooLarge as exc:
        report.error(path, 1, f"file is {exc.size:,} bytes; cards are limited to {MAX_CARD_BYTES:,} bytes")
    except NotARegularFile:
        report.error(path, 1, "not a regular file (a pipe, device or socket); cards must be files")
    except OSError as exc:
        report.error(path, 1, f"cannot read the file: {exc.strerror or exc}")
    return None


class NotARegularFile(OSError):
    """A pipe, device or socket where a file was expected."""


class FileTooLarge(OSError):
    def __init__(self, size: int):
        super().__init__(f"{size:,} bytes")
        self.size = size


def open_regular_file(path: Path):
    """``path`` opened for reading in binary, if it is a regular file (NotARegularFile if not): opening
    a pipe for reading would block until something writes to it."""
    fd = _open_regular(path)[0]
    return os.fdopen(fd, "rb")


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, without ever blocking on a pipe."""
    fd, size = _open_regular(path)
    try:
        if size > limit:
            raise FileTooLarge(size)
        chunks, total = [], 0
        while chunk := os.read(fd, limit + 1 - total):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while it was read
                raise FileTooLarge(total)
    finally:
        os.close(fd)
    return b"".join(chunks)


def _open_regular(path: Path) -> tuple[int, int]:
    """A descriptor of ``path`` open for reading, and its size; NotARegularFile for anything but a file."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise NotARegularFile(f"{path} is not a regular file")
    return fd, info.st_size


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

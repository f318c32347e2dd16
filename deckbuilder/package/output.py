"""The output path: what may be replaced there, and one build at a time writing it."""

from __future__ import annotations

import hashlib
import os
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import Report, display_path

# What an Anki package holds (older and newer exports name the collection differently).
_COLLECTIONS = {"collection.anki2", "collection.anki21", "collection.anki21b"}


def check_output(output: Path, cards_dir: Path, media_dir: Path, report: Report) -> None:
    """Refuse an output that would destroy something: a file of the deck's sources, anything at the path
    that is not a regular file (a link, a folder, a device, a pipe), or a file that is not an Anki package."""
    where = output.absolute()
    for folder, name in ((cards_dir, "cards"), (media_dir, "media")):
        if _inside(where, folder):
            report.error(output, 1, f"the output would be inside the {name} folder; write the package elsewhere")
            return
    try:
        info = os.lstat(output)
    except OSError:  # nothing there (or no folder to hold it: writing the package will say so)
        return
    shown = display_path(output)
    if stat.S_ISLNK(info.st_mode):
        report.error(output, 1, f"{shown} is a symbolic link; refusing to replace it (give the real path with -o)")
    elif not stat.S_ISREG(info.st_mode):
        report.error(output, 1, f"{shown} exists and is not a regular file; refusing to replace it")
    elif info.st_size and output.suffix.lower() != ".apkg" and not _is_package(output):
        # (a damaged .apkg is a previous package all the same: it is replaced, with a warning)
        report.error(output, 1, f"{shown} exists and is not an Anki package; refusing to overwrite it")


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def _is_package(path: Path) -> bool:
    """A zip file holding an Anki collection (damaged inside or not: it is then replaced, with a warning)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return bool(_COLLECTIONS & set(archive.namelist()))
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


@contextmanager
def output_lock(output: Path, cache_dir: Path | None) -> Iterator[None]:
    """Hold the lock of ``output`` for the block: two builds to one output (an editor's save hook firing
    twice) take turns, so neither reads a previous package that the other is replacing. The lock is a
    file locked by the operating system (released if the build dies), kept in the cache folder (or,
    without one, hidden beside the output); it stays, as removing a lock file would race."""
    output.parent.mkdir(parents=True, exist_ok=True)
    if cache_dir is None:
        lock_path = output.parent / f".{output.name}.lock"
    else:
        name = hashlib.sha256(str(output.absolute()).encode("utf-8", "surrogateescape")).hexdigest()[:32]
        lock_path = cache_dir / "locks" / f"{name}.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _lock(fd)
        try:
            _remove_temporaries(output)  # what a build that stopped midway left (none runs now)
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def _remove_temporaries(output: Path) -> None:
    for leftover in output.parent.glob(f".{output.name}.*.tmp"):
        leftover.unlink(missing_ok=True)


if os.name == "nt":
    import msvcrt

    def _lock(fd: int) -> None:
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # retries for 10 s, then raises
                return
            except OSError:
                continue

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

"""A render cache: unchanged cards are not read, parsed or rendered again.

Entries are keyed by the card file's bytes, its path, the media folder and a namespace
made of this tool's own source code and the versions of the libraries that shape the
HTML, so any change to those starts afresh. Images are checked on every hit (see
workers._from_plain). Beside the entries, the cache remembers each file's size, times
and inode with its key, so a rebuild reads only the files that were touched (the way
make and git tell changed files).

Two files per cards folder: the entries, an append-only log of pickled batches of plain
tuples (a rebuild appends its few new entries instead of rewriting tens of MB; the log is
compacted when it holds twice what the deck uses), and the stat index. Each batch is stored
with its length and a digest, and is used only when both check out: a damaged, cut or
tampered batch and everything after it is ignored, and the next save rewrites the log. Deleting
either file is always safe: entries are found by content, so a lost part only means misses.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
import platform
import struct
import tempfile
import time
from pathlib import Path

from ..fast import enabled_names
from ..read.files import open_regular_file
from ..versions import LIBRARIES, source_digest

FORMAT = 5
# A file's recorded stat is trusted only when it was modified this long before the build that
# recorded it started: a coarse file-system clock could hide an edit made just around that time.
TRUST_MARGIN_NS = 2 * 10**9


def default_cache_dir() -> Path:
    """``$BUILD_DECK_CACHE``, else the user's cache folder (never inside the project)."""
    if os.environ.get("BUILD_DECK_CACHE"):
        return Path(os.environ["BUILD_DECK_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "build_deck"


def namespace() -> str:
    """Changes whenever the code or a library that produces the HTML changes."""
    digest = hashlib.sha256(platform.python_version().encode())
    for name in LIBRARIES:
        # Where the library is installed and when: any upgrade or reinstall changes this
        # (even an edit in place), without importing the library on the start-up path.
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec and spec.origin else ""
        stamp = os.stat(origin).st_mtime_ns if origin else 0
        digest.update(f"{name}={origin}@{stamp};".encode())
    digest.update(source_digest().encode())
    digest.update(",".join(enabled_names()).encode())  # a speed-up switched off renders afresh
    return digest.hexdigest()


def folder_key(cards_dir: Path) -> str:
    """Names a cards folder's files in the cache folder."""
    return hashlib.sha256(str(cards_dir.resolve()).encode()).hexdigest()[:16]


class RenderCache:
    """Per-file results of earlier builds, loaded from and saved to the cache folder."""

    def __init__(self, directory: Path, cards_dir: Path, media_dir: Path):
        # One pair of files per cards folder, so building two decks in turn does not evict either.
        folder = folder_key(cards_dir)
        self.path = directory / f"render-{folder}.pickle"  # the stat index
        self.log_path = directory / f"render-{folder}.entries"
        # Where a card sits decides its sections, and the media folder its images.
        self.base = f"{cards_dir.resolve()}\0{media_dir.resolve()}\0".encode()
        self.namespace = namespace()
        self.started = time.time_ns()
        self.entries: dict[str, tuple] = {}
        self.files: dict[str, tuple[tuple, str]] = {}  # relative path -> (stat signature, key)
        self.trusted_before = 0
        self.used: dict[str, tuple] = {}
        self.seen: dict[str, tuple[tuple, str]] = {}
        self.log_is_current = False  # the log exists and belongs to this namespace
        self._load_index()
        self._load_log()

    def _load_index(self) -> None:
        try:
            with open_regular_file(self.path) as handle:
                stored_format, stored_namespace, started, files = _read_batch(handle)
            if (stored_format, stored_namespace) == (FORMAT, self.namespace):
                self.files = files
                self.trusted_before = started - TRUST_MARGIN_NS
        except _DAMAGED:
            pass  # a missing, old or damaged index: every file is read

    def _load_log(self) -> None:
        try:
            with open_regular_file(self.log_path) as handle:
                if _read_batch(handle) != (FORMAT, self.namespace):
                    return
                self.log_is_current = True
                while True:  # batches until the end
                    self.entries.update(_read_batch(handle))
        except EOFError:
            pass
        except _DAMAGED:  # the verified batches before the damage are kept; the next save rewrites the log
            self.log_is_current = False

    def known_key(self, relative: str, stat: os.stat_result) -> str | None:
        """The key recorded for the file when it has not been touched since (None: read it)."""
        signature, key = self.files.get(relative, ((), None))
        if signature != _signature(stat) or max(stat.st_mtime_ns, stat.st_ctime_ns) >= self.trusted_before:
            return None
        return key

    def previous_entry(self, relative: str) -> tuple | None:
        """The entry the file had at the last build (before it was touched), if still in the log."""
        _, key = self.files.get(relative, ((), None))
        return self.entries.get(key) if key else None

    def key(self, relative: str, data: bytes) -> str:
        """The key of a card file: its place in the cards folder and its bytes."""
        digest = hashlib.sha256(self.base)
        digest.update(relative.encode() + b"\0")
        digest.update(data)
        return digest.hexdigest()

    def get(self, key: str) -> tuple | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.used[key] = entry
        return entry

    def put(self, key: str, entry: tuple) -> None:
        self.used[key] = entry

    def record(self, relative: str, stat: os.stat_result, key: str) -> None:
        """Remember which key the file had with this stat (taken before it was read)."""
        self.seen[relative] = (_signature(stat), key)

    def save(self) -> None:
        """Append this build's new entries (or compact the log), and write the stat index."""
        new = {key: entry for key, entry in self.used.items() if key not in self.entries}
        compact = not self.log_is_current or len(self.entries) + len(new) > 2 * len(self.used) + 64
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if compact:  # keep only what this build used: the cache never grows beyond one deck's size
                _replace(self.log_path, (FORMAT, self.namespace), self.used)
            elif new:
                with open(self.log_path, "ab") as handle:
                    handle.write(_batch(new))  # one write: appends from two builds do not interleave
            if self.seen != self.files:
                _replace(self.path, (FORMAT, self.namespace, self.started, self.seen))
        except OSError:
            pass  # an unwritable cache folder only makes the next build slower


_DAMAGED = (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError,
            KeyError, IndexError, OverflowError, MemoryError, RecursionError)  # fmt: skip
# A batch: its length and digest, then the pickle.
_HEADER = struct.Struct(">Q16s")


def _digest(data) -> bytes:
    return hashlib.sha256(data).digest()[:16]


def _batch(value) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data), _digest(data)) + data


def _read_batch(handle):
    """The next batch's value; EOFError at the end of the file, ValueError for a batch that is cut or damaged."""
    header = handle.read(_HEADER.size)
    if not header:
        raise EOFError
    if len(header) < _HEADER.size:
        raise ValueError("a batch cut short")
    length, digest = _HEADER.unpack(header)
    if length > os.fstat(handle.fileno()).st_size:  # not a length this file can hold (another format?)
        raise ValueError("a damaged batch")
    data = handle.read(length)
    if len(data) < length or _digest(data) != digest:
        raise ValueError("a damaged batch")
    return pickle.loads(data)


class _HashingWriter:
    """Writes through to a file, keeping count and a digest of what went by."""

    def __init__(self, handle):
        self.handle, self.hash, self.size = handle, hashlib.sha256(), 0

    def write(self, data) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self.handle.write(data)


def _replace(path: Path, *values) -> None:
    """Write values as batches into a new file, then move it into place.

    Each pickle is streamed to the file (and its header filled in afterwards): a large deck's
    entries would otherwise be tens of MB more in memory.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            for value in values:
                start = handle.tell()
                handle.write(bytes(_HEADER.size))
                writer = _HashingWriter(handle)
                pickle.dump(value, writer, protocol=pickle.HIGHEST_PROTOCOL)
                handle.seek(start)
                handle.write(_HEADER.pack(writer.size, writer.hash.digest()[:16]))
                handle.seek(0, os.SEEK_END)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _remove_old_temporaries(path)


def _remove_old_temporaries(path: Path) -> None:
    """Temporary files of this cache file that a build stopped midway left (an hour old: none still in use)."""
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if time.time() - leftover.stat().st_mtime > 3600:
                leftover.unlink()
        except OSError:
            pass


def _signature(stat: os.stat_result) -> tuple:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)

"""A render cache: unchanged cards are not read, parsed or rendered again.

Entries are keyed by the card file's bytes, its path, the media folder and a namespace
made of this tool's own source code and the versions of the libraries that shape the
HTML, so any change to those starts afresh. Images are checked on every hit (see
workers._from_plain). Beside the entries, the cache remembers each file's size, times
and inode with its key, so a rebuild reads only the files that were touched (the way
make and git tell changed files).

Two files per cards folder: the entries, an append-only log of pickled batches of plain
tuples (a rebuild appends its few new entries instead of rewriting tens of MB; the log is
compacted when it holds twice what the deck uses), and the stat index. Deleting either
is always safe: entries are found by content, so a lost or damaged part only means misses.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
import platform
import tempfile
import time
from pathlib import Path

from ..fast import enabled_names
from ..versions import LIBRARIES, source_digest

FORMAT = 4
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
            with open(self.path, "rb") as handle:
                stored_format, stored_namespace, started, files = pickle.load(handle)
            if (stored_format, stored_namespace) == (FORMAT, self.namespace):
                self.files = files
                self.trusted_before = started - TRUST_MARGIN_NS
        except _DAMAGED:
            pass  # a missing, old or damaged index: every file is read

    def _load_log(self) -> None:
        try:
            with open(self.log_path, "rb") as handle:
                if pickle.load(handle) != (FORMAT, self.namespace):
                    return
                self.log_is_current = True
                while True:  # batches until the end, or until one that a crash cut short
                    self.entries.update(pickle.load(handle))
        except (*_DAMAGED, KeyError, IndexError):
            pass

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
                    handle.write(_dumps(new))  # one write: appends from two builds do not interleave
            if self.seen != self.files:
                _replace(self.path, (FORMAT, self.namespace, self.started, self.seen))
        except OSError:
            pass  # an unwritable cache folder only makes the next build slower


_DAMAGED = (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError)


def _dumps(value) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _replace(path: Path, *values) -> None:
    """Pickle values one after another into a new file, then move it into place.

    Streamed to the file: a large deck's entries would otherwise be tens of MB more in memory.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            for value in values:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _signature(stat: os.stat_result) -> tuple:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)

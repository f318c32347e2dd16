"""A render cache: unchanged cards are not read, parsed or rendered again.

Entries are keyed by the card file's bytes, its path, the media folder and a namespace
made of this tool's own source code and the versions of the libraries that shape the
HTML, so any change to those starts afresh. Images are checked on every hit (see
pipeline._media_unchanged). Beside the entries, the cache remembers each file's size,
times and inode with its key, so a rebuild reads only the files that were touched (the
way make and git tell changed files). The cache is one pickle file of plain tuples
(quick to load); deleting it is always safe.
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

LIBRARIES = ("markdown", "pygments", "nh3", "yaml", "genanki")
FORMAT = 2
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
        # Where the library is installed and when: any upgrade or reinstall changes this,
        # without importing the library (or importlib.metadata) on the start-up path.
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec and spec.origin else ""
        stamp = os.stat(origin).st_mtime_ns if origin else 0
        digest.update(f"{name}={origin}@{stamp};".encode())
    for source in sorted(Path(__file__).parent.glob("*.py")) + sorted(Path(__file__).parent.glob("*.css")):
        digest.update(source.read_bytes())
    return digest.hexdigest()


class RenderCache:
    """Per-file results of earlier builds, loaded from and saved to one file."""

    def __init__(self, directory: Path, cards_dir: Path, media_dir: Path):
        # One file per cards folder, so building two decks in turn does not evict either.
        folder = hashlib.sha256(str(cards_dir.resolve()).encode()).hexdigest()[:16]
        self.path = directory / f"render-{folder}.pickle"
        # Where a card sits decides its sections, and the media folder its images.
        self.base = f"{cards_dir.resolve()}\0{media_dir.resolve()}\0".encode()
        self.namespace = namespace()
        self.started = time.time_ns()
        self.entries: dict[str, tuple] = {}
        self.files: dict[str, tuple[tuple, str]] = {}  # relative path -> (stat signature, key)
        self.trusted_before = 0
        self.used: dict[str, tuple] = {}
        self.seen: dict[str, tuple[tuple, str]] = {}
        self.changed = False
        try:
            with open(self.path, "rb") as handle:
                stored_format, stored_namespace, started, files, entries = pickle.load(handle)
            if (stored_format, stored_namespace) == (FORMAT, self.namespace):
                self.entries, self.files = entries, files
                self.trusted_before = started - TRUST_MARGIN_NS
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, ImportError):
            pass  # a missing, old or damaged cache is simply empty

    def known_key(self, relative: str, stat: os.stat_result) -> str | None:
        """The key recorded for the file when it has not been touched since (None: read it)."""
        signature, key = self.files.get(relative, ((), None))
        if signature != _signature(stat) or max(stat.st_mtime_ns, stat.st_ctime_ns) >= self.trusted_before:
            return None
        return key

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
        self.changed = True

    def record(self, relative: str, stat: os.stat_result, key: str) -> None:
        """Remember which key the file had with this stat (taken before it was read)."""
        self.seen[relative] = (_signature(stat), key)

    def save(self) -> None:
        """Keep only what this build used (the cache never grows beyond one deck's size)."""
        if not self.changed and len(self.used) == len(self.entries) and self.seen == self.files:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".render-cache.")
        except OSError:
            return  # an unwritable cache folder only makes the next build slower
        try:
            with os.fdopen(fd, "wb") as handle:
                content = (FORMAT, self.namespace, self.started, self.seen, self.used)
                pickle.dump(content, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _signature(stat: os.stat_result) -> tuple:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)

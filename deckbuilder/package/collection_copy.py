"""An uncompressed copy of the collection last packaged from a cards folder, in the cache folder.

A rebuild after a small edit changes a few pages of a collection of tens of MB. With this
copy at hand, the rebuild patches those pages in the file itself, instead of decompressing the
previous package's collection, loading it into memory and copying it all out again (a tenth of
a second for 10,000 cards).

A copy is named after a digest of the package's compressed collection (which decompresses to
one content only), so it is used only for the package it was made with, and its size and CRC
are checked against that package's before it is patched. It is renamed while it is patched:
two builds never patch the same file, and one that stops midway leaves nothing that could be
taken for a good copy. Deleting copies is always safe: the previous package is then read instead.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from ..fast.zip import CompressedCollection


class CollectionCopy:
    """The copy of the collection last packaged from one cards folder."""

    def __init__(self, directory: Path, folder_key: str):
        self.directory = directory
        self.prefix = f"collection-{folder_key}-"
        # Named for this process: another build may be patching its own copy at the same time.
        self.patching = directory / f"{self.prefix}patching-{os.getpid()}.tmp"

    def take(self, package: CompressedCollection) -> tuple[Path, bytes] | None:
        """The copy of ``package``'s collection, moved aside to be patched, and its content
        (as it is before the patch); None when there is no sound copy of it."""
        try:
            os.replace(self._path(package.pieces), self.patching)
            content = self.patching.read_bytes()
        except OSError:
            return None
        if not package.holds(content):
            self.patching.unlink(missing_ok=True)
            return None
        return self.patching, content

    def keep(self, pieces: tuple[bytes, ...], content: bytes, patched: Path | None) -> None:
        """Make ``patched`` (or, without it, a new file of ``content``) the copy of the collection
        just packaged as ``pieces``; older copies go."""
        path = self._path(pieces)
        try:
            if patched is None:
                self.directory.mkdir(parents=True, exist_ok=True)
                # Private (0600), as the render cache: it holds the cards' text.
                handle, name = tempfile.mkstemp(prefix=f"{self.prefix}writing-", suffix=".tmp", dir=self.directory)
                with os.fdopen(handle, "wb") as file:
                    file.write(content)
                patched = Path(name)
            os.replace(patched, path)
            for other in self.directory.glob(f"{self.prefix}*"):
                if other != path:  # older copies, and what a build that stopped midway left
                    other.unlink(missing_ok=True)
        except OSError:
            pass  # only the next rebuild is slower

    def _path(self, pieces: tuple[bytes, ...]) -> Path:
        digest = hashlib.sha256()
        for piece in pieces:
            digest.update(piece)
        return self.directory / f"{self.prefix}{digest.hexdigest()[:32]}.anki2"

"""Package rendered cards as notes in a reproducible, compressed .apkg."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..read.config import DeckConfig, stable_id
from ..render.media import MediaFile
from . import notetypes
from .notes import PackagedNote, model_time, note_times
from .previous import MANIFEST, Manifest, PreviousBuild, make_manifest

if TYPE_CHECKING:
    from ..fast.zip import StoredCollection
    from .collection_copy import CollectionCopy


@dataclass(frozen=True)
class PackageSummary:
    notes: int
    cards: int
    media: int
    written: bool  # False when the output was already up to date


def write_package(
    notes: list[PackagedNote],
    config: DeckConfig,
    deck_name: str,
    media: list[MediaFile],
    output: Path,
    previous: PreviousBuild,
    now: int,
    copy: CollectionCopy | None = None,
) -> PackageSummary:
    """Write the .apkg to a temporary file and move it into place only when complete.

    When the manifest of what would be written equals the one in the existing output, the
    package would come out byte for byte the same, so it is left as it is. ``copy``: where an
    uncompressed copy of the collection is kept for the next rebuild to patch (None: nowhere).
    """
    css = notetypes.card_css()
    decks = {deck_name: (config.deck_id, config.description)}
    for name in dict.fromkeys(packaged.deck_name for packaged in notes):  # in order of first use
        if name not in decks:
            decks[name] = (stable_id(f"{config.namespace}:{name}"), "")
    times = note_times(notes, previous, now)
    model_times = {t.model_id: model_time(t, css, previous, now) for t in notetypes.NOTE_TYPES}
    manifest = _manifest(notes, times, model_times, css, decks, media)
    cards = sum(len(p.ords) for p in notes)
    if previous.manifest == manifest.data and output.is_file():
        return PackageSummary(notes=len(notes), cards=cards, media=len(media), written=False)
    # Only now (an up-to-date package is the common case on start-up): zip and SQLite code.
    from .collection import write_collection

    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_name, 0o666 & ~umask)  # mkstemp creates 0600; a deck is an ordinary file
    try:
        stamp = max([*times.values(), *model_times.values()])
        collection, stored, patched = None, None, None
        if previous.frame == manifest.frame:
            # Same tool, note types and decks: only notes and cards differ, so patch the previous collection.
            collection, stored, patched = _patched(output, copy, (previous, decks, notes, times, stamp))
        if not collection:
            collection = write_collection(decks, notes, times, model_times, css)
        pieces = _write_zip(Path(tmp_name), collection, stored, media, manifest.data)
        os.replace(tmp_name, output)
        if copy is not None:
            copy.keep(pieces, collection, patched)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return PackageSummary(notes=len(notes), cards=cards, media=len(media), written=True)


def _manifest(notes, times: dict[str, int], model_times: dict[int, int], css: str, decks: dict, media) -> Manifest:
    """Everything the package is made from, in short: equal manifests mean equal packages."""
    from ..versions import tool_identity

    columns = {
        "guid": [p.guid for p in notes],
        "mod": [times[p.guid] for p in notes],
        "card": [p.card_id for p in notes],
        "tags": [" ".join(p.tags) for p in notes],
        "digest": [p.digest for p in notes],
        "deck": [p.deck_name for p in notes],
        "due": [p.due for p in notes],
        "ords": [p.ords for p in notes],
    }
    digests = {t.model_id: (model_times[t.model_id], t.digest(css)) for t in notetypes.NOTE_TYPES}
    extra = {"tool": tool_identity(), "decks": decks, "media": [m.name for m in media]}
    return make_manifest(columns, digests, extra)


def _patched(
    output: Path, copy: CollectionCopy | None, patch: tuple
) -> tuple[bytes | None, StoredCollection | None, Path | None]:
    """The previous package's collection with ``patch`` (previous, decks, notes, times, stamp) applied:
    in the cached copy of it when there is one, else in memory. Returns the patched collection
    (None if it could not be patched), the previous one, and the patched copy's file."""
    from ..fast.zip import StoredCollection, inflate, read_compressed_collection
    from .collection import patch_collection, patch_collection_file

    package = read_compressed_collection(output)
    if package is None:
        return None, None, None
    taken = copy.take(package) if copy is not None else None
    if taken is None:
        stored = inflate(package)
    else:
        path, before = taken
        stored = StoredCollection(before, package.pieces)
        if patch_collection_file(path, *patch):
            try:
                return path.read_bytes(), stored, path
            except OSError:
                pass  # removed by another build meanwhile
        path.unlink(missing_ok=True)
    return stored and patch_collection(stored.data, *patch), stored, None


def _write_zip(path: Path, collection: bytes, stored, media: list[MediaFile], manifest: bytes) -> tuple[bytes, ...]:
    """Write the package; returns the collection's compressed chunks."""
    from ..fast.zip import collection_entries, entry, write_zip

    entries = collection_entries(collection, stored)
    entries.append(entry("media", json.dumps({str(i): m.name for i, m in enumerate(media)}).encode()))
    entries += [entry(str(i), m.source.read_bytes()) for i, m in enumerate(media)]
    entries.append(entry(MANIFEST, manifest))
    write_zip(path, entries)
    return entries[0].pieces

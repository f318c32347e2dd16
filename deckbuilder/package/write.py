"""Package rendered cards as notes in a reproducible, compressed .apkg."""

from __future__ import annotations

import html
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..fast import enabled as speed_up_enabled
from ..read.config import DeckConfig, stable_id
from ..render.media import MediaFile
from . import notetypes
from .notes import PackagedNote, model_time, note_times
from .previous import COLLECTION, MANIFEST, Manifest, PreviousBuild, make_manifest

if TYPE_CHECKING:
    from ..fast.zip import StoredCollection
    from .collection_copy import CollectionCopy


@dataclass(frozen=True)
class PackageSummary:
    notes: int
    cards: int
    media: int
    written: bool  # False when the output was already up to date
    manifest: Manifest | None = field(default=None, repr=False, compare=False)  # of the package written


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
    # Anki shows a deck's description as HTML: deck.yaml's is text.
    decks = {deck_name: (config.deck_id, html.escape(config.description))}
    for name in dict.fromkeys(packaged.deck_name for packaged in notes):  # in order of first use
        if name not in decks:
            decks[name] = (stable_id(f"{config.namespace}:{name}"), "")
    times = note_times(notes, previous, now)
    note_types = notetypes.note_types_for(notes)
    model_times = {t.model_id: model_time(t, css, previous, now) for t in note_types}
    manifest = _manifest(notes, times, model_times, note_types, css, decks, media)
    cards = sum(len(p.ords) for p in notes)
    if previous.manifest == manifest.data and output.is_file():
        return PackageSummary(notes=len(notes), cards=cards, media=len(media), written=False, manifest=manifest)
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
            collection = write_collection(decks, notes, times, model_times, css, note_types)
        pieces = _write_zip(Path(tmp_name), collection, stored, media, manifest.data)
        os.replace(tmp_name, output)
        if copy is not None and pieces is not None:
            copy.keep(pieces, collection, patched)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return PackageSummary(notes=len(notes), cards=cards, media=len(media), written=True, manifest=manifest)


def _manifest(notes, times: dict[str, int], model_times: dict[int, int], note_types, css: str, decks: dict,
              media) -> Manifest:  # fmt: skip
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
    digests = {t.model_id: (model_times[t.model_id], t.digest(css)) for t in note_types}
    extra = {"tool": tool_identity(), "decks": decks, "media": [m.name for m in media]}
    return make_manifest(columns, digests, extra)


def _patched(
    output: Path, copy: CollectionCopy | None, patch: tuple
) -> tuple[bytes | None, StoredCollection | None, Path | None]:
    """The previous package's collection with ``patch`` (previous, decks, notes, times, stamp) applied:
    in the cached copy of it when there is one, else in memory. Returns the patched collection
    (None if it could not be patched), the previous one as the chunked zip stores it (None for a
    package written otherwise), and the patched copy's file."""
    from .collection import patch_collection, patch_collection_file

    compressed = None
    if speed_up_enabled("zip"):
        from ..fast.zip import StoredCollection, inflate, read_compressed_collection

        compressed = read_compressed_collection(output)
    if compressed is None:  # written by zipfile (or the speed-up is off): read it as any zip file
        stored_data = _read_collection(output)
        return (stored_data and patch_collection(stored_data, *patch)), None, None
    taken = copy.take(compressed) if copy is not None else None
    if taken is None:
        stored = inflate(compressed)
    else:
        path, before = taken
        stored = StoredCollection(before, compressed.pieces)
        if patch_collection_file(path, *patch):
            try:
                return path.read_bytes(), stored, path
            except OSError:
                pass  # removed by another build meanwhile
        path.unlink(missing_ok=True)
    return stored and patch_collection(stored.data, *patch), stored, None


def _read_collection(package: Path) -> bytes | None:
    import zipfile

    try:
        with zipfile.ZipFile(package) as archive:
            return archive.read(COLLECTION)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def _write_zip(path: Path, collection: bytes, stored, media: list[MediaFile], manifest: bytes) -> tuple | None:
    """Write the package; returns the collection's compressed chunks (None when written by zipfile)."""
    files = [("media", json.dumps({str(i): m.name for i, m in enumerate(media)}).encode())]
    files += [(str(i), m.read()) for i, m in enumerate(media)]
    files.append((MANIFEST, manifest))
    if not speed_up_enabled("zip"):
        _write_plain_zip(path, [(COLLECTION, collection), *files])
        return None
    from ..fast.zip import collection_entries, entry, write_zip

    entries = collection_entries(collection, stored)
    entries += [entry(name, data) for name, data in files]
    write_zip(path, entries)
    return entries[0].pieces


def _write_plain_zip(path: Path, files: list[tuple[str, bytes]]) -> None:
    """The package with Python's zipfile: fixed times and permissions, so the same content gives the same bytes."""
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system, info.external_attr, info.compress_type = 3, 0o100644 << 16, zipfile.ZIP_DEFLATED
            archive.writestr(info, data)

"""Package rendered cards as notes in a reproducible, compressed .apkg."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from . import notetypes
from .config import DeckConfig, note_guids, slugify, stable_id
from .media import MediaFile
from .notetypes import CLOZE, QA, NoteType
from .previous import MANIFEST, Manifest, PreviousBuild, make_manifest, note_digest

if TYPE_CHECKING:
    from .archive import StoredCollection
    from .collection_copy import CollectionCopy
    from .rendered import RenderedCard
    from .sources import SourceCard


class PackagedNote(NamedTuple):
    """A note as it goes into the package: identity, content, deck, order and card ordinals.

    A tuple rather than a frozen dataclass: a large deck makes tens of thousands per build.
    """

    card_id: str
    note_type: NoteType
    guid: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck_name: str
    due: int
    ords: tuple[int, ...]  # one card per template ordinal (cloze number - 1)
    digest: str  # note_digest: compared with the previous build's to find changed notes


@dataclass(frozen=True)
class PackageSummary:
    notes: int
    cards: int
    media: int
    written: bool  # False when the output was already up to date


def card_tags(tag: str, source: SourceCard) -> tuple[str, ...]:
    """The deck tag, the section as a hierarchical tag, then the card's own tags."""
    tags = [tag]
    path = tag
    for section in source.sections:
        path = f"{path}::{slugify(section)}"
        tags.append(path)
    return tuple(tags + [t for t in source.tags if t not in tags])


def qa_fields(card: RenderedCard) -> tuple[str, ...]:
    return card.question, card.answer, card.reference, card.section, card.source.id


def cloze_fields(card: RenderedCard) -> tuple[str, ...]:
    return card.cloze_text, card.question, card.reference, card.section, card.source.id


def note_digests(tag: str, card: RenderedCard) -> tuple[str, str, str]:
    """(the deck tag, the question/answer note's digest, the cloze note's or "").

    Worked out with each card (in worker processes, and cached), for the deck tag it names:
    hashing every note's fields is a tenth of a second on each rebuild of a large deck.
    """
    tags = card_tags(tag, card.source)
    cloze = note_digest(cloze_fields(card), tags) if card.cloze_numbers else ""
    return tag, note_digest(qa_fields(card), tags), cloze


def make_notes(cards: list[RenderedCard], config: DeckConfig, deck_name: str) -> list[PackagedNote]:
    """Two notes per card (question/answer, and cloze when it has clozes), in source order."""
    notes = []
    for due, card in enumerate(cards):
        source = card.source
        deck = "::".join((deck_name, *source.sections))
        tags = card_tags(config.tag, source)
        # Usually worked out (and cached) with the card, for the namespace and tag they name.
        guids = card.guids if card.guids[:1] == (config.namespace,) else note_guids(config.namespace, source.id)
        digests = card.digests if card.digests[:1] == (config.tag,) else note_digests(config.tag, card)
        _, qa_guid, cloze_guid = guids
        _, qa_digest, cloze_digest = digests
        notes.append(PackagedNote(source.id, QA, qa_guid, qa_fields(card), tags, deck, due, (0,), qa_digest))
        if card.cloze_numbers:
            # Anki's rule, computed here: one card per cloze number (genanki misses nested ones).
            ords = tuple(number - 1 for number in card.cloze_numbers)
            notes.append(PackagedNote(source.id, CLOZE, cloze_guid, cloze_fields(card), tags, deck, due, ords,
                                      cloze_digest))  # fmt: skip
    return notes


def note_times(notes: list[PackagedNote], previous: PreviousBuild, now: int) -> dict[str, int]:
    """Keep an unchanged note's time, so Anki leaves it (and the user's edits) alone;
    give a changed one a strictly newer time, so Anki's "update if newer" takes it."""
    times = {}
    for packaged in notes:
        before = previous.notes.get(packaged.guid)
        times[packaged.guid] = _time(before and (before.mod, before.digest), packaged.digest, now)
    return times


def model_time(note_type: NoteType, css: str, previous: PreviousBuild, now: int) -> int:
    """Like note_times, for a note type: a changed CSS or template must be newer to be taken."""
    return _time(previous.models.get(note_type.model_id), note_type.digest(css), now)


def _time(before: tuple[int, str] | None, digest: str, now: int) -> int:
    """``now`` for something new, its old time if its digest is unchanged, else a time newer than both."""
    if before is None:
        return now
    mod, old_digest = before
    return mod if old_digest == digest else max(now, mod + 1)


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
    from .cache import namespace

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
    extra = {"tool": namespace(), "decks": decks, "media": [m.name for m in media]}
    return make_manifest(columns, digests, extra)


def _patched(
    output: Path, copy: CollectionCopy | None, patch: tuple
) -> tuple[bytes | None, StoredCollection | None, Path | None]:
    """The previous package's collection with ``patch`` (previous, decks, notes, times, stamp) applied:
    in the cached copy of it when there is one, else in memory. Returns the patched collection
    (None if it could not be patched), the previous one, and the patched copy's file."""
    from .archive import StoredCollection, inflate, read_compressed_collection
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
    from .archive import collection_entries, entry, write_zip

    entries = collection_entries(collection, stored)
    entries.append(entry("media", json.dumps({str(i): m.name for i, m in enumerate(media)}).encode()))
    entries += [entry(str(i), m.source.read_bytes()) for i, m in enumerate(media)]
    entries.append(entry(MANIFEST, manifest))
    write_zip(path, entries)
    return entries[0].pieces

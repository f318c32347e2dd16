"""Read the previous build's .apkg, so a rebuild keeps unchanged notes' times and can report changes."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

# Our own summary of the package's notes, stored beside the collection: reading it is far
# quicker than opening the collection (Anki's importer ignores entries it does not know).
MANIFEST = "build_deck.json"
COLLECTION = "collection.anki2"


def note_digest(fields, tags) -> str:
    """A fingerprint of a note's content: its fields and tags."""
    return hashlib.sha1(("\x1f".join(fields) + "\x1e" + " ".join(tags)).encode()).hexdigest()


class PreviousNote(NamedTuple):
    """A note as the previous build wrote it (a tuple: tens of thousands are made per build)."""

    guid: str
    mod: int
    card_id: str
    tags: tuple[str, ...]
    digest: str  # note_digest of its fields and tags


@dataclass(frozen=True)
class PreviousBuild:
    """Notes by GUID and note types by id with their modification times and digests."""

    notes: dict[str, PreviousNote]
    models: dict[int, tuple[int, str]]
    manifest: bytes | None = None  # as stored in the package, when it has one
    frame: str | None = None  # its manifest_frame
    layout: dict[str, tuple] = field(default_factory=dict)  # GUID -> (mod, deck, due, card ordinals)
    decks: dict[int, str] = field(default_factory=dict)  # deck id -> name
    damaged: bool = False  # a package was there, but could not be read


EMPTY = PreviousBuild({}, {})
UNREADABLE = PreviousBuild({}, {}, damaged=True)


class Manifest(NamedTuple):
    data: bytes
    frame: str  # see manifest_frame
    content: dict  # what data holds (see make_manifest)


MANIFEST_VERSION = 2
NOTE_COLUMNS = ("guid", "mod", "card", "tags", "digest", "deck", "due", "ords")


def make_manifest(notes: dict[str, list], models: dict[int, tuple[int, str]], extra: dict) -> Manifest:
    """The manifest: the notes as columns (see NOTE_COLUMNS, in package order; "tags" and "deck"
    index the "tag_sets" and "deck_names" lists), note types as id -> [mod, digest], plus
    ``extra`` facts about the package. Columns of plain values: quick to write and read."""
    tag_sets = {text: index for index, text in enumerate(dict.fromkeys(notes["tags"]))}
    deck_names = {name: index for index, name in enumerate(dict.fromkeys(notes["deck"]))}
    columns = {**notes, "tags": [tag_sets[t] for t in notes["tags"]], "deck": [deck_names[d] for d in notes["deck"]]}
    content = {
        "version": MANIFEST_VERSION,
        "models": {str(mid): list(value) for mid, value in sorted(models.items())},
        **dict(sorted(extra.items())),
        "tag_sets": list(tag_sets),
        "deck_names": list(deck_names),
        "notes": {name: columns[name] for name in NOTE_COLUMNS},
    }
    return Manifest(json.dumps(content, separators=(",", ":")).encode(), manifest_frame(content), content)


def manifest_frame(content: dict) -> str:
    """What a package was made with apart from its notes: format, tool version, note types and decks.

    Two packages with the same frame differ only in their notes and cards (see package/collection.py).
    """
    return json.dumps([content.get(key) for key in ("version", "tool", "models", "decks")], separators=(",", ":"))


def read_previous(path: Path) -> PreviousBuild:
    """What the .apkg at ``path`` holds: EMPTY when there is none, UNREADABLE when it is damaged or of a
    shape this tool does not know (a package is untrusted input: nothing in it may stop the build)."""
    if not path.is_file():
        return EMPTY
    try:
        with zipfile.ZipFile(path) as package:
            if MANIFEST in package.namelist():
                manifest = package.read(MANIFEST)
                previous = _from_manifest(json.loads(manifest), manifest)
                if previous is not None:
                    return previous
            collection = package.read(COLLECTION)
        return _from_collection(collection)
    except Exception:
        return UNREADABLE


def written_build(manifest: Manifest) -> PreviousBuild:
    """What read_previous would read from a package just written with this manifest, without reading it."""
    return _from_manifest(manifest.content, manifest.data, checked=False)


def _from_manifest(data: dict, manifest: bytes, checked: bool = True) -> PreviousBuild | None:
    """None for a manifest of another version (the collection is read instead). ``checked``: check the
    type of every value (a package read is untrusted input; a manifest this process just made is not)."""
    if data.get("version") != MANIFEST_VERSION:
        return None
    columns = data["notes"]
    tag_sets = [tuple(text.split()) for text in data["tag_sets"]]
    deck_names = data["deck_names"]
    notes, layout = {}, {}
    for guid, mod, card_id, tags, digest, deck, due, ords in zip(*(columns[n] for n in NOTE_COLUMNS), strict=True):
        if checked and not (_all(str, guid, card_id, digest, deck_names[deck]) and _all(int, mod, due, *ords)):
            raise ValueError("a manifest of an unexpected shape")
        notes[guid] = PreviousNote(guid, mod, card_id, tag_sets[tags], digest)
        layout[guid] = (mod, deck_names[deck], due, tuple(ords))
    models = {int(mid): (int(mod), digest) for mid, (mod, digest) in data["models"].items()}
    decks = {int(deck_id): name for name, (deck_id, _) in data["decks"].items()}
    return PreviousBuild(notes, models, manifest, manifest_frame(data), layout, decks)


def _all(kind: type, *values) -> bool:
    return all(type(value) is kind for value in values)


def _from_collection(collection: bytes) -> PreviousBuild:
    """A package made by another tool (no manifest): what its collection holds."""
    import sqlite3  # only here: not on the start-up path

    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(collection)
        notes = {}
        for guid, mod, flds, tags in conn.execute("SELECT guid, mod, flds, tags FROM notes"):
            fields, tag_list = flds.split("\x1f"), tags.split()
            notes[str(guid)] = PreviousNote(
                str(guid), int(mod), fields[-1], tuple(tag_list), note_digest(fields, tag_list)
            )
        (models_json,) = conn.execute("SELECT models FROM col").fetchone()
        # Without a manifest there is no digest to compare: the note types count as changed (a newer time).
        models = {int(mid): (int(m["mod"]), "") for mid, m in json.loads(models_json).items()}
        return PreviousBuild(notes, models)
    finally:
        conn.close()

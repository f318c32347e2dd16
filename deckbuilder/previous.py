"""Read the previous build's .apkg, so a rebuild keeps unchanged notes' times and can report changes."""

from __future__ import annotations

import json
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PreviousNote:
    """A note as the previous build wrote it."""

    guid: str
    mod: int
    fields: tuple[str, ...]
    tags: tuple[str, ...]

    def same_content(self, note) -> bool:
        """Whether a genanki note carries exactly this note's fields and tags."""
        return self.fields == tuple(note.fields) and self.tags == tuple(note.tags)


@dataclass(frozen=True)
class PreviousBuild:
    """Notes by GUID and note types by id, with their modification times."""

    notes: dict[str, PreviousNote]
    models: dict[int, tuple[int, dict]]


EMPTY = PreviousBuild({}, {})


def read_previous(path: Path) -> PreviousBuild:
    """What the .apkg at ``path`` holds; empty when there is none or it is not a readable package."""
    if not path.is_file():
        return EMPTY
    try:
        with zipfile.ZipFile(path) as package, tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "collection.anki2"
            db.write_bytes(package.read("collection.anki2"))
            with sqlite3.connect(db) as conn:
                return _read_collection(conn)
    except (OSError, KeyError, zipfile.BadZipFile, sqlite3.Error, ValueError):
        return EMPTY


def _read_collection(conn: sqlite3.Connection) -> PreviousBuild:
    notes = {}
    for guid, mod, flds, tags in conn.execute("SELECT guid, mod, flds, tags FROM notes"):
        notes[guid] = PreviousNote(guid, mod, tuple(flds.split("\x1f")), tuple(tags.split()))
    (models_json,) = conn.execute("SELECT models FROM col").fetchone()
    models = {int(mid): (model["mod"], model) for mid, model in json.loads(models_json).items()}
    return PreviousBuild(notes, models)

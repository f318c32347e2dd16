"""The collection database inside the package: written afresh, or patched from the previous build's.

A rebuild after a small edit changes a few notes among thousands. Rewriting every row of a
large deck's collection (tens of MB) would dominate the rebuild, so when the previous package
was made by this same tool version with the same note types and decks, its collection is
copied and only the notes and cards that differ are inserted, updated or deleted. What it
holds is then exactly what a fresh write would hold, apart from the ids of new rows and the
layout of the file; both ways are deterministic, so the same sources and the same previous
package always give the same bytes.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from . import notetypes

if TYPE_CHECKING:
    from .notes import PackagedNote
    from .previous import PreviousBuild

_INSERT_NOTE = "INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?)"
_INSERT_CARD = "INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"


def write_collection(decks: dict, notes: list[PackagedNote], times, model_times, css: str,
                     note_types: tuple[notetypes.NoteType, ...]) -> bytes:  # fmt: skip
    """The collection database, written afresh, as bytes for the zip.

    Written to a temporary file and read back, not made in memory: serialising an in-memory database
    copies it, so a large deck's collection was held twice at the build's peak of memory."""
    with tempfile.TemporaryDirectory(prefix="build-deck-") as folder:
        path = Path(folder) / "collection.anki2"
        conn = sqlite3.connect(path)
        try:
            conn.execute("PRAGMA journal_mode = OFF")  # nothing to roll back to
            conn.execute("PRAGMA synchronous = OFF")  # read back at once, then removed
            _fill(conn, decks, notes, times, model_times, css, note_types)
        except sqlite3.OperationalError as exc:  # the temporary folder is full, say: reported as for the output
            raise OSError(0, str(exc), str(path)) from exc
        finally:
            conn.close()
        return path.read_bytes()


def _fill(conn: sqlite3.Connection, decks: dict, notes: list[PackagedNote], times, model_times, css: str,
          note_types: tuple[notetypes.NoteType, ...]) -> None:  # fmt: skip
    """Genanki's schema and note types, then every note and card, in a fresh database."""
    import genanki

    stamp = max([*times.values(), *model_times.values()])
    models = [t.to_genanki(css) for t in note_types]
    genanki_decks = [genanki.Deck(deck_id, name, description) for name, (deck_id, description) in decks.items()]
    for deck in genanki_decks:
        for model in models:
            deck.add_model(model)
    # Large pages waste less space around notes of a few kB (a smaller file to write and compress).
    conn.execute("PRAGMA page_size = 65536")
    cursor = conn.cursor()
    # Ids count up from the newest time in the deck: deterministic for unchanged sources.
    ids = itertools.count(stamp * 1000)
    genanki.Package(genanki_decks).write_to_db(cursor, stamp, ids)
    # Indexes are built once after the rows are in, not updated row by row.
    indexes = [sql for (sql,) in cursor.execute("SELECT sql FROM sqlite_schema WHERE type = 'index' AND sql")]
    for (name,) in cursor.execute("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql").fetchall():
        cursor.execute(f"DROP INDEX {name}")
    deck_ids = {name: deck_id for name, (deck_id, _) in decks.items()}
    # Ids as genanki gives them: each note's, then its cards'. Rows are made as they are
    # inserted: a large deck's joined fields are tens of MB.
    ids_of = [(next(ids), [next(ids) for _ in packaged.ords]) for packaged in notes]
    note_rows = (_note_row(p, note_id, times[p.guid]) for p, (note_id, _) in zip(notes, ids_of, strict=True))
    card_rows = (
        _card_row(p, card_id, note_id, ord_, deck_ids, times)
        for p, (note_id, card_ids) in zip(notes, ids_of, strict=True)
        for card_id, ord_ in zip(card_ids, p.ords, strict=True)
    )
    # One statement per table (genanki executes one per row: seconds for a large deck).
    cursor.executemany(_INSERT_NOTE, note_rows)
    cursor.executemany(_INSERT_CARD, card_rows)
    for sql in indexes:
        cursor.execute(sql)
    (models_json,) = cursor.execute("SELECT models FROM col").fetchone()
    stored = json.loads(models_json)
    for mid, model in stored.items():
        model["mod"] = model_times.get(int(mid), stamp)
    cursor.execute("UPDATE col SET models = ?", (json.dumps(stored, sort_keys=True),))
    conn.commit()


def patch_collection(
    stored: bytes, previous: PreviousBuild, decks: dict, notes: list[PackagedNote], times, stamp: int
) -> bytes | None:
    """The previous package's collection (``stored``) with only the rows that differ changed.

    The caller has checked that the previous package has the same note types and decks.
    None when that collection cannot be read.
    """
    conn = _connect()
    try:
        conn.deserialize(stored)
        _patch(conn, previous, decks, notes, times, stamp)
        return conn.serialize()
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def patch_collection_file(path: Path, previous: PreviousBuild, decks: dict, notes: list[PackagedNote], times,
                          stamp: int) -> bool:  # fmt: skip
    """patch_collection, on a copy of the collection in a file: only the pages that change are
    written. False when the file cannot be patched (it is then damaged: throw it away)."""
    try:
        conn = sqlite3.connect(path)
    except sqlite3.Error:
        return False
    try:
        conn.execute("PRAGMA journal_mode = OFF")  # a copy: on failure it is thrown away, not rolled back
        conn.execute("PRAGMA synchronous = OFF")
        _patch(conn, previous, decks, notes, times, stamp)
        return True
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def _patch(conn: sqlite3.Connection, previous: PreviousBuild, decks: dict, notes: list[PackagedNote], times,
           stamp: int) -> None:  # fmt: skip
    # Deleted and shrunk rows leave no trace of old card text in the package.
    conn.execute("PRAGMA secure_delete = ON")
    deck_ids = {name: deck_id for name, (deck_id, _) in decks.items()}
    _apply_changes(conn, deck_ids, notes, times, stamp, previous.layout)
    conn.commit()
    free, total = (conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("freelist_count", "page_count"))
    if free * 4 > total:  # many rows went: do not carry the empty pages on from build to build
        conn.execute("VACUUM")  # (outside a transaction, or SQLite refuses)


def _apply_changes(conn: sqlite3.Connection, deck_ids: dict, notes: list[PackagedNote], times, stamp: int,
                   before: dict[str, tuple]) -> None:  # fmt: skip
    """Insert, update and delete rows; ``before`` has each previous note's (mod, deck, due, ords) by GUID."""
    before = dict(before)
    note_ids = {guid: nid for nid, guid in conn.execute("SELECT id, guid FROM notes")}
    top = max(conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0] for table in ("notes", "cards"))
    ids = itertools.count(max(stamp * 1000, top + 1))
    for packaged in notes:
        mod = times[packaged.guid]
        old = before.pop(packaged.guid, None)
        if old == (mod, packaged.deck_name, packaged.due, packaged.ords):
            continue  # the note and its cards stay as they are
        if old is None or packaged.guid not in note_ids:
            note_id = next(ids)
            conn.execute(_INSERT_NOTE, _note_row(packaged, note_id, mod))
            old_ords: tuple[int, ...] = ()
        else:
            note_id, old_ords = note_ids[packaged.guid], old[3]
            if old[0] != mod:  # a note keeps its time exactly while its content is unchanged
                row = _note_row(packaged, note_id, mod)
                conn.execute("UPDATE notes SET mod = ?, tags = ?, flds = ?, sfld = ? WHERE id = ?",
                             (row[3], row[5], row[6], row[7], note_id))  # fmt: skip
        for ord_ in packaged.ords:
            if ord_ in old_ords:
                row = _card_row(packaged, None, note_id, ord_, deck_ids, times)
                conn.execute("UPDATE cards SET did = ?, due = ?, mod = ? WHERE nid = ? AND ord = ?",
                             (row[2], row[8], row[4], note_id, ord_))  # fmt: skip
            else:
                conn.execute(_INSERT_CARD, _card_row(packaged, next(ids), note_id, ord_, deck_ids, times))
        for ord_ in set(old_ords) - set(packaged.ords):
            conn.execute("DELETE FROM cards WHERE nid = ? AND ord = ?", (note_id, ord_))
    for guid in before:  # notes whose cards were removed
        if guid in note_ids:
            conn.execute("DELETE FROM cards WHERE nid = ?", (note_ids[guid],))
            conn.execute("DELETE FROM notes WHERE id = ?", (note_ids[guid],))


def _connect() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA journal_mode = OFF")  # nothing to roll back to
    return conn


def _note_row(packaged: PackagedNote, note_id: int, mod: int) -> tuple:
    """A note row as genanki's Note.write_to_db writes it, with the note's own time."""
    tags = " " + " ".join(packaged.tags) + " "
    sort_field = packaged.fields[packaged.note_type.sort_field]
    fields = "\x1f".join(packaged.fields)
    return (note_id, packaged.guid, packaged.note_type.model_id, mod, -1, tags, fields, sort_field, 0, 0, "")


def _card_row(packaged: PackagedNote, card_id, note_id: int, ord_: int, deck_ids: dict, times) -> tuple:
    """A card row as genanki's Card.write_to_db writes it: new, in source order, with its note's time."""
    mod = times[packaged.guid]
    return (card_id, note_id, deck_ids[packaged.deck_name], ord_, mod, -1, 0, 0, packaged.due, 0, 0, 0, 0, 0, 0, 0,
            0, "")  # fmt: skip

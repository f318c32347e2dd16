"""A rebuild patches the previous collection: it must hold exactly what a fresh write holds."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import pytest
from conftest import card, record_patches

from deckbuilder.package import collection as collection_db

DECK = "name: Patch\nid: 1500000003\nnamespace: 5f0c1d2e-0000-4000-8000-000000000003\ntag: patch\n"
BEFORE = {
    "deck.yaml": DECK,
    **{f"s{i % 2}/c{i:02d}.md": card(f"c{i}", f"Question {i}?", f"Answer {{{{c1::{i}}}}}. " * 500) for i in range(12)},
    "s0/c04.md": card("c4", "Question 4?", "Two {{c1::clozes}} and {{c2::here}}."),
    # large enough to need overflow pages, which go to the free list when the card is removed
    "s1/c05.md": card("c5", "Question 5?", "A doomed {{c1::secret}}: " + "xyzzy-removed " * 10_000),
    # reversed and type-in notes (issue #17)
    "s1/c03.md": card("c3", "Question 3?", "Three, {{c1::reversed}}.", "reverse: yes\n"),
    "s0/c08.md": card("c8", "Question 8?", "Eight, {{c1::typed}}.", "type-answer: eight\n"),
}
AFTER = {
    "s0/c02.md": card("c2", "Question 2?", "Edited {{c1::answer}}, longer than before to move rows about."),
    "s0/c04.md": card("c4", "Question 4?", "One {{c2::cloze}} left."),  # card 1 goes, card 2 stays
    "s0/c06.md": card("c6", "Question 6?", "Now {{c1::three}} {{c2::clozes}} {{c3::here}}."),
    "s0/c07a.md": card("c7a", "Inserted?", "Sorts in the {{c1::middle}}: every later card moves."),
    "s1/c09.md": card("c9", "Question 9?", "No clozes any more."),
    "s0/c08.md": card("c8", "Question 8?", "Eight, {{c1::typed}} no more."),  # its type-in note goes
    "s0/c10.md": card("c10", "Question 10?", "Ten, {{c1::now typed}}.", "type-answer: ten\nreverse: yes\n"),
}


def rows(path: Path, tmp_path: Path) -> dict:
    """Everything in the package's collection except row ids, keyed by what identifies each row."""
    db = tmp_path / f"{path.stem}.anki2"
    with zipfile.ZipFile(path) as archive:
        db.write_bytes(archive.read("collection.anki2"))
    conn = sqlite3.connect(db)
    try:
        notes = {
            r[0]: r[1:]
            for r in conn.execute("SELECT guid, mid, mod, usn, tags, flds, sfld, csum, flags, data FROM notes")
        }
        cards = {
            r[:2]: r[2:]
            for r in conn.execute(
                "SELECT n.guid, c.ord, c.did, c.mod, c.usn, c.type, c.queue, c.due, c.ivl, c.factor, c.reps,"
                " c.lapses, c.left, c.odue, c.odid, c.flags, c.data FROM cards c JOIN notes n ON n.id = c.nid"
            )
        }
        col = conn.execute("SELECT * FROM col").fetchall()
        orphans = conn.execute("SELECT count(*) FROM cards WHERE nid NOT IN (SELECT id FROM notes)").fetchone()[0]
        return {"notes": notes, "cards": cards, "col": col, "orphans": orphans}
    finally:
        conn.close()


@pytest.fixture(params=["in the cached copy", "in memory"])
def rebuilt(request, project, tmp_path, monkeypatch):
    """Build BEFORE, then AFTER twice from the same previous package: once patched (in the copy
    kept in the cache folder, or without a cache in memory), once written afresh."""
    cache_dir = tmp_path / "cache" if request.param == "in the cached copy" else None
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    project.write(BEFORE).build(cache_dir=cache_dir)
    fresh = tmp_path / "fresh.apkg"
    fresh.write_bytes(project.output.read_bytes())
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000100")
    (project.cards / "s1" / "c05.md").unlink()
    project.write(AFTER)
    patched = record_patches(monkeypatch)
    project.build(cache_dir=cache_dir)
    for name in ("patch_collection", "patch_collection_file"):
        monkeypatch.setattr(collection_db, name, lambda *a: None)
    project.build(output=fresh, cache_dir=None)
    expected = "patch_collection_file" if cache_dir else "patch_collection"
    assert [(name, bool(result)) for name, result in patched] == [(expected, True)]
    return project.output, fresh


def test_a_patched_collection_holds_what_a_fresh_write_holds(rebuilt, tmp_path):
    patched, fresh = rows(rebuilt[0], tmp_path), rows(rebuilt[1], tmp_path)
    assert patched["notes"] == fresh["notes"]
    assert patched["cards"] == fresh["cards"]
    assert patched["col"] == fresh["col"]
    assert patched["orphans"] == 0


def test_a_removed_cards_text_is_not_left_in_the_patched_file(rebuilt, tmp_path):
    with zipfile.ZipFile(rebuilt[0]) as archive:
        assert b"xyzzy-removed" not in archive.read("collection.anki2")


@pytest.mark.parametrize("cached", [True, False], ids=["in the cached copy", "in memory"])
def test_a_patch_that_frees_most_pages_compacts_the_collection(project, tmp_path, monkeypatch, cached):
    cache_dir = tmp_path / "cache" if cached else None
    big = {"big.md": card("big", "Big?", "A {{c1::huge}} answer: " + "filler text " * 50_000)}
    project.write({"deck.yaml": DECK, "small.md": card("small", "Small?", "A {{c1::small}} one."), **big})
    project.build(cache_dir=cache_dir)
    before = zipfile.ZipFile(project.output).getinfo("collection.anki2").file_size
    (project.cards / "big.md").unlink()
    patched = record_patches(monkeypatch)
    project.build(cache_dir=cache_dir)
    assert [bool(result) for _, result in patched] == [True]  # patched, not written afresh
    db = tmp_path / "after.anki2"
    with zipfile.ZipFile(project.output) as archive:
        db.write_bytes(archive.read("collection.anki2"))
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 2
    finally:
        conn.close()
    assert db.stat().st_size < before / 2

"""The uncompressed copy of the collection kept in the cache folder: patched in place by a
rebuild, used only for the package it was made with, and never trusted when damaged."""

from __future__ import annotations

import zipfile

import pytest
from conftest import card

from deckbuilder.package import collection as collection_db

CARDS = {f"c{i}.md": card(f"c{i}", f"Question {i}?", f"Answer {{{{c1::{i}}}}}. " * 50) for i in range(8)}


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


@pytest.fixture
def ways(monkeypatch) -> list[str]:
    """The way each build patched the previous collection: "file" (the copy) or "memory"."""
    taken = []
    for name, way in (("patch_collection_file", "file"), ("patch_collection", "memory")):
        real = getattr(collection_db, name)
        monkeypatch.setattr(collection_db, name, lambda *a, way=way, real=real: taken.append(way) or real(*a))
    return taken


def copies(cache_dir):
    return sorted(cache_dir.glob("collection-*"))


def collection_of(package) -> bytes:
    with zipfile.ZipFile(package) as archive:
        return archive.read("collection.anki2")


def edit(project, number: int, text: str) -> None:
    project.write({f"c{number}.md": card(f"c{number}", f"Question {number}?", f"{text} {{{{c1::edited}}}}.")})


def test_a_build_keeps_one_copy_of_the_collection_it_packaged(project, render_cache):
    project.write(CARDS).build()
    edit(project, 3, "First")
    project.build()
    [copy] = copies(render_cache)
    assert copy.suffix == ".anki2"
    assert copy.read_bytes() == collection_of(project.output)


def test_a_rebuild_patches_the_copy_and_gives_what_patching_in_memory_gives(project, render_cache, tmp_path, ways):
    project.write(CARDS).build()
    uncached = tmp_path / "uncached.apkg"
    uncached.write_bytes(project.output.read_bytes())
    edit(project, 3, "First")
    project.build()
    project.build(output=uncached, cache_dir=None)
    assert ways == ["file", "memory"]
    assert project.output.read_bytes() == uncached.read_bytes()


def test_a_copy_is_not_used_for_another_package(project, render_cache, tmp_path, ways):
    project.write(CARDS).build()
    older = project.output.read_bytes()
    edit(project, 3, "First")
    project.build()  # the copy is now this package's
    project.output.write_bytes(older)  # e.g. the output restored from a backup
    edit(project, 5, "Second")
    project.build()
    expected = tmp_path / "expected.apkg"
    expected.write_bytes(older)
    project.build(output=expected, cache_dir=None)
    assert ways == ["file", "memory", "memory"]
    assert project.output.read_bytes() == expected.read_bytes()
    [copy] = copies(render_cache)  # the other package's copy is gone
    assert copy.read_bytes() == collection_of(project.output)


def test_a_damaged_copy_is_thrown_away(project, render_cache, tmp_path, ways):
    project.write(CARDS).build()
    previous = project.output.read_bytes()
    [copy] = copies(render_cache)
    damaged = bytearray(copy.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    copy.write_bytes(bytes(damaged))
    edit(project, 3, "First")
    project.build()
    expected = tmp_path / "expected.apkg"
    expected.write_bytes(previous)
    project.build(output=expected, cache_dir=None)
    assert ways == ["memory", "memory"]
    assert project.output.read_bytes() == expected.read_bytes()
    [copy] = copies(render_cache)  # replaced by a sound one
    assert copy.read_bytes() == collection_of(project.output)

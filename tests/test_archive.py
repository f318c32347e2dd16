"""The hand-written zip: valid for any zip reader, and a rebuild reuses unchanged compressed chunks."""

from __future__ import annotations

import random
import zipfile

from deckbuilder.fast import zip as archive


def collection_bytes(size: int, seed: int = 1) -> bytes:
    """Compressible but not trivial data, like a collection's pages."""
    rng = random.Random(seed)
    words = [bytes(rng.choices(b'abcdefghij <>/="', k=rng.randint(2, 9))) for _ in range(500)]
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words)
    return bytes(out[:size])


def read_collection(package) -> archive.StoredCollection | None:
    """The collection of a package written by archive.py, as a rebuild reads it; None for any other."""
    compressed = archive.read_compressed_collection(package)
    return compressed and archive.inflate(compressed)


def write(path, data: bytes, previous=None) -> None:
    entries = archive.collection_entries(data, previous)
    entries += [archive.entry("media", b"{}"), archive.entry("build_deck.json", b'{"version":1}')]
    archive.write_zip(path, entries)


def test_the_package_is_a_valid_zip_with_deflated_entries(tmp_path):
    data = collection_bytes(3 * archive.CHUNK_SIZE + 12345)
    write(tmp_path / "a.apkg", data)
    with zipfile.ZipFile(tmp_path / "a.apkg") as package:
        assert package.testzip() is None  # every CRC checks out
        assert package.namelist() == ["collection.anki2", archive.CHUNKS, "media", "build_deck.json"]
        assert package.read("collection.anki2") == data
        info = package.getinfo("collection.anki2")
        assert info.compress_type == zipfile.ZIP_DEFLATED and info.compress_size < len(data) / 2
        assert all(
            i.date_time == (1980, 1, 1, 0, 0, 0) and i.external_attr >> 16 == 0o100644 for i in package.infolist()
        )


def test_an_empty_collection_still_makes_a_valid_entry(tmp_path):
    write(tmp_path / "empty.apkg", b"")
    with zipfile.ZipFile(tmp_path / "empty.apkg") as package:
        assert package.read("collection.anki2") == b""


def test_a_rebuild_reuses_the_compressed_chunks_that_did_not_change(tmp_path):
    before = collection_bytes(4 * archive.CHUNK_SIZE + 100)
    write(tmp_path / "before.apkg", before)
    stored = read_collection(tmp_path / "before.apkg")
    assert stored is not None and stored.data == before

    changed = bytearray(before)
    changed[archive.CHUNK_SIZE + 7] ^= 1  # one byte in the second chunk
    after = archive.collection_entries(bytes(changed), stored)[0]

    reused = [new is old for new, old in zip(after.pieces, stored.pieces, strict=True)]
    assert reused == [True, False, True, True, False]  # the last chunk is always compressed afresh
    write(tmp_path / "after.apkg", bytes(changed), stored)
    with zipfile.ZipFile(tmp_path / "after.apkg") as package:
        assert package.testzip() is None
        assert package.read("collection.anki2") == bytes(changed)


def test_reused_chunks_give_the_same_bytes_as_compressing_afresh(tmp_path):
    before = collection_bytes(3 * archive.CHUNK_SIZE)
    after = before[:100] + b"X" + before[101:] + b"more at the end"
    write(tmp_path / "before.apkg", before)
    write(tmp_path / "reused.apkg", after, read_collection(tmp_path / "before.apkg"))
    write(tmp_path / "fresh.apkg", after)
    assert (tmp_path / "reused.apkg").read_bytes() == (tmp_path / "fresh.apkg").read_bytes()


def test_a_package_not_written_by_us_is_not_read_as_a_previous_collection(tmp_path):
    with zipfile.ZipFile(tmp_path / "other.apkg", "w") as package:
        package.writestr("collection.anki2", b"whatever")
    assert read_collection(tmp_path / "other.apkg") is None
    (tmp_path / "broken.apkg").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    assert read_collection(tmp_path / "broken.apkg") is None
    write(tmp_path / "ours.apkg", collection_bytes(2 * archive.CHUNK_SIZE))
    damaged = bytearray((tmp_path / "ours.apkg").read_bytes())
    damaged[200] ^= 0xFF  # inside the compressed collection
    (tmp_path / "damaged.apkg").write_bytes(bytes(damaged))
    assert read_collection(tmp_path / "damaged.apkg") is None

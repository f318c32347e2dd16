"""The .apkg's zip file, written by hand so the collection can be deflated in independent chunks.

A rebuild changes a few pages of a collection of tens of MB. Deflated as independent 1 MiB
chunks (as ``pigz --independent`` does: concatenated, they form one valid deflate stream),
the collection of the previous package can be unpacked chunk by chunk, and a rebuild keeps
the compressed bytes of every chunk whose content did not change, deflating only the rest,
on all cores. Entry times and order are fixed: the same content always gives the same bytes.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

CHUNK_SIZE = 1 << 20
# Level 3 packs a collection about as small as level 9 (within 50%) in a tenth of the time.
LEVEL = 3
COLLECTION = "collection.anki2"
CHUNKS = "build_deck-chunks.json"  # the compressed size of each chunk of the collection
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01, the earliest date a zip file can hold
_MAX_SIZE = 0xFFFFFFFF  # without the zip64 extension


@dataclass(frozen=True)
class Entry:
    name: str
    pieces: tuple[bytes, ...]  # raw deflate data, in order
    crc: int
    size: int


@dataclass(frozen=True)
class StoredCollection:
    """The collection of an earlier package: its content and its compressed chunks."""

    data: bytes
    pieces: tuple[bytes, ...]


@dataclass(frozen=True)
class CompressedCollection:
    """The collection of an earlier package as stored: its compressed chunks, size and CRC."""

    pieces: tuple[bytes, ...]
    size: int
    crc: int

    def holds(self, data: bytes) -> bool:
        """Whether ``data`` is what these chunks decompress to (its size and CRC match)."""
        return len(data) == self.size and zlib.crc32(data) == self.crc


def read_compressed_collection(package: Path) -> CompressedCollection | None:
    """The compressed chunks of a package written by this module (not decompressed); None for any other file."""
    try:
        with open(package, "rb") as handle:
            entries = _central_directory(handle)
            sizes = json.loads(_read_entry(handle, entries[CHUNKS]))
            info = entries[COLLECTION]
            raw = _raw_data(handle, info)
        pieces, start = [], 0
        for size in sizes:
            pieces.append(raw[start : start + size])
            start += size
        return CompressedCollection(tuple(pieces), info["size"], info["crc"]) if start == len(raw) else None
    except (OSError, KeyError, ValueError, TypeError, struct.error, zlib.error):
        return None


def inflate(compressed: CompressedCollection) -> StoredCollection | None:
    """The collection decompressed; None if it is damaged."""
    try:
        data = b"".join(_in_threads(_inflate, compressed.pieces))
    except zlib.error:
        return None
    return StoredCollection(data, compressed.pieces) if compressed.holds(data) else None


def collection_entries(data: bytes, previous: StoredCollection | None) -> list[Entry]:
    """The collection entry (chunks unchanged since ``previous`` reused, the rest deflated in
    parallel) and the entry listing its chunks' sizes."""
    view = memoryview(data)
    starts = range(0, max(len(data), 1), CHUNK_SIZE)
    last = len(starts) - 1

    def piece(index: int) -> bytes:
        chunk = view[starts[index] : starts[index] + CHUNK_SIZE]
        # A chunk that ended the previous stream (or ends this one) has a different last block.
        reusable = previous is not None and index < last and index < len(previous.pieces) - 1
        # startswith compares in place with memcmp (== on memoryviews goes item by item; slices copy).
        if reusable and previous.data.startswith(chunk, starts[index]):
            return previous.pieces[index]
        return deflate(chunk, final=index == last)

    pieces = tuple(_in_threads(piece, range(len(starts))))
    sizes = json.dumps([len(p) for p in pieces]).encode()
    return [Entry(COLLECTION, pieces, zlib.crc32(data), len(data)), entry(CHUNKS, sizes)]


def _in_threads(function, items) -> list:
    from concurrent.futures import ThreadPoolExecutor

    # zlib releases the interpreter lock while it (de)compresses: threads use every core.
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        return list(pool.map(function, items))


def _inflate(piece: bytes) -> bytes:
    return zlib.decompressobj(-15).decompress(piece)


def entry(name: str, data: bytes) -> Entry:
    return Entry(name, (deflate(data, final=True),), zlib.crc32(data), len(data))


def deflate(data: bytes | memoryview, final: bool) -> bytes:
    """Raw deflate data; a chunk that is not the last ends on a byte boundary with no final block."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


def write_zip(path: Path, entries: list[Entry]) -> None:
    """A zip file of deflated entries with fixed times and Unix permissions 0644."""
    central = []
    with open(path, "wb") as handle:
        for item in entries:
            name = item.name.encode()
            compressed = sum(map(len, item.pieces))
            if max(item.size, compressed, handle.tell()) >= _MAX_SIZE:
                raise OSError(
                    f"the package would exceed 4 GiB ('{item.name}'), more than a zip file without zip64 holds"
                )
            fields = (20, 0, 8, 0, _DOS_DATE, item.crc, compressed, item.size, len(name), 0)
            central.append((fields, handle.tell(), name))
            handle.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + name)
            for piece in item.pieces:
                handle.write(piece)
        start = handle.tell()
        for fields, offset, name in central:
            # Made by Unix (3) zip 2.0, no comment, external attributes holding the file mode.
            header = struct.pack("<IH", 0x02014B50, 3 << 8 | 20) + struct.pack("<HHHHHIIIHH", *fields)
            handle.write(header + struct.pack("<HHHII", 0, 0, 0, 0o100644 << 16, offset) + name)
        end = handle.tell()
        handle.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), end - start, start, 0))


def _central_directory(handle) -> dict[str, dict]:
    handle.seek(-22, os.SEEK_END)  # the end record, without a comment (as written above)
    signature, _, _, _, count, _, start, _ = struct.unpack("<IHHHHIIH", handle.read(22))
    if signature != 0x06054B50:
        raise ValueError("not a package written by build_deck")
    handle.seek(start)
    entries = {}
    for _ in range(count):
        header = handle.read(46)
        method, crc, compressed, size, name_length, extra, comment = struct.unpack("<HxxxxIIIHHH", header[10:34])
        offset = struct.unpack("<I", header[42:46])[0]
        name = handle.read(name_length).decode()
        handle.seek(extra + comment, os.SEEK_CUR)
        entries[name] = {"method": method, "crc": crc, "compressed": compressed, "size": size, "offset": offset}
    return entries


def _raw_data(handle, info: dict) -> bytes:
    if info["method"] != 8:
        raise ValueError("not deflated")
    handle.seek(info["offset"])
    header = handle.read(30)
    name_length, extra = struct.unpack("<HH", header[26:30])
    handle.seek(info["offset"] + 30 + name_length + extra)
    return handle.read(info["compressed"])


def _read_entry(handle, info: dict) -> bytes:
    data = zlib.decompress(_raw_data(handle, info), -15)
    if zlib.crc32(data) != info["crc"]:
        raise ValueError("damaged entry")
    return data

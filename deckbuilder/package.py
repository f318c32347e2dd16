"""Package rendered cards as notes in a reproducible, compressed .apkg."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import genanki

from .config import DeckConfig, slugify
from .media import MediaFile
from .notetypes import cloze_model, qa_model
from .previous import PreviousBuild

if TYPE_CHECKING:
    from .render import RenderedCard


class TimedNote(genanki.Note):
    """A note written with its own modification time (genanki stamps every note with one)."""

    mod = 0

    def write_to_db(self, cursor, timestamp: float, deck_id, id_gen):
        super().write_to_db(cursor, self.mod, deck_id, id_gen)


@dataclass(frozen=True)
class PackagedNote:
    """A note with the identity and time it is written with."""

    card_id: str
    kind: str  # "qa" or "cloze"
    note: genanki.Note
    deck_name: str


@dataclass(frozen=True)
class PackageSummary:
    notes: int
    cards: int
    media: int


def note_guid(config: DeckConfig, card_id: str, kind: str) -> str:
    """The note's identity: the deck's namespace and the card id, never its text."""
    return genanki.guid_for(config.namespace, card_id, kind)


def card_tags(config: DeckConfig, card: RenderedCard) -> list[str]:
    """The deck tag, the section as a hierarchical tag, then the card's own tags."""
    tags = [config.tag]
    path = config.tag
    for section in card.source.sections:
        path = f"{path}::{slugify(section)}"
        tags.append(path)
    return tags + [t for t in card.source.tags if t not in tags]


def make_notes(cards: list[RenderedCard], config: DeckConfig, deck_name: str) -> list[PackagedNote]:
    """Two notes per card (question/answer, and cloze when it has clozes), in source order."""
    qa, cloze = qa_model(), cloze_model()
    notes = []
    for due, card in enumerate(cards):
        source = card.source
        deck = "::".join((deck_name, *source.sections))
        tags = card_tags(config, card)
        fields = [card.question, card.answer, card.reference, card.section, source.id]
        guid = note_guid(config, source.id, "qa")
        notes.append(PackagedNote(source.id, "qa", TimedNote(qa, fields, tags=tags, guid=guid, due=due), deck))
        if card.cloze_numbers:
            fields = [card.cloze_text, card.question, card.reference, card.section, source.id]
            note = TimedNote(cloze, fields, tags=tags, guid=note_guid(config, source.id, "cloze"), due=due)
            # genanki finds no card for some clozes (nested ones); Anki's rule is one card per number.
            note.cards = [genanki.Card(number - 1) for number in card.cloze_numbers]
            notes.append(PackagedNote(source.id, "cloze", note, deck))
    return notes


def note_times(notes: list[PackagedNote], previous: PreviousBuild, now: int) -> dict[str, int]:
    """Keep an unchanged note's time, so Anki leaves it (and the user's edits) alone;
    give a changed one a strictly newer time, so Anki's "update if newer" takes it."""
    times = {}
    for packaged in notes:
        note = packaged.note
        before = previous.notes.get(note.guid)
        if before is None:
            times[note.guid] = now
        elif before.same_content(note):
            times[note.guid] = before.mod
        else:
            times[note.guid] = max(now, before.mod + 1)
    return times


def model_time(model: genanki.Model, previous: PreviousBuild, now: int) -> int:
    """Like note_times, for a note type: a changed CSS or template must be newer to be taken."""
    before = previous.models.get(model.model_id)
    if before is None:
        return now
    mod, old = before
    new = model.to_json(0, 0)
    keys = ("name", "css", "flds", "tmpls", "sortf", "type")
    if all(old.get(k) == new.get(k) for k in keys):
        return mod
    return max(now, mod + 1)


def _sub_deck_id(config: DeckConfig, name: str) -> int:
    digest = hashlib.sha256(f"{config.namespace}:{name}".encode()).digest()
    return 1 << 30 | int.from_bytes(digest[:4], "big") >> 2


def write_package(
    notes: list[PackagedNote],
    config: DeckConfig,
    deck_name: str,
    media: list[MediaFile],
    output: Path,
    previous: PreviousBuild,
    now: int,
) -> PackageSummary:
    """Write the .apkg to a temporary file and move it into place only when complete."""
    decks = {deck_name: genanki.Deck(config.deck_id, deck_name, config.description)}
    for packaged in notes:
        if packaged.deck_name not in decks:
            decks[packaged.deck_name] = genanki.Deck(_sub_deck_id(config, packaged.deck_name), packaged.deck_name)
        decks[packaged.deck_name].add_note(packaged.note)
    models = [qa_model(), cloze_model()]
    for deck in decks.values():
        for model in models:
            deck.add_model(model)
    times = note_times(notes, previous, now)
    for packaged in notes:
        packaged.note.mod = times[packaged.note.guid]
    model_times = {m.model_id: model_time(m, previous, now) for m in models}
    stamp = max([*times.values(), *model_times.values()])
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_name, 0o666 & ~umask)  # mkstemp creates 0600; a deck is an ordinary file
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "collection.anki2"
            _write_collection(db, list(decks.values()), model_times, stamp)
            _write_zip(Path(tmp_name), db, media)
        os.replace(tmp_name, output)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    cards = sum(len(p.note.cards) for p in notes)
    return PackageSummary(notes=len(notes), cards=cards, media=len(media))


def _write_collection(db: Path, decks, model_times: dict[int, int], stamp: int) -> None:
    conn = sqlite3.connect(db)
    try:
        cursor = conn.cursor()
        # Ids count up from the newest time in the deck: deterministic for unchanged sources.
        genanki.Package(decks).write_to_db(cursor, stamp, itertools.count(stamp * 1000))
        (models_json,) = cursor.execute("SELECT models FROM col").fetchone()
        models = json.loads(models_json)
        for mid, model in models.items():
            model["mod"] = model_times.get(int(mid), stamp)
        cursor.execute("UPDATE col SET models = ?", (json.dumps(models, sort_keys=True),))
        conn.commit()
        cursor.execute("VACUUM")
    finally:
        conn.close()


def _write_zip(path: Path, db: Path, media: list[MediaFile]) -> None:
    # Fixed entry times and order make the package byte-for-byte reproducible.
    when = (1980, 1, 1, 0, 0, 0)
    entries = [("collection.anki2", db.read_bytes())]
    entries.append(("media", json.dumps({str(i): m.name for i, m in enumerate(media)}).encode()))
    entries += [(str(i), m.source.read_bytes()) for i, m in enumerate(media)]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=9)

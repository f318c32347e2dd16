"""Rendered cards as Anki notes: fields, tags, identities, order and modification times."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, NamedTuple

from ..read.cards import order_number, section_name, with_card_types
from ..read.config import DeckConfig, extra_note_guid, note_guids, slugify
from .notetypes import CLOZE, QA, REVERSE, TYPE, NoteType
from .previous import PreviousBuild, note_digest

if TYPE_CHECKING:
    from ..read.cards import SourceCard
    from ..render.rendered import RenderedCard


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


def reverse_fields(card: RenderedCard) -> tuple[str, ...]:
    return qa_fields(card)


def type_fields(card: RenderedCard) -> tuple[str, ...]:
    # The exact answer is text: Anki compares what is typed with the field's text (its HTML decoded).
    expected = html.escape(card.source.type_answer, quote=False)
    return card.question, expected, card.answer, card.reference, card.section, card.source.id


def note_digests(tag: str, card: RenderedCard) -> tuple[str, str, str]:
    """(the deck tag, the question/answer note's digest, the cloze note's or "").

    Worked out with each card (in worker processes, and cached), for the deck tag it names:
    hashing every note's fields is a tenth of a second on each rebuild of a large deck.
    """
    tags = card_tags(tag, card.source)
    cloze = note_digest(cloze_fields(card), tags) if card.cloze_numbers else ""
    return tag, note_digest(qa_fields(card), tags), cloze


def make_notes(cards: list[RenderedCard], config: DeckConfig, deck_name: str) -> list[PackagedNote]:
    """The notes of every card, in source order: question/answer, cloze when it has clozes, reversed and
    type-in when its front matter (or deck.yaml) asks for them.

    New cards are studied in order of their position (Anki's "due" of a new card): every question/answer
    card of the deck comes before the cloze cards, so a cloze never follows the card that just showed
    its answer; reversed and type-in cards come last, in that order. Sub-decks, which Anki studies in
    the order of their names, keep their folders' numbers.
    """
    notes = []
    decks = sub_deck_names([card.source for card in cards], deck_name)
    for due, card in enumerate(cards):
        source = with_card_types(card.source, config.reverse, config.type_answer)
        deck = decks[source.rel.rpartition("/")[0]]
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
            notes.append(PackagedNote(source.id, CLOZE, cloze_guid, cloze_fields(card), tags, deck, len(cards) + due,
                                      ords, cloze_digest))  # fmt: skip
        # Notes of their own, with identities of their own: asking for them leaves the notes above as they are.
        if source.reverse:
            extra = (REVERSE, "reverse", reverse_fields(card), 2 * len(cards) + due)
            notes.append(_extra_note(source.id, config.namespace, extra, tags, deck))
        if source.type_answer:
            extra = (TYPE, "type", type_fields(card._replace(source=source)), 3 * len(cards) + due)
            notes.append(_extra_note(source.id, config.namespace, extra, tags, deck))
    return notes


def _extra_note(card_id: str, namespace: str, extra: tuple, tags: tuple[str, ...], deck: str) -> PackagedNote:
    """A reversed or type-in note: ``extra`` is (note type, kind of GUID, fields, due); one card."""
    note_type, kind, fields, due = extra
    guid = extra_note_guid(namespace, card_id, kind)
    return PackagedNote(card_id, note_type, guid, fields, tags, deck, due, (0,), note_digest(fields, tags))


def sub_deck_names(sources: list[SourceCard], deck_name: str) -> dict[str, str]:
    """The deck of each folder of cards (by its path, "" for the top): ``1-foundational`` becomes the sub-deck
    ``Deck::1 Foundational``, the numbers of sibling folders padded to one width (``01``... ``10``) so that
    Anki's order of names is the folders' order."""
    folders = {source.rel.rpartition("/")[0] for source in sources}
    widths: dict[tuple[str, ...], int] = {}
    for folder in folders:
        parts = tuple(folder.split("/")) if folder else ()
        for depth, part in enumerate(parts):
            number = order_number(part)
            if number is not None:
                widths[parts[:depth]] = max(widths.get(parts[:depth], 0), len(number))
    names = {}
    for folder in folders:
        parts = tuple(folder.split("/")) if folder else ()
        components = [deck_name]
        for depth, part in enumerate(parts):
            number = order_number(part)
            name = section_name(part)
            components.append(name if number is None else f"{number.zfill(widths[parts[:depth]])} {name}")
        names[folder] = "::".join(components)
    return names


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

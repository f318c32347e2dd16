"""What a rebuild changed against the previous .apkg, by card id."""

from __future__ import annotations

from dataclasses import dataclass

from ..read.config import DeckConfig
from .previous import PreviousBuild


@dataclass(frozen=True)
class ChangeReport:
    """Card ids added, changed, removed and unchanged since the previous build; note types whose CSS or
    templates changed; and the decks renamed, as the steps that rename them in Anki: (old name, new name)."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]
    first_build: bool
    deck_tag: str
    note_types: tuple[str, ...] = ()
    renamed_decks: tuple[tuple[str, str], ...] = ()

    def removed_search(self) -> str:
        """An Anki browser search that finds the removed cards' notes (Anki never deletes on import), and
        only them: a case-sensitive, anchored regular expression per id (a plain ``Id:alpha`` search
        ignores case, and would also find a kept ``Alpha``)."""
        terms = " OR ".join(f'"Id:re:(?-i)^{card_id.replace(".", chr(92) + ".")}$"' for card_id in self.removed)
        return f"tag:{self.deck_tag} ({terms})"


def compare(notes, previous: PreviousBuild, config: DeckConfig, deck_name: str, note_types: dict) -> ChangeReport:
    """Compare the notes just written with the previous build's, grouped by card id.

    ``note_types``: each note type's name and digest by id, as just written.
    """
    current: dict[str, list] = {}
    for packaged in notes:
        current.setdefault(packaged.card_id, []).append(packaged)
    previous_ids: dict[str, set[str]] = {}
    for note in previous.notes.values():
        if config.tag in note.tags:
            previous_ids.setdefault(note.card_id, set()).add(note.guid)
    added, changed, unchanged = [], [], []
    for card_id, card_notes in current.items():
        if card_id not in previous_ids:
            added.append(card_id)
        elif _same(card_notes, previous_ids[card_id], previous):
            unchanged.append(card_id)
        else:
            changed.append(card_id)
    removed = sorted(set(previous_ids) - set(current))
    types = tuple(
        name for mid, (name, digest) in note_types.items() if previous.models.get(mid, (0, digest))[1] != digest
    )
    renamed = _deck_renames(notes, previous, config.deck_id, deck_name)
    return ChangeReport(tuple(added), tuple(changed), tuple(removed), tuple(unchanged), not previous.notes, config.tag,
                        types, renamed)  # fmt: skip


def _deck_renames(notes, previous: PreviousBuild, deck_id: int, deck_name: str) -> tuple[tuple[str, str], ...]:
    """The renames that carry the previous build's decks over to this build's, in the order to do them in Anki.

    Anki finds an imported card's deck by name, so a renamed deck would arrive as a new deck beside the old
    one. A deck is renamed when its id now has another name (the top deck), or when it is gone and every note
    of it now sits in one deck that is new (a section whose folder was renamed)."""
    renames = {}
    old_top = previous.decks.get(deck_id)
    if old_top is not None and old_top != deck_name:
        renames[old_top] = deck_name
    now = {packaged.guid: packaged.deck_name for packaged in notes}
    before: dict[str, set[str]] = {}
    for guid, (_, deck, _, _) in previous.layout.items():
        if guid in now:
            before.setdefault(deck, set()).add(now[guid])
    existing, current = set(previous.decks.values()), set(now.values())
    for old, new in before.items():
        if old not in current and len(new) == 1 and next(iter(new)) not in existing:
            renames.setdefault(old, next(iter(new)))
    steps: list[tuple[str, str]] = []
    for old, new in sorted(renames.items(), key=lambda rename: rename[0].count("::")):
        for done_old, done_new in steps:  # a renamed parent took its sub-decks along
            if old == done_old or old.startswith(done_old + "::"):
                old = done_new + old[len(done_old) :]
        if old != new:
            steps.append((old, new))
    return tuple(steps)


def _same(card_notes, previous_guids: set[str], previous: PreviousBuild) -> bool:
    if {p.guid for p in card_notes} != previous_guids:
        return False
    return all(previous.notes[p.guid].digest == p.digest for p in card_notes)

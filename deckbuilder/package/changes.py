"""What a rebuild changed against the previous .apkg, by card id."""

from __future__ import annotations

from dataclasses import dataclass

from ..read.config import DeckConfig
from .previous import PreviousBuild


@dataclass(frozen=True)
class ChangeReport:
    """Card ids added, changed, removed and unchanged since the previous build."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]
    first_build: bool
    deck_tag: str

    def removed_search(self) -> str:
        """An Anki browser search that finds the removed cards' notes (Anki never deletes on import), and
        only them: a case-sensitive, anchored regular expression per id (a plain ``Id:alpha`` search
        ignores case, and would also find a kept ``Alpha``)."""
        terms = " OR ".join(f'"Id:re:(?-i)^{card_id.replace(".", chr(92) + ".")}$"' for card_id in self.removed)
        return f"tag:{self.deck_tag} ({terms})"


def compare(notes, previous: PreviousBuild, config: DeckConfig) -> ChangeReport:
    """Compare the notes just written with the previous build's, grouped by card id."""
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
    return ChangeReport(tuple(added), tuple(changed), tuple(removed), tuple(unchanged), not previous.notes, config.tag)


def _same(card_notes, previous_guids: set[str], previous: PreviousBuild) -> bool:
    if {p.guid for p in card_notes} != previous_guids:
        return False
    return all(previous.notes[p.guid].digest == p.digest for p in card_notes)

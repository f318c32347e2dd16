"""The deck's own settings, read from ``deck.yaml`` in the cards folder."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from ..errors import Report

CONFIG_NAME = "deck.yaml"
KNOWN_KEYS = {"name", "description", "id", "namespace", "tag"}


@dataclass(frozen=True)
class DeckConfig:
    """Name, description and the identity (deck id, GUID namespace) of a deck."""

    name: str
    description: str
    deck_id: int
    namespace: str
    tag: str
    from_file: bool = True  # False: no deck.yaml, so id and namespace were derived from the name


@cache
def slugify(text: str) -> str:
    """Lowercase words joined by dashes, usable as an Anki tag."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "deck"


def _default_name(cards_dir: Path) -> str:
    folder = cards_dir.resolve()
    if folder.name.lower() == "cards" and folder.parent.name:
        folder = folder.parent
    return folder.name.replace("-", " ").replace("_", " ").strip().title() or "Deck"


def stable_id(text: str) -> int:
    """An id in Anki's range that depends only on ``text`` (for ids nobody configured)."""
    return 1 << 30 | int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") >> 2


# genanki's base-91 alphabet for GUIDs (genanki.util.BASE91_TABLE).
_BASE91 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
_BASE91_PAIRS = [high + low for high in _BASE91 for low in _BASE91]


def guid_for(*values: str) -> str:
    """The same GUID genanki.guid_for gives (base 91 of a SHA-256 prefix), without importing genanki."""
    number = int.from_bytes(hashlib.sha256("__".join(values).encode()).digest()[:8], "big")
    digits = []
    while number >= 91:  # two base-91 digits per step: half the slow big-number divisions
        number, pair = divmod(number, 91 * 91)
        digits.append(_BASE91_PAIRS[pair])
    if number:
        digits.append(_BASE91[number])
    return "".join(reversed(digits))


def note_guids(namespace: str, card_id: str) -> tuple[str, str, str]:
    """A card's notes' identities, from the deck's namespace and the card id, never its text:
    (namespace, question/answer note GUID, cloze note GUID)."""
    return namespace, guid_for(namespace, card_id, "qa"), guid_for(namespace, card_id, "cloze")


def _derived_namespace(name: str) -> str:
    import uuid  # only for decks without deck.yaml (uuid is slow to import)

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"build_deck:{name}"))


def load_config(cards_dir: Path, report: Report) -> DeckConfig:
    """Read deck.yaml, falling back to defaults derived from the folder name."""
    path = cards_dir / CONFIG_NAME
    data: dict = {}
    if path.is_file():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 1
            report.error(path, line, f"deck config is not valid YAML: {_first_line(exc)}")
            loaded = {}
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            report.error(path, 1, "deck config must be a mapping of keys to values")
            loaded = {}
        data = loaded
        for key in sorted(set(map(str, data)) - KNOWN_KEYS):
            report.warning(path, 1, f"unknown key '{key}' (known: {', '.join(sorted(KNOWN_KEYS))})")
    name = str(data.get("name") or _default_name(cards_dir)).strip()
    deck_id = data.get("id", stable_id(name))
    if not isinstance(deck_id, int) or isinstance(deck_id, bool) or not 1 <= deck_id < 1 << 63:
        report.error(path, 1, f"'id' must be a positive integer, not {deck_id!r}")
        deck_id = stable_id(name)
    namespace = str(data.get("namespace") or _derived_namespace(name))
    tag = str(data.get("tag") or slugify(name))
    if not re.fullmatch(r"[\w:-]+", tag):
        report.error(path, 1, f"'tag' must be one Anki tag without spaces, not {tag!r}")
        tag = slugify(name)
    description = str(data.get("description") or "")
    return DeckConfig(name, description, deck_id, namespace, tag, from_file=path.is_file())


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

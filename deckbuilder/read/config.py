"""The deck's own settings, read from ``deck.yaml`` in the cards folder."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from ..errors import Report, quoted
from . import strict_yaml
from .files import FileTooLarge, read_regular_file

CONFIG_NAME = "deck.yaml"
KNOWN_KEYS = {"name", "description", "id", "namespace", "tag", "reverse", "type-answer", "vault"}
# Yes/no settings and their defaults: a reversed card for every card (a card's own `reverse:` wins),
# type-in cards for the cards that give a `type-answer:`, and the cards folder as an Obsidian vault.
SWITCHES = {"reverse": False, "type-answer": True, "vault": False}


@dataclass(frozen=True)
class DeckConfig:
    """Name, description and the identity (deck id, GUID namespace) of a deck."""

    name: str
    description: str
    deck_id: int
    namespace: str
    tag: str
    from_file: bool = True  # False: no deck.yaml, so id and namespace were derived from the name
    reverse: bool = False  # every card gets a reversed card, unless its front matter says otherwise
    type_answer: bool = True  # cards with a `type-answer:` get a type-in card
    vault: bool = False  # the cards folder is an Obsidian vault: notes that are not cards are skipped


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


def extra_note_guid(namespace: str, card_id: str, kind: str) -> str:
    """The identity of a note a card asks for in its front matter (``kind``: "reverse" or "type"), made
    like note_guids': adding one to a card never touches the identities of the notes it has."""
    return guid_for(namespace, card_id, kind)


def _derived_namespace(name: str) -> str:
    import uuid  # only for decks without deck.yaml (uuid is slow to import)

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"build_deck:{name}"))


def load_config(cards_dir: Path, report: Report) -> DeckConfig:
    """Read deck.yaml, falling back to defaults derived from the folder name."""
    path = cards_dir / CONFIG_NAME
    data = _read(path, report) if path.is_file() else {}
    for key in sorted(set(data) - KNOWN_KEYS):
        report.warning(path, 1, f"unknown key {quoted(key)} (known: {', '.join(sorted(KNOWN_KEYS))})")
    text = {key: value.strip() for key, value in data.items() if isinstance(value, str)}
    for key in sorted(set(data) & KNOWN_KEYS - set(text)):
        report.error(path, 1, f"'{key}' must be a single value, not a list or mapping")
    name = text.get("name") or _default_name(cards_dir)
    deck_id = stable_id(name)
    if "id" in text:
        if re.fullmatch(r"[1-9][0-9]{0,18}", text["id"]) and int(text["id"]) < 1 << 63:
            deck_id = int(text["id"])
        else:
            report.error(path, 1, f"'id' must be a positive whole number, not {quoted(text['id'])}")
    namespace = text.get("namespace") or _derived_namespace(name)
    tag = text.get("tag") or slugify(name)
    if not re.fullmatch(r"[\w:-]+", tag):
        report.error(path, 1, f"'tag' must be one Anki tag without spaces, not {quoted(tag)}")
        tag = slugify(name)
    switches = {key: _switch(path, key, text, report) for key in SWITCHES}
    return DeckConfig(
        name,
        text.get("description", ""),
        deck_id,
        namespace,
        tag,
        from_file=path.is_file(),
        reverse=switches["reverse"],
        type_answer=switches["type-answer"],
        vault=switches["vault"],
    )


def _switch(path: Path, key: str, text: dict[str, str], report: Report) -> bool:
    if key not in text:
        return SWITCHES[key]
    value = strict_yaml.boolean(text[key])
    if value is None:
        report.error(path, 1, f"'{key}' must be true or false (or yes/no), not {quoted(text[key])}")
        return SWITCHES[key]
    return value


def _read(path: Path, report: Report) -> dict:
    """deck.yaml's mapping (empty, reported, when it is not one)."""
    try:
        loaded = strict_yaml.load(read_regular_file(path, strict_yaml.MAX_BYTES).decode("utf-8-sig"))
    except FileTooLarge as exc:
        report.error(path, 1, f"deck config is {exc.size:,} bytes; it is limited to {strict_yaml.MAX_BYTES:,}")
        return {}
    except OSError as exc:
        report.error(path, 1, f"cannot read the deck config: {exc.strerror or exc}")
        return {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 1
        report.error(path, line, f"deck config is not valid YAML: {_first_line(exc)}")
        return {}
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        report.error(path, 1, "deck config must be a mapping of keys to values")
        return {}
    return loaded


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

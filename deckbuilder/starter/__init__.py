"""``build-deck init``: a new deck folder with a fresh identity and an example card that shows the format."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import BuildError, Report
from ..read.config import CONFIG_NAME, DeckConfig, load_config

EXAMPLE_CARD = "01-example.md"
EXAMPLE_IMAGE = "example-diagram.svg"
# Deck ids of decks made in Anki are creation times in milliseconds (above 2**40 since 2004):
# ids below that, drawn at random, cannot clash with them, and two new decks hardly ever share one.
_ID_RANGE = (1 << 32, 1 << 40)


def fresh_identity() -> tuple[int, str]:
    """A new deck id and GUID namespace, for a deck.yaml."""
    import secrets
    import uuid  # (slow to import: only here)

    return _ID_RANGE[0] + secrets.randbelow(_ID_RANGE[1] - _ID_RANGE[0]), str(uuid.uuid4())


def create_deck(folder: Path, name: str | None = None) -> DeckConfig:
    """Write ``folder/cards/deck.yaml`` (fresh id and namespace), an example card and ``folder/media/``.

    Raises BuildError, writing nothing, when ``folder`` already holds a cards folder with files in it.
    """
    cards, media = folder / "cards", folder / "media"
    if cards.is_dir() and any(cards.iterdir()):
        report = Report(folder)
        report.error(cards, 1, "a cards folder with files is already here; choose a new folder")
        raise BuildError(report.problems)
    name = name or folder.absolute().name.replace("-", " ").replace("_", " ").strip().title() or "My Deck"
    deck_id, namespace = fresh_identity()
    starter = resources.files(__package__)
    cards.mkdir(parents=True, exist_ok=True)
    media.mkdir(parents=True, exist_ok=True)
    (cards / CONFIG_NAME).write_text(_deck_yaml(name, deck_id, namespace), encoding="utf-8")
    (cards / EXAMPLE_CARD).write_text(starter.joinpath("example.md").read_text(encoding="utf-8"), encoding="utf-8")
    (media / EXAMPLE_IMAGE).write_bytes(starter.joinpath(EXAMPLE_IMAGE).read_bytes())
    return load_config(cards, Report(cards))


def _deck_yaml(name: str, deck_id: int, namespace: str) -> str:
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return (
        "# The deck's identity: never change `id` or `namespace` once people have imported the deck.\n"
        f'name: "{quoted}"\n'
        "description: My cards, built with build_deck from Markdown.\n"
        f"id: {deck_id}\n"
        f"namespace: {namespace}\n"
    )

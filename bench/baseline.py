"""The straightforward way: Python-Markdown with fenced_code + codehilite, then genanki's defaults."""

from __future__ import annotations

import re
from pathlib import Path

import genanki
import markdown
import yaml

MODEL = genanki.Model(
    1_999_000_001,
    "Baseline",
    fields=[{"name": "Front"}, {"name": "Back"}],
    templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}],
)


def build_baseline(cards_dir: Path, output: Path) -> int:
    """Render every card with codehilite and write an uncompressed genanki package; returns notes."""
    md = markdown.Markdown(extensions=["fenced_code", "codehilite", "tables"])
    deck = genanki.Deck(1_999_000_002, "Baseline")
    for path in sorted(cards_dir.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        _, front_matter, body = text.split("---\n", 2)
        meta = yaml.safe_load(front_matter)
        question, _, answer = body.partition("\n")
        back = md.reset().convert(re.sub(r"\{\{c\d+::(.*?)(::[^}]*)?\}\}", r"\1", answer))
        front = md.reset().convert(question)
        deck.add_note(genanki.Note(MODEL, [front, back], guid=genanki.guid_for(meta["id"])))
    genanki.Package(deck).write_to_file(str(output))
    return len(deck.notes)


if __name__ == "__main__":
    import sys

    print(build_baseline(Path(sys.argv[1]), Path(sys.argv[2])), "notes")

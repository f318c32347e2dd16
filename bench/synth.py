"""Generate N synthetic cards from copies of the bundled cards, each with a fresh id."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_cards(target: Path, count: int) -> Path:
    """Write ``count`` cards under target/cards (plus deck.yaml), sections as in the bundled deck."""
    sources = sorted((ROOT / "cards").rglob("*.md"))
    cards_dir = target / "cards"
    if cards_dir.exists():
        shutil.rmtree(cards_dir)
    cards_dir.mkdir(parents=True)
    (cards_dir / "deck.yaml").write_text((ROOT / "cards" / "deck.yaml").read_text().replace("Keras", "Bench"))
    texts = [(p.parent.name, p.read_text(encoding="utf-8")) for p in sources]
    for i in range(count):
        section, text = texts[i % len(texts)]
        text = re.sub(r"^id: .*$", f"id: bench-{i:05d}", text, count=1, flags=re.MULTILINE)
        # vary the question so no two cards are byte-identical (a fair test for caching)
        text = re.sub(r"^# (.*)$", rf"# \1 (#{i})", text, count=1, flags=re.MULTILINE)
        out = cards_dir / section / f"{i:05d}.md"
        out.parent.mkdir(exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return cards_dir

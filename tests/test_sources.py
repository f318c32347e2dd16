"""Reading card files: front matter, question, answer and details, sections, order."""

from __future__ import annotations

from pathlib import Path

from conftest import write_tree

from deckbuilder.errors import Report
from deckbuilder.read.cards import load_cards, section_name

TEXT = """---
id: my-card
tags: [one, two::three]
reference: https://keras.io/api/
---
Some preamble that is ignored.
# The question?

The short answer.

## Details

The extra facts.
"""


def load(tmp_path: Path, files: dict) -> tuple[list, Report]:
    root = write_tree(tmp_path / "cards", files)
    report = Report(root)
    return load_cards(root, report), report


def test_card_parts_and_line_numbers(tmp_path):
    (card,), report = load(tmp_path, {"s/x.md": TEXT})
    assert report.problems == []
    assert (card.id, card.tags, card.references) == ("my-card", ("one", "two::three"), ("https://keras.io/api/",))
    assert (card.question, card.question_line) == ("The question?", 7)
    assert card.answer.strip() == "The short answer."
    assert card.details.strip() == "The extra facts."
    assert card.details_line == 12


def test_details_heading_inside_code_is_not_a_split(tmp_path):
    text = TEXT.replace("## Details", "```\n## Details\n```")
    (card,), _ = load(tmp_path, {"x.md": text})
    assert card.details == "" and "## Details" in card.answer


def test_sections_come_from_folders_without_their_order_number(tmp_path):
    files = {"02-b-part/x.md": TEXT, "01-a_part/deeper/y.md": TEXT.replace("my-card", "other")}
    cards, _ = load(tmp_path, files)
    assert [c.sections for c in cards] == [("A part", "Deeper"), ("B part",)]
    assert section_name("10-scenario-based") == "Scenario based"


def test_files_are_read_in_sorted_path_order_and_hidden_files_skipped(tmp_path):
    files = {f"{name}.md": TEXT.replace("my-card", name) for name in ("b", "a", "c")}
    files[".hidden/d.md"] = TEXT.replace("my-card", "d")
    cards, _ = load(tmp_path, files)
    assert [c.id for c in cards] == ["a", "b", "c"]


def test_bom_crlf_tabs_and_emoji_are_accepted(tmp_path):
    text = "\ufeff" + TEXT.replace("\n", "\r\n").replace("short answer", "short\tanswer 🚀 ünïcode")
    (card,), report = load(tmp_path, {"x.md": text.encode("utf-8")})
    assert report.problems == []
    assert "short\tanswer 🚀 ünïcode" in card.answer and "\r" not in card.answer

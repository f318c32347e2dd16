"""Reading card files: front matter, question, answer and details, sections, order."""

from __future__ import annotations

from pathlib import Path

import yaml
from conftest import write_tree
from hypothesis import given, settings
from hypothesis import strategies as st

from deckbuilder.errors import Report
from deckbuilder.read.cards import SAFE_LOADER, load_cards, section_name, simple_front_matter
from deckbuilder.read.files import find_card_files

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


SIMPLE = ["id", "tags", "a", "my-card", "bench-00001", "x_y", "two::three", "https://keras.io/api/", "a:b",
          "a?b", "a&b", "a=b", "a~", "a@b", "a%20b", "a+b", "a.b/c", "Yes-no", "onward", "nullable"]  # fmt: skip
TRICKY = ["a:", "yes", "No", "ON", "off", "y", "null", "Null", "~", "true", "12", "1e3", "0x1F", "12:30",
          "2024-01-01", "a#b", "a #b", "&x", "*x", "!x", "%x", "@x", "'q'", '"q"', "a,b", "[x]", "{x}", "-x", "a b",
          "", "é", "a::", "a:,b"]  # fmt: skip
INDENT = st.sampled_from(["", "  ", "  ", "    ", " \t"])


def blocks(key, word, indents) -> st.SearchStrategy[str]:
    """Front-matter entries: "key: value", "key: [a, b]", "key:" with "- item" lines, or a stray line."""
    item_lines = st.builds(lambda items, spaces: [f"{i}- {w}" for i, w in zip(spaces, items, strict=False)],
                           st.lists(word, max_size=3), indents)  # fmt: skip
    return st.one_of(
        st.builds("{}: {}".format, key, word),
        st.builds(lambda key, items, sep: f"{key}: [{sep.join(items)}]", key, st.lists(word, max_size=3),
                  st.sampled_from([", ", ",", ", ", " ,"])),
        st.builds(lambda key, lines: "\n".join([f"{key}:", *lines]), key, item_lines),
    )  # fmt: skip


KEYS = st.sampled_from(["id", "tags", "reference", "a", "my-key", "x_y", "onward", "k2"])
SIMPLE_BLOCKS = st.lists(
    blocks(KEYS, st.sampled_from(SIMPLE), INDENT.map(lambda i: [i] * 3)),
    max_size=4,
    unique_by=lambda b: b.split(":")[0],
)
WORDS = st.one_of(st.sampled_from(SIMPLE), st.sampled_from(TRICKY))
ANY_BLOCKS = st.lists(
    blocks(KEYS | WORDS, WORDS, st.lists(INDENT, min_size=3))
    | st.sampled_from(["", "# comment", "  ", "key: value # comment", "key:  two spaces", "key: value ", "- x"]),
    max_size=4,
)


@settings(max_examples=1500, deadline=None)
@given(SIMPLE_BLOCKS | ANY_BLOCKS)
def test_simple_front_matter_is_read_as_yaml_reads_it(blocks):
    lines = "\n".join(blocks).split("\n") if blocks else []
    simple = simple_front_matter(lines)
    if simple is not None:  # else YAML reads it
        assert simple == yaml.load("\n".join(lines), Loader=SAFE_LOADER)


def test_the_bundled_cards_front_matter_is_simple():
    for path in find_card_files(Path(__file__).resolve().parent.parent / "cards"):
        lines = path.read_text(encoding="utf-8").split("\n")
        end = lines.index("---", 1)
        assert simple_front_matter(lines[1:end]) is not None, path

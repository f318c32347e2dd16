"""The bundled Keras Interview Questions deck: complete, well-formed, atomic cards, importable.

Whether each card's code runs on real Keras 3 (and proves its claims) is tested by test_keras_examples.py.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from conftest import cards_of, import_package
from keras_examples import load_examples, planned

from deckbuilder.builder import BuildOptions, build
from deckbuilder.errors import Report
from deckbuilder.read.cards import load_cards
from deckbuilder.render.cloze import ClozeTable, mark_clozes, strip_clozes

ROOT = Path(__file__).resolve().parent.parent
# The four original sections keep their sizes; the new one holds at least 12 questions.
SECTIONS = {"Foundational": 8, "Intermediate": 8, "Advanced": 6, "Scenario": 5}
NEW_SECTION = "Keras 3 in practice"
CODE_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
CLOZE_NUMBER = re.compile(r"\{\{c(\d+)::")
# The hidden text of a cloze (up to its hint or its end); the deck nests no clozes.
CLOZE_TEXT = re.compile(r"\{\{c\d+::(.*?)(?:::.*?)?\}\}", re.DOTALL)
MAX_ANSWER_CODE_LINES = 8


@pytest.fixture(scope="module")
def sources():
    report = Report(ROOT / "cards")
    cards = load_cards(ROOT / "cards", report)
    assert [str(p) for p in report.problems] == []
    return cards


def full_text(card) -> str:
    return card.path.read_text(encoding="utf-8")


def hints(card) -> list[str]:
    """Every cloze hint of the card, read by the builder's own cloze parser."""
    table = ClozeTable()
    for part in (card.question, card.answer, card.details):
        mark_clozes(part, 1, table, [])
    return [cloze.hint for cloze in table.clozes if cloze.hint]


def test_sections_and_question_count_with_unique_ids(sources):
    counts = Counter(c.sections[0] for c in sources)
    assert {s: counts[s] for s in SECTIONS} == SECTIONS
    assert counts[NEW_SECTION] >= 12
    assert set(counts) == {*SECTIONS, NEW_SECTION}
    assert len(sources) >= 32
    assert len({c.id for c in sources}) == len(sources)


def test_every_question_has_four_to_six_cloze_numbers(sources):
    for card in sources:
        numbers = set(CLOZE_NUMBER.findall(full_text(card)))
        assert 4 <= len(numbers) <= 6, f"{card.rel}: {sorted(numbers)}"


def test_every_question_has_a_reference_link(sources):
    for card in sources:
        assert card.references and all(r.startswith("https://") for r in card.references), card.rel


def test_some_clozes_sit_inside_code_examples(sources):
    in_code = [c for c in sources if any("{{c" in block for block in CODE_BLOCK.findall(full_text(c)))]
    assert len(in_code) >= 10


def test_code_is_keras_3(sources):
    for card in sources:
        for block in CODE_BLOCK.findall(full_text(card)):
            code = strip_clozes(block)
            assert "tf.keras" not in code and "tensorflow.keras" not in code, card.rel
            assert "ImageDataGenerator" not in code and "input_length" not in code, card.rel


def test_every_python_block_has_a_run():
    """Each card's code runs on some backend (test_keras_examples.py runs it)."""
    examples = load_examples(ROOT / "cards")
    runs = {e.id for todo in planned(examples).values() for e in todo}
    for example in examples:
        assert not example.problem, example.problem
        if example.blocks:
            assert example.id in runs, f"{example.rel}: python code with no run"


def test_images_exist_and_every_media_file_is_used(sources):
    used = {ref for card in sources for ref in IMAGE.findall(full_text(card))}
    media = {p.name for p in (ROOT / "media").iterdir() if p.is_file()}
    assert used <= media, used - media
    assert media == used, media - used
    assert len([m for m in media if m.endswith(".svg")]) >= 5


def test_question_answer_cards_are_short(sources):
    """Minimum information: a short prose answer and at most one short code example; the rest is in Details."""
    for card in sources:
        code = CODE_BLOCK.findall(card.answer + "\n")
        prose = CODE_BLOCK.sub("", card.answer + "\n")
        assert len([line for line in prose.splitlines() if line.strip()]) <= 8, f"{card.rel}: answer too long"
        assert len(code) <= 1, f"{card.rel}: at most one code example in the answer"
        for block in code:
            lines = [line for line in block.splitlines() if line.strip()]
            assert len(lines) <= MAX_ANSWER_CODE_LINES, f"{card.rel}: {len(lines)} lines of code in the answer"


def test_no_hint_is_a_coin_flip(sources):
    """A hint such as "error or warning?" makes the card a guess between two words."""
    for card in sources:
        for hint in hints(card):
            assert not re.search(r"\bor\b", hint), f"{card.rel}: hint {hint!r} offers a choice"


def test_no_blank_holds_a_set_of_three(sources):
    """A blank such as "JAX, TensorFlow or PyTorch" asks for a list, which is hard to recall as one item."""
    for card in sources:
        for hidden in CLOZE_TEXT.findall(full_text(card)):
            text = re.sub(r"\([^)]*\)", "", hidden)  # an aside in brackets is not a list item
            # "A, B, C" or "A, B and C" (but "A, and B" names two).
            listed = text.count(",") >= 2 or bool(re.search(r",\s*(?!and\b|or\b)[^,\s][^,]*\s(and|or)\s", text))
            assert not listed, f"{card.rel}: the blank {hidden!r} holds a list"


def test_bundled_deck_imports_into_anki_with_no_empty_cards(sources, tmp_path, collection):
    output = tmp_path / "keras.apkg"
    result = build(BuildOptions(ROOT / "cards", ROOT / "media", output, strict=True))
    assert result.config.name == "Keras Interview Questions"
    log = import_package(collection, output)
    with_clozes = [c for c in sources if CLOZE_NUMBER.search(full_text(c))]
    assert len(log.new) == len(sources) + len(with_clozes) and not log.conflicting
    assert len(cards_of(collection, "note:*Q&A")) == len(sources)
    clozes = sum(len(r.cloze_numbers) for r in result.rendered)
    assert len(cards_of(collection, "note:*Cloze")) == clozes
    assert collection.get_empty_cards().notes == []
    check = collection.media.check()
    assert list(check.missing) == [] and list(check.unused) == []
    decks = {collection.decks.name(c.did) for c in cards_of(collection)}
    numbered = [f"{n} {section}" for n, section in enumerate((*SECTIONS, NEW_SECTION), start=1)]
    assert decks == {f"Keras Interview Questions::{name}" for name in numbered}

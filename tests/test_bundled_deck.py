"""The bundled Keras Interview Questions deck: complete, well-formed, valid code, importable."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest
from conftest import cards_of, import_package

from deckbuilder.build import BuildOptions, build
from deckbuilder.errors import Report
from deckbuilder.read.cards import load_cards
from deckbuilder.render.cloze import strip_clozes

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = {"Foundational": 5, "Intermediate": 5, "Advanced": 5, "Scenario": 5}
CODE_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
CLOZE_NUMBER = re.compile(r"\{\{c(\d+)::")


@pytest.fixture(scope="module")
def sources():
    report = Report(ROOT / "cards")
    cards = load_cards(ROOT / "cards", report)
    assert [str(p) for p in report.problems] == []
    return cards


def full_text(card) -> str:
    return card.path.read_text(encoding="utf-8")


def test_all_twenty_questions_in_four_sections_with_unique_ids(sources):
    assert len(sources) == 20
    assert len({c.id for c in sources}) == 20
    assert Counter(c.sections[0] for c in sources) == SECTIONS


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


def test_every_code_block_is_valid_keras_3_python(sources):
    for card in sources:
        for block in CODE_BLOCK.findall(full_text(card)):
            code = strip_clozes(block)
            ast.parse(code, filename=card.rel)
            assert "tf.keras" not in code and "tensorflow.keras" not in code, card.rel
            assert "ImageDataGenerator" not in code and "input_length" not in code, card.rel


def test_images_exist_and_every_media_file_is_used(sources):
    used = {ref for card in sources for ref in IMAGE.findall(full_text(card))}
    media = {p.name for p in (ROOT / "media").iterdir() if p.is_file()}
    assert used <= media, used - media
    assert media == used, media - used
    assert len([m for m in media if m.endswith(".svg")]) >= 3


def test_short_answers_for_the_question_answer_cards(sources):
    """Minimum information: a short prose answer and at most one short code example; the rest is in Details."""
    for card in sources:
        code = CODE_BLOCK.findall(card.answer + "\n")
        prose = CODE_BLOCK.sub("", card.answer + "\n")
        assert len([line for line in prose.splitlines() if line.strip()]) <= 8, f"{card.rel}: answer too long"
        assert len(code) <= 1, f"{card.rel}: at most one code example in the answer"
        assert all(len(block.splitlines()) <= 12 for block in code), f"{card.rel}: code example too long"


def test_bundled_deck_imports_into_anki_with_no_empty_cards(tmp_path, collection):
    output = tmp_path / "keras.apkg"
    result = build(BuildOptions(ROOT / "cards", ROOT / "media", output, strict=True))
    assert result.config.name == "Keras Interview Questions"
    log = import_package(collection, output)
    assert len(log.new) == 40 and not log.conflicting
    assert len(cards_of(collection, "note:*Q&A")) == 20
    clozes = sum(len(r.cloze_numbers) for r in result.rendered)
    assert len(cards_of(collection, "note:*Cloze")) == clozes
    assert collection.get_empty_cards().notes == []
    check = collection.media.check()
    assert list(check.missing) == [] and list(check.unused) == []
    decks = {collection.decks.name(c.did) for c in cards_of(collection)}
    assert decks == {f"Keras Interview Questions::{s}" for s in SECTIONS}

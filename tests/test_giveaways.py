"""The giveaway check: a warning, with file and line, when a cloze card shows its own answer elsewhere."""

from __future__ import annotations

import pytest
from conftest import card

from deckbuilder.builder import BuildOptions, build
from deckbuilder.errors import BuildError

SVG_SAYING = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 9 9"><text x="1" y="5">{}</text></svg>'


def warnings(project, body: str, question: str = "What does it do?", media: dict | None = None) -> list[str]:
    project.write({"x.md": card("x", question, body)}, media or {})
    return [str(problem) for problem in project.build(check_only=True).warnings]


@pytest.mark.parametrize(
    ("body", "question", "where", "line"),
    [
        ("A {{c1::Dropout}} layer.", "What does `Dropout` do?", "the question or section", 6),
        ("It sets {{c1::mixed_float16}}.\n\nThe policy `mixed_float16` is global.", None, "the card's text", 6),
        ("One {{c1::`rate`}} and {{c2::the rate argument}}.", None, "the card's text (other clozes revealed)", 6),
        ("Use {{c1::early stopping::like early stopping}}.", None, "the hint", 6),
        ("Blank {{c1::summed}}.\n\n![the outputs are summed](d.svg)", None, "an image's alt text", 6),
        ("Text\n\nBlank {{c1::overfitting}}.\n\n![plot](d.svg)", None, "d.svg", 8),
        ('```python\nset_policy({{c1::"mixed_float16"}})\n```\n\nIt is mixed_float16.', None, "the card's text", 7),
    ],
    ids=["question", "text", "other-cloze", "hint", "alt-text", "svg-text", "quotes-in-code"],
)
def test_an_answer_shown_elsewhere_on_its_card_is_a_warning(project, body, question, where, line):
    media = {"d.svg": SVG_SAYING.format("overfitting")}
    found = warnings(project, body, question or "What does it do?", media)
    assert any(w.startswith(f"x.md:{line}: warning: the answer of cloze {{{{c") and f"can be read in {where}" in w
               for w in found), found  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        "Two blanks of one number: {{c1::Dense}} and {{c1::Dense}} again.",  # both hidden on its card
        "A short {{c1::ax}} answer, ax everywhere.",  # too short to mean anything
        "It {{c1::generates}} data; the rate of generation is high.",  # a word inside another is not it
        "Only the back shows the source: {{c1::Dropout}}.",
    ],
)
def test_what_is_not_a_giveaway_is_not_reported(project, body):
    project.write({"x.md": card("x", "Q?", body, "reference: https://keras.io/api/layers/dropout/\n")})
    assert [str(p) for p in project.build(check_only=True).warnings] == []


def test_giveaways_fail_a_strict_build_and_the_bundled_deck_has_none(project, tmp_path):
    project.write({"x.md": card("x", "What does `Dropout` do?", "A {{c1::Dropout}} layer.")})
    with pytest.raises(BuildError, match="can be read in the question"):
        project.build(strict=True, check_only=True)
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    result = build(BuildOptions(root / "cards", root / "media", check_only=True, strict=True, cache_dir=None))
    assert result.warnings == []

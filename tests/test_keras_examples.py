"""Every card's Python code runs on real Keras 3, on the backends it names, and proves its claims."""

from __future__ import annotations

import os
import re

import keras_examples
import pytest
from conftest import card, write_tree
from keras_examples import CARDS, ExampleError, Result, load_examples, planned, program, run_all

EXAMPLES = load_examples(CARDS)
RUNS = [(e, backend) for backend, todo in planned(EXAMPLES).items() for e in todo]
# Counted apart from the runner's own reader: a python fence in the raw file, anywhere.
PYTHON_FENCE = re.compile(r"^[ \t]*```[ \t]*python", re.MULTILINE)


def require_keras(backends=keras_examples.BACKENDS) -> None:
    """Skip without keras and its backends, or fail when BUILD_DECK_REQUIRE_KERAS=1 (as in CI)."""
    why = keras_examples.missing_keras(backends)
    if why:
        reason = f"the card examples need keras and its backends: {why}"
        if os.environ.get("BUILD_DECK_REQUIRE_KERAS") == "1":
            pytest.fail(f"BUILD_DECK_REQUIRE_KERAS=1 but {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def results(request) -> dict[tuple[str, str], Result]:
    """One run of the selected (card, backend) pairs, both backends at once."""
    require_keras()
    selected = {
        (item.callspec.params["example"].id, item.callspec.params["backend"])
        for item in request.session.items
        if item.originalname == "test_card_example" and hasattr(item, "callspec")
    }
    found = run_all(CARDS, only=selected)
    keras_examples.RESULTS.extend(found)
    return {(r.id, r.backend): r for r in found if r.ran}


@pytest.mark.parametrize(("example", "backend"), RUNS, ids=[f"{e.id}-{b}" for e, b in RUNS])
def test_card_example(results, example, backend):
    result = results.get((example.id, backend))
    assert result is not None, f"{example.rel}: no result on {backend}"
    if not result.ok:
        pytest.fail(f"{example.rel} on {backend}:\n{result.error}", pytrace=False)


def test_every_card_with_python_code_has_a_run():
    for example in EXAMPLES:
        fences = len(PYTHON_FENCE.findall(example.path.read_text(encoding="utf-8")))
        assert len(example.blocks) == fences, f"{example.rel}: {fences} python fences, {len(example.blocks)} read"
        assert not example.problem, example.problem
        if example.blocks:
            assert [b for e, b in RUNS if e is example], f"{example.rel} has python code but no run"


def test_every_example_checks_a_claim():
    """A run without a check proves only that the code does not raise."""
    unchecked = [e.rel for e in EXAMPLES if e.blocks and e.check is None]
    assert unchecked == []


def test_a_replace_that_matches_nothing_fails(tmp_path):
    cards = write_tree(tmp_path, {"a.md": card("a", "Q?", CODE, TEST.format(replace="'nope': 'x'"))})
    [example] = load_examples(cards)
    with pytest.raises(ExampleError, match=r"test\.replace key 'nope' matches nothing"):
        program(example)
    [example] = load_examples(write_tree(tmp_path, {"a.md": card("a", "Q?", CODE, TEST.format(replace="'1': '2'"))}))
    assert [s.text for s in program(example) if s.what == "code"] == ["y = 2 + 2"]


def test_malformed_test_specs_are_failures_not_skips(tmp_path):
    cards = write_tree(
        tmp_path,
        {
            "typo.md": card("typo", "Q?", CODE, "test:\n  chek: assert False\n"),
            "backend.md": card("backend", "Q?", CODE, "test:\n  backend: torch\n"),
            "no-code.md": card("no-code", "Q?", "Prose only.", "test:\n  check: assert False\n"),
        },
    )
    problems = {e.id: e.problem for e in load_examples(cards)}
    assert "unknown key(s) under 'test': chek" in problems["typo"]
    assert "must be one or more of jax, tensorflow" in problems["backend"]
    assert "has no ```python block" in problems["no-code"]


CODE = "Text\n\n```python\ny = {{c1::1::hint}} + 1\n```\n"
TEST = "test:\n  replace:\n    {replace}\n"


def test_broken_cards_go_red_with_their_file_and_line(tmp_path):
    """The runner end to end on cards broken on purpose (one process on JAX)."""
    require_keras(["jax"])
    raising = "```python\nimport keras\nkeras.layers.Dense(2)(None)\n```\n"
    write_tree(
        tmp_path,
        {
            "good.md": card(
                "good", "Q?", "```python\nx = {{c1::41::hint}} + 1\n```\n", "test:\n  check: assert x == 42\n"
            ),
            "wrong-check.md": card(
                "wrong-check", "Q?", "```python\nx = 1\n```\n", "test:\n  check: |\n    assert x == 2\n"
            ),
            "raises.md": card("raises", "Q?", raising),
            "replace.md": card("replace", "Q?", "```python\nx = 1\n```\n", "test:\n  replace:\n    'y': 'z'\n"),
            "slow.md": card("slow", "Q?", "```python\nimport time\ntime.sleep(30)\n```\n"),
            "prose.md": card("prose", "Q?", "No code here."),
        },
    )
    found = {r.id: r for r in run_all(tmp_path, timeout=3, backends=("jax",))}
    assert found["good"].ok and found["good"].ran and found["good"].backend == "jax"
    assert not found["wrong-check"].ok
    assert 'wrong-check.md", line 5' in found["wrong-check"].error and "AssertionError" in found["wrong-check"].error
    assert not found["raises"].ok and 'raises.md", line 8' in found["raises"].error
    assert not found["replace"].ok and "matches nothing" in found["replace"].error
    assert not found["slow"].ok and "longer than 3 s" in found["slow"].error
    assert found["prose"].ok and not found["prose"].ran

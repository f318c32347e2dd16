"""The joined-expression lexer gives exactly Pygments' tokens."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pygments.lexer import RegexLexer, bygroups, default
from pygments.lexers import get_lexer_by_name
from pygments.token import Keyword, Name, Number, Operator, Punctuation, String, Text

from deckbuilder.fast.lexer import TESTED, accelerate, join_states

ROOT = Path(__file__).resolve().parent.parent
CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::[^}]*)?\}\}")


def lexers(name: str):
    """Pygments' lexer, and the same lexer accelerated."""
    plain = get_lexer_by_name(name, stripnl=False, ensurenl=False)
    fast = get_lexer_by_name(name, stripnl=False, ensurenl=False)
    accelerate(fast)
    assert "get_tokens_unprocessed" in vars(fast), f"{name} was not accelerated"
    return plain, fast


def same_tokens(name: str, text: str) -> None:
    plain, fast = lexers(name)
    assert list(fast.get_tokens_unprocessed(text)) == list(RegexLexer.get_tokens_unprocessed(plain, text))


def python_corpus() -> list[str]:
    """Every code block of the bundled deck, and this project's own Python source."""
    blocks = []
    for path in sorted((ROOT / "cards").rglob("*.md")):
        blocks += re.findall(r"```python\n(.*?)```", CLOZE.sub(r"\1", path.read_text(encoding="utf-8")), re.DOTALL)
    sources = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "deckbuilder").glob("*.py"))]
    sources += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests").glob("*.py"))]
    return blocks + sources


def test_python_tokens_are_pygments_own_for_real_code():
    corpus = python_corpus()
    assert len(corpus) > 40
    for text in corpus:
        same_tokens("python", text)


SNIPPETS = ["def ", "class ", "import ", "f'", 'f"', 'rb"', '"""', "'''", "{x!r:>10}", "0x1F", "1e-3", "é", "→"]
CODE_CHARACTERS = st.sampled_from([*"abcdefxyz_0123456789 \t\n()[]{}<>=+-*/%@:;,.'\"`\\#!?&|^~$", *SNIPPETS])


@settings(max_examples=300, deadline=None)
@given(st.lists(CODE_CHARACTERS, max_size=80).map("".join))
def test_python_tokens_are_pygments_own_for_any_text(text):
    same_tokens("python", text)


@pytest.mark.parametrize("name", sorted(set(TESTED.values()) - {"python"}))
@settings(max_examples=60, deadline=None)
@given(text=st.lists(CODE_CHARACTERS, max_size=60).map("".join))
def test_other_joined_lexers_give_pygments_own_tokens(name, text):
    same_tokens(name, text)


def test_a_lexer_with_back_references_is_left_alone():
    lexer = get_lexer_by_name("bash")
    join_states(lexer)
    assert "get_tokens_unprocessed" not in vars(lexer)


class EdgeLexer(RegexLexer):
    """Rules that reach every branch: errors, the newline reset, pushes and pops of all kinds,
    a verbose rule ending in a comment, per-rule flags, groups and an empty default rule."""

    tokens = {  # noqa: RUF012 (Pygments' own way to declare rules)
        "root": [
            (r"(?x) \d+  # a verbose rule whose comment would swallow a parenthesis", Number),
            (r"(?i)abc", Keyword),
            (r"(k)(=)(v)", bygroups(Name, Operator, String)),
            (r"\(", Punctuation, "inner"),
            (r"<", Punctuation, "#push"),
            (r">", Punctuation, "#pop"),
            (r"!", Punctuation, "#pop:3"),
            (r"\?", Punctuation, ("#push", "inner")),
            (r"[ \t]+", Text),
            (r"\n", Text),
        ],
        "inner": [
            (r"\)", Punctuation, "#pop"),
            (r"\[", Punctuation, ("inner", "deeper")),
            (r"x+", Name),
            (r"<", Punctuation, "root"),
            (r"\+", Punctuation, ("#push",)),
            default("#pop"),
        ],
        "deeper": [
            (r"\]\]", Punctuation, ("#pop", "#pop", "#pop", "#pop")),  # more pops than states
            (r"\]", Punctuation, "#pop"),
            (r"y+", Name),  # no rule for a newline: it resets the lexer to the root state
        ],
    }


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("0123 abcABC k=v ()[]<>!xy\n\t?+")), max_size=40).map("".join))
# A state is seen in how the next token is lexed: "x" is a Name inside parentheses, an error outside.
@example("([y\nx>x")  # a newline no rule takes resets to the root state
@example("((!x(x")  # popping more states than there are
@example("([]]x)x")  # a tuple of pops, more than there are
@example("?x<x>x")  # a tuple with a push
@example("7# not a comment")
@example("(<!>x")  # a pop of more states than there are, with another state below the root
@example("(+)x)x")  # a push in a tuple
def test_every_branch_of_the_lexer_loop_gives_pygments_own_tokens(text):
    plain, fast = EdgeLexer(stripnl=False, ensurenl=False), EdgeLexer(stripnl=False, ensurenl=False)
    join_states(fast)
    assert "get_tokens_unprocessed" in vars(fast)
    assert list(fast.get_tokens_unprocessed(text)) == list(RegexLexer.get_tokens_unprocessed(plain, text))


@pytest.mark.parametrize("name", sorted(TESTED.values()))
def test_every_state_of_the_tested_lexers_compiles(name):
    """States are compiled when first entered: none of them may fail then."""
    lexer = get_lexer_by_name(name)
    accelerate(lexer)
    assert type(lexer).__name__ in TESTED
    for state in lexer.joined_states.sources:
        assert lexer.joined_states[state][0].pattern is not None


def test_an_untested_lexer_is_left_alone():
    lexer = get_lexer_by_name("kusto")  # joinable, but not compared with Pygments by these tests
    accelerate(lexer)
    assert "get_tokens_unprocessed" not in vars(lexer)

"""The speed-ups (deckbuilder/fast/) change only the time a build takes: switched off one by one or all
together, or failing on the input at hand, the package holds exactly the same deck."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import FEATURES_CARD, SVG, card, cards_of, features_files, import_package
from test_collection import rows

from deckbuilder.fast import NAMES, enabled_names
from deckbuilder.fast import lexer as fast_lexer
from deckbuilder.fast import markdown as fast_markdown
from deckbuilder.render import cache
from deckbuilder.render.highlight import find_lexer

ROOT = Path(__file__).resolve().parent.parent
CARDS = {
    "a/one.md": card(
        "one",
        "What is `x`?",
        "A {{c1::term}}, *em* and **bold** [link](https://keras.io).\n\n"
        "```python\nmodel.fit(x, {{c2::epochs=3}})\n```\n\n![d](d.svg)",
    ),
    "a/three.md": card("three", "Entities?", "&copy; &#169; and &amp; in text, no tag or link."),
    "a/two.md": card(
        "two", "A *styled* question?", "| a | b |\n|---|---|\n| `x` | {{c1::y}} |\n\n```sql\nSELECT 1\n```"
    ),
    "b/features.md": FEATURES_CARD,  # issue #17's syntax: dollar math, sounds, Obsidian's, card types
}
MEDIA = {"d.svg": SVG, **features_files()[1]}


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def deck(project, output: Path) -> Path:
    project.build(output=output, jobs=1)
    return output


def both_decks(project, tmp_path, monkeypatch, setting: str) -> tuple[Path, Path]:
    """The bundled deck plus a few tricky cards, built with every speed-up and with ``setting``."""
    shutil.copytree(ROOT / "cards", project.cards, dirs_exist_ok=True)
    shutil.copytree(ROOT / "media", project.media, dirs_exist_ok=True)
    project.write(CARDS, MEDIA)
    fast = deck(project, tmp_path / "fast.apkg")
    monkeypatch.setenv("BUILD_DECK_SPEEDUPS", setting)
    return fast, deck(project, tmp_path / "plain.apkg")


def manifest(package: Path) -> bytes:
    with zipfile.ZipFile(package) as archive:
        return archive.read("build_deck.json")


@pytest.mark.parametrize("setting", ["none", *(",".join(set(NAMES) - {name}) for name in NAMES)])
def test_each_speed_up_switched_off_gives_the_same_deck(project, tmp_path, monkeypatch, setting):
    fast, plain = both_decks(project, tmp_path, monkeypatch, setting)
    assert rows(plain, tmp_path) == rows(fast, tmp_path)
    assert manifest(plain) == manifest(fast)
    with zipfile.ZipFile(plain) as archive:
        chunked = "build_deck-chunks.json" in archive.namelist()
        assert archive.testzip() is None
    assert chunked == ("zip" in enabled_names())


def test_a_deck_written_by_zipfile_imports_and_rebuilds(project, collection, tmp_path, monkeypatch):
    monkeypatch.setenv("BUILD_DECK_SPEEDUPS", "none")
    project.write(CARDS, MEDIA)
    project.build()
    assert len(import_package(collection, project.output).new) == 9
    project.write({"a/two.md": card("two", "A *styled* question?", "Now {{c1::edited}}.")})
    monkeypatch.setenv("BUILD_DECK_SPEEDUPS", "all")  # a rebuild patches the zipfile package's collection
    project.build()
    assert len(import_package(collection, project.output).updated) == 2
    assert "edited" in cards_of(collection, "Id:two note:*Cloze")[0].answer()


def test_switching_a_speed_up_renders_afresh(monkeypatch):
    before = cache.namespace()
    monkeypatch.setenv("BUILD_DECK_SPEEDUPS", "lexer")
    assert cache.namespace() != before


def test_a_failing_speed_up_falls_back_to_the_plain_library(project, tmp_path, monkeypatch):
    project.write(CARDS, MEDIA)
    expected = rows(deck(project, tmp_path / "expected.apkg"), tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("a speed-up met something it did not expect")

    class BrokenLexer:
        get_tokens = broken

    monkeypatch.setattr(fast_markdown, "convert", broken)
    monkeypatch.setattr(fast_markdown, "plain_question", lambda text: None)
    monkeypatch.setattr(fast_lexer, "joined_lexer", lambda lexer: BrokenLexer())
    result = project.build(output=tmp_path / "fallback.apkg", jobs=1, cache_dir=None)
    assert [str(p) for p in result.warnings] == []
    assert rows(tmp_path / "fallback.apkg", tmp_path) == expected


def test_python_code_gets_the_joined_lexer_and_its_tokens_are_pygments_own():
    python = find_lexer("python")
    assert fast_lexer.joined_lexer(python) is not None
    code = "x = keras.Input(shape=(3,))  # note\n"
    assert fast_lexer.tokens(python, code) == list(python.get_tokens(code))

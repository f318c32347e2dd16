"""The command line, through click's CliRunner: options, exit codes, messages."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml
from click.testing import CliRunner
from conftest import SVG, card, cards_of, import_package, write_tree

from deckbuilder import __version__
from deckbuilder.cli import PROGRESS_MIN_CARDS, main

ROOT = Path(__file__).resolve().parent.parent
GOOD = {"a.md": card("a", "Question A?", "Answer with {{c1::a term}}.")}
BAD = {"bad.md": "---\nid: bad\n---\nno heading here\n"}


def run(*args: str, cwd=None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, list(args))
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, list(args))
    finally:
        os.chdir(old)


def paths(project, *extra: str) -> list[str]:
    return ["--cards", str(project.cards), "--media", str(project.media), *extra]


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_documents_every_command_and_option_with_examples():
    result = run("-h")
    assert result.exit_code == 0
    for name, command in main.commands.items():
        assert name in result.output
        detail = run(name, "-h")
        assert detail.exit_code == 0
        for param in command.params:
            for opt in param.opts if param.param_type_name == "option" else [param.name.upper()]:
                assert opt in detail.output, (name, opt)
            assert param.param_type_name == "argument" or param.help, f"{name} {param.name} has no help text"
        assert "Example" in detail.output, name


def test_default_output_is_named_after_the_deck_and_summary_is_printed(project, tmp_path):
    project.write({**GOOD, "deck.yaml": "name: My Own Deck\n"})
    result = run(*paths(project), cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "my-own-deck.apkg").is_file()
    assert re.search(r"wrote my-own-deck\.apkg: 2 notes, 2 cards, 0 media files", result.output)


def test_deck_name_option_overrides_config(project, collection):
    project.write({**GOOD, "deck.yaml": "name: Configured\n"})
    result = run(*paths(project, "-o", str(project.output), "--deck-name", "Chosen"))
    assert result.exit_code == 0, result.output
    import_package(collection, project.output)
    assert {collection.decks.name(c.did) for c in cards_of(collection)} == {"Chosen"}


def test_check_validates_and_writes_nothing(project):
    project.write(GOOD)
    result = run(*paths(project, "--check", "-o", str(project.output)))
    assert result.exit_code == 0, result.output
    assert "checked 1 card files: no errors" in result.output
    assert not project.output.exists()


def test_invalid_input_exits_1_with_located_errors_and_keeps_previous_output(project):
    project.write(GOOD)
    assert run(*paths(project, "-o", str(project.output))).exit_code == 0
    before = project.output.read_bytes()
    project.write(BAD)
    result = run(*paths(project, "-o", str(project.output)))
    assert result.exit_code == 1
    assert "bad.md:4: error: no question: start the question with a '# ' heading" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash
    assert project.output.read_bytes() == before


def test_usage_errors_exit_2(project):
    assert run("--no-such-option").exit_code == 2
    project.write(GOOD)
    assert run("--cards", str(project.cards / "a.md")).exit_code == 2


def test_quiet_prints_nothing_on_success(project):
    project.write(GOOD)
    result = run(*paths(project, "-q", "-o", str(project.output)))
    assert result.exit_code == 0
    assert result.output == ""


def test_cards_folder_given_as_dot(project):
    project.write(GOOD)
    first = run("--cards", ".", "--media", str(project.media), "-o", str(project.output), cwd=project.cards)
    assert first.exit_code == 0, first.output
    again = run("--cards", ".", "--media", str(project.media), "-o", str(project.output), cwd=project.cards)
    assert "is up to date: 2 notes" in again.output


def many_cards(count: int) -> dict[str, str]:
    return {f"c{i:04d}.md": card(f"c{i}", f"Question {i}?", f"Answer {{{{c1::{i}}}}}.") for i in range(count)}


def test_progress_bar_shows_on_a_terminal_but_not_when_piped(project, tmp_path):
    import pty
    import subprocess
    import sys

    project.write(many_cards(PROGRESS_MIN_CARDS))
    args = [sys.executable, str(ROOT / "build_deck.py"), "--cards", str(project.cards), "--media", str(project.media)]
    env = {**os.environ, "BUILD_DECK_CACHE": str(tmp_path / "fresh-cache")}
    main, terminal = pty.openpty()
    process = subprocess.Popen([*args, "-o", str(tmp_path / "a.apkg")], stdout=terminal, stderr=terminal, env=env)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal closes when the build ends
            break
        if not chunk:
            break
        shown += chunk
    assert process.wait() == 0
    assert b"rendering cards" in shown
    env["BUILD_DECK_CACHE"] = str(tmp_path / "another-cache")
    piped = subprocess.run([*args, "-o", str(tmp_path / "b.apkg")], capture_output=True, env=env)
    assert piped.returncode == 0 and b"rendering" not in piped.stderr + piped.stdout


def test_without_deck_yaml_the_build_suggests_pinning_the_identity(project):
    project.write(GOOD)
    result = run(*paths(project, "-o", str(project.output)))
    assert result.exit_code == 0
    assert "note: no deck.yaml" in result.stderr and "namespace:" in result.stderr
    project.write({"deck.yaml": "name: Pinned\nid: 1500000009\nnamespace: ns-1\n"})
    assert "note: no deck.yaml" not in run(*paths(project, "-o", str(project.output))).stderr


def test_unwritable_output_is_a_clean_error(project, tmp_path):
    project.write(GOOD)
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("a file where the output folder should be")
    result = run(*paths(project, "-o", str(not_a_folder / "deck.apkg")))
    assert result.exit_code == 1
    assert "build_deck: error: cannot write" in result.stderr and "Traceback" not in result.output
    assert not_a_folder.read_text() == "a file where the output folder should be"


def test_with_no_options_it_builds_cards_and_media_of_the_current_folder(tmp_path):
    deck = tmp_path / "my-deck"
    write_tree(deck, {"cards/a.md": card("a", "Q?", "Look: ![d](d.svg)"), "media/d.svg": SVG})
    result = run("-q", cwd=deck)
    assert result.exit_code == 0, result.output
    assert [p.name for p in deck.glob("*.apkg")] == ["my-deck.apkg"]  # named after the folder
    explicit = run("build", "--check", cwd=deck)
    assert explicit.exit_code == 0 and "checked 1 card files" in explicit.output


def test_cards_given_alone_take_the_media_folder_beside_them(tmp_path):
    write_tree(tmp_path, {"deck/cards/a.md": card("a", "Q?", "![d](d.svg)"), "deck/media/d.svg": SVG})
    result = run("--cards", str(tmp_path / "deck" / "cards"), "--check", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    inside = tmp_path / "other" / "cards"
    write_tree(inside, {"a.md": card("a", "Q?", "![d](d.svg)"), "media/d.svg": SVG})  # a media folder inside
    assert run("--cards", str(inside), "--check", cwd=tmp_path).exit_code == 0


def test_not_found_messages_name_the_folder_looked_in(tmp_path):
    missing = run("--check", cwd=tmp_path)
    assert missing.exit_code == 1
    assert "cards:1: error: cards folder not found: cards is not a folder (give one with --cards)" in missing.stderr
    write_tree(tmp_path, {"cards/a.md": card("a", "Q?", "![d](d.svg)")})
    no_media = run("--check", cwd=tmp_path)
    assert "a.md:6: error: image 'd.svg' not found: the media folder media does not exist (see --media)" in (
        no_media.stderr
    )
    (tmp_path / "media").mkdir()
    elsewhere = run("--cards", str(tmp_path / "nowhere"), "--check", cwd=tmp_path / "media")  # outside: absolute
    assert elsewhere.exit_code == 1 and f"cards folder not found: {tmp_path / 'nowhere'} is not" in elsewhere.stderr


def test_init_makes_a_deck_that_builds_without_warnings_and_has_its_own_identity(tmp_path):
    created = run("init", "first-deck", cwd=tmp_path)
    assert created.exit_code == 0, created.output
    assert "next: cd first-deck && build-deck" in created.output
    deck = tmp_path / "first-deck"
    built = run("--strict", cwd=deck)
    assert built.exit_code == 0, built.output
    assert "wrote first-deck.apkg: 4 notes, 7 cards" in built.output and built.stderr == ""
    assert run("init", "second-deck", cwd=tmp_path).exit_code == 0
    first, second = (
        yaml.safe_load((tmp_path / d / "cards" / "deck.yaml").read_text()) for d in ("first-deck", "second-deck")
    )
    assert first["name"] == "First Deck" and second["name"] == "Second Deck"
    assert first["id"] != second["id"] and first["namespace"] != second["namespace"]
    again = run("init", "first-deck", cwd=tmp_path)  # never over an existing deck
    assert again.exit_code == 1 and "a cards folder with files is already here" in again.stderr


def test_init_example_shows_the_format(tmp_path, collection):
    assert run("init", "d", cwd=tmp_path).exit_code == 0
    assert run("-q", "-o", "d.apkg", cwd=tmp_path / "d").exit_code == 0
    import_package(collection, tmp_path / "d" / "d.apkg")
    text = (tmp_path / "d" / "cards" / "01-example.md").read_text()
    assert re.search(r"^```python\n.*\{\{c\d::", text, re.DOTALL | re.MULTILINE)  # a cloze in code
    assert re.search(r"^[^`\n]*\{\{c\d::", text, re.MULTILINE)  # and one in prose
    assert "](example-diagram.svg)" in text
    assert len(cards_of(collection, "note:*Cloze")) == 4 and list(collection.media.check().missing) == []
    # The syntax of issue #17: a reversed and a type-in card, dollar math, a highlight and a callout.
    assert re.search(r"^reverse: yes$", text, re.MULTILINE) and re.search(r"^type-answer: \w+$", text, re.MULTILINE)
    kinds = sorted(c.note_type()["name"] for c in cards_of(collection, "-note:*Cloze"))
    assert kinds == ["build_deck Q&A", "build_deck Reverse", "build_deck Type answer"]
    details = cards_of(collection, "note:*Cloze")[0].answer()
    assert r"\(n\)" in details and "<mark>" in details and 'class="callout callout-tip"' in details


def test_python_dash_m_deckbuilder_and_build_deck_py_run_the_command_line(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "deckbuilder", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and __version__ in done.stdout
    done = subprocess.run([sys.executable, str(ROOT / "build_deck.py"), "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and __version__ in done.stdout
    done = subprocess.run([sys.executable, "-m", "deckbuilder", "init", str(tmp_path / "x")], capture_output=True)
    assert done.returncode == 0 and (tmp_path / "x" / "cards" / "deck.yaml").is_file()

"""The command line, through click's CliRunner: options, exit codes, messages."""

from __future__ import annotations

import os
import re

from click.testing import CliRunner
from conftest import card, cards_of, import_package

import build_deck
from deckbuilder import __version__

GOOD = {"a.md": card("a", "Question A?", "Answer with {{c1::a term}}.")}
BAD = {"bad.md": "---\nid: bad\n---\nno heading here\n"}


def run(*args: str, cwd=None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(build_deck.main, list(args))
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(build_deck.main, list(args))
    finally:
        os.chdir(old)


def paths(project, *extra: str) -> list[str]:
    return ["--cards", str(project.cards), "--media", str(project.media), *extra]


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


def test_help_documents_every_option_with_examples():
    result = run("-h")
    assert result.exit_code == 0
    for param in build_deck.main.params:
        for opt in param.opts:
            assert opt in result.output, opt
        assert param.help, f"{param.name} has no help text"
    assert "Examples:" in result.output


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

    project.write(many_cards(build_deck.PROGRESS_MIN_CARDS))
    args = [sys.executable, build_deck.__file__, "--cards", str(project.cards), "--media", str(project.media)]
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

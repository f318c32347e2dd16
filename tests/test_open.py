"""--open: the package goes to Anki desktop, which imports it (marker desktop for the real Anki).

The real Anki runs under Xvfb with its own base folder and single-instance key (tests/anki_desktop.py).
`build-deck --open` runs `anki FILE` in the environment that Anki was started with (its display and
key, and the PATH holding the `anki` of this Python), so Anki's own single-instance handling hands the
file to that running Anki, which opens its import dialog; the test clicks Import there and looks at
the collection.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from anki_desktop import AnkiDesktop, anki_entry_point
from click.testing import CliRunner
from conftest import card
from served import WAIT, Served

from deckbuilder import anki_app
from deckbuilder.cli import main

ROOT = Path(__file__).resolve().parent.parent


# --- without Anki ---------------------------------------------------------------------------------


def test_without_anki_open_is_a_clear_error_and_nothing_is_built(project, monkeypatch, tmp_path):
    project.write({"a.md": card("a", "A?", "answer")})
    monkeypatch.setenv("PATH", str(tmp_path))  # no `anki` here
    args = ["--cards", str(project.cards), "--media", str(project.media), "-o", str(project.output)]
    for command in (["build", "--open"], ["serve", "--open", "--port", "0"]):
        result = CliRunner().invoke(main, [*command, *args])
        assert result.exit_code == 1, result.output
        assert result.output.startswith(
            "build_deck: error: cannot open the package in Anki: Anki desktop not found: no 'anki' command on the "
            "PATH; install Anki from https://apps.ankiweb.net, or import the package yourself (File > Import)"
        ), result.output
        assert not project.output.exists()


def test_on_macos_open_asks_for_the_anki_app(monkeypatch, tmp_path):
    calls = []

    def run(command, **kwargs):  # the first call finds Anki, the second does not
        calls.append(command)
        failed = len(calls) > 1
        return subprocess.CompletedProcess(command, int(failed), "", "Unable to find application named 'Anki'\n")

    monkeypatch.setattr(anki_app.subprocess, "run", run)
    opener = anki_app.find_anki("darwin")
    opener(tmp_path / "deck.apkg")
    assert calls == [["open", "-a", "Anki", str(tmp_path / "deck.apkg")]]
    with pytest.raises(anki_app.AnkiNotFound, match="open -a Anki says: Unable to find application named 'Anki'"):
        opener(tmp_path / "deck.apkg")


def test_on_windows_open_starts_the_program_apkg_files_open_with(monkeypatch, tmp_path):
    opened = []
    monkeypatch.setattr(anki_app.os, "startfile", opened.append, raising=False)
    anki_app.find_anki("win32")(tmp_path / "deck.apkg")
    assert opened == [str(tmp_path / "deck.apkg")]

    def no_program(path):
        raise OSError(1155, "No application is associated with the specified file")

    monkeypatch.setattr(anki_app.os, "startfile", no_program, raising=False)
    with pytest.raises(anki_app.AnkiNotFound, match=r"no program opens \.apkg files"):
        anki_app.find_anki("win32")(tmp_path / "deck.apkg")


# --- with the real Anki desktop -------------------------------------------------------------------


@pytest.fixture
def anki(tmp_path, display):
    app = AnkiDesktop(tmp_path / "anki", display)
    yield app
    app.stop()


def beside(anki: AnkiDesktop, tmp_path: Path) -> dict:
    """The environment of a program run beside that Anki: its display and single-instance key, the
    `anki` of this Python first on the PATH, and a base folder of its own for the second Anki (which
    makes one before it finds the first; never the user's)."""
    path = f"{anki_entry_point().parent}{os.pathsep}{anki.env['PATH']}"
    return {**anki.env, "PATH": path, "ANKI_BASE": str(tmp_path / "second-anki")}


def notes_in(anki: AnkiDesktop) -> dict[str, str]:
    """{Id field: Answer field} of the question/answer notes in Anki's collection."""
    return anki.run(
        "{n['Id']: n['Answer'] for n in (mw.col.get_note(i) for i in mw.col.find_notes('')) if 'Answer' in n}"
    )


@pytest.mark.desktop
def test_build_open_hands_the_package_to_the_running_anki(project, anki, tmp_path):
    project.write({"a.md": card("a", "A?", "First {{c1::answer}}."), "b.md": card("b", "B?", "Second.")})
    command = [sys.executable, "-m", "deckbuilder", "build", "--open", "--cards", str(project.cards),
               "--media", str(project.media), "-o", str(project.output)]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=beside(anki, tmp_path), capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"handed {project.output} to Anki desktop" in done.stdout
    log = anki.finish_import()
    assert "3 new notes imported" in log, log  # two question/answer notes, one cloze note
    assert notes_in(anki) == {"a": '<p>First <span class="term">answer</span>.</p>', "b": "<p>Second.</p>"}
    assert anki.run("mw.col.card_count()") == 3  # two question/answer cards, one cloze


@pytest.mark.desktop
def test_serve_open_hands_every_new_package_to_anki(project, anki, tmp_path):
    project.write({"a.md": card("a", "A?", "First.")})
    served = Served(project, "--open", env=beside(anki, tmp_path))
    served.wait_builds(1)
    anki.finish_import()
    assert notes_in(anki) == {"a": "<p>First.</p>"}
    project.write({"a.md": card("a", "A?", "Edited while served.")})
    served.wait_builds(2)
    anki.finish_import()
    assert notes_in(anki) == {"a": "<p>Edited while served.</p>"}  # the note updated in place
    assert anki.run("mw.col.card_count()") == 1
    assert served.stop() in (0, 130)
    assert served.output().count("to Anki desktop") == 2, served.output()

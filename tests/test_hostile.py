"""Hostile input and faults: no script or markup reaches a card, no file is lost, no wrong deck, no hang.

Each test here reproduces a way a build used to break a promise (issue #15).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SVG, card, cards_of, fixed_points_of_the_sanitiser, import_package, visible_text

from deckbuilder.cli import main
from deckbuilder.errors import BuildError
from deckbuilder.render import workers

GOOD = {"good.md": card("good", "Good?", "Fine {{c1::answer}}.")}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def cli(project, *extra, output=None):
    out = project.output if output is None else output
    args = ["--cards", str(project.cards), "--media", str(project.media), "-o", str(out), *extra]
    return CliRunner().invoke(main, args)


def errors_of(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if ": error: " in line]


def database(package: Path, tmp_path: Path) -> sqlite3.Connection:
    db = tmp_path / f"{package.stem}-collection.anki2"
    with zipfile.ZipFile(package) as archive:
        db.write_bytes(archive.read("collection.anki2"))
    return sqlite3.connect(db)


def all_fields(package: Path, tmp_path: Path) -> str:
    conn = database(package, tmp_path)
    try:
        return "\n".join(flds for (flds,) in conn.execute("SELECT flds FROM notes"))
    finally:
        conn.close()


# --- Script or markup reaching a card ---------------------------------------------------------


def test_folder_names_and_deck_yaml_text_are_escaped(project, collection):
    folder = "<img src=x onerror=alert(1)>"
    project.write({f"{folder}/a.md": GOOD["good.md"], "deck.yaml": "name: D\ndescription: <script>alert(1)</script>\n"})
    project.build()
    import_package(collection, project.output)
    question = cards_of(collection)[0].question()
    assert "<img src=x" not in question and "&lt;img src=x onerror=alert(1)&gt;" in question
    assert "<script>" not in collection.decks.by_name("D")["desc"]


def test_a_cloze_inside_an_attribute_is_an_error(project, tmp_path):
    project.write(
        {
            "alt.md": card("alt", "Q?", 'See ![{{c1::a diagram::x" onerror="alert(1)}}](d.svg).'),
            "title.md": card("title", "Q?", 'A [link](https://keras.io "{{c1::title}}") here.'),
        },
        {"d.svg": SVG},
    )
    result = cli(project)
    assert result.exit_code == 1
    for name in ("alt", "title"):
        expected = f"{name}.md:6: error: cloze {{{{c1::...}}}} is inside an HTML attribute (an image's alt text"
        assert any(line.startswith(expected) for line in errors_of(result)), result.stderr
    assert not project.output.exists()


def test_the_final_fields_are_sanitised_even_for_plain_markdown(project, tmp_path):
    """A hint holding a quote is text in the final field, and no attribute can carry a handler."""
    project.write({"h.md": card("h", "Q?", 'A {{c1::term::a "quoted" <b>hint</b>}} and <i onmouseover="x()">i</i>.')})
    project.build()
    fields = all_fields(project.output, tmp_path)
    assert "onmouseover" not in fields and "<b>hint</b>" not in fields
    assert '{{c1::term::a "quoted" &lt;b&gt;hint&lt;/b&gt;}}' in fields


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "with a <script> element"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "with an event handler (onload on <svg>)"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
            b'<image x:href="https://evil.example/p.png"/></svg>',
            "refers to another file or page (href on <image>)",
        ),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>', "with a <foreignobject> element"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><rect/></a></svg>', "refers to"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(x.css);</style></svg>', "<style> loads"),
        (b'<!DOCTYPE s [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>', "entity declarations"),
        (b"<html><body>not a picture</body></html>", "its root element is <html>"),
    ],
)
def test_active_or_foreign_svg_is_refused(project, content, problem):
    project.write({"x.md": card("x", "Q?", "![d](d.svg)")}, {"d.svg": content})
    result = cli(project)
    assert result.exit_code == 1
    assert any("image 'd.svg' is " in line and problem in line for line in errors_of(result)), result.stderr


def test_an_image_must_be_what_its_extension_says(project):
    project.write({"x.md": card("x", "Q?", "![p](p.png) ![j](j.jpg)")}, {"p.png": SVG, "j.jpg": PNG})
    result = cli(project)
    assert "x.md:6: error: image 'p.png' is not a PNG file (its content looks like SVG or XML)" in result.stderr
    assert "x.md:6: error: image 'j.jpg' is not a JPG file (its content looks like PNG)" in result.stderr
    project.write(media={"p.png": PNG, "j.jpg": b"\xff\xd8\xff\xe0" + bytes(32)})
    assert cli(project).exit_code == 0


def test_relative_links_are_removed_with_a_warning(project, tmp_path):
    project.write({"x.md": card("x", "Q?", "Open [the diagram](d.svg) or [docs](https://keras.io).")}, {"d.svg": SVG})
    result = cli(project)
    expected = "x.md:6: warning: removed the link to 'd.svg': only web (https://) and mailto: links work in a card"
    assert expected in result.stderr.splitlines()
    fields = all_fields(project.output, tmp_path)
    assert 'href="d.svg"' not in fields and 'href="https://keras.io"' in fields


def test_only_removed_attributes_are_reported(project, tmp_path):
    project.write({"x.md": card("x", "Q?", '<b title="kept" lang="en" style="color:red">b</b>')})
    result = cli(project)
    assert "x.md:6: warning: removed attribute 'style' from <b>" in result.stderr
    assert "'title'" not in result.stderr and "'lang'" not in result.stderr
    assert 'title="kept"' in all_fields(project.output, tmp_path)


def test_malformed_html_is_named_without_relying_on_the_parser_raising(project):
    project.write({"x.md": card("x", "Q?", "a <!foo bar> b\n\nc <?php x ?> d")})
    lines = cli(project).stderr.splitlines()
    assert "x.md:6: warning: malformed HTML; the sanitiser removes what it cannot parse" in lines
    assert "x.md:8: warning: malformed HTML; the sanitiser removes what it cannot parse" in lines


# --- Data loss ----------------------------------------------------------------------------------


def test_an_output_inside_the_cards_or_media_folder_is_refused(project):
    project.write(GOOD, {"d.svg": SVG})
    source = (project.cards / "good.md").read_bytes()
    result = cli(project, output=project.cards / "good.md")
    assert result.exit_code == 1 and "the output would be inside the cards folder" in result.stderr
    assert (project.cards / "good.md").read_bytes() == source
    result = cli(project, output=project.media / "deck.apkg")
    assert result.exit_code == 1 and "the output would be inside the media folder" in result.stderr


def test_an_output_that_is_not_a_regular_file_or_a_package_is_refused(project, tmp_path):
    project.write(GOOD)
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    fifo = tmp_path / "pipe.apkg"
    os.mkfifo(fifo)
    link = tmp_path / "link.apkg"
    link.symlink_to(notes)
    zipped = tmp_path / "photos.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("a.jpg", b"x")
    for output, reason in [
        (notes, "exists and is not an Anki package"),
        (fifo, "exists and is not a regular file"),
        (link, "is a symbolic link"),
        (zipped, "exists and is not an Anki package"),
    ]:
        result = cli(project, output=output)
        assert result.exit_code == 1 and reason in result.stderr, (output, result.stderr)
    assert notes.read_text() == "my notes" and stat.S_ISFIFO(os.lstat(fifo).st_mode) and link.is_symlink()
    folder = tmp_path / "folder.apkg"  # (the command line refuses a folder itself: the API checks too)
    folder.mkdir()
    with pytest.raises(BuildError, match="exists and is not a regular file"):
        project.build(output=folder)


def test_a_device_node_at_the_output_path_stays_a_device(project, tmp_path):
    device = tmp_path / "null"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root (CAP_MKNOD); CI runs as root")
    project.write(GOOD)
    result = cli(project, output=device)
    assert result.exit_code == 1 and "is not a regular file" in result.stderr
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_ids_differing_only_in_case_clash_and_the_first_one_is_located(project):
    project.write({"a.md": card("Alpha", "Q?", "A."), "b.md": card("alpha", "Q?", "B.")})
    lines = cli(project).stderr.splitlines()
    at = lines.index(
        "b.md:2: error: id 'alpha' is already used by a.md as 'Alpha' (ids may not differ only in case); "
        "ids must be unique"
    )
    assert lines[at + 1] == "a.md:2: note: first used here"


def test_the_search_for_removed_notes_finds_exactly_them(project, collection):
    project.write({"a.md": card("alpha", "Q?", "A."), "b.md": card("A.B", "Q?", "B."), "c.md": card("AxB", "Q?", "C.")})
    project.build()
    import_package(collection, project.output)
    (project.cards / "a.md").unlink()
    (project.cards / "b.md").unlink()
    project.write({"a2.md": card("Alpha", "Q?", "Renamed.")})
    changes = project.build().changes
    import_package(collection, project.output)
    assert changes.removed == ("A.B", "alpha")
    found = {collection.get_note(nid)["Id"] for nid in collection.find_notes(changes.removed_search())}
    assert found == {"alpha", "A.B"}  # not the kept Alpha or AxB


def test_a_tampered_render_cache_is_never_used(project, tmp_path, render_cache):
    project.write({"a.md": card("a", "Q?", "The original answer text."), **GOOD})
    project.build(output=tmp_path / "first.apkg")
    (log,) = render_cache.glob("*.entries")
    data = log.read_bytes()
    assert b"original" in data
    log.write_bytes(data.replace(b"original", b"TAMPERED"))  # the same length, inside an entry
    project.build(output=tmp_path / "second.apkg")
    flipped = bytearray(log.read_bytes())
    flipped[len(flipped) // 2] ^= 0x01  # one bit of the log
    log.write_bytes(bytes(flipped))
    project.build(output=tmp_path / "third.apkg")
    project.build(output=tmp_path / "fresh.apkg", cache_dir=None)
    fresh = all_fields(tmp_path / "fresh.apkg", tmp_path)
    for name in ("second", "third"):
        assert all_fields(tmp_path / f"{name}.apkg", tmp_path) == fresh
    assert "TAMPERED" not in fresh


# --- A wrong deck from faults -------------------------------------------------------------------


RACE = {f"c{i:03d}.md": card(f"c{i}", f"Question {i}?", f"Answer {{{{c1::{i}}}}}.") for i in range(150)}


def build_command(project) -> list[str]:
    return [sys.executable, "-m", "deckbuilder", "-q", "--cards", str(project.cards), "--media", str(project.media),
            "-o", str(project.output)]  # fmt: skip


def test_a_build_waits_while_another_holds_the_outputs_lock(project, render_cache):
    """Builds to one output exclude each other: while one holds the output's lock, another waits for it
    before it reads the previous package (else it could patch a package that is being replaced)."""
    from deckbuilder.package.output import output_lock

    project.write(GOOD)
    project.build()
    project.write({"b.md": card("b", "Q?", "B {{c1::b}}.")})
    with output_lock(project.output, render_cache):
        waiting = subprocess.Popen(build_command(project), stderr=subprocess.PIPE)
        with pytest.raises(subprocess.TimeoutExpired):
            waiting.wait(timeout=5)
    assert waiting.wait(timeout=120) == 0, waiting.stderr.read()
    assert "b" in {c.source.id for c in project.build().rendered}


def test_two_builds_to_one_output_at_once_give_one_sound_package(project, tmp_path, render_cache):
    """An editor's save hook firing twice: the builds take turns, and the package is sound."""
    project.write(RACE)
    project.build()
    for trial in range(3):
        project.write({"c000.md": card("c0", "Question 0?", f"Edited {{{{c1::{trial}}}}}.")})
        builds = [subprocess.Popen(build_command(project), stderr=subprocess.PIPE) for _ in range(2)]
        assert [b.wait(timeout=300) for b in builds] == [0, 0], [b.stderr.read() for b in builds]
        conn = database(project.output, tmp_path)
        (notes, guids) = conn.execute("SELECT count(*), count(DISTINCT guid) FROM notes").fetchone()
        (cards, distinct) = conn.execute("SELECT count(*), count(DISTINCT nid || '-' || ord) FROM cards").fetchone()
        conn.close()
        assert (notes, guids, cards, distinct) == (300, 300, 300, 300), trial
    project.build(output=tmp_path / "fresh.apkg", cache_dir=None)
    assert all_fields(project.output, tmp_path) == all_fields(tmp_path / "fresh.apkg", tmp_path)


def test_a_cache_log_cut_midway_and_appended_to_is_repaired(project, tmp_path, render_cache):
    project.write(GOOD)
    project.build()
    (log,) = render_cache.glob("*.entries")
    log.write_bytes(log.read_bytes()[:-7])  # a crash in the middle of writing a batch
    project.write({"b.md": card("b", "Q?", "B {{c1::b}}.")})
    project.build()  # appends after the cut
    project.write({"c.md": card("c", "Q?", "C {{c1::c}}.")})
    assert project.build().summary.notes == 6
    assert project.build(output=tmp_path / "again.apkg").summary.notes == 6


@pytest.mark.parametrize(
    "shape",
    ["garbage-collection", "bad-manifest", "manifest-not-a-mapping", "genanki", "truncated"],
)
def test_whatever_package_sits_at_the_output_path_the_build_uses_it_or_warns(project, tmp_path, shape, collection):
    project.write(GOOD)
    if shape == "genanki":
        import genanki

        model = genanki.Model(1607392319, "Simple", fields=[{"name": "Q"}, {"name": "A"}],
                              templates=[{"name": "C", "qfmt": "{{Q}}", "afmt": "{{A}}"}])  # fmt: skip
        deck = genanki.Deck(2059400110, "Other")
        deck.add_note(genanki.Note(model=model, fields=["q", "a"]))
        project.output.parent.mkdir(parents=True)
        genanki.Package(deck).write_to_file(project.output)
    else:
        project.build()
        with zipfile.ZipFile(project.output) as archive:
            entries = {name: archive.read(name) for name in archive.namelist()}
        if shape == "garbage-collection":
            entries["collection.anki2"] = b"not sqlite" * 100
            entries.pop("build_deck.json")
        elif shape == "bad-manifest":
            entries["build_deck.json"] = entries["build_deck.json"].replace(b'"mod":[', b'"mod":["x",')
        elif shape == "manifest-not-a-mapping":
            entries["build_deck.json"] = b"[1, 2, 3]"
        with zipfile.ZipFile(project.output, "w") as archive:
            for name, data in entries.items():
                archive.writestr(name, data)
        if shape == "truncated":
            project.output.write_bytes(project.output.read_bytes()[:-40])
    project.write({"b.md": card("b", "Q?", "B {{c1::b}}.")})
    result = cli(project)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    log = import_package(collection, project.output)
    assert len(log.new) + len(log.updated) + len(log.duplicate) == 4


def test_temporary_files_of_interrupted_builds_are_removed(project, tmp_path):
    project.write(GOOD)
    project.output.parent.mkdir(parents=True)
    leftover = project.output.parent / f".{project.output.name}.k3j4h5.tmp"
    leftover.write_bytes(b"half a package")
    project.build()
    assert not leftover.exists() and project.output.is_file()


@pytest.mark.parametrize("fault", ["no temporary folder", "temporary folder full"])
def test_a_collection_that_cannot_be_written_is_a_clear_error(project, tmp_path, monkeypatch, fault):
    """A fresh collection is written in the system's temporary folder: when it cannot be, the build says so
    (no traceback, exit 1) and writes nothing."""
    import tempfile

    from deckbuilder.package import collection

    project.write(GOOD)
    if fault == "no temporary folder":
        (tmp_path / "not-a-folder").write_text("")
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "not-a-folder"))
    else:

        def full(*args):
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(collection, "_fill", full)
    result = cli(project)
    assert result.exit_code == 1, result.output
    assert "build_deck: error: cannot write" in result.output and "Traceback" not in result.output
    assert not project.output.parent.exists() or list(project.output.parent.iterdir()) == []


# --- Hangs and tracebacks -----------------------------------------------------------------------


def run_check(project, *extra, timeout: float = 120) -> subprocess.CompletedProcess:
    """The command line in a process of its own: a hang detector (a hang fails, after ``timeout``)."""
    command = [sys.executable, "-m", "deckbuilder", "--check", "--cards", str(project.cards),
               "--media", str(project.media), *extra]  # fmt: skip
    return subprocess.run(command, capture_output=True, timeout=timeout)


def test_a_pipe_among_the_cards_or_in_the_cache_does_not_hang(project, tmp_path, render_cache):
    project.write(GOOD)
    os.mkfifo(project.cards / "pipe.md")
    done = run_check(project)
    assert done.returncode == 1 and b"Traceback" not in done.stderr
    assert b"pipe.md:1: error: not a regular file (a pipe, device or socket); cards must be files" in done.stderr
    (project.cards / "pipe.md").unlink()
    cache = tmp_path / "fifo-cache"
    cache.mkdir()
    project.build(cache_dir=cache)
    for stored in cache.glob("render-*"):
        stored.unlink()
        os.mkfifo(stored)
    result = project.build(cache_dir=cache, output=tmp_path / "again.apkg")  # would block reading a pipe
    assert result.summary.notes == 2


def test_a_file_name_that_is_not_utf8_is_an_error(project):
    project.write(GOOD)
    os.close(os.open(os.fsencode(project.cards) + b"/caf\xe9.md", os.O_CREAT | os.O_WRONLY, 0o644))
    done = run_check(project)
    assert done.returncode == 1 and b"Traceback" not in done.stderr
    assert b"'caf\\xe9.md':1: error: the file's name is not valid UTF-8; rename it" in done.stderr


def test_a_newline_in_a_file_name_cannot_forge_a_message(project):
    project.write({"evil\ngood.md:1: error: forged.md": "no front matter"})
    done = run_check(project)
    lines = done.stderr.decode().splitlines()
    assert "'evil\\ngood.md:1: error: forged.md':1: error: missing front matter: start the file with '---', " \
           "'id: ...', '---'" in lines  # fmt: skip
    assert not any(line.startswith("good.md") for line in lines)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{c1::x}} " * 90_000, "error: more than 1,000 clozes in one card; split it into several cards"),
        ("[" * 200_000, "error: rendering took more than 1 s; simplify the card"),
        ("![" * 100_000, "error: rendering took more than 1 s; simplify the card"),
        ("<b>" * 100_000, "error: rendering took more than 1 s; simplify the card"),
        ("`" * 200_000, "is never closed; add a closing '" + "`" * 57 + "...' line"),
    ],
    ids=["clozes", "brackets", "images", "tags", "backticks"],
)
def test_pathological_markdown_ends_in_bounded_time_with_an_error(project, monkeypatch, body, message):
    monkeypatch.setattr(workers, "MAX_CARD_SECONDS", 1)
    project.write({"x.md": card("x", "Q?", body)})
    with pytest.raises(BuildError) as failure:
        project.build(jobs=1, check_only=True)
    assert any(message in str(problem) for problem in failure.value.problems), failure.value.problems[:3]


@pytest.mark.parametrize(
    ("front_matter", "message"),
    [
        ("id: x\na: &a [l, l, l, l, l, l, l, l, l]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
         "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
         "x.md:3: error: front matter is not valid YAML: YAML aliases and anchors are not allowed here"),
        ("id: x\n" + "".join(f"key{i}: v\n" for i in range(30_000)),
         "x.md:1: error: front matter is not valid YAML: more than 16,384 bytes of YAML; keep settings short"),
        ("id: x\nid: y\n", "x.md:3: error: front matter is not valid YAML: duplicate key 'id'"),
    ],
    ids=["alias-bomb", "many-keys", "duplicate-key"],
)  # fmt: skip
def test_front_matter_bombs_are_refused(project, front_matter, message):
    project.write({"x.md": f"---\n{front_matter}---\n# Q?\n\nA.\n"})
    done = run_check(project)
    assert done.returncode == 1 and b"Traceback" not in done.stderr
    assert message in done.stderr.decode().splitlines()


def test_yaml_values_are_strings_as_written(project, collection):
    for n, written in enumerate(["yes", "1.50", "0x1F", "null"]):
        project.write({f"c{n}.md": f"---\nid: {written}\ntags: [on, 1e3]\n---\n# Q{n}?\n\nA.\n"})
    project.build()
    import_package(collection, project.output)
    ids = {c.note()["Id"] for c in cards_of(collection)}
    assert ids == {"yes", "1.50", "0x1F", "null"}
    assert {"on", "1e3"} <= set(cards_of(collection)[0].note().tags)


def test_folders_that_cannot_be_sub_decks_are_errors(project):
    deep = "/".join(f"d{i}" for i in range(9))
    project.write({"a::b/x.md": card("x", "Q?", "A."), f"{deep}/y.md": card("y", "Q?", "A.")})
    errors = errors_of(cli(project))
    assert "a::b/x.md:1: error: folder 'a::b' has '::' in its name, which Anki reads as a sub-deck; rename it" in (
        errors
    ) or any("has '::' in its name" in line for line in errors)
    assert any("the card is 9 folders deep; sections nest at most 8 deep" in line for line in errors)


# --- Smaller ------------------------------------------------------------------------------------


def test_splitting_a_card_and_rendering_it_agree_on_code_fences(project, collection):
    body = "````markdown\n```\n## Details\nstill code\n````\n\nAfter the block, a {{c1::term}}."
    project.write({"x.md": card("x", "Q?", body)})
    project.build()
    import_package(collection, project.output)
    qa = cards_of(collection, "note:*Q&A")[0]
    assert "## Details" in visible_text(qa.answer()) and "still code" in visible_text(qa.answer())
    for each in cards_of(collection):
        assert not any("\ue000" <= ch <= "\uf8ff" for ch in each.note().joined_fields())


def test_the_details_section_is_not_on_the_question_answer_card(project, collection):
    project.write({"x.md": card("x", "Q?", "Short answer.\n\n## Details\n\nOnly on the {{c1::clozes}}.")})
    project.build()
    import_package(collection, project.output)
    qa = cards_of(collection, "note:*Q&A")[0]
    assert "Short answer" in qa.answer() and "Only on the" not in qa.answer()
    assert "Only on the" in cards_of(collection, "note:*Cloze")[0].answer()


def test_a_tags_only_edit_is_reported_and_reaches_anki(project, collection):
    project.write({"x.md": card("x", "Q?", "A {{c1::b}}.", "tags: [old]\n")})
    project.build()
    import_package(collection, project.output)
    project.write({"x.md": card("x", "Q?", "A {{c1::b}}.", "tags: [new]\n")})
    changes = project.build().changes
    assert changes.changed == ("x",)
    log = import_package(collection, project.output)
    assert len(log.updated) == 2
    assert all("new" in c.note().tags and "old" not in c.note().tags for c in cards_of(collection))


@pytest.mark.parametrize("patched", [True, False], ids=["patched", "fresh"])
def test_a_card_moved_to_another_section_moves_to_its_sub_deck(project, collection, patched):
    project.write({"one/x.md": card("x", "Q?", "A {{c1::b}}."), "one/y.md": card("y", "Q2?", "B.")})
    project.build()
    (project.cards / "two").mkdir()
    shutil.move(project.cards / "one" / "x.md", project.cards / "two" / "x.md")
    if not patched:
        project.output.unlink()
    project.build()
    import_package(collection, project.output)
    moved = cards_of(collection, "Id:x")
    assert {collection.decks.name(c.did) for c in moved} == {"Project::Two"}
    assert all("project::two" in c.note().tags and "project::one" not in c.note().tags for c in moved)


def test_a_media_file_changed_after_its_check_is_not_packaged(project, monkeypatch):
    """The bytes packaged are the bytes checked: a file swapped in between (say for an active SVG) stops the build."""
    from deckbuilder import builder as build_module

    project.write(GOOD)
    project.build()
    before = project.output.read_bytes()
    project.write({"x.md": card("x", "Q?", "![d](d.svg)")}, {"d.svg": SVG})
    real = build_module.packaged_media

    def swapped(rendered):
        files = real(rendered)
        (project.media / "d.svg").write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')
        return files

    monkeypatch.setattr(build_module, "packaged_media", swapped)
    with pytest.raises(OSError, match="changed during the build; build again"):
        project.build()
    assert project.output.read_bytes() == before


@pytest.mark.parametrize("speedups", ["all", "none"])
def test_every_final_field_is_a_fixed_point_of_the_sanitiser(project, tmp_path, monkeypatch, speedups):
    """Sanitising is the last step on the markup: nothing in a packaged field is something the sanitiser
    would remove or change (text put in after it is escaped, code blocks are made of escaped tokens),
    also where the speed-up leaves the sanitiser out."""
    monkeypatch.setenv("BUILD_DECK_SPEEDUPS", speedups)
    shutil.copytree(Path(__file__).resolve().parent.parent / "cards", project.cards, dirs_exist_ok=True)
    shutil.copytree(Path(__file__).resolve().parent.parent / "media", project.media, dirs_exist_ok=True)
    tricky = (
        'A [link](https://keras.io "\\(a" onmouseover="x\\)") and {{c1::a term::a "hint" <b>}} and '
        '<span class="term" onclick="x()">raw</span>, `code <i>` and \\(x < y\\).\n\n'
        "```python\nprint('<script>', {{c2::\"quoted\"}})\n```"
    )
    project.write({"zz/tricky.md": card("tricky", "A `<q>` question?", tricky)})
    project.build()
    conn = database(project.output, tmp_path)
    try:
        fields = [field for (flds,) in conn.execute("SELECT flds FROM notes") for field in flds.split("\x1f")]
    finally:
        conn.close()
    assert len(fields) > 400
    assert fixed_points_of_the_sanitiser(fields)

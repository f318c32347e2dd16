"""Bad input: every problem is reported as path:line, nothing is written, nothing unsafe is packaged."""

from __future__ import annotations

import os
import zipfile

import pytest
from click.testing import CliRunner
from conftest import SVG, card

from deckbuilder.cli import main

GOOD = {"good.md": card("good", "Good?", "Fine {{c1::answer}}.")}
FRONT = "---\nid: {}\n---\n# Q?\n\n"


def bad(card_id: str, body: str) -> str:
    return FRONT.format(card_id) + body + "\n"


ERRORS = {
    "yaml": ({"x.md": "---\nid: [unclosed\n---\n# Q\n"}, {},
             "x.md:3: error: front matter is not valid YAML: did not find expected ',' or ']' "
             "(while parsing a flow sequence that starts at line 2)"),
    "not-a-mapping": ({"x.md": "---\n- a\n---\n# Q\n"}, {},
                      "x.md:2: error: front matter must be a mapping such as 'id: my-card'"),
    "no-front-matter": ({"x.md": "# Q\n\nA\n"}, {},
                        "x.md:1: error: missing front matter: start the file with '---', 'id: ...', '---'"),
    "no-id": ({"x.md": "---\ntags: [a]\n---\n# Q\n"}, {},
              "x.md:1: error: front matter has no 'id'; add a stable, unique id such as 'id: my-card'"),
    "empty-id": ({"x.md": "---\nid: ''\n---\n# Q\n"}, {}, "x.md:2: error: 'id' is empty"),
    "unsafe-id": ({"x.md": "---\nid: my card!\n---\n# Q\n"}, {},
                  "x.md:2: error: id 'my card!' may use only letters, digits, '.', '_' and '-'; did you mean 'my-card'?"),
    "duplicate-id": ({"z.md": bad("good", "Again.")}, {},
                     "z.md:2: error: id 'good' is already used by good.md; ids must be unique"),
    "no-heading": ({"x.md": "---\nid: x\n---\nJust text\n"}, {},
                   "x.md:4: error: no question: start the question with a '# ' heading"),
    "unterminated-cloze": ({"x.md": bad("x", "A {{c1::open\n\nmore")}, {},
                           "x.md:6: error: cloze {{c1::... is not closed: add '}}' after the hidden text"),
    "empty-cloze": ({"x.md": bad("x", "A {{c1::}} b")}, {},
                    "x.md:6: error: empty cloze {{c1::}}: put the hidden text after '::'"),
    "c0-cloze": ({"x.md": bad("x", "A {{c0::zero}} b")}, {},
                 "x.md:6: error: cloze number c0 is out of range; use c1 to c500"),
    "malformed-cloze": ({"x.md": bad("x", "A {{c1:term}} b")}, {},
                        "x.md:6: error: malformed cloze '{{c1:'; did you mean '{{c1::...}}'?"),
    "cloze-across-fence": ({"x.md": bad("x", "A {{c1::start\n```python\nx = 1}}\n```")}, {},
                           "x.md:6: error: cloze {{c1::... is not closed before the code fence at line 7; "
                           "a cloze cannot span a code fence: add '}}' after the hidden text"),
    "unterminated-fence": ({"x.md": bad("x", "```python\nx = 1")}, {},
                           "x.md:6: error: code fence '```' is never closed; add a closing '```' line"),
    "invalid-utf8": ({"x.md": FRONT.format("x").encode() + b"ok\nbad \xff byte\n"}, {},
                     "x.md:7: error: not valid UTF-8 (byte 27); save the file as UTF-8"),
    "missing-image": ({"x.md": bad("x", "![d](diagam.svg)")}, {"diagram.svg": SVG},
                      "x.md:6: error: image 'diagam.svg' not found in the media folder {media}; did you mean 'diagram.svg'?"),
    "parent-path": ({"x.md": bad("x", "text\n![d](../secret.svg)")}, {},
                    "x.md:7: error: image '../secret.svg' points outside the media folder; use a file name inside it"),
    "absolute-path": ({"x.md": bad("x", "![d](/etc/passwd.png)")}, {},
                      "x.md:6: error: image '/etc/passwd.png' points outside the media folder; use a file name inside it"),
    "file-url": ({"x.md": bad("x", "![d](file:///etc/x.svg)")}, {},
                 "x.md:6: error: image 'file:///etc/x.svg' is not a file in the media folder; "
                 "only local media files can be packaged"),
    "remote-url": ({"x.md": bad("x", "![d](https://example.com/a.png)")}, {},
                   "x.md:6: error: image 'https://example.com/a.png' is not a file in the media folder; "
                   "only local media files can be packaged"),
    "same-package-name": ({"x.md": bad("x", "![a](a b.svg) ![b](a-b.svg)")}, {"a b.svg": SVG, "a-b.svg": SVG},
                          "x.md:6: error: 'a-b.svg' and 'a b.svg' would get the same name 'a-b-d8e3572e.svg' in the package"),
    "not-an-image": ({"x.md": bad("x", "![d](notes.txt)")}, {"notes.txt": "hi"},
                     "x.md:6: error: image 'notes.txt' is not an image, audio or video file; use one of .gif, .jpeg, "
                     ".jpg, .png, .svg, .webp, .m4a, .mp3, .mp4, .ogg, .wav, .webm"),
    "card-too-large": ({"x.md": bad("x", "x" * (1 << 20))}, {},
                       "x.md:1: error: file is 1,048,597 bytes; cards are limited to 1,048,576 bytes"),
    "media-too-large": ({"x.md": bad("x", "![h](huge.png)")}, {"huge.png": b"0" * (11 << 20)},
                        "x.md:6: error: image 'huge.png' is 11,534,336 bytes; media files are limited to 10,485,760 bytes"),
    "control-character": ({"x.md": bad("x", "A\x1fB")}, {},
                          "x.md:6: error: control character U+001F in the text; remove it"),
    "cloze-across-table-cells": ({"x.md": bad("x", "| a |\n|---|\n| {{c1::x | y}} |")}, {},
                                 "x.md:8: error: cloze {{c1::...}} does not wrap whole Markdown elements (it spans "
                                 "table cells, paragraphs or list items, or crosses emphasis); keep it inside one of them"),
    "cloze-across-emphasis": ({"x.md": bad("x", "**bold {{c1::half** done}}")}, {},
                              "x.md:6: error: cloze {{c1::...}} does not wrap whole Markdown elements (it spans "
                              "table cells, paragraphs or list items, or crosses emphasis); keep it inside one of them"),
    "empty-question": ({"x.md": "---\nid: x\n---\n#   \n\nAn answer.\n"}, {},
                       "x.md:4: error: the question is empty: write it after '# '"),
    "question-only-html-comment": ({"x.md": "---\nid: x\n---\n# <!-- todo -->\n\nAn answer.\n"}, {},
                                   "x.md:4: error: the question is empty: write it after '# '"),
    "cloze-in-question": ({"x.md": "---\nid: x\n---\n# What is {{c1::this}}?\n\nA\n"}, {},
                          "x.md:4: error: clozes belong in the answer, not in the question heading"),
}  # fmt: skip

WARNINGS = {
    "unknown-key": ({"x.md": "---\nid: x\ncolour: red\n---\n# Q\n\nA\n"}, {},
                    "x.md:3: warning: unknown front-matter key 'colour' (known: id, reference, reverse, tags, test, "
                    "type-answer)"),
    "unknown-language": ({"x.md": bad("x", "```klingon\nx\n```")}, {},
                         "x.md:6: warning: unknown code language 'klingon'; shown as plain text"),
    "unused-media": ({}, {"unused.png": b"png"}, "../media/unused.png:1: warning: media file is not used by any card"),
    "empty-answer": ({"x.md": "---\nid: x\n---\n# Q\n"}, {}, "x.md:4: warning: the answer is empty"),
    "script": ({"x.md": bad("x", "Hi <script>alert(1)</script>")}, {},
               "x.md:6: warning: removed unsafe or unsupported HTML <script>"),
    "event-handler": ({"x.md": bad("x", 'text\n<b onclick="steal()">b</b>')}, {},
                      "x.md:7: warning: removed attribute 'onclick' from <b>"),
    "javascript-url": ({"x.md": bad("x", '<a href="javascript:alert(1)">x</a>')}, {},
                       "x.md:6: warning: removed javascript: URL from <a href>"),
    "iframe": ({"x.md": bad("x", '<iframe src="https://example.com"></iframe>')}, {},
               "x.md:6: warning: removed unsafe or unsupported HTML <iframe>"),
    "markdown-javascript-link": ({"x.md": bad("x", "See [this](javascript:alert(1)).")}, {},
                                 "x.md:6: warning: removed javascript: link URL"),
    "malformed-html": ({"x.md": bad("x", "text <![x y]> more")}, {},
                       "x.md:6: warning: malformed HTML; the sanitiser removes what it cannot parse"),
    "cloze-in-comment": ({"x.md": bad("x", "A {{c2::kept}}.\n\n<!-- {{c1::hidden}} -->")}, {},
                         "x.md:8: warning: cloze {{c1::...}} is inside HTML that is removed (such as a comment); it is dropped"),
    "remote-img": ({"x.md": bad("x", '<img src="https://example.com/t.png">')}, {},
                   "x.md:6: warning: removed raw <img> source: use Markdown ![alt](file) with a file from the media folder"),
}  # fmt: skip


def cli(project, *extra):
    args = ["--cards", str(project.cards), "--media", str(project.media), "-o", str(project.output), *extra]
    return CliRunner().invoke(main, args)


@pytest.fixture
def built(project):
    """A project whose output already holds a good deck."""
    project.write(GOOD)
    assert cli(project).exit_code == 0
    return project, project.output.read_bytes()


@pytest.mark.parametrize("case", ERRORS)
def test_error_names_file_and_line_and_leaves_output_untouched(built, case):
    project, before = built
    files, media, expected = ERRORS[case]
    expected = expected.replace("{media}", str(built[0].media))  # messages name the folder they looked in
    project.write(files, media)
    result = cli(project)
    assert result.exit_code == 1
    assert expected in result.stderr.splitlines()
    assert "Traceback" not in result.output
    assert project.output.read_bytes() == before


@pytest.mark.parametrize("case", WARNINGS)
def test_warning_names_file_and_line_and_strict_makes_it_fatal(built, case):
    project, before = built
    files, media, expected = WARNINGS[case]
    project.write(files, media)
    strict = cli(project, "--strict")
    assert strict.exit_code == 1 and expected in strict.stderr.splitlines()
    assert project.output.read_bytes() == before
    relaxed = cli(project)
    assert relaxed.exit_code == 0 and expected in relaxed.stderr.splitlines()


def test_symlink_out_of_the_media_folder_is_refused(built, tmp_path):
    project, before = built
    secret = tmp_path / "secret.svg"
    secret.write_bytes(SVG)
    os.symlink(secret, project.media / "link.svg")
    project.write({"x.md": bad("x", "![l](link.svg)")})
    result = cli(project)
    assert result.exit_code == 1
    assert "x.md:6: error: image 'link.svg' is a link leading outside the media folder" in result.stderr
    assert project.output.read_bytes() == before


def test_symlinked_card_file_leading_out_is_refused(built, tmp_path):
    project, _ = built
    outside = tmp_path / "elsewhere.md"
    outside.write_text(card("elsewhere", "Q", "A"))
    os.symlink(outside, project.cards / "sneaky.md")
    result = cli(project)
    assert result.exit_code == 1
    assert "sneaky.md:1: error: symbolic link leads outside the cards folder; refusing to read it" in result.stderr


def test_all_problems_of_all_files_are_reported_in_one_sorted_run(built):
    project, _ = built
    project.write({"b.md": bad("b", "A {{c1::}}"), "a.md": "# no front matter\n", "c/d.md": bad("d", "```x")})
    lines = cli(project).stderr.splitlines()
    located = [line for line in lines if ": error: " in line or ": warning: " in line]
    assert [line.split(":")[0] for line in located] == ["a.md", "b.md", "c/d.md", "c/d.md"]
    assert lines[-1] == "build_deck: 3 error(s), 1 warning(s); nothing was written"


def test_check_runs_every_check_and_writes_nothing(project):
    project.write({"x.md": bad("x", "A {{c1::}}")})
    result = cli(project, "--check")
    assert result.exit_code == 1
    assert "x.md:6: error: empty cloze {{c1::}}: put the hidden text after '::'" in result.stderr
    assert not project.output.exists()


def test_sanitised_deck_keeps_formatting_and_https_links_but_no_active_content(project):
    body = (
        '<b>bold</b> <script>x()</script> <a href="https://keras.io">docs</a> <img src=x onerror=y()>\n\n'
        "[md link](javascript:x()) [ok](https://keras.io/api/)"
    )
    project.write({"x.md": bad("x", body)})
    assert cli(project).exit_code == 0
    with zipfile.ZipFile(project.output) as archive:
        database = archive.read("collection.anki2")
    assert b"<b>bold</b>" in database and b'href="https://keras.io"' in database
    assert b'href="https://keras.io/api/"' in database
    for unsafe in (b"<script", b"onerror", b"x()", b"javascript"):
        assert unsafe not in database


def test_a_yaml_reader_error_is_one_message_line(built):
    """PyYAML's reader errors (a C1 control character) go on over a second line: only the first is kept,
    as every line printed is a message (the fuzz test found this one)."""
    project, _ = built
    project.write({"x.md": "---\n\x80id: x\n---\n# Q\n"})
    assert cli(project).stderr.splitlines() == [
        "x.md:1: error: front matter is not valid YAML: unacceptable character #x0080: control characters are not allowed",
        "build_deck: 1 error(s), 0 warning(s); nothing was written",
    ]

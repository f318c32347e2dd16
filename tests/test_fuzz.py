"""Property: whatever the input, the outcome is a valid deck or a clean error report — never a crash."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import zipfile
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

from click.testing import CliRunner
from conftest import SOUNDS, SVG, Project, card, fixed_points_of_the_sanitiser, import_package
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from deckbuilder.cli import main
from deckbuilder.errors import BuildError

VALID = card(
    "seed",
    "What does `fit()` return?",
    """
    A {{c1::`History`::object}} with \\(loss_t\\) per epoch, see ![d](d.svg).

    ```python
    history = model.fit(x, y, {{c2::epochs=3}})
    ```

    | a | b |
    |---|---|
    | {{c3::x}} | y |

    ## Details

    - <b>bold</b> and {{c4::more}}
    """,
)
FRAGMENTS = [
    "{{c1::", "{{c2::", "{{c0::", "{{c", "}}", "::", "```", "```python\n", "~~~", "\n---\n", "---", "id:", "\n# ",
    "## Details\n", "\\(", "\\)", "\\[", "\\]", "![x](d.svg)", "![x](../d.svg)", "<script>", "<b>", "`", "_", "*",
    "<!--", "-->", "| x |\n|---|\n",
    "\t", "\r\n", "\ufeff", "é", "🚀", "\x00", "[link](https://x.io)", "|", "\n\n", "- ", "1. ", "<", "&", "{", "}",
    # hostile shapes: markup and handlers, clozes in attributes, links to media, YAML aliases, pathological Markdown
    "<img src=x onerror=alert(1)>", '" onerror="alert(1)', "<svg onload=alert(1)>", "javascript:alert(1)",
    '![{{c1::alt::"x}}](d.svg)', '[l](https://x.io "{{c1::t}}")', "[r](d.svg)", "<!x", "<?x", "&a [x]", "*a",
    "a: &a [1]\nb: *a\n", "[" * 300, "*" * 300, "{{c1::x}}" * 50, "> " * 100, "\\" * 300,
    # issue #17's syntax: dollar math, sounds, Obsidian's, card types, and Anki's own tags written by hand
    "$", "$$", "\\$", "$x^{2}}$", "==", "[[", "]]", "![[d.svg]]", "![[a.mp3]]", "![](a.mp3)", "![[note]]", "[[a|b]]",
    "\n> [!note] t\n> ", "[!tip]", "[sound:a.mp3]", "[[type:Expected]]", "[anki:play:q:0]", "reverse: yes\n",
    "type-answer: x\n", "vault: true\n", "$" * 300, "=" * 300,
]  # fmt: skip

fragment = st.sampled_from(FRAGMENTS) | st.text(max_size=8)


@st.composite
def mutated(draw) -> bytes:
    """The valid card with random fragments inserted, deleted or replaced, maybe with raw bytes."""
    text = VALID
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        end = min(len(text), at + draw(st.integers(0, 12)))
        piece = "" if op == "delete" else draw(fragment)
        text = text[:at] + piece + (text[end:] if op != "insert" else text[at:])
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=4)) + data[at:]
    return data


random_card = st.one_of(
    mutated(),
    st.lists(fragment, max_size=30).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass")),
    st.binary(max_size=200),
)

FUZZ = settings(
    max_examples=120,
    deadline=timedelta(seconds=20),  # a hang detector, not a speed test
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


HOSTILE_NAMES = ["x.md", "<img src=x onerror=alert(1)>/x.md", "a::b/x.md", "evil\n.md:1: error: x.md", "é 🚀.md",
                 "x.md/../y.md", ".hidden.md"]  # fmt: skip
HOSTILE_MEDIA = [
    SVG, b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', b"<svg><script>alert(1)</script></svg>",
    b'<svg xmlns="http://www.w3.org/2000/svg"><image href="https://e.x/p.png"/></svg>', b"not an image", b"",
]  # fmt: skip


def fresh_project(media: bytes = SVG) -> Project:
    project = Project(Path(tempfile.mkdtemp(prefix="fuzz-")))
    project.write({"seed.md": VALID.replace("id: seed", "id: other")}, {"d.svg": media, "a.mp3": SOUNDS[".mp3"]})
    return project


class _ActiveMarkup(HTMLParser):
    """Finds markup that can run: a script-like element, an event-handler attribute, a javascript: URL."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "foreignobject"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or re.match(r"\s*javascript:", value or "", re.IGNORECASE):
                self.found.append(f"<{tag} {name}={value!r}>")


def active_markup(markup: str) -> list[str]:
    finder = _ActiveMarkup()
    finder.feed(markup)
    finder.close()
    return finder.found


def assert_no_active_content(package: Path) -> None:
    """Nothing in the package's fields or media can run: no script, handler or javascript: URL; and Anki's
    reviewer finds nothing to act on but the sounds the package holds (no other [sound:], [anki:], [[type:])."""
    with zipfile.ZipFile(package) as archive:
        media = set(json.loads(archive.read("media")).values())
        for name in archive.namelist():
            data = archive.read(name)
            if name == "collection.anki2":
                for fields in _fields(data):
                    assert active_markup(fields) == [], fields
                    assert set(re.findall(r"\[sound:([^\]]*)\]", fields)) <= media, fields
                    assert "[anki:" not in fields and "[[type:" not in fields, fields
            elif data.lstrip().startswith(b"<"):  # an SVG
                assert active_markup(data.decode("utf-8", "replace")) == [], name


def _fields(collection: bytes) -> list[bytes]:
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.deserialize(collection)
    try:
        return [flds for (flds,) in conn.execute("SELECT flds FROM notes")]
    finally:
        conn.close()


@FUZZ
@given(data=random_card)
@example(data=VALID.replace("# What", '# " onerror="alert(1)What').encode())  # text, not an attribute: fine
@example(data=VALID.replace("# What", '# <img src=x onerror="alert(1)">What').encode())
@example(data=VALID.replace("per epoch", "per epoch [sound:x.mp3] `[[type:Id]]` [anki:tts]").encode())
@example(data=VALID.replace("per epoch", "per epoch<b>").encode())  # left open across answer and details
@example(data=VALID.replace("per epoch", "per epoch <div>").encode())
def test_any_card_gives_a_deck_or_a_clean_error_report(collection, data):
    project = fresh_project()
    try:
        project.write({"x.md": data})
        try:
            result = project.build()
        except BuildError as exc:
            assert exc.problems and all(p.severity in ("error", "warning") and p.line >= 1 for p in exc.problems)
            assert not project.output.exists()
            return
        log = import_package(collection, project.output)
        assert len(log.new) + len(log.updated) + len(log.duplicate) == result.summary.notes
        assert collection.get_empty_cards().notes == []
        assert_no_active_content(project.output)
        with zipfile.ZipFile(project.output) as archive:
            fields = [f for flds in _fields(archive.read("collection.anki2")) for f in flds.split("\x1f")]
        assert fixed_points_of_the_sanitiser(fields)
    finally:
        shutil.rmtree(project.root)


@FUZZ
@given(
    data=random_card,
    name=st.sampled_from(HOSTILE_NAMES),
    media=st.sampled_from(HOSTILE_MEDIA),
    pipe=st.booleans(),
    seed=st.integers(0, 3),
)
def test_hostile_names_media_and_pipes_give_a_safe_deck_or_a_clean_error(collection, data, name, media, pipe, seed):
    """Seeded: the same shapes every run, plus what Hypothesis draws."""
    project = fresh_project(media)
    try:
        project.write({name: data})
        if pipe:
            os.mkfifo(project.cards / f"pipe{seed}.md")
        args = ["-q", "--cards", str(project.cards), "--media", str(project.media), "-o", str(project.output)]
        result = CliRunner().invoke(main, args)
        assert result.exit_code in (0, 1), result.output
        assert isinstance(result.exception, (SystemExit, type(None))), repr(result.exception)
        if result.exit_code == 0:
            assert_no_active_content(project.output)
            log = import_package(collection, project.output)
            assert not log.conflicting
        else:
            assert ": error: " in result.stderr and not project.output.exists()
        for line in result.stderr.splitlines():  # no forged lines: every line is a message or a summary
            assert re.match(r"^('.*'|[^'\s][^:]*):\d+: (error|warning|note): |^build_deck: ", line), line
    finally:
        shutil.rmtree(project.root)


@FUZZ
@given(data=random_card)
def test_check_never_crashes(data):
    project = fresh_project()
    try:
        project.write({"x.md": data})
        args = ["--cards", str(project.cards), "--media", str(project.media), "--check"]
        result = CliRunner().invoke(main, args)
        assert result.exit_code in (0, 1), result.output
        assert isinstance(result.exception, (SystemExit, type(None))), repr(result.exception)
        if result.exit_code == 1:
            assert ": error: " in result.stderr
    finally:
        shutil.rmtree(project.root)

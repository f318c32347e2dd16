"""A build with a session (what build-deck serve keeps between builds) gives what a build without one gives."""

from __future__ import annotations

import os
import shutil

from conftest import SVG, card

from deckbuilder.builder import build
from deckbuilder.errors import BuildError
from deckbuilder.package.previous import read_previous
from deckbuilder.render import cache, workers
from deckbuilder.session import BuildSession

OTHER_SVG = SVG.replace(b'width="10"', b'width="9"')


def edit(project, relative: str, text: str):
    """Write a card file (relative to the cards folder) and return the paths a watcher would report."""
    project.write({relative: text})
    return [project.cards.resolve() / relative]


def remove(project, relative: str):
    path = project.cards / relative
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
    return [project.cards.resolve() / relative]


def rename(project, old: str, new: str):
    (project.cards / old).rename(project.cards / new)
    return [project.cards.resolve() / old, project.cards.resolve() / new]


# Each step changes the sources and returns what changed, as a watcher reports it.
STEPS = [
    ("first build", lambda p: []),
    ("an answer edited", lambda p: edit(p, "a/one.md", card("one", "One?", "Edited {{c1::answer}}."))),
    ("two cards edited", lambda p: edit(p, "a/two.md", card("two", "Two?", "B {{c2::two}}"))
     + edit(p, "b/three.md", card("three", "Three?", "C ![d](d.svg)"))),
    ("a card added", lambda p: edit(p, "b/four.md", card("four", "Four?", "D {{c1::four}}"))),
    ("a card removed", lambda p: remove(p, "a/two.md")),
    ("a card broken", lambda p: edit(p, "a/one.md", card("one", "One?", "Broken {{c1::cloze"))),
    ("a card fixed", lambda p: edit(p, "a/one.md", card("one", "One?", "Fixed {{c1::cloze}}"))),
    ("a folder renamed", lambda p: rename(p, "b", "c")),
    ("deck.yaml changed", lambda p: edit(p, "deck.yaml", "name: Renamed\nid: 1234567890\nnamespace: n-2\n")),
    ("an image changed", lambda p: p.write(media={"d.svg": OTHER_SVG}) and [p.media.resolve() / "d.svg"]),
    ("an id used twice", lambda p: edit(p, "c/four.md", card("one", "Four?", "D {{c1::four}}"))),
    ("the clash fixed", lambda p: edit(p, "c/four.md", card("four", "Four?", "D {{c1::four}}"))),
    ("a card touched, not changed", lambda p: os.utime(p.cards / "a/one.md") or [p.cards.resolve() / "a/one.md"]),
    ("an editor's temporary files", lambda p: edit(p, ".one.md.swp", "x") + edit(p, "a/4913", "x")),
    ("a folder removed", lambda p: remove(p, "c")),
]  # fmt: skip


def outcome(options, **session):
    """What a build gives: its problems, or its warnings, cards, counts and changes. Not the GUIDs and
    digests worked out with each card, which are those of the deck.yaml of the build that rendered it
    (make_notes works them out again for another): which build that was depends on the cache's history."""
    try:
        result = build(options, **session)
    except BuildError as error:
        return ("errors", error.problems)
    summary = (result.summary.notes, result.summary.cards, result.summary.media, result.summary.written)
    rendered = [card._replace(guids=(), digests=()) for card in result.rendered]
    return ("built", result.warnings, rendered, summary, result.changes)


def test_a_session_builds_exactly_what_fresh_builds_build(project, tmp_path, monkeypatch):
    project.write(
        {
            "deck.yaml": "name: Session\nid: 1234567890\nnamespace: n-1\n",
            "a/one.md": card("one", "One?", "A {{c1::one}}"),
            "a/two.md": card("two", "Two?", "B {{c1::two}}"),
            "b/three.md": card("three", "Three?", "C ![d](d.svg)"),
        },
        media={"d.svg": SVG},
    )
    session = BuildSession()
    live = project.options(output=tmp_path / "live.apkg", cache_dir=tmp_path / "live-cache", jobs=1)
    fresh = project.options(output=tmp_path / "fresh.apkg", cache_dir=tmp_path / "fresh-cache", jobs=1)
    for step, (name, change) in enumerate(STEPS):
        session.touch(change(project))
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(1_700_000_000 + step))
        assert outcome(live, session=session) == outcome(fresh), name
        assert live.output.read_bytes() == fresh.output.read_bytes(), name
        assert session.previous_package(live.output) == read_previous(live.output), name


def test_after_an_edit_only_the_edited_card_is_read_and_rendered(project, spy, monkeypatch):
    # Files are trusted (not read) once written two seconds before a build; here, once written before it.
    monkeypatch.setattr(cache, "TRUST_MARGIN_NS", 0)
    project.write({f"c{i}.md": card(f"c{i}", f"Q{i}?", f"A {{{{c1::{i}}}}}") for i in range(20)})
    session = BuildSession()
    build(project.options(jobs=1), session=session)
    read = []
    real_read = workers.read_bytes
    monkeypatch.setattr(workers, "read_bytes", lambda path, report: read.append(path.name) or real_read(path, report))
    spy.clear()
    session.touch(edit(project, "c7.md", card("c7", "Q7?", "Edited {{c1::7}}")))
    result = build(project.options(jobs=1), session=session)
    assert result.changes.changed == ("c7",)
    assert spy == read == ["c7.md"]


def test_a_card_saved_twice_in_quick_succession_is_read_again_even_unannounced(project):
    """A change the watcher did not report is still seen when the file was written within two seconds
    of the build that read it: a coarse file-system clock could hide it."""
    project.write({"a.md": card("a", "A?", "first"), "b.md": card("b", "B?", "b")})
    session = BuildSession()
    build(project.options(jobs=1), session=session)
    session.touch(edit(project, "a.md", card("a", "A?", "second")))
    build(project.options(jobs=1), session=session)
    project.write({"a.md": card("a", "A?", "third!")})  # no touch()
    result = build(project.options(jobs=1), session=session)
    assert "third!" in next(c for c in result.rendered if c.source.id == "a").answer


def test_paths_that_cannot_change_a_build_are_told_apart(project):
    project.write({"a/one.md": card("one", "One?", "A"), "notes.txt": "x"})
    session = BuildSession()
    build(project.options(jobs=1), session=session)
    cards, media = project.cards.resolve(), project.media.resolve()

    def affects(path):
        return session.affects(path, project.cards, project.media)

    assert affects(cards / "a/one.md") and affects(cards / "new.md") and affects(cards / "deck.yaml")
    assert affects(cards / "a") and affects(media / "x.png")  # a folder; anything in the media folder
    assert not affects(cards / "gone")  # no such folder, and it held no card
    assert not affects(cards / "a/one.md~") and not affects(cards / ".one.md.swp") and not affects(cards / "4913")
    assert not affects(cards / ".hidden/x.md") and not affects(cards / "notes.txt")
    assert not affects(project.root / "elsewhere.md")
    remove(project, "a")
    assert affects(cards / "a")  # a folder that held cards, removed


def test_a_changed_output_is_read_again_not_taken_from_memory(project, tmp_path):
    project.write({"a.md": card("a", "A?", "one {{c1::x}}")})
    session = BuildSession()
    build(project.options(), session=session)
    other = tmp_path / "other.apkg"
    project.write({"b.md": card("b", "B?", "two")})
    build(project.options(output=other))
    shutil.copy(other, project.output)  # another build wrote the output meanwhile
    assert session.previous_package(project.output) == read_previous(project.output)

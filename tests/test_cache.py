"""The render cache and worker processes never change the output, and the cache is invalidated by what matters."""

from __future__ import annotations

import os
import sqlite3
import zipfile

import pytest
from conftest import SVG, card

from deckbuilder.package import notetypes
from deckbuilder.render import cache
from deckbuilder.render import workers as pipeline

MANY = {
    f"s{i % 3}/c{i:03d}.md": card(f"c{i}", f"Question {i}?", f"Answer {{{{c1::{i}}}}}.\n\n```python\nx = {i}\n```")
    for i in range(pipeline.PARALLEL_THRESHOLD + 6)
}
IMAGE_CARD = {"img.md": card("img", "Picture?", "![d](d.svg) and {{c1::a term}}")}


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def test_cached_and_parallel_builds_are_byte_identical_to_a_serial_uncached_build(project, tmp_path):
    project.write(MANY)
    project.build(output=tmp_path / "serial.apkg", jobs=1, cache_dir=None)
    project.build(output=tmp_path / "parallel-cold.apkg", jobs=2, cache_dir=tmp_path / "cache")
    project.build(output=tmp_path / "parallel-warm.apkg", jobs=2, cache_dir=tmp_path / "cache")
    project.build(output=tmp_path / "serial-warm.apkg", jobs=1, cache_dir=tmp_path / "cache")
    serial = (tmp_path / "serial.apkg").read_bytes()
    for name in ("parallel-cold", "parallel-warm", "serial-warm"):
        assert (tmp_path / f"{name}.apkg").read_bytes() == serial, name


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_workers_started_as_on_windows_and_macos_give_the_same_package(project, tmp_path, start_method):
    """Windows has no fork and macOS starts workers with spawn: the cold build, and a warm rebuild whose
    touched cards are rendered in workers that must see the cache, are byte-identical to fork's."""
    project.write(MANY)
    for method in ("fork", start_method):
        cache_dir = tmp_path / f"cache-{method}"
        project.build(output=tmp_path / f"{method}.apkg", jobs=2, cache_dir=cache_dir, start_method=method)
        for path in project.cards.rglob("*.md"):
            os.utime(path)  # touched: read again, in the workers, which find them in the cache
        project.build(output=tmp_path / f"{method}-warm.apkg", jobs=2, cache_dir=cache_dir, start_method=method)
    assert (tmp_path / f"{start_method}.apkg").read_bytes() == (tmp_path / "fork.apkg").read_bytes()
    assert (tmp_path / f"{start_method}-warm.apkg").read_bytes() == (tmp_path / "fork.apkg").read_bytes()


def test_rebuilds_patching_a_previous_package_are_byte_identical_cached_or_not(project, tmp_path):
    project.write(MANY)
    project.build(output=tmp_path / "previous.apkg", jobs=2, cache_dir=tmp_path / "cache")
    outputs = {name: tmp_path / f"{name}.apkg" for name in ("parallel-warm", "serial-uncached", "parallel-cold")}
    for output in outputs.values():
        output.write_bytes((tmp_path / "previous.apkg").read_bytes())
    (project.cards / "s2" / "c005.md").unlink()
    project.write({"s1/c001.md": card("c1", "Question 1?", "Edited {{c1::answer}}."), "s0/new.md": MANY["s0/c000.md"]})
    project.write({"s0/c000.md": card("c0b", "Renumbered?", "New {{c1::id}}.")})
    project.build(output=outputs["parallel-warm"], jobs=2, cache_dir=tmp_path / "cache")
    project.build(output=outputs["serial-uncached"], jobs=1, cache_dir=None)
    project.build(output=outputs["parallel-cold"], jobs=2, cache_dir=tmp_path / "other-cache")
    assert outputs["serial-uncached"].read_bytes() != (tmp_path / "previous.apkg").read_bytes()
    expected = outputs["serial-uncached"].read_bytes()
    for name in ("parallel-warm", "parallel-cold"):
        assert outputs[name].read_bytes() == expected, name


def test_unchanged_cards_come_from_the_cache(project, spy):
    project.write(MANY)
    project.build(jobs=1)
    spy.clear()
    project.build(jobs=1)
    assert spy == []


def test_editing_a_card_renders_just_that_card_again(project, spy):
    project.write(MANY)
    project.build(jobs=1)
    spy.clear()
    project.write({"s1/c001.md": card("c1", "Question 1?", "A new {{c1::answer}}.")})
    result = project.build(jobs=1)
    assert spy == ["c001.md"]
    assert "A new" in next(r.answer for r in result.rendered if r.source.id == "c1")


def test_files_untouched_since_the_last_build_are_not_read_again(project, monkeypatch):
    monkeypatch.setattr(cache, "TRUST_MARGIN_NS", 0)  # the files below are older than the first build
    project.write(MANY)
    project.build(jobs=1)
    read = []
    real = pipeline.read_bytes
    monkeypatch.setattr(pipeline, "read_bytes", lambda path, report: read.append(path.name) or real(path, report))
    project.build(jobs=1)
    assert read == []
    project.write({"s1/c001.md": card("c1", "Question 1?", "Changed {{c1::answer}}.")})
    result = project.build(jobs=1)
    assert read == ["c001.md"]
    assert "Changed" in next(r.answer for r in result.rendered if r.source.id == "c1")


def test_a_file_touched_just_before_a_build_is_read_again_next_time(project, monkeypatch):
    """A coarse file-system clock could give an edit made then the same time as before."""
    project.write(MANY)
    project.build(jobs=1)  # the files were written within the trust margin of this build
    read = []
    real = pipeline.read_bytes
    monkeypatch.setattr(pipeline, "read_bytes", lambda path, report: read.append(path.name) or real(path, report))
    project.build(jobs=1)
    assert len(read) == len(MANY)


def test_changing_an_image_invalidates_the_cards_that_show_it(project, spy):
    project.write(IMAGE_CARD, {"d.svg": SVG})
    first = project.build(jobs=1).rendered[0].images[0].name
    spy.clear()
    project.write(media={"d.svg": SVG.replace(b"10", b"20")})
    second = project.build(jobs=1).rendered[0]
    assert spy == ["img.md"]
    assert second.images[0].name != first and second.images[0].name in second.answer
    spy.clear()
    project.build(jobs=1)
    assert spy == []  # the card rendered anew replaced its entry in the cache (same file, same key)


def test_changing_the_css_rewrites_the_note_types(project, monkeypatch):
    project.write(IMAGE_CARD, {"d.svg": SVG})
    project.build()
    monkeypatch.setattr(notetypes, "card_css", lambda: ".card { color: red; }")
    assert project.build().summary.written
    with zipfile.ZipFile(project.output) as archive:
        (project.root / "c.anki2").write_bytes(archive.read("collection.anki2"))
    (models,) = sqlite3.connect(project.root / "c.anki2").execute("select models from col").fetchone()
    assert models.count(".card { color: red; }") == 2


def test_a_library_upgrade_or_a_code_change_empties_the_cache(project, spy, tmp_path, monkeypatch):
    fake = tmp_path / "site" / "fakelib.py"
    fake.parent.mkdir()
    fake.write_text("VERSION = 1\n")
    monkeypatch.syspath_prepend(str(fake.parent))
    monkeypatch.setattr(cache, "LIBRARIES", (*cache.LIBRARIES, "fakelib"))
    project.write(IMAGE_CARD, {"d.svg": SVG})
    project.build(jobs=1)
    spy.clear()
    stat = fake.stat()
    os.utime(fake, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # as a reinstall would
    project.build(jobs=1)
    assert spy == ["img.md"]


def test_a_damaged_cache_is_ignored(project, render_cache, spy):
    project.write(IMAGE_CARD, {"d.svg": SVG})
    project.build(jobs=1)
    for stored in render_cache.glob("render-*"):
        stored.write_bytes(b"not a pickle")
    spy.clear()
    assert project.build(jobs=1).rendered
    assert spy == ["img.md"]


def test_media_shared_by_two_cards_stays_used_when_one_card_goes(project):
    shared = {"a.md": card("a", "A?", "![d](d.svg) {{c1::a}}"), "b.md": card("b", "B?", "![d](d.svg) {{c1::b}}")}
    project.write(shared, {"d.svg": SVG})
    assert project.build(strict=True).warnings == []
    (project.cards / "a.md").unlink()
    assert project.build(strict=True).warnings == []  # b.md, from the cache, still shows d.svg


def test_a_rebuild_appends_its_new_entries_to_the_log_instead_of_rewriting_it(project, render_cache):
    project.write(MANY)
    project.build(jobs=1)
    (log,) = render_cache.glob("*.entries")
    before = log.read_bytes()
    project.write({"s1/c001.md": card("c1", "Question 1?", "A new {{c1::answer}}.")})
    project.build(jobs=1)
    after = log.read_bytes()
    assert after.startswith(before) and len(before) < len(after) < len(before) * 1.2


def test_the_log_is_compacted_when_it_holds_twice_what_the_deck_uses(project, render_cache):
    project.write(MANY)
    project.build(jobs=1)
    (log,) = render_cache.glob("*.entries")
    full = log.stat().st_size
    for name in list(MANY)[2:]:
        (project.cards / name).unlink()
    project.build(jobs=1)
    assert log.stat().st_size < full / 3


def test_a_log_cut_short_keeps_its_complete_batches(project, render_cache, spy):
    project.write(MANY)
    project.build(jobs=1)
    project.write({"s1/c001.md": card("c1", "Question 1?", "A new {{c1::answer}}.")})
    project.build(jobs=1)  # appends one batch
    (log,) = render_cache.glob("*.entries")
    log.write_bytes(log.read_bytes()[:-5])  # as if the build had crashed while appending
    spy.clear()
    project.build(jobs=1)
    assert spy == ["c001.md"]  # only the card whose batch was cut short is rendered again


def test_a_prose_edit_reuses_the_cards_highlighted_code_and_a_code_edit_does_not(project, monkeypatch):
    from deckbuilder.render import card as render

    body = "Prose {{c1::one}}.\n\n```python\nmodel.fit(x, {{c2::epochs=3}})\n```\n\n```\nplain text\n```"
    project.write({"a.md": card("a", "Q?", body)})
    project.build(jobs=1)
    calls = []
    real = render.highlight
    monkeypatch.setattr(render, "highlight", lambda code, language: calls.append(language) or real(code, language))

    project.write({"a.md": card("a", "Q?", body.replace("Prose", "Edited prose"))})
    reused = project.build(jobs=1).rendered[0]
    assert calls == []
    fresh = project.build(jobs=1, cache_dir=None).rendered[0]
    assert (reused.answer, reused.cloze_text) == (fresh.answer, fresh.cloze_text)

    calls.clear()
    project.write({"a.md": card("a", "Q?", body.replace("epochs=3", "epochs=5"))})
    project.build(jobs=1)
    assert calls == ["python"]  # the edited block only


def test_cached_cards_get_new_guids_when_the_decks_namespace_changes(project, spy):
    from deckbuilder.package.notes import make_notes
    from deckbuilder.read.config import note_guids

    deck = "name: N\nid: 1500000009\nnamespace: {}\ntag: n\n"
    project.write({"deck.yaml": deck.format("00000000-0000-4000-8000-000000000001"), **IMAGE_CARD}, {"d.svg": SVG})
    project.build(jobs=1)
    spy.clear()
    project.write({"deck.yaml": deck.format("00000000-0000-4000-8000-000000000002")})
    result = project.build(jobs=1)
    assert spy == []  # the card came from the cache...
    guids = {note.guid for note in make_notes(result.rendered, result.config, "N")}
    assert guids == set(note_guids("00000000-0000-4000-8000-000000000002", "img")[1:])  # ...with the new GUIDs


def test_cached_cards_get_new_digests_when_the_decks_tag_changes(project, spy):
    from deckbuilder.package.notes import card_tags, cloze_fields, make_notes, qa_fields
    from deckbuilder.package.previous import note_digest

    deck = "name: N\nid: 1500000009\nnamespace: 00000000-0000-4000-8000-000000000001\ntag: {}\n"
    project.write({"deck.yaml": deck.format("first"), "a.md": card("a", "Q?", "A {{c1::term}}.")})
    project.build(jobs=1)
    spy.clear()
    project.write({"deck.yaml": deck.format("second")})
    result = project.build(jobs=1)
    assert spy == []  # the card came from the cache...
    [rendered] = result.rendered
    tags = card_tags("second", rendered.source)
    expected = [note_digest(qa_fields(rendered), tags), note_digest(cloze_fields(rendered), tags)]
    assert [note.digest for note in make_notes(result.rendered, result.config, "N")] == expected  # ...new digests
    assert tags[0] == "second"


@pytest.fixture(scope="module")
def cache_of_module_fixtures():
    """Where a build made by a module-scoped fixture (set up before any per-test fixture) caches."""
    return cache.default_cache_dir()


def test_the_tests_never_use_the_users_cache(cache_of_module_fixtures):
    """Module-scoped fixtures (the bundled deck, the phone tests) build before the per-test fixture
    redirects the cache: BUILD_DECK_CACHE is set when pytest starts, so they never touch ~/.cache."""
    home_cache = (cache.Path.home() / ".cache" / "build_deck").resolve()
    assert not cache_of_module_fixtures.resolve().is_relative_to(home_cache)
    assert cache_of_module_fixtures.name.startswith("build-deck-test-cache-")


def test_a_cache_of_an_older_format_is_ignored(project, render_cache):
    """Files an older version wrote (a plain pickle stream, read as batches, is a length no file holds)."""
    import pickle

    project.write(IMAGE_CARD, {"d.svg": SVG})
    project.build()
    for stored in render_cache.glob("render-*"):
        stored.write_bytes(pickle.dumps((4, "old namespace", 0, {})) + pickle.dumps({"key": ("entry",)}))
    assert project.build(output=project.root / "again.apkg").summary.notes == 2

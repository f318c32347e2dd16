"""Rebuild and re-import: edits update in place, review history stays, builds are reproducible."""

from __future__ import annotations

import itertools

import pytest
from anki.scheduler_pb2 import CardAnswer
from click.testing import CliRunner
from conftest import blank, card, cards_of, import_package, record_patches, visible_text

from deckbuilder.cli import main
from deckbuilder.package import notes, notetypes
from deckbuilder.package import write as package
from deckbuilder.package.notetypes import CLOZE_MODEL_ID, QA_MODEL_ID

DECK = "name: Regen\nid: 1500000002\nnamespace: 5f0c1d2e-0000-4000-8000-000000000002\ntag: regen\n"
V1 = {
    "deck.yaml": DECK,
    "a.md": card("alpha", "What is alpha?", "Alpha uses {{c1::the first term}} and {{c2::the second term}}."),
    "b.md": card("beta", "Show beta.", "```python\nmodel.fit(x, {{c1::epochs=3}})\n```\nThen {{c2::evaluate}}."),
    "c.md": card("gamma", "Gamma?", "Gamma is {{c1::unchanged}}."),
    "d.md": card("delta", "Delta?", "Delta is {{c1::going away}}."),
}
V2 = {
    # edited prose and a new cloze c3 inserted before the existing ones
    "a.md": card(
        "alpha",
        "What is alpha, really?",
        "First {{c3::a new term}}; alpha uses {{c1::the first term}} and, reworded, {{c2::the second term}}.",
    ),
    # edited code example
    "b.md": card("beta", "Show beta.", "```python\nmodel.fit(x, y, {{c1::epochs=3}})\n```\nThen {{c2::evaluate}}."),
    "0-new.md": card("epsilon", "Epsilon?", "A {{c1::new}} card, sorted first."),
}


def review_queue(col, count: int) -> list[int]:
    """Study the next ``count`` cards with the real scheduler (answering "easy"); returns their ids."""
    col.decks.select(col.decks.id_for_name("Regen"))
    reviewed = []
    for _ in range(count):
        queued = col.sched.get_queued_cards(fetch_limit=1).cards
        if not queued:
            break
        studied_card = col.get_card(queued[0].card.id)
        studied_card.start_timer()
        col.sched.answer_card(
            col.sched.build_answer(card=studied_card, states=queued[0].states, rating=CardAnswer.EASY)
        )
        reviewed.append(studied_card.id)
    return reviewed


def schedule(col, card_id: int) -> tuple:
    c = col.get_card(card_id)
    revlog = col.db.list("select id from revlog where cid = ?", card_id)
    return (c.type, c.queue, c.due, c.ivl, c.reps, c.ord, c.nid, tuple(revlog))


@pytest.fixture
def studied(project, collection):
    """Build v1, import it, review some cards, edit one note by hand in Anki."""
    project.write(V1)
    project.build()
    import_package(collection, project.output)
    reviewed = review_queue(collection, 6)
    kinds = {collection.get_card(cid).note_type()["name"] for cid in reviewed}
    assert len(reviewed) == 6 and len(kinds) == 2  # both basic and cloze cards were studied
    gamma = cards_of(collection, "Id:gamma note:*Q&A")[0].note()
    gamma["Answer"] += " <i>my own note</i>"
    collection.update_note(gamma)
    return collection, reviewed


def rebuild_v2(project, monkeypatch, new_css: bool = True):
    (project.cards / "d.md").unlink()
    if new_css:
        monkeypatch.setattr(notetypes, "card_css", lambda: "/* v2 */ .card { color: #111; }")
    project.write(V2)
    return project.build()


@pytest.mark.parametrize("new_css", [True, False], ids=["new-note-types", "patched-collection"])
def test_rebuild_updates_in_place_and_keeps_review_history(project, studied, monkeypatch, new_css):
    col, reviewed = studied
    before = {cid: schedule(col, cid) for cid in reviewed}
    note_types_before = sorted(m["name"] for m in col.models.all())
    notes_before = col.note_count()
    patched = record_patches(monkeypatch)

    rebuild_v2(project, monkeypatch, new_css)
    log = import_package(col, project.output)

    # Changed note types need a fresh collection; changed notes alone are patched into the previous one.
    assert [bool(result) for _, result in patched] == ([] if new_css else [True])

    assert not log.conflicting
    assert sorted(m["name"] for m in col.models.all()) == note_types_before  # no "+" note types
    assert col.note_count() == notes_before + 2  # epsilon's two notes; delta stays (Anki never deletes)
    updated_ids = sorted(col.get_note(n.id.nid)["Id"] for n in log.updated)
    assert updated_ids == ["alpha", "alpha", "beta", "beta"]
    # Anki logs notes it found but did not update (not newer) as "duplicate": the unchanged ones.
    assert sorted(col.get_note(n.id.nid)["Id"] for n in log.duplicate) == ["gamma", "gamma"]
    for cid in reviewed:
        assert schedule(col, cid) == before[cid], "scheduling or review history changed"
    assert col.get_empty_cards().notes == []


def test_reviewed_cards_keep_their_key_term_after_a_cloze_is_inserted(project, studied, monkeypatch):
    col, reviewed = studied
    terms = {1: "the first term", 2: "the second term"}
    alpha_clozes = [col.get_card(cid) for cid in reviewed if cid in cards_ids(col, "Id:alpha note:*Cloze")]
    assert alpha_clozes, "an alpha cloze card was studied"
    for studied_card in alpha_clozes:
        assert blank(studied_card.ord + 1, terms[studied_card.ord + 1]).search(studied_card.answer())
    rebuild_v2(project, monkeypatch)
    import_package(col, project.output)
    for studied_card in alpha_clozes:
        after = col.get_card(studied_card.id)
        assert after.reps == studied_card.reps > 0
        assert blank(after.ord + 1).search(after.question())
        assert blank(after.ord + 1, terms[after.ord + 1]).search(after.answer())
    new = [c for c in cards_of(col, "Id:alpha note:*Cloze") if c.ord == 2]
    assert len(new) == 1 and blank(3, "a new term").search(new[0].answer()) and new[0].reps == 0
    assert "reworded" in visible_text(new[0].answer())


def cards_ids(col, search: str) -> set[int]:
    return set(col.find_cards(search))


def test_unchanged_notes_are_left_alone(project, studied, monkeypatch):
    col, _ = studied
    rebuild_v2(project, monkeypatch)
    import_package(col, project.output)
    gamma = cards_of(col, "Id:gamma note:*Q&A")[0].note()
    assert gamma["Answer"].endswith("<i>my own note</i>")


def test_note_type_css_updates_in_place(project, studied, monkeypatch):
    col, _ = studied
    rebuild_v2(project, monkeypatch)
    import_package(col, project.output)
    for model_id in (QA_MODEL_ID, CLOZE_MODEL_ID):
        assert col.models.get(model_id)["css"].startswith("/* v2 */")


def test_change_report_lists_added_changed_removed_and_unchanged(project, studied, monkeypatch):
    col, _ = studied
    result = rebuild_v2(project, monkeypatch)
    changes = result.changes
    assert (changes.added, changes.changed, changes.removed, changes.unchanged) == (
        ("epsilon",),
        ("alpha", "beta"),
        ("delta",),
        ("gamma",),
    )
    import_package(col, project.output)
    found = {col.get_note(nid)["Id"] for nid in col.find_notes(changes.removed_search())}
    assert found == {"delta"}


def test_building_twice_gives_identical_bytes(project):
    project.write(V1)
    project.build()
    first = project.output.read_bytes()
    project.build()
    assert project.output.read_bytes() == first


def test_source_date_epoch_makes_fresh_builds_identical(project, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    project.write(V1)
    project.build(output=tmp_path / "one.apkg")
    project.build(output=tmp_path / "two.apkg")
    assert (tmp_path / "one.apkg").read_bytes() == (tmp_path / "two.apkg").read_bytes()


def test_failed_write_leaves_previous_package_untouched(project, monkeypatch):
    project.write(V1)
    project.build()
    before = project.output.read_bytes()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(package, "_write_zip", interrupted)
    project.write(V2)
    with pytest.raises(KeyboardInterrupt):
        project.build()
    assert project.output.read_bytes() == before
    assert [p.name for p in project.output.parent.iterdir()] == [project.output.name]


def test_renaming_a_field_or_template_does_not_fork_the_note_type(project, collection, monkeypatch):
    import dataclasses

    project.write(V1)
    project.build()
    import_package(collection, project.output)
    names_before = sorted(m["name"] for m in collection.models.all())
    qa = notetypes.QA
    fields = tuple({**f, "name": "Source"} if f["name"] == "Reference" else f for f in qa.fields)
    templates = ({**qa.templates[0], "name": "Recall", "afmt": qa.templates[0]["afmt"].replace("Reference", "Source")},)
    renamed = dataclasses.replace(qa, fields=fields, templates=templates)
    monkeypatch.setattr(notetypes, "NOTE_TYPES", (renamed, notetypes.CLOZE))
    monkeypatch.setattr(notes, "QA", renamed)
    project.build()
    log = import_package(collection, project.output)
    assert not log.conflicting
    assert sorted(m["name"] for m in collection.models.all()) == names_before
    model = collection.models.get(QA_MODEL_ID)
    assert [f["name"] for f in model["flds"]] == ["Question", "Answer", "Source", "Section", "Id"]
    assert model["tmpls"][0]["name"] == "Recall"


def test_removed_card_search_matches_ids_with_underscores_exactly(project, collection):
    files = {"deck.yaml": DECK, "a.md": card("my_card", "A?", "A."), "b.md": card("myXcard", "B?", "B.")}
    project.write(files)
    project.build()
    import_package(collection, project.output)
    (project.cards / "a.md").unlink()
    search = project.build().changes.removed_search()
    assert {collection.get_note(nid)["Id"] for nid in collection.find_notes(search)} == {"my_card"}


def test_a_css_only_change_is_reported_as_changed_note_types(project, monkeypatch):
    project.write(V1)
    project.build()
    monkeypatch.setattr(notetypes, "card_css", lambda: "/* v2 */ .card { color: #111; }")
    result = CliRunner().invoke(main, ["--cards", str(project.cards), "--media", str(project.media),
                                       "-o", str(project.output)])  # fmt: skip
    assert "0 changed, 0 removed, 4 unchanged; 2 note type(s) changed" in result.output
    assert "  note type changed (CSS or templates): build_deck Q&A" in result.output.splitlines()
    assert "  note type changed (CSS or templates): build_deck Cloze" in result.output.splitlines()
    again = CliRunner().invoke(main, ["--cards", str(project.cards), "--media", str(project.media),
                                      "-o", str(project.output)])  # fmt: skip
    assert "note type" not in again.output


def test_new_cards_come_in_file_order_and_clozes_after_every_question(project, collection):
    """With Anki's default options the first section is studied first, in file order, and no cloze comes
    right after the question/answer card that just showed its answer (the real scheduler)."""
    files = {f"{n}-{section}/{i:02d}.md": card(f"{section}{i}", f"{section} {i}?", f"A {{{{c1::{section}{i}}}}}.")
             for n, section in ((2, "zeta"), (1, "omega"), (3, "alpha")) for i in range(3)}  # fmt: skip
    project.write(files)
    project.build()
    import_package(collection, project.output)
    collection.decks.select(collection.decks.id_for_name("Project"))
    order = []
    for _ in range(9):
        queued = collection.sched.get_queued_cards(fetch_limit=1).cards[0]
        studied = collection.get_card(queued.card.id)
        studied.start_timer()
        order.append((studied.note()["Id"], studied.note_type()["id"] == CLOZE_MODEL_ID))
        collection.sched.answer_card(collection.sched.build_answer(card=studied, states=queued.states,
                                                                   rating=CardAnswer.GOOD))  # fmt: skip
    assert order[:3] == [("omega0", False), ("omega1", False), ("omega2", False)]  # folder 1 first, in file order
    assert all(not (a[0] == b[0] and not a[1] and b[1]) for a, b in itertools.pairwise(order))


def test_renaming_the_deck_prints_the_steps_that_keep_one_tree(project, collection):
    project.write({**V1, "sec/e.md": card("epsilon", "Eps?", "E {{c1::e}}.")})
    project.build()
    import_package(collection, project.output)
    project.write({"deck.yaml": DECK.replace("name: Regen", "name: Renamed")})
    (project.cards / "sec").rename(project.cards / "1-section")
    result = CliRunner().invoke(main, ["--cards", str(project.cards), "--media", str(project.media),
                                       "-o", str(project.output)])  # fmt: skip
    steps = [line.strip() for line in result.stderr.splitlines() if line.strip().startswith("rename ")]
    assert steps == ['rename "Regen" to "Renamed"', 'rename "Renamed::Sec" to "Renamed::1 Section"']
    for step in steps:  # what the learner does in Anki, then the import
        old, new = step.split('"')[1], step.split('"')[3]
        collection.decks.rename(collection.decks.by_name(old), new)
    import_package(collection, project.output)
    names = {collection.decks.name(c.did) for c in cards_of(collection)}
    assert names == {"Renamed", "Renamed::1 Section"}
    assert "Regen" not in {d.name for d in collection.decks.all_names_and_ids()}


def test_adding_reversed_and_type_in_cards_leaves_the_studied_notes_and_cards_alone(project, studied):
    """Issue #17: a card type added to cards people study brings new notes of new note types; the notes,
    cards, note types and review history already in Anki stay exactly as they were (the real scheduler,
    a real import)."""
    col, reviewed = studied
    before = {cid: schedule(col, cid) for cid in reviewed}
    notes_before = {nid: _note_state(col, nid) for nid in col.find_notes("")}
    note_types_before = {m["id"]: _note_type_state(m) for m in col.models.all()}
    front_matter = {
        "a.md": "reverse: yes\n",
        "b.md": "reverse: yes\ntype-answer: evaluate\n",
        "c.md": "type-answer: x\n",
    }
    for name, extra in front_matter.items():
        project.write({name: V1[name].replace("\n---\n#", f"\n{extra}---\n#", 1)})
    result = project.build()
    assert (result.changes.changed, result.changes.unchanged) == (("alpha", "beta", "gamma"), ("delta",))

    log = import_package(col, project.output)
    assert not log.conflicting and not log.updated
    assert len(log.duplicate) == len(notes_before)  # every note Anki had: found, left alone
    assert sorted((col.get_note(n.id.nid)["Id"], col.get_note(n.id.nid).note_type()["name"]) for n in log.new) == [
        ("alpha", "build_deck Reverse"),
        ("beta", "build_deck Reverse"),
        ("beta", "build_deck Type answer"),
        ("gamma", "build_deck Type answer"),
    ]
    assert {nid: _note_state(col, nid) for nid in notes_before} == notes_before  # ids, GUIDs, fields, times
    assert cards_of(col, "Id:gamma note:*Q&A")[0].note()["Answer"].endswith("<i>my own note</i>")
    for cid in reviewed:
        assert schedule(col, cid) == before[cid], "scheduling or review history changed"
    after = {m["id"]: _note_type_state(m) for m in col.models.all()}
    assert {mid: after[mid] for mid in note_types_before} == note_types_before  # no "+" copies, same schema
    assert {after[mid][0] for mid in set(after) - set(note_types_before)} == {
        "build_deck Reverse",
        "build_deck Type answer",
    }
    assert col.get_empty_cards().notes == []


def _note_state(col, nid) -> tuple:
    note = col.get_note(nid)
    return note.guid, note.mid, tuple(note.fields), note.mod, tuple(sorted(note.tags))


def _note_type_state(model: dict) -> tuple:
    return (
        model["name"],
        [f["name"] for f in model["flds"]],
        [(t["name"], t["qfmt"], t["afmt"]) for t in model["tmpls"]],
    )

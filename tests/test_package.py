"""The package as Anki imports it: note types, decks, tags, identity, order, compression."""

from __future__ import annotations

import zipfile

from conftest import card, cards_of, import_package

from deckbuilder.package.notetypes import CLOZE_MODEL_ID, QA_MODEL_ID

DECK_YAML = """\
name: Test Deck
description: A deck for <b>testing</b>.
id: 1500000001
namespace: 0b1a6c5e-0000-4000-8000-000000000001
tag: test-deck
"""

FILES = {
    "deck.yaml": DECK_YAML,
    "1-basics/01-first.md": card("first", "First?", "The {{c1::first}} card.", "tags: [alpha, topic::beta]\n"),
    "1-basics/02-second.md": card("second", "Second?", "No clozes here."),
    "2-more-stuff/01-third.md": card("third", "Third?", "The {{c1::third}} and {{c2::last}} card."),
    "top.md": card("top", "Top?", "At the {{c1::top}}."),
}


def test_notes_land_in_section_sub_decks(project, collection):
    project.write(FILES).build()
    import_package(collection, project.output)
    decks = {collection.decks.name(c.did) for c in cards_of(collection)}
    # the folders' numbers stay in the sub-decks' names: Anki studies sub-decks in the order of their names
    assert decks == {"Test Deck", "Test Deck::1 Basics", "Test Deck::2 More stuff"}
    (second,) = cards_of(collection, "Id:second")
    assert collection.decks.name(second.did) == "Test Deck::1 Basics"
    assert second.note()["Section"] == "Basics"  # cards show the section's name without its number


def test_sub_deck_numbers_are_padded_so_that_name_order_is_folder_order(project, collection):
    project.write({f"{n}-part/x{n}.md": card(f"x{n}", f"Q{n}?", "A.") for n in (1, 2, 10)})
    project.build()
    import_package(collection, project.output)
    names = sorted(collection.decks.name(c.did).split("::")[1] for c in cards_of(collection))
    assert names == ["01 Part", "02 Part", "10 Part"]


def test_deck_description_comes_from_config(project, collection):
    project.write(FILES).build()
    import_package(collection, project.output)
    # deck.yaml holds text, not HTML: Anki shows the description as HTML, so it is escaped
    assert collection.decks.by_name("Test Deck")["desc"] == "A deck for &lt;b&gt;testing&lt;/b&gt;."


def test_tags_are_deck_section_and_front_matter_tags(project, collection):
    project.write(FILES).build()
    import_package(collection, project.output)
    first = cards_of(collection, "Id:first")[0].note()
    assert sorted(first.tags) == sorted(["test-deck", "test-deck::basics", "alpha", "topic::beta"])
    top = cards_of(collection, "Id:top")[0].note()
    assert top.tags == ["test-deck"]


def test_each_question_gives_a_qa_note_and_a_cloze_note_when_it_has_clozes(project, collection):
    project.write(FILES).build()
    log = import_package(collection, project.output)
    assert len(log.new) == 7  # four Q&A notes, three cloze notes
    assert len(cards_of(collection, "Id:second")) == 1
    assert len(cards_of(collection, "Id:third note:*Cloze")) == 2
    assert collection.get_empty_cards().notes == []


def test_note_types_are_ours_with_fixed_ids_and_all_fields(project, collection):
    project.write(FILES).build()
    import_package(collection, project.output)
    qa = collection.models.get(QA_MODEL_ID)
    cloze = collection.models.get(CLOZE_MODEL_ID)
    assert qa["name"] not in ("Basic", "Cloze") and cloze["name"] not in ("Basic", "Cloze")
    assert [f["name"] for f in qa["flds"]] == ["Question", "Answer", "Reference", "Section", "Id"]
    assert [f["name"] for f in cloze["flds"]] == ["Text", "Question", "Reference", "Section", "Id"]
    assert cloze["type"] == 1


def test_guids_depend_on_namespace_and_id_not_text(project, tmp_path):
    from deckbuilder.package.previous import read_previous

    project.write(FILES).build()
    before = {n.card_id: n.guid for n in read_previous(project.output).notes.values()}
    project.write({"1-basics/01-first.md": card("first", "First, reworded?", "Now {{c1::else}}.")}).build()
    after = {n.card_id: n.guid for n in read_previous(project.output).notes.values()}
    assert before == after
    project.write({"deck.yaml": DECK_YAML.replace("000000000001", "000000000002")}).build()
    other = {n.card_id: n.guid for n in read_previous(project.output).notes.values()}
    assert set(other.values()).isdisjoint(before.values())


def test_renaming_the_deck_keeps_note_identity(project):
    from deckbuilder.package.previous import read_previous

    project.write(FILES).build()
    before = set(read_previous(project.output).notes)
    project.write({"deck.yaml": DECK_YAML.replace("Test Deck", "Renamed")}).build()
    assert set(read_previous(project.output).notes) == before


def test_new_cards_are_ordered_like_the_sorted_files(project, collection):
    project.write(FILES).build()
    import_package(collection, project.output)
    qa_cards = sorted(cards_of(collection, "note:*Q&A"), key=lambda c: c.due)
    assert [c.note()["Id"] for c in qa_cards] == ["first", "second", "third", "top"]


def test_package_is_a_compressed_zip_with_flat_media_names(project):
    project.write(FILES).build()
    with zipfile.ZipFile(project.output) as archive:
        infos = archive.infolist()
        assert infos[0].filename == "collection.anki2"
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in infos)
        assert infos[0].compress_size < infos[0].file_size / 2


def test_our_guids_are_genankis():
    import genanki

    from deckbuilder.read.config import guid_for

    examples = [("ns", "card", "qa"), ("201f40e8", "sparse-vs-categorical-crossentropy", "cloze"), ("é", "ü", "")]
    examples += [("ns", f"card-{i}", "qa") for i in range(5000)]  # GUIDs of every length, some with an "a" digit
    for values in examples:
        assert guid_for(*values) == genanki.guid_for(*values)


def test_an_up_to_date_package_is_not_rewritten_and_any_change_rewrites_it(project):
    project.write(FILES).build()
    first = project.output.stat().st_mtime_ns
    result = project.build()
    assert not result.summary.written and project.output.stat().st_mtime_ns == first
    project.write({"deck.yaml": DECK_YAML.replace("for <b>testing</b>", "changed")})
    assert project.build().summary.written

"""The preview page: Anki's rendering without Anki, every card, light/night switch, phone width."""

from __future__ import annotations

import re

import pytest
from browser import ARTIFACTS, INSPECT_JS, ORIGIN, ROOT, chromium, phone_page
from click.testing import CliRunner
from conftest import cards_of, features_files, import_package

from deckbuilder.builder import BuildOptions, build
from deckbuilder.cli import main
from deckbuilder.package.notetypes import CLOZE_MODEL_ID, REVERSE_MODEL_ID, TYPE_MODEL_ID
from deckbuilder.preview import preview_cards, reveal_clozes, write_preview

_STYLE = re.compile(r"^<style>.*?</style>", re.DOTALL)


@pytest.fixture(scope="module")
def bundled(tmp_path_factory):
    """The bundled deck: the build result and the package it wrote."""
    output = tmp_path_factory.mktemp("bundled") / "deck.apkg"
    return build(BuildOptions(cards_dir=ROOT / "cards", media_dir=ROOT / "media", output=output))


def anki_sides(col) -> dict[tuple[str, str, int], tuple[str, str]]:
    """{(card id, kind, ordinal): (question, answer)} as Anki renders them, without the CSS; the play
    references Anki's renderer makes of sounds named back as the [sound:] tags of the fields."""
    sides = {}
    for c in cards_of(col):
        kind = KINDS.get(c.note_type()["id"], "Question")
        tags = {"q": c.question_av_tags(), "a": c.answer_av_tags()}
        question, answer = (_sounds_named(_STYLE.sub("", side), tags) for side in (c.question(), c.answer()))
        sides[(c.note()["Id"], kind, c.ord + 1)] = (question, answer)
    return sides


# The first word of each kind of card's title in the preview.
KINDS = {CLOZE_MODEL_ID: "Cloze", REVERSE_MODEL_ID: "Answer", TYPE_MODEL_ID: "Type"}


def _sounds_named(side: str, tags: dict) -> str:
    return re.sub(r"\[anki:play:([qa]):(\d+)\]", lambda m: f"[sound:{tags[m[1]][int(m[2])].filename}]", side)


def test_preview_renders_every_card_exactly_as_anki_does(bundled, collection):
    import_package(collection, bundled.output)
    anki = anki_sides(collection)
    ours = {
        (c.card_id, c.title.split()[0], c.ordinal): (c.front, c.back)
        for card in bundled.rendered
        for c in preview_cards(card)
    }
    assert ours.keys() == anki.keys()
    different = [key for key in anki if ours[key] != anki[key]]
    assert not different, f"{len(different)} cards differ, e.g. {different[0]}"


def test_preview_renders_reversed_type_in_and_sound_cards_as_anki_does(project, collection):
    files, media = features_files()
    project.write(files, media)
    result = project.build()
    import_package(collection, project.output)
    anki = anki_sides(collection)
    ours = {(c.card_id, c.title.split()[0], c.ordinal): (c.front, c.back)
            for card in result.rendered for c in preview_cards(card)}  # fmt: skip
    assert sorted(kind for _, kind, _ in ours) == ["Answer", "Cloze", "Cloze", "Cloze", "Cloze", "Question", "Type"]
    assert ours == anki


CLOZE_TEXTS = [
    "plain {{c1::one}} and {{c2::two::hint}} and {{c1::again}}",
    "nested {{c1::outer {{c2::inner::in hint}} text}} after",
    "hint with markup {{c1::x::<b>bold</b>}} and a stray }} brace",
    r"maths \( a = {{c1::b}} + {{c2::c}} \) and \[ {{c1::<i>d</i>}} \]",
    "attribute escaping {{c1::<code>a, b = \"x\" & 'y'</code> é ✓}}",
    "never closed {{c1::here}} then {{c2::open",
    "{{c1::a}}{{c1::b::}}{{c3::c}}",
]


def test_cloze_filter_matches_anki_on_tricky_text(collection):
    """Nested clozes, hints, stray braces, MathJax and attribute escaping, compared with Anki itself."""
    model = collection.models.by_name("Cloze")
    deck_id = collection.decks.id("tricky")
    for text in CLOZE_TEXTS:
        note = collection.new_note(model)
        note["Text"] = text
        collection.add_note(note, deck_id)
        for card in note.cards():
            ordinal = card.ord + 1
            question = _STYLE.sub("", card.question())
            answer = _STYLE.sub("", card.answer())
            assert reveal_clozes(text, ordinal, question=True) == question, (text, ordinal)
            # The stock Cloze back template adds "<br>\n{{Back Extra}}".
            assert reveal_clozes(text, ordinal, question=False) + "<br>\n" == answer, (text, ordinal)
    assert reveal_clozes("no {{c2::such}} card", 1, question=True) == ""


def test_cli_writes_the_preview_alongside_or_instead_of_the_package(tmp_path):
    runner = CliRunner()
    alongside = runner.invoke(main, ["-q", "-o", str(tmp_path / "deck.apkg"), "--preview", str(tmp_path / "a.html")])
    assert alongside.exit_code == 0, alongside.output
    assert (tmp_path / "deck.apkg").is_file()
    instead = runner.invoke(main, ["-q", "--check", "--preview", str(tmp_path / "b.html")])
    assert instead.exit_code == 0, instead.output
    page = (tmp_path / "b.html").read_text(encoding="utf-8")
    assert page.count('class="preview-face"') >= 2 * 20
    # Self-contained: images are embedded, nothing is fetched.
    assert "data:image/svg+xml;base64," in page
    assert not re.search(r'<img[^>]* src="(?!data:)', page)
    assert not re.search(r'<(?:link|script)[^>]* (?:href|src)="', page)


# --- in the browser --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    with chromium() as instance:
        yield instance


@pytest.fixture(scope="module")
def preview_page(browser, bundled, tmp_path_factory):
    """The bundled deck's preview page at 360x740, with the card checks of tests/browser.py loaded."""
    path = tmp_path_factory.mktemp("preview") / "preview.html"
    write_preview(bundled.rendered, bundled.config.name, path, media_dir=ROOT / "media")
    page = phone_page(browser, {"index.html": path.read_bytes()})
    page.goto(ORIGIN)
    page.add_script_tag(content=INSPECT_JS)
    yield page
    page.context.close()


def set_switch(page, name: str, on: bool) -> None:
    page.locator(f"#preview-{name}").set_checked(on)


def visible_faces(page) -> list[dict]:
    return page.evaluate(
        """() => [...document.querySelectorAll(".preview-face")].map(face => ({
            text: face.querySelector(".card").innerText.trim(),
            visible: face.getBoundingClientRect().height > 40,
        }))"""
    )


def page_problems(page) -> list[dict]:
    """The card checks of tests/browser.py, over the whole preview page."""
    return page.evaluate(
        """() => {
          const problems = [];
          const main = document.querySelector("main");
          checkText(main, problems);
          checkLayout(main, problems);
          for (const img of main.querySelectorAll("img")) {
            if (!img.complete || img.naturalWidth === 0) problems.push({ check: "image", detail: "did not load" });
          }
          return problems;
        }"""
    )


@pytest.mark.browser
def test_the_preview_plays_sounds_and_shows_the_type_in_box(browser, project, tmp_path):
    files, media = features_files()
    project.write(files, media)
    result = project.build()
    path = tmp_path / "preview.html"
    write_preview(result.rendered, result.config.name, path, media_dir=project.media)
    page = phone_page(browser, {"index.html": path.read_bytes()})
    page.goto(ORIGIN)
    page.add_script_tag(content=INSPECT_JS)
    players = page.evaluate(
        """async () => Promise.all([...document.querySelectorAll("audio.preview-sound")].map(audio => {
             audio.preload = "auto";
             audio.load();
             return new Promise(done => { audio.onloadedmetadata = () => done(audio.duration);
                                          audio.onerror = () => done(-1); });
           }))"""
    )
    # The beep sounds on the Q&A card's back, both sides of the reversed card, the type-in card's back and every
    # cloze card's front and back; each plays a quarter of a second of the embedded file.
    assert len(players) == 1 + 2 + 1 + 2 * 4 and all(abs(duration - 0.25) < 0.01 for duration in players)
    assert page.locator("input#typeans").count() == 1 and page.locator("code#typeans").inner_text() == "softmax"
    for night in (False, True):
        set_switch(page, "night", night)
        assert not page_problems(page)
    page.screenshot(path=str(ARTIFACTS / "preview" / "preview-features-night.png"), full_page=True)
    page.context.close()


@pytest.mark.browser
def test_preview_shows_every_cards_front_and_back(preview_page, bundled):
    count = sum(1 + len(card.cloze_numbers) for card in bundled.rendered)
    faces = visible_faces(preview_page)
    assert len(faces) == 2 * count
    assert all(face["visible"] and face["text"] for face in faces)
    sections = preview_page.locator("main h2").all_inner_texts()
    assert sections == list(dict.fromkeys(card.section for card in bundled.rendered))


@pytest.mark.browser
@pytest.mark.parametrize("phone", [True, False], ids=["phone width", "full width"])
@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
def test_preview_fits_360px_and_is_readable(preview_page, night, phone):
    set_switch(preview_page, "night", night)
    set_switch(preview_page, "phone", phone)
    problems = page_problems(preview_page)
    assert not problems, problems[:10]


@pytest.mark.browser
def test_preview_night_switch_changes_card_code_and_cloze_colours(preview_page):
    probe = """() => {
        const style = selector => getComputedStyle(document.querySelector(selector));
        return [style(".preview-face > .card").backgroundColor, style(".preview-face > .card").color,
                style("pre.highlight").backgroundColor, style("pre.highlight .kn, pre.highlight .k").color,
                style("pre.highlight .s2").color, style(".cloze").color,
                style("img").filter];
    }"""
    set_switch(preview_page, "night", False)
    light = preview_page.evaluate(probe)
    set_switch(preview_page, "night", True)
    night = preview_page.evaluate(probe)
    assert all(a != b for a, b in zip(light, night, strict=True)), (light, night)
    set_switch(preview_page, "phone", True)
    preview_page.screenshot(path=str(ARTIFACTS / "preview" / "preview-night.png"))
    set_switch(preview_page, "night", False)
    preview_page.screenshot(path=str(ARTIFACTS / "preview" / "preview-light.png"))

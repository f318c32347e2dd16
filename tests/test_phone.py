"""Cards on a phone, in light and night mode, rendered by a real Chromium.

Every card of the bundled deck is imported into a real Anki collection and its
card.question()/card.answer() HTML is shown at 360x740 inside the classes that Anki
desktop, AnkiDroid and AnkiMobile put on <html> and <body>, in light and night mode.
The checks run in the page (see tests/browser.py); screenshots go to test-artifacts/.
"""

from __future__ import annotations

import base64
import re
import shutil
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from anki.collection import Collection
from browser import (
    ARTIFACTS,
    ORIGIN,
    PLATFORMS,
    ROOT,
    as_reviewer_shows,
    card_page_files,
    chromium,
    phone_page,
    variant,
)
from conftest import card, cards_of, features_files, import_package
from pygments.token import STANDARD_TYPES

from deckbuilder.builder import BuildOptions, build
from deckbuilder.package.notetypes import CLOZE_MODEL_ID, REVERSE_MODEL_ID, TYPE_MODEL_ID, card_css
from deckbuilder.render.code_theme import LIGHT_BACKGROUND, NIGHT_BACKGROUND

MODES = {"light": False, "night": True}
SHOTS = ARTIFACTS / "phone"
# The README's screenshots: a cloze card with a diagram, highlighted code and a revealed cloze.
README_CARD = "transfer-learning/cloze2"


@dataclass(frozen=True)
class AnkiCard:
    """One card as Anki renders it."""

    label: str  # card id / kind and number, e.g. "dropout-layer/cloze2"
    ordinal: int  # N of Anki's cardN class
    question: str
    answer: str


@dataclass(frozen=True)
class Deck:
    cards: list[AnkiCard]
    media: Path


KINDS = {CLOZE_MODEL_ID: "cloze", REVERSE_MODEL_ID: "reverse", TYPE_MODEL_ID: "type"}


def anki_cards(col: Collection) -> list[AnkiCard]:
    """Every card of the collection, with Anki's question and answer HTML as its reviewer shows them
    (play buttons; a type-in card's box, and on its back the comparison when the right answer was typed)."""
    cards = []
    for c in cards_of(col):
        note = c.note()
        kind = KINDS.get(c.note_type()["id"], "qa")
        label = f"{note['Id']}/{kind}{c.ord + 1 if kind == 'cloze' else ''}"
        typed = col.compare_answer(note["Expected"], note["Expected"]) if kind == "type" else None
        cards.append(AnkiCard(label, c.ord + 1, as_reviewer_shows(c.question()), as_reviewer_shows(c.answer(), typed)))
    return cards


def imported(apkg: Path, folder: Path) -> Deck:
    """Import a package into a fresh collection and read back its cards and media folder."""
    folder.mkdir(parents=True, exist_ok=True)
    col = Collection(str(folder / "collection.anki2"))
    try:
        import_package(col, apkg)
        return Deck(anki_cards(col), Path(col.media.dir()))
    finally:
        col.close()


def inspect(page, cards: list[AnkiCard]) -> dict[tuple, dict]:
    """{(card, platform, mode, side): {"problems": [...], "colours": {...}}} for every rendering."""
    results = {}
    for anki_card in cards:
        keys, variants = [], []
        for platform in PLATFORMS:
            for mode, night in MODES.items():
                for side, html in (("front", anki_card.question), ("back", anki_card.answer)):
                    keys.append((anki_card.label, platform.name, mode, side))
                    variants.append(variant(html, platform, anki_card.ordinal, night))
        results.update(zip(keys, page.evaluate("variants => inspectCards(variants)", variants), strict=True))
    return results


def screenshot(page, anki_card: AnkiCard, mode: str, path: Path, full_page: bool = True) -> None:
    """The card's answer side as AnkiDroid shows it."""
    android = next(p for p in PLATFORMS if p.name == "android")
    page.evaluate("v => showCard(v)", variant(anki_card.answer, android, anki_card.ordinal, MODES[mode]))
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)


def shot_path(label: str, mode: str, folder: Path = SHOTS) -> Path:
    return folder / f"{label.replace('/', '--')}-{mode}.png"


def problems(results: dict[tuple, dict], check: str) -> list[str]:
    """One line per failed check of the given kind."""
    lines = []
    for (label, platform, mode, side), result in results.items():
        for p in result["problems"]:
            if p["check"] == check:
                text = f" {p['text']!r}" if p.get("text") else ""
                lines.append(f"{label} {platform} {mode} {side}: {p['where']}{text}: {p['detail']}")
    return lines


def night_changes(results: dict[tuple, dict]) -> tuple[list[str], set[str]]:
    """Theme colours that stay the same in night mode, and the kinds of colour compared."""
    unchanged, compared = [], set()
    for (label, platform, mode, side), light in results.items():
        if mode != "light":
            continue
        night = results[(label, platform, "night", side)]["colours"]
        for key, colour in light["colours"].items():
            compared.add(key.split(" .")[0])  # "code .kn" -> "code"
            if night.get(key) == colour:
                unchanged.append(f"{label} {platform} {side}: {key} stays {colour}")
    return unchanged, compared


def report(lines: list[str]) -> str:
    return f"{len(lines)} problem(s):\n" + "\n".join(lines[:25])


# --- the bundled deck, rendered once for all the checks below -------------------------------


@pytest.fixture(scope="module")
def browser():
    with chromium() as instance:
        yield instance


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> Deck:
    tmp = tmp_path_factory.mktemp("bundled")
    build(BuildOptions(cards_dir=ROOT / "cards", media_dir=ROOT / "media", output=tmp / "deck.apkg"))
    return imported(tmp / "deck.apkg", tmp / "anki")


@pytest.fixture(scope="module")
def rendered(browser, bundled) -> dict[tuple, dict]:
    page = phone_page(browser, card_page_files(bundled.media))
    page.goto(ORIGIN)
    results = inspect(page, bundled.cards)
    shutil.rmtree(SHOTS, ignore_errors=True)
    for anki_card in bundled.cards:
        for mode in MODES:
            screenshot(page, anki_card, mode, shot_path(anki_card.label, mode))
    page.context.close()
    return results


@pytest.mark.browser
def test_every_card_of_the_bundled_deck_is_rendered(bundled, rendered):
    labels = {key[0] for key in rendered}
    assert len(bundled.cards) >= 20 and labels == {c.label for c in bundled.cards}
    assert len(rendered) == len(labels) * len(PLATFORMS) * len(MODES) * 2


@pytest.mark.browser
def test_no_card_scrolls_sideways_at_360px(rendered):
    lines = problems(rendered, "overflow")
    assert not lines, report(lines)


@pytest.mark.browser
def test_all_text_meets_wcag_aa_contrast_in_both_modes(rendered):
    lines = problems(rendered, "contrast")
    assert not lines, report(lines)


@pytest.mark.browser
def test_text_is_large_enough_to_read_on_a_phone(rendered):
    lines = problems(rendered, "size")
    assert not lines, report(lines)


@pytest.mark.browser
def test_code_is_left_aligned_on_every_platform(rendered):
    lines = problems(rendered, "align")
    assert not lines, report(lines)


@pytest.mark.browser
def test_images_load_fit_the_card_and_are_dark_at_night(rendered):
    lines = problems(rendered, "image")
    assert not lines, report(lines)


@pytest.mark.browser
def test_night_mode_changes_card_code_and_cloze_colours(rendered):
    unchanged, compared = night_changes(rendered)
    assert {"card background", "card text", "code background", "cloze", "code", "diagram filter"} <= compared
    assert not unchanged, report(unchanged)


@pytest.mark.browser
def test_a_screenshot_per_card_and_mode(bundled, rendered):
    missing = [shot_path(c.label, m) for c in bundled.cards for m in MODES if not shot_path(c.label, m).is_file()]
    assert not missing


@pytest.mark.browser
def test_readme_card_in_chromium(browser, bundled):
    """The README's card in Chromium (the README's screenshots come from the real Anki desktop:
    tests/test_anki_desktop.py, BUILD_DECK_UPDATE_SCREENSHOTS=1)."""
    page = phone_page(browser, card_page_files(bundled.media), scale=2)
    page.goto(ORIGIN)
    anki_card = next((c for c in bundled.cards if c.label == README_CARD), None)
    assert anki_card, f"the README's card {README_CARD} is not in the bundled deck any more; pick another"
    for mode in MODES:
        path = ARTIFACTS / "docs" / f"phone-{mode}.png"
        screenshot(page, anki_card, mode, path, full_page=False)
        assert path.stat().st_size > 10_000
    page.context.close()


# --- content the bundled deck does not have yet: wide tables, long lines, photos ------------


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid one-colour PNG (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def jpeg(browser, width: int, height: int) -> bytes:
    """A pale one-colour JPEG, encoded by the browser."""
    page = browser.new_page()
    url = page.evaluate(
        """([w, h]) => {
          const canvas = Object.assign(document.createElement("canvas"), { width: w, height: h });
          const ctx = canvas.getContext("2d");
          ctx.fillStyle = "#f0f0f0";
          ctx.fillRect(0, 0, w, h);
          return canvas.toDataURL("image/jpeg");
        }""",
        [width, height],
    )
    page.close()
    return base64.b64decode(url.split(",", 1)[1])


WIDE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 900 200" width="900" height="200">'
    b'<rect width="900" height="200" fill="#fff"/><text x="20" y="100" font-size="40">wide diagram</text></svg>'
)
EDGE_CASES = card(
    "edge-cases",
    "What happens to `keras.utils.image_dataset_from_directory_with_a_very_long_name` on a phone?",
    """
    A {{c1::very long line}} of code, a wide table and images wider than the screen:

    ```python
    history = model.fit(train_dataset, validation_data=validation_dataset, epochs=100, callbacks=[early_stopping])
    x = "a_single_unbreakable_token_that_is_much_longer_than_the_phone_screen_is_wide_at_all"
    ```

    ```
    Layer (type)                 Output Shape              Param #   Connected to
    =============================================================================
    dense (Dense)                (None, 64)                2112      input[0][0]
    ```

    | argument | default | meaning | example |
    |---|---|---|---|
    | `validation_split` | `0.0` | {{c2::fraction held out}} | `model.fit(x, y, validation_split=0.2)` |

    ![plot](plot.png) ![photo](photo.jpg) ![wide](wide.svg)

    See https://keras.io/api/models/model_training_apis/#fit-method-with-a-long-anchor-name too.
    """,
)


@pytest.mark.browser
def test_wide_content_stays_inside_a_phone_screen(browser, project, collection):
    media = {"plot.png": png(1200, 300, (250, 250, 250)), "photo.jpg": jpeg(browser, 1000, 250), "wide.svg": WIDE_SVG}
    project.write({"edge.md": EDGE_CASES}, media)
    project.build()
    import_package(collection, project.output)
    deck = Deck(anki_cards(collection), Path(collection.media.dir()))
    page = phone_page(browser, card_page_files(deck.media))
    page.goto(ORIGIN)
    results = inspect(page, deck.cards)
    for anki_card in deck.cards:
        for mode in MODES:
            screenshot(page, anki_card, mode, shot_path(anki_card.label, mode, ARTIFACTS / "phone-edge-cases"))
    page.context.close()
    lines = [line for check in ("overflow", "contrast", "size", "align", "image") for line in problems(results, check)]
    assert not lines, report(lines)
    unchanged, compared = night_changes(results)
    assert {"table header", "table border", "code background", "cloze", "diagram filter"} <= compared
    assert not unchanged, report(unchanged)


@pytest.mark.browser
def test_the_features_card_on_a_phone_in_light_and_night_mode(browser, project, collection):
    """Issue #17's syntax (dollar math, callouts, highlights, embeds, sounds, reversed and type-in cards)
    as the reviewer shows it on each client: nothing scrolls sideways, every text meets AA, and
    callouts and highlights change colour at night."""
    files, media = features_files()
    project.write(files, media)
    project.build()
    import_package(collection, project.output)
    deck = Deck(anki_cards(collection), Path(collection.media.dir()))
    assert {c.label for c in deck.cards} == {"softmax/qa", "softmax/reverse", "softmax/type"} | {
        f"softmax/cloze{n}" for n in range(1, 5)
    }
    page = phone_page(browser, card_page_files(deck.media))
    page.goto(ORIGIN)
    results = inspect(page, deck.cards)
    shown = {}
    for anki_card in deck.cards:
        for mode in MODES:
            screenshot(page, anki_card, mode, shot_path(anki_card.label, mode, ARTIFACTS / "phone-features"))
        shown[anki_card.label] = page.evaluate(
            """() => ({buttons: [...document.querySelectorAll("#qa .replay-button svg")].map(svg => svg.clientWidth),
                       box: document.querySelectorAll("#qa input#typeans").length,
                       good: document.querySelectorAll("#qa code#typeans .typeGood").length})"""
        )
    page.context.close()
    lines = [line for check in ("overflow", "contrast", "size", "align", "image") for line in problems(results, check)]
    assert not lines, report(lines)
    unchanged, compared = night_changes(results)
    assert {"callout background", "callout title", "highlight", "cloze", "diagram filter"} <= compared
    assert not unchanged, report(unchanged)
    # The back of the Q&A card plays the sound (Anki's button, 40 px); the type-in card's front has its box,
    # its back the comparison of the answer typed right.
    assert shown["softmax/qa"]["buttons"] == [40]
    assert shown["softmax/type"]["box"] == 0 and shown["softmax/type"]["good"] == 1


# --- the code palette, for every token class (no browser needed) ----------------------------


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(
    ("scope", "background"), [(".highlight", LIGHT_BACKGROUND), (".nightMode .highlight", NIGHT_BACKGROUND)]
)
def test_every_token_class_has_an_aa_colour_in_both_modes(scope, background):
    """Every class the highlighter can emit, not only those in the bundled deck; night covers all of light."""
    rules = dict(re.findall(rf"^{re.escape(scope)} \.(\w+) {{ color: (#[0-9A-Fa-f]{{6}})", card_css(), re.MULTILINE))
    classes = {css for css in STANDARD_TYPES.values() if css}
    assert classes <= rules.keys(), f"no colour for {sorted(classes - rules.keys())}"
    ratios = {css: round(_contrast(rules[css], background), 2) for css in classes}
    weak = {css: ratio for css, ratio in ratios.items() if ratio < 4.5}
    assert not weak, f"below 4.5:1 on {background}: {weak}"


def test_code_keeps_its_indentation(project, collection):
    """Wrapping must not be the only thing that moves code: Anki gets every leading space."""
    body = "```python\nclass A:\n    def f(self):\n        return 1\n```\n\n{{c1::x}}"
    project.write({"i.md": card("i", "Q", body)})
    project.build()
    import_package(collection, project.output)
    answer = cards_of(collection, "note:*Q&A")[0].answer()
    text = re.sub(r"<[^>]+>", "", answer.split("<pre", 1)[1])
    assert "\n    def f(self):\n        return 1\n" in text

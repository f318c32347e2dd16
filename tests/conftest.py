"""Shared helpers: card folders written from dicts, and a real Anki collection to import into."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import textwrap
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from keras_examples import pytest_terminal_summary  # noqa: F401  (how many Keras examples ran on which backend)

from deckbuilder.builder import BuildOptions, BuildResult, build
from deckbuilder.package import collection as collection_db
from deckbuilder.render.cache import default_cache_dir

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>'
# The first bytes of each kind of audio and video (what the media checks look at; Anki never decodes them).
SOUNDS = {
    ".mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(32),
    ".ogg": b"OggS\x00\x02" + bytes(32),
    ".m4a": b"\x00\x00\x00\x18ftypM4A " + bytes(32),
    ".mp4": b"\x00\x00\x00\x18ftypisom" + bytes(32),
    ".webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm" + bytes(16),
}


def wav(seconds: float = 0.25, hertz: int = 440) -> bytes:
    """A real, playable WAV: a short beep (8-bit mono, 8 kHz)."""
    import io
    import math
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(
            bytes(int(128 + 60 * math.sin(2 * math.pi * hertz * i / 8000)) for i in range(int(8000 * seconds)))
        )
    return buffer.getvalue()


# A card that uses every piece of syntax issue #17 added (dollar math, a reversed and a type-in card,
# audio, Obsidian's embeds, wikilinks, callouts, highlights and front-matter habits), with its media.
FEATURES_CARD = r"""---
id: softmax
tags: "#activations, probabilities output"
aliases: [Softmax function]
reverse: yes
type-answer: softmax
reference: https://keras.io/api/layers/activations/
---
# Which activation turns a layer's logits $z$ into probabilities?

==Softmax==: $\sigma(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}$, see [[Activations#Softmax|the activations note]].

$$\sum_i \sigma(z)_i = 1$$

> [!tip] Why it is used last
> The outputs are positive and {{c1::sum to 1}}, like a price of $5 and $10 split in shares (\$ signs stay text).

> [!warning]
> With `from_logits=True` the loss applies it itself: {{c2::no softmax}} in the model then.

Hear it: ![a short beep](beep.wav), and see it: ![[softmax.svg|240]]

The numerator is {{c3::$e^{z_i}$}}, and for two classes $\sigma(z)_1 = {{c4::\frac{1}{1 + e^{z_2 - z_1} } }}$.
"""
FEATURES_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 240 80" width="240" height="80">'
    b'<rect width="240" height="80" fill="#ffffff"/><path d="M10 70 C 80 70, 120 10, 230 10" fill="none" '
    b'stroke="#1f2328" stroke-width="3"/><text x="12" y="30" font-size="16" fill="#1f2328">softmax</text></svg>'
)


def features_files() -> tuple[dict[str, str], dict[str, bytes]]:
    """The cards and media of a deck holding FEATURES_CARD."""
    deck = "name: Features\nid: 1500000017\nnamespace: 5f0c1d2e-0000-4000-8000-000000000017\ntag: features\n"
    return {"deck.yaml": deck, "softmax.md": FEATURES_CARD}, {"beep.wav": wav(), "softmax.svg": FEATURES_SVG}


def card(card_id: str, question: str, body: str, extra: str = "") -> str:
    """A card file's text from its parts."""
    return f"---\nid: {card_id}\n{extra}---\n# {question}\n\n{textwrap.dedent(body).strip()}\n"


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``{relative path: content}`` under root and return root."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


class Project:
    """A deck project in a temporary folder: cards/, media/ and an output path."""

    def __init__(self, root: Path):
        self.root = root
        self.cards = root / "cards"
        self.media = root / "media"
        self.output = root / "out" / "deck.apkg"
        self.cards.mkdir(parents=True, exist_ok=True)
        self.media.mkdir(parents=True, exist_ok=True)

    def write(self, cards: dict[str, str | bytes] | None = None, media: dict[str, str | bytes] | None = None):
        write_tree(self.cards, cards or {})
        write_tree(self.media, media or {})
        return self

    def options(self, **overrides) -> BuildOptions:
        values = {"cards_dir": self.cards, "media_dir": self.media, "output": self.output}
        values["cache_dir"] = default_cache_dir()
        values.update(overrides)
        return BuildOptions(**values)

    def build(self, **overrides) -> BuildResult:
        return build(self.options(**overrides))


def pytest_configure(config) -> None:
    """Before any fixture (module-scoped ones too) can build: a render cache of the session's own,
    never the user's ~/.cache/build_deck."""
    session_cache = Path(tempfile.mkdtemp(prefix="build-deck-test-cache-"))
    os.environ["BUILD_DECK_CACHE"] = str(session_cache)
    config.add_cleanup(lambda: shutil.rmtree(session_cache, ignore_errors=True))


@pytest.fixture
def spy(monkeypatch):
    """The names of the card files actually read and rendered (cache misses) in this process, in order."""
    from deckbuilder.render import workers

    calls = []
    real = workers.process_file
    monkeypatch.setattr(workers, "process_file", lambda job, *rest: calls.append(job.path.name) or real(job, *rest))
    return calls


@pytest.fixture(scope="session")
def display(tmp_path_factory):
    """An X display of Xvfb's for the real Anki desktop (tests/anki_desktop.py), one for the whole run."""
    from anki_desktop import Xvfb, require_desktop

    require_desktop()
    server = Xvfb(tmp_path_factory.mktemp("xvfb") / "xvfb.log")
    yield server.display
    server.stop()


@pytest.fixture(autouse=True)
def render_cache(tmp_path: Path, monkeypatch) -> Path:
    """Each test gets its own render cache, away from the user's."""
    monkeypatch.setenv("BUILD_DECK_CACHE", str(tmp_path / "render-cache"))
    return tmp_path / "render-cache"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "project")


@pytest.fixture
def collection(tmp_path: Path):
    (tmp_path / "anki").mkdir()
    col = Collection(str(tmp_path / "anki" / "collection.anki2"))
    yield col
    col.close()


def import_package(col: Collection, apkg: Path):
    """Import with Anki's default options: don't merge note types, update notes and note types
    only if newer, no scheduling from the package. Returns the import log."""
    request = ImportAnkiPackageRequest(package_path=str(apkg), options=ImportAnkiPackageOptions())
    log = col.import_anki_package(request).log
    col.models._clear_cache()  # the Python note-type cache is stale after an import
    return log


def visible_text(html: str) -> str:
    """The text a person sees: no style block, no tags (so no attributes such as data-cloze)."""
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.DOTALL)
    return unescape(re.sub(r"<[^>]+>", "", html))


def blank(ordinal: int, shown: str = "[...]") -> re.Pattern:
    """The active cloze span as Anki renders it on a card."""
    return re.compile(rf'<span class="cloze"[^>]* data-ordinal="{ordinal}"[^>]*>{re.escape(shown)}</span>')


def cards_of(col: Collection, search: str = ""):
    """Cards matching an Anki search, in note then template order."""
    return sorted((col.get_card(cid) for cid in col.find_cards(search)), key=lambda c: (c.nid, c.ord))


def record_patches(monkeypatch) -> list[tuple[str, object]]:
    """Which of the two ways of patching each build took, and what it returned."""
    patched = []
    for name in ("patch_collection", "patch_collection_file"):
        real = getattr(collection_db, name)
        monkeypatch.setattr(
            collection_db, name, lambda *a, name=name, real=real: patched.append((name, real(*a))) or patched[-1][1]
        )
    return patched


class _MarkupEvents(HTMLParser):
    """Markup as a list of events (tags with their attributes, and text with entities decoded)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.events: list[tuple] = []

    def handle_starttag(self, tag, attrs):
        self.events.append(("start", tag, tuple(sorted(attrs))))

    def handle_endtag(self, tag):
        self.events.append(("end", tag))

    def handle_data(self, data):
        if self.events and self.events[-1][0] == "text":
            self.events[-1] = ("text", self.events[-1][1] + data)
        else:
            self.events.append(("text", data))


def events(markup: str) -> list[tuple]:
    parser = _MarkupEvents()
    parser.feed(markup)
    parser.close()
    return parser.events


def fixed_points_of_the_sanitiser(fields: list[str]) -> bool:
    """Whether sanitising leaves every field as it is (compared as markup: tags, attributes, decoded text).
    Images keep their packaged names (the sanitiser drops any other image)."""
    from deckbuilder.render.sanitize import sanitize

    for field in fields:
        sources = frozenset(re.findall(r'<img\b[^>]*\bsrc="([^"]+)"', field))
        assert events(sanitize(field, sources)) == events(field), field[:300]
    return True

"""build-deck serve: a real process watching real files, its page in a real browser (marker: browser).

Each test starts `python -m deckbuilder serve --port 0` (any free port) on a deck in a temporary
folder, changes files as editors do, and waits for the server to say a build is done (its /changes
answer counts builds); the browser tests watch the page reload itself in Chromium.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from browser import ARTIFACTS, ROOT, chromium
from conftest import SVG, card
from served import WAIT, Served

from deckbuilder.errors import Problem
from deckbuilder.live_page import LiveState, live_page_html
from deckbuilder.package.previous import read_previous

SHOTS = ARTIFACTS / "serve"
DECK = "name: Live\nid: 1234567890\nnamespace: 0b0c-live\n"


def cards(count: int, start: int = 0) -> dict[str, str]:
    """Small cards s/000.md... with ids c000...."""
    text = "Answer {{{{c1::{}}}}}."
    return {f"s/{i:03d}.md": card(f"c{i:03d}", f"Question {i}?", text.format(i)) for i in range(start, count)}


@pytest.fixture
def serve(project):
    """serve(*args): start build-deck serve on the project; stopped after the test."""
    started = []

    def start(*args: str) -> Served:
        started.append(Served(project, *args))
        return started[-1]

    yield start
    for served in started:
        served.stop()


@pytest.fixture
def deck(project):
    diagram = {"s/000.md": card("c000", "Question 0?", "A diagram: ![d](d.svg) {{c1::0}}")}
    return project.write({"deck.yaml": DECK, **cards(6), **diagram}, media={"d.svg": SVG})


def saved_by_rename(path: Path, text: str) -> None:
    """Save as vim and many IDEs do: write a temporary file beside it, then rename it over the file."""
    temporary = path.with_name(f".{path.name}.tmp{os.getpid()}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def saved_as_vim(path: Path, text: str) -> None:
    """vim's default save: a test file, the original renamed to a backup, the file written anew, the backup removed."""
    probe = path.with_name("4913")
    probe.write_text("")
    probe.unlink()
    backup = path.with_name(path.name + "~")
    os.replace(path, backup)
    path.write_text(text, encoding="utf-8")
    backup.unlink()


def settle_then_count(served: Served, project, expected: int) -> None:
    """After a build, one more (sentinel) change: had the change made a second build, the sentinel's
    would be one more than ``expected`` + 1."""
    time.sleep(0.5)  # a second build, if any, would have started by now (batches end after 50 ms of quiet)
    project.write({"sentinel.md": card("sentinel", "Sentinel?", f"Seen at {time.time()}")})
    served.wait_builds(expected + 1)
    time.sleep(0.5)
    assert served.builds() == expected + 1, served.output()


# --- the watcher ------------------------------------------------------------------------------


def test_a_save_by_rename_and_a_vim_save_each_make_exactly_one_build(deck, serve):
    served = serve()
    served.wait_builds(1)
    saved_by_rename(deck.cards / "s/001.md", card("c001", "Question 1?", "Renamed {{c1::save}}."))
    news = served.wait_builds(2)
    assert news["changed"] == ["c001"]
    saved_as_vim(deck.cards / "s/002.md", card("c002", "Question 2?", "Vim {{c1::save}}."))
    news = served.wait_builds(3)
    assert news["changed"] == ["c002"]
    settle_then_count(served, deck, 3)


def test_a_burst_of_saves_makes_one_build_with_the_last_text(deck, serve):
    served = serve()
    served.wait_builds(1)
    for i in range(20):
        for name in ("001", "002", "003"):
            (deck.cards / f"s/{name}.md").write_text(card(f"c{name}", "Q?", f"Burst {i} {{{{c1::x}}}}"))
    news = served.wait_builds(2)
    assert news["changed"] == ["c001", "c002", "c003"]
    assert "Burst 19" in served.page() and "Burst 18" not in served.page()
    settle_then_count(served, deck, 2)


def test_files_and_folders_added_renamed_and_removed(deck, serve):
    served = serve()
    builds = served.wait_builds(1)["builds"]

    def after(change) -> set[str]:
        nonlocal builds
        change()
        builds += 1
        served.wait_builds(builds)
        return {note.card_id for note in read_previous(deck.output).notes.values()}

    assert "c100" in after(lambda: deck.write(cards(101, start=100)))  # a file added
    assert "c100" not in after(lambda: (deck.cards / "s/100.md").unlink())  # removed
    folders = {"new/deep/n1.md": card("n1", "N1?", "x"), "new/n2.md": card("n2", "N2?", "y")}
    assert {"n1", "n2"} <= after(lambda: deck.write(folders))  # folders added
    assert "New" in served.page()
    after(lambda: (deck.cards / "new").rename(deck.cards / "2-renamed"))  # a folder renamed
    page = served.page()
    assert "Renamed" in page and ">New<" not in page and "card-n1" in page
    kept = after(lambda: shutil.rmtree(deck.cards / "2-renamed"))  # a folder removed
    assert not {"n1", "n2"} & kept and "c001" in kept
    assert "card-n1" not in served.page()


def test_deck_yaml_media_and_the_note_types_css_are_watched(deck, serve):
    served = serve()
    served.wait_builds(1)
    deck.write({"deck.yaml": DECK.replace("Live", "Renamed Live")})
    served.wait_builds(2)
    assert "<h1>Renamed Live</h1>" in served.page()
    name = re.search(r'src="(d-[0-9a-f]+\.svg)"', served.page()).group(1)
    deck.write(media={"d.svg": SVG.replace(b"10", b"20")})
    served.wait_builds(3)
    renamed = re.search(r'src="(d-[0-9a-f]+\.svg)"', served.page()).group(1)
    assert renamed != name  # the image's content changed, so did its name in the package
    with urllib.request.urlopen(served.url + renamed) as answer:
        assert answer.read() == SVG.replace(b"10", b"20") and answer.headers["Content-Type"] == "image/svg+xml"


def test_the_bundled_deck_is_served_with_its_images(project, serve):
    shutil.copytree(ROOT / "cards", project.cards, dirs_exist_ok=True)
    shutil.copytree(ROOT / "media", project.media, dirs_exist_ok=True)
    served = serve()
    assert not served.wait_builds(1)["failed"]
    page = served.page()
    ids = {note.card_id for note in read_previous(project.output).notes.values()}
    assert ids and all(f'id="card-{card_id}"' in page for card_id in ids)  # one page holds them all
    for name in set(re.findall(r'<img[^>]* src="([^"]+)"', page)):
        with urllib.request.urlopen(served.url + name, timeout=WAIT) as answer:
            assert answer.status == 200 and answer.headers["Content-Type"].startswith("image/"), name


def test_the_note_types_css_is_watched(project):
    from deckbuilder.package import notetypes
    from deckbuilder.serve import LiveDeck
    from deckbuilder.session import NOTE_TYPE_CSS, BuildSession

    assert NOTE_TYPE_CSS.read_text(encoding="utf-8") in notetypes.card_css()
    live = LiveDeck(project.options(), 0)
    try:
        assert NOTE_TYPE_CSS.parent in live.watched()
        assert live.session.affects(NOTE_TYPE_CSS, project.cards, project.media)
    finally:
        live.server.stop()
    session = BuildSession()
    notetypes.card_css()
    session.touch([NOTE_TYPE_CSS])  # as the watcher reports an edit: the next build reads it again
    assert notetypes.card_css.cache_info().currsize == 0


# --- the process ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_stops_it_quietly(deck, serve, how):
    served = serve()
    served.wait_builds(1)
    assert served.stop(how) in (0, 130)
    assert "Traceback" not in served.output() and not "".join(served.err).strip(), served.output()
    assert served.out[-1] == "stopped\n"


def test_a_port_in_use_is_a_clear_error(deck):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "deckbuilder", "serve", "--port", str(port), "--cards", str(deck.cards),
                   "-o", str(deck.output)]  # fmt: skip
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 1
    assert done.stderr.startswith(f"build_deck: error: port {port} is in use; "), done.stderr
    assert "Traceback" not in done.stderr and not deck.output.exists()


def test_it_listens_on_127_0_0_1_only_and_answers_only_requests_naming_it(deck, serve):
    served = serve()
    served.wait_builds(1)
    assert "preview-main" in served.page()
    with pytest.raises(ConnectionRefusedError):  # another loopback address: not listened on
        socket.create_connection(("127.0.0.2", served.port), timeout=5).close()
    rebound = urllib.request.Request(served.url, headers={"Host": f"attacker.example:{served.port}"})
    with pytest.raises(urllib.error.HTTPError) as refused:  # a page whose name was made to point here
        urllib.request.urlopen(rebound, timeout=WAIT)
    assert refused.value.code == 403
    with pytest.raises(urllib.error.HTTPError) as missing:  # no file but the cards' images is served
        urllib.request.urlopen(served.url + "deck.yaml", timeout=WAIT)
    assert missing.value.code == 404


def test_errors_show_in_the_terminal_and_the_package_stays_byte_identical(deck, serve):
    served = serve()
    served.wait_builds(1)
    good = deck.output.read_bytes()
    deck.write({"s/001.md": card("c001", "Q?", "Broken {{c1::cloze")})
    news = served.wait_builds(2)
    assert news["failed"] and news["problems"] == 1
    assert deck.output.read_bytes() == good
    served._wait(lambda: any("error(s)" in line for line in served.err), "the error summary")
    errors = "".join(served.err)
    assert re.search(r"^s/001\.md:\d+: error: .*cloze", errors, re.MULTILINE), errors
    assert "build_deck: 1 error(s), 0 warning(s); the package was not written (the last good one is kept)" in errors
    deck.write({"s/001.md": card("c001", "Q?", "Fixed {{c1::cloze}}")})
    news = served.wait_builds(3)
    assert not news["failed"] and news["problems"] == 0 and news["changed"] == ["c001"]
    assert deck.output.read_bytes() != good


def test_a_first_build_with_errors_keeps_serving_until_fixed(project, serve):
    project.write({"deck.yaml": DECK, "a.md": card("a", "A?", "{{c1::open")})
    served = serve()
    assert served.wait_builds(1)["failed"] and "No cards yet" in served.page()
    assert not project.output.exists()
    project.write({"a.md": card("a", "A?", "{{c1::closed}}")})
    assert not served.wait_builds(2)["failed"]
    assert "card-a" in served.page() and project.output.exists()


def test_a_missing_cards_folder_is_an_error(tmp_path):
    command = [sys.executable, "-m", "deckbuilder", "serve", "--port", "0", "--cards", str(tmp_path / "none")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=WAIT)
    assert done.returncode == 1 and "cards folder not found" in done.stderr and "Traceback" not in done.stderr


def test_problems_in_the_page_are_escaped():
    problem = Problem("a.md", 3, "error", "image '<img src=x onerror=alert(1)>.svg' not found")
    page = live_page_html([], "Deck <b>", 1, LiveState(2, (problem,), True), "n0nce")
    banner = re.search(r'<div id="preview-problems".*?</div>', page, re.DOTALL).group(0)
    assert "&lt;img src=x onerror=alert(1)&gt;" in banner and "<img" not in banner
    assert "<title>Deck &lt;b&gt;: card preview</title>" in page


# --- the page in a browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    with chromium() as instance:
        yield instance


def open_page(browser, url: str, width: int = 1000):
    # Playwright's own waiting (wait_for_function) evaluates strings, which the page's policy forbids.
    context = browser.new_context(viewport={"width": width, "height": 800}, bypass_csp=True)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("window.previewShown && document.querySelector('.preview-note')")
    return page


def wait_shown(page, version: int) -> None:
    """Wait until the page shows a build after ``version`` (its script marks each one it shows)."""
    page.wait_for_function(f"window.previewShown.version > {version}", timeout=WAIT * 1000)


def screen_top(page, card_id: str) -> float:
    return page.evaluate(f"document.getElementById('card-{card_id}').getBoundingClientRect().top")


@pytest.mark.browser
def test_the_page_reloads_after_an_edit_keeping_its_place_switches_and_marking_the_card(deck, serve, browser):
    served = serve()
    served.wait_builds(1)
    page = open_page(browser, served.url)
    page.check("#preview-night")
    page.evaluate("document.getElementById('card-c003').scrollIntoView()")
    page.evaluate("window.scrollBy(0, -40)")
    before, version = screen_top(page, "c003"), page.evaluate("window.previewShown.version")
    saved_by_rename(deck.cards / "s/003.md", card("c003", "Question 3?", "Edited in place {{c1::3}}."))
    wait_shown(page, version)
    assert "Edited in place" in page.text_content("#card-c003")
    assert abs(screen_top(page, "c003") - before) < 2  # the place on the page is kept
    assert page.evaluate("[...document.querySelectorAll('.preview-changed')].map(e => e.id)") == ["card-c003"]
    assert page.is_checked("#preview-night")  # the switches keep their state, and the new cards follow it
    assert page.evaluate("[...document.querySelectorAll('.preview-face > .card')].every(c => "
                         "c.classList.contains('nightMode'))")  # fmt: skip
    # An edit of a card out of view brings it into view, and the mark moves to it.
    version = page.evaluate("window.previewShown.version")
    page.evaluate("window.scrollTo(0, 0)")
    deck.write({"s/005.md": card("c005", "Question 5?", "Far below {{c1::5}}.")})
    wait_shown(page, version)
    assert page.evaluate("[...document.querySelectorAll('.preview-changed')].map(e => e.id)") == ["card-c005"]
    top = screen_top(page, "c005")
    assert 0 <= top < 800, top
    page.reload()  # a whole new load keeps the switches too
    page.wait_for_function("window.previewShown")
    assert page.is_checked("#preview-night")


@pytest.mark.browser
def test_an_error_appears_escaped_at_the_top_and_clears_when_fixed(deck, serve, browser):
    served = serve()
    served.wait_builds(1)
    good = deck.output.read_bytes()
    page = open_page(browser, served.url, width=360)
    version = page.evaluate("window.previewShown.version")
    hostile = "<b>x</b><img/src=x/onerror=window.pwned=1>.svg"  # quoted by the error message
    deck.write({"s/002.md": card("c002", "Question 2?", f"Broken ![x]({hostile}) {{{{c1::2}}}}.")})
    wait_shown(page, version)
    banner = page.locator("#preview-problems")
    assert "1 error(s), 1 warning(s): the package was not written" in banner.inner_text()
    assert f"s/002.md:6: error: image '{hostile}' not found" in banner.inner_text()
    assert banner.locator("b, img").count() == 0 and not page.evaluate("window.pwned")
    shown = page.text_content("#card-c002")  # (out of view: not laid out, so no inner_text)
    assert "Answer" in shown and "Broken" not in shown  # the last good card is still shown
    assert banner.is_visible() and banner.bounding_box()["y"] < 100  # at the top
    assert deck.output.read_bytes() == good
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "error.png"))
    version = page.evaluate("window.previewShown.version")
    deck.write({"s/002.md": card("c002", "Question 2?", "Fixed {{c1::2}}.")})
    wait_shown(page, version)
    assert page.locator("#preview-problems").inner_text() == ""
    assert "Fixed" in page.text_content("#card-c002") and deck.output.read_bytes() != good


@pytest.mark.browser
def test_an_edit_on_another_page_takes_the_page_there(project, serve, browser):
    project.write({"deck.yaml": DECK, **cards(120)})
    served = serve()
    served.wait_builds(1)
    page = open_page(browser, served.url)
    assert "page 1 of 3" in page.inner_text("#preview-pager")
    version = page.evaluate("window.previewShown.version")
    project.write({"s/110.md": card("c110", "Question 110?", "On the last page {{c1::110}}.")})
    wait_shown(page, version)
    assert "page 3 of 3" in page.inner_text("#preview-pager") and page.url.endswith("?page=3")
    assert page.evaluate("[...document.querySelectorAll('.preview-changed')].map(e => e.id)") == ["card-c110"]
    assert 0 <= screen_top(page, "c110") < 800


@pytest.mark.browser
@pytest.mark.skipif(os.environ.get("BUILD_DECK_UPDATE_SCREENSHOTS") != "1", reason="BUILD_DECK_UPDATE_SCREENSHOTS=1")
def test_readme_screenshot_of_an_error_in_the_page(project, serve, browser):
    """docs/serve-error.png: the bundled deck, a card saved with a typo in a cloze."""
    shutil.copytree(ROOT / "cards", project.cards, dirs_exist_ok=True)
    shutil.copytree(ROOT / "media", project.media, dirs_exist_ok=True)
    served = serve()
    served.wait_builds(1)
    page = open_page(browser, served.url, width=900)
    version = page.evaluate("window.previewShown.version")
    path = sorted(project.cards.glob("1-*/*.md"))[0]
    path.write_text(path.read_text(encoding="utf-8") + "\nA typo in a {{c1:cloze}}.\n", encoding="utf-8")
    wait_shown(page, version)
    assert page.locator("#preview-problems").inner_text()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ROOT / "docs" / "serve-error.png"))

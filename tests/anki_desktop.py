"""The real Anki desktop (aqt, Qt WebEngine) under Xvfb, driven by the tests.

Anki runs as its own process with a throwaway base folder and a small add-on that runs the
test's commands inside the app: each command is Python code, written to a file; the add-on
runs it on Anki's main thread with ``mw`` in scope and writes back the value of its last
expression, or the traceback. On top of that the tests get a tiny API:

    app.run("mw.col.card_count()")          Python inside Anki; returns the last expression
    app.js("document.body.className")       JavaScript in the reviewer's page; returns its value
    app.import_package(apkg)                Anki's own import dialog, default options, Import
    app.finish_import()                     the same, in a dialog something else opened
    app.show(card_id, answer=True, night=True)   a card in the reviewer (real template and CSS)
    app.study(deck, 20)                     the deck's Study button, then Show Answer / Good
    app.screenshot(path)                    the main window as a PNG

Without Xvfb or aqt the tests are skipped, unless BUILD_DECK_REQUIRE_ANKI_DESKTOP=1 (CI),
where that is a failure. /work/shared/ANKI.md, "The real Anki desktop, headless", lists
what it takes to start Anki this way.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from importlib.util import find_spec
from pathlib import Path

import pytest

REQUIRE = "BUILD_DECK_REQUIRE_ANKI_DESKTOP"
PROFILE = "User 1"
START_TIMEOUT = 120  # seconds; Anki starts in about 5 on an idle 2-core machine
COMMAND_TIMEOUT = 60
SCREEN = "1600x3200x24"  # tall enough for a whole card in one window (README screenshots)
PHONE_WIDTH = (360, 412)  # CSS pixels: the narrowest to the widest common phone


def anki_entry_point() -> Path:
    """The `anki` script next to this Python (the venv's bin folder)."""
    return Path(sys.executable).parent / "anki"


def require_desktop() -> None:
    """Skip without Xvfb or aqt; fail instead when BUILD_DECK_REQUIRE_ANKI_DESKTOP=1."""
    missing = []
    if not shutil.which("Xvfb"):
        missing.append("Debian's xvfb (apt-get install xvfb)")
    if find_spec("aqt") is None or not anki_entry_point().exists():
        missing.append("Anki desktop (pip install 'aqt[qt]')")
    if not missing:
        return
    reason = f"not installed: {' and '.join(missing)}; the real-Anki tests need it"
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{REQUIRE}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


class Xvfb:
    """A virtual X display; Xvfb picks a free display number itself (-displayfd)."""

    def __init__(self, log: Path):
        read, write = os.pipe()
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                ["Xvfb", "-displayfd", str(write), "-screen", "0", SCREEN, "-nolisten", "tcp"],
                pass_fds=(write,),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        os.close(write)
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()  # written once the display accepts clients
        if not number:
            self.stop()
            raise RuntimeError(f"Xvfb did not start: {log.read_text(errors='replace')[-2000:]}")
        self.display = f":{number}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class AnkiError(AssertionError):
    """A command failed inside Anki; the message holds the add-on's traceback."""


# Pre-seeds the base folder the way a user's first run leaves it, so that no language
# dialog, update check or profile chooser appears. Runs in a child Python: importing aqt
# in the test process would set Qt's environment there.
SEED = """
import sys
from pathlib import Path
from aqt.profiles import ProfileManager

pm = ProfileManager(Path(sys.argv[1]))
pm.setupMeta()
pm.setLang("en_US")
pm.create(sys.argv[2])
pm.load(sys.argv[2])
pm.meta["updates"] = False
pm.meta["firstRun"] = False
pm.set_update_check(False)
pm.set_check_for_addon_updates(False)
pm.profile["autoSync"] = False
pm.profile["syncMedia"] = False
pm.save()
"""

# The add-on. It polls the command folder on Anki's main thread; commands share one scope
# holding `mw` and the helpers below, which do in the app what a user does.
ADDON = r'''
"""Runs build_deck's test commands inside Anki (written by tests/anki_desktop.py)."""
import ast
import json
import os
import time
import traceback
from pathlib import Path

from aqt import gui_hooks, mw
from aqt.qt import QApplication, QEventLoop, Qt, QTimer
from aqt.theme import Theme

INBOX = Path(os.environ["BUILD_DECK_ANKI_COMMANDS"])


def pause(ms=50):
    """Let Qt run (paint, load pages, finish background work) for a moment."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(predicate, timeout=30, what="a condition"):
    """Poll predicate() while Qt keeps running; return its first true value."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout}s for {what}")
        pause()
    return value


class NoReply(RuntimeError):
    """The page did not answer: it was being replaced (Anki reloads pages after changes)."""


def js(code, web=None, timeout=15):
    """The completion value of JavaScript in a web view (the main window's by default).
    Runs on the page shown now: Anki's own eval() queue is dropped when a page reloads."""
    web = web or mw.web
    wrapped = (
        "(() => { try { return JSON.stringify({value: eval(%s) ?? null}); }"
        " catch (e) { return JSON.stringify({error: String(e && e.stack || e)}); } })()"
    ) % json.dumps(code)
    box = []
    web.page().runJavaScript(wrapped, box.append)
    try:
        wait_for(lambda: box, timeout, "JavaScript to return")
    except TimeoutError:
        raise NoReply(f"no reply in {timeout}s from: {code[:300]}") from None
    if not box[0]:
        raise NoReply(f"no result (page replaced?) from: {code[:300]}")
    reply = json.loads(box[0])
    if "error" in reply:
        raise RuntimeError("JavaScript error: " + reply["error"])
    return reply["value"]


def wait_js(code, web=None, timeout=30, what=None):
    """Poll JavaScript until it returns a true value, across page reloads."""

    def probe():
        try:
            return js(code, web, timeout=5)
        except NoReply:
            return None

    return wait_for(probe, timeout, what or code[:200])


# --- what a user does ---------------------------------------------------------------------

IMPORT_BUTTON = "[...document.querySelectorAll('button')].find(b => b.innerText.trim() == 'Import')"


def import_package(path):
    """Open the file (as a double-click does), keep the default options, click Import,
    read the log, close the window. Returns the log's overview."""
    mw.handleImport(path)
    return finish_import()


def finish_import(timeout=30):
    """In the import dialog open now (or within ``timeout`` s: something else, such as a second
    Anki handing over a file, may be opening it), keep the default options, click Import, read
    the log, close the window. Returns the log's overview."""
    from aqt.import_export.import_dialog import ImportDialog

    def dialog():
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, ImportDialog) and w.isVisible()), None)

    window = wait_for(dialog, timeout, what="the import dialog")
    wait_for(window.web.isVisible, what="the import page")
    wait_js(f"!!{IMPORT_BUTTON}", window.web, what="its Import button")
    js(f"{IMPORT_BUTTON}.click()", window.web)
    # The page tells Anki when the import is done (the dialog stops being modal), then
    # shows the log ("Gathering data..." until then).
    wait_for(lambda: window.windowModality() == Qt.WindowModality.NonModal, 120, "the import to finish")
    log = wait_js("document.querySelector('h1')?.innerText == 'Overview' && document.body.innerText",
                  window.web, what="the import log")
    window.reject()
    wait_for(lambda: not mw.progress.busy(), what="Anki to finish the import")
    mw.activateWindow()
    mw.web.setFocus()  # no window manager: the main window does not get the focus back itself
    overview = log.split("\nDetails")[0]  # the table below lists only the first notes
    return overview.replace("\u2068", "").replace("\u2069", "")  # Fluent's bidi isolation marks


# Which update of the reviewer is on screen: every card it shows gets a hidden element with
# a fresh token (card_will_show is how add-ons change what the reviewer shows). The
# reviewer updates #qa in a queue of promises and MathJax typesets last: the token in the
# page and #qa's opacity back at 1 say that this card is shown, typeset, images loaded.
shown_token = None
shows = 0


def mark_shown(html, card, kind):
    global shown_token, shows
    if kind in ("reviewQuestion", "reviewAnswer"):
        shows += 1
        shown_token = f"{card.id}-{kind}-{shows}"
        html += f'<i hidden id="harness-shown" data-token="{shown_token}"></i>'
    return html


gui_hooks.card_will_show.append(mark_shown)

SHOWN = """(token => {
  const qa = document.getElementById('qa');
  return !!qa && qa.style.opacity === '1' && document.getElementById('harness-shown')?.dataset.token === token
      && [...document.images].every(img => img.complete);
})(%s)"""


def has_script():
    try:
        return js("typeof _showQuestion === 'function'", timeout=5)
    except NoReply:
        return False


def wait_shown(step, what):
    """Wait until the reviewer's latest card is on screen. Now and then the first update
    after the reviewer's page loads is lost (a blank page, no card class on the body), or the
    page comes without its script (reviewer.js: "_showQuestion is not defined" in the log):
    then load the page again if it has no script, and show the card again (``step``), up to twice."""
    for attempt in range(3):
        try:
            return wait_js(SHOWN % json.dumps(shown_token), timeout=10, what=what)
        except TimeoutError:
            if attempt == 2:
                raise
            print(f"build_deck harness: {what} did not show; showing it again")
            if not has_script():
                mw.reviewer._initWeb()
                wait_js("typeof _showQuestion === 'function'", timeout=10, what="the reviewer's script")
            step()


def until_shown(step, what="the reviewer to show the card"):
    step()
    wait_shown(step, what)


def set_night(night):
    mw.set_theme(Theme.DARK if night else Theme.LIGHT)


def show(card_id, answer=False):
    """Show a card in the reviewer with its real template, CSS and body classes."""
    card = mw.col.get_card(card_id)
    if mw.state != "review":
        mw.col.decks.select(card.did)
        mw.moveToState("review")
        wait_for(lambda: mw.reviewer.card, what="the reviewer's first card")
        wait_shown(mw.reviewer._showQuestion, "the reviewer's first card")
    mw.reviewer.card = card
    until_shown(mw.reviewer._showQuestion)
    if answer:
        until_shown(mw.reviewer._showAnswer)


def open_deck(name):
    """What clicking the deck in the deck list and then Study now does (their link handlers)."""
    mw.moveToState("deckBrowser")
    mw.deckBrowser._linkHandler(f"open:{mw.col.decks.id_for_name(name)}")
    wait_for(lambda: mw.state == "overview" and not mw.progress.busy(), what="the deck's overview")
    mw.overview._linkHandler("study")
    wait_for(lambda: mw.state == "review" and mw.reviewer.state == "question", what="the first card")
    wait_shown(mw.reviewer._showQuestion, "the first card")


def study(name, count, ease):
    """Study the deck as a user does: Show Answer, then the ease button, ``count`` times.
    Returns the ids of the cards shown, in order."""
    open_deck(name)
    shown = []
    for _ in range(count):
        if mw.state != "review":
            break  # nothing left to study today
        shown.append(mw.reviewer.card.id)
        until_shown(mw.reviewer._showAnswer, "the answer")
        answered = shown_token
        mw.reviewer._answerCard(ease)
        wait_for(lambda: mw.state != "review" or (mw.reviewer.state == "question" and shown_token != answered),
                 what="the next card")
        if mw.state == "review":
            wait_shown(mw.reviewer._showQuestion, "the next card")
    return shown


def cards_of(source_id):
    """{"qa": card id, "cloze1": card id, ...} for the notes of one card file (field Id)."""
    found = {}
    for cid in mw.col.find_cards(f'"Id:{source_id}"'):
        card = mw.col.get_card(cid)
        if card.note()["Id"] != source_id:
            continue  # "_" matches any character in a search
        is_cloze = card.note_type()["type"] == 1  # MODEL_CLOZE
        found[f"cloze{card.ord + 1}" if is_cloze else "qa"] = cid
    return found


scope = {name: value for name, value in globals().items() if not name.startswith("_")}


def run(code):
    """exec the code in the shared scope; a final expression is returned, as in a REPL."""
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<test command>", "exec"), scope)
    if last is not None:
        return eval(compile(ast.Expression(last.value), "<test command>", "eval"), scope)


def plain(value):
    """JSON for what json cannot write: sequences (Anki returns protobuf ones) as lists."""
    try:
        return list(value)
    except TypeError:
        return repr(value)


busy = False


def poll():
    global busy
    if busy:  # a command is waiting in a nested event loop
        return
    busy = True
    try:
        for command in sorted(INBOX.glob("*.py")):
            code = command.read_text(encoding="utf-8")
            command.unlink()
            try:
                reply = {"value": run(code)}
            except BaseException:
                reply = {"error": traceback.format_exc()}
            answer = command.with_suffix(".part")
            answer.write_text(json.dumps(reply, default=plain), encoding="utf-8")
            answer.rename(command.with_suffix(".json"))
    finally:
        busy = False


timer = QTimer(mw)
timer.timeout.connect(poll)
timer.start(20)
gui_hooks.profile_did_open.append(lambda: QTimer.singleShot(0, lambda: (INBOX / "ready").write_text("ready")))
'''


class AnkiDesktop:
    """One Anki desktop process with a fresh base folder (profile, collection, add-on)."""

    def __init__(self, base: Path, display: str, scale: float = 1):
        self.base = base
        self.inbox = base / "harness"
        self.log = base / "anki.log"
        self.count = 0
        self.process = None
        self._prepare()
        self._start(display, scale)

    def _prepare(self) -> None:
        self.inbox.mkdir(parents=True)
        (self.base / "gldriver6").write_text("software")
        subprocess.run([sys.executable, "-c", SEED, str(self.base), PROFILE], check=True, timeout=120)
        addon = self.base / "addons21" / "build_deck_harness" / "__init__.py"
        addon.parent.mkdir(parents=True)
        addon.write_text(ADDON, encoding="utf-8")

    def _start(self, display: str, scale: float) -> None:
        self.env = env = dict(os.environ)  # also what a second Anki needs to find this one (see --open)
        env.update(
            DISPLAY=display,
            QT_QPA_PLATFORM="xcb",
            QTWEBENGINE_CHROMIUM_FLAGS="--no-sandbox --disable-gpu",
            QTWEBENGINE_DISABLE_SANDBOX="1",
            LANG="C.UTF-8",
            QT_SCALE_FACTOR=str(scale),  # 2: sharp screenshots, same CSS pixels
            # Anki hands its arguments to a running Anki of the same user and exits: another
            # test's, or the developer's own. A key of our own keeps each instance apart.
            ANKI_SINGLE_INSTANCE_KEY=f"build-deck-test-{os.getpid()}-{id(self)}",
            BUILD_DECK_ANKI_COMMANDS=str(self.inbox),
        )
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                [str(anki_entry_point()), "-b", str(self.base), "-p", PROFILE],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: QtWebEngineProcess goes with it
            )
        self._wait_for_file(self.inbox / "ready", START_TIMEOUT, "Anki to open the profile")

    def stop(self) -> None:
        """End Anki's process group (the app and its web engine processes)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def _wait_for_file(self, path: Path, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not path.exists():
            if self.process.poll() is not None:
                raise AnkiError(f"Anki exited ({self.process.returncode}) while waiting for {what}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AnkiError(f"timed out after {timeout}s waiting for {what}; Anki's log:\n{self.log_tail()}")
            time.sleep(0.01)

    # --- the API the tests use -----------------------------------------------------------

    def run(self, source: str, timeout: float = COMMAND_TIMEOUT, **values):
        """Run Python inside Anki and return the value of its final expression. ``values``
        become variables of the command (they travel as JSON)."""
        self.count += 1
        prelude = "".join(f"{name} = json.loads({json.dumps(json.dumps(v))})\n" for name, v in values.items())
        code = ("import json\n" + prelude if values else "") + textwrap.dedent(source).strip()
        name = f"{self.count:05d}"
        part = self.inbox / f"{name}.part-in"
        part.write_text(code, encoding="utf-8")
        part.rename(self.inbox / f"{name}.py")  # the add-on sees only complete files
        answer = self.inbox / f"{name}.json"
        self._wait_for_file(answer, timeout, f"command {name}:\n{code}")
        reply = json.loads(answer.read_text(encoding="utf-8"))
        answer.unlink()
        if "error" in reply:
            raise AnkiError(f"inside Anki:\n{code}\n--- traceback ---\n{reply['error']}")
        return reply["value"]

    def js(self, code: str, timeout: float = 15):
        """The completion value of JavaScript run in the reviewer's (the main window's) page."""
        return self.run("js(script, timeout=limit)", script=code, limit=timeout, timeout=timeout + 10)

    def import_package(self, apkg: Path) -> str:
        """Import through Anki's own dialog with its default options; returns the log's text."""
        return self.run("import_package(path)", path=str(apkg), timeout=180)

    def finish_import(self, timeout: float = 60) -> str:
        """Click Import in the import dialog that something else opened (or opens within ``timeout``
        seconds); returns the log's text."""
        return self.run("finish_import(limit)", limit=timeout, timeout=timeout + 180)

    def show(self, card_id: int, answer: bool = False, night: bool | None = None) -> None:
        """Show a card in the reviewer, optionally after turning night mode on or off."""
        night_switch = "" if night is None else "set_night(night)\n"
        self.run(night_switch + "show(card_id, answer)", card_id=card_id, answer=answer, night=night)

    def study(self, deck: str, count: int, ease: int = 3) -> list[int]:
        """Open the deck, press Study, then Show Answer and (3 =) Good ``count`` times."""
        return self.run("study(deck, count, ease)", deck=deck, count=count, ease=ease, timeout=30 + 10 * count)

    def cards_of(self, source_id: str) -> dict[str, int]:
        """{"qa": id, "cloze1": id, ...}: the Anki cards made from one card file."""
        return self.run("cards_of(source_id)", source_id=source_id)

    def phone_width(self) -> int:
        """Make the reviewer phone-sized: the narrowest window Anki allows (400 px), then
        View > Zoom In once (as a user would); returns the page's width in CSS pixels."""
        return self.run(
            """
            mw.resize(mw.minimumSizeHint().width(), 900)
            mw.web.setZoomFactor(1)
            mw.form.actionZoomIn.trigger()
            pause(200)
            js("window.innerWidth")
            """
        )

    def screenshot(self, path: Path, widget: str = "mw") -> Path:
        """The main window (or another widget, e.g. "mw.web") as a PNG."""
        path.parent.mkdir(parents=True, exist_ok=True)
        assert self.run(f"pause(100); {widget}.grab().save(path)", path=str(path)), f"could not save {path}"
        return path

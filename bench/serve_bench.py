"""The benchmark's rows for build-deck serve, on the same synthetic deck as the others.

- **save to page**: a `build-deck serve` process (its cache warm, as after any earlier build) and its
  page in Chromium; a card in view is saved, and the time from the save to the page showing the new
  card (the page's own clock, which is this machine's, when the card is in place) is taken, for cards
  all over the first page. The median, and the slowest.
- **memory after many edits**: the same process, one card saved after another (a different card each
  time), each edit waited for until its build is done (package written); the process's memory (PSS)
  after the first few edits and after the last.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WAIT = 120  # seconds for any one build


class Serving:
    """`python -m deckbuilder serve` on a deck, asked through its /changes answer."""

    def __init__(self, cards: Path, media: Path, output: Path, env: dict):
        command = [sys.executable, "-m", "deckbuilder", "serve", "-q", "--port", "0", "--cards", str(cards),
                   "--media", str(media), "-o", str(output)]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        self.url = re.search(r"http://\S+/", self.process.stdout.readline()).group(0)
        self.builds = 0
        self.wait_for(1)

    def news(self) -> dict:
        with urllib.request.urlopen(self.url + "changes?since=-1", timeout=WAIT) as answer:
            return json.load(answer)

    def wait_for(self, builds: int) -> None:
        """Until ``builds`` builds are done, package written."""
        deadline = time.monotonic() + WAIT
        while (news := self.news())["builds"] < builds or news["building"]:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit(f"build-deck serve: no build {builds} (exit status {self.process.poll()})")
            time.sleep(0.02)
        self.builds = news["builds"]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)  # (SIGINT is ignored by a process started in the background)
        self.process.wait(WAIT)


def edit(path: Path, number: int) -> None:
    """Save the card with its last line saying which edit this is (written in place, as most editors do)."""
    text = re.sub(r"\nEdit number \d+\.\n$", "\n", path.read_text(encoding="utf-8"))
    path.write_text(f"{text}\nEdit number {number}.\n", encoding="utf-8")


def card_file(cards: Path, note_id: str) -> Path:
    """The file of a synthetic card (bench-00042 is .../00042.md, see synth.py)."""
    return next(cards.rglob(f"{note_id.removeprefix('card-bench-')}.md"))


def save_to_page(serving: Serving, cards: Path, edits: int) -> list[float] | None:
    """Seconds from a save to the page showing it, for ``edits`` saves (None without Chromium)."""
    executable = shutil.which("chromium")
    if executable is None:
        return None
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        # (bypass_csp: Playwright's waiting evaluates strings, which the page's policy forbids)
        page = browser.new_page(viewport={"width": 1000, "height": 800}, bypass_csp=True)
        page.goto(serving.url)
        page.wait_for_function("window.previewShown && document.querySelector('.preview-note')")
        notes = page.evaluate("[...document.querySelectorAll('.preview-note')].map(e => e.id)")
        for i in range(edits):
            note = notes[(i * 7) % len(notes)]
            page.evaluate(f"document.getElementById('{note}').scrollIntoView()")
            time.sleep(0.5)  # quiet before the save
            version = page.evaluate("window.previewShown.version")
            start = time.time()
            edit(card_file(cards, note), i)
            page.wait_for_function(f"window.previewShown.version > {version}", timeout=WAIT * 1000)
            times.append(page.evaluate("window.previewShown.at") / 1000 - start)
            serving.wait_for(serving.builds + 1)
        browser.close()
    return times


def memory_over_edits(serving: Serving, cards: Path, edits: int, memory) -> tuple[int, int]:
    """The process's memory after the 10th edit and after the last, each edit built before the next."""
    files = sorted(cards.rglob("*.md"))
    after_ten = 0
    for i in range(edits):
        edit(files[(i * 97) % len(files)], 1000 + i)
        serving.wait_for(serving.builds + 1)
        if i == 9:
            after_ten = memory(serving.process.pid)
    return after_ten, memory(serving.process.pid)


def measure_serve(cards: Path, media: Path, work: Path, env: dict, edits: int, memory_edits: int, memory) -> dict:
    serving = Serving(cards, media, work / "served.apkg", env)
    try:
        times = save_to_page(serving, cards, edits)
        first, last = memory_over_edits(serving, cards, memory_edits, memory)
    finally:
        serving.stop()
    page = {"serve_page": statistics.median(times), "serve_page_max": max(times)} if times else {}
    return {**page, "serve_edits": memory_edits, "serve_memory": (first, last)}

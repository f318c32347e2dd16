"""A `build-deck serve` process for the tests: started on a project, asked what it did, stopped with Ctrl-C."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from browser import ROOT

WAIT = 60  # seconds a test waits for a build before it fails (a cold machine, a busy CI runner)


def _as_in_a_terminal() -> None:
    # Ctrl-C reaches it, as in a terminal, even when these tests run in the background (where a shell
    # starts programs with SIGINT ignored, and Python then never raises KeyboardInterrupt).
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Served:
    """A `build-deck serve` process on a project, and what it printed."""

    def __init__(self, project, *args: str, env: dict | None = None):
        self.project = project
        command = [sys.executable, "-m", "deckbuilder", "serve", "--port", "0", "--cards", str(project.cards),
                   "--media", str(project.media), "-o", str(project.output), *args]  # fmt: skip
        # From the repository root: `-m deckbuilder` is this checkout's (see RULES: subprocesses inherit the cwd).
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, preexec_fn=_as_in_a_terminal)  # fmt: skip
        self.out: list[str] = []
        self.err: list[str] = []
        self.readers = [self._read(self.process.stdout, self.out), self._read(self.process.stderr, self.err)]
        self.url = self._wait(lambda: next((re.search(r"http://\S+/", line) for line in self.out), None)).group(0)
        self.port = int(self.url.rsplit(":", 1)[1].strip("/"))

    @staticmethod
    def _read(stream, lines: list[str]) -> threading.Thread:
        thread = threading.Thread(target=lambda: lines.extend(iter(stream.readline, "")), daemon=True)
        thread.start()
        return thread

    def _wait(self, found, what: str = "the server's address"):
        deadline = time.monotonic() + WAIT
        while not (value := found()):
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited ({self.process.returncode}):\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {WAIT} s for {what}:\n{self.output()}")
            time.sleep(0.02)
        return value

    def output(self) -> str:
        return "".join(self.out) + "--- stderr ---\n" + "".join(self.err)

    def news(self) -> dict:
        with urllib.request.urlopen(self.url + "changes?since=-1", timeout=WAIT) as answer:
            return json.load(answer)

    def builds(self) -> int:
        return self.news()["builds"]

    def wait_builds(self, count: int) -> dict:
        """Wait until ``count`` builds are done (the first included); returns /changes' answer."""
        return self._wait(lambda: (news := self.news())["builds"] >= count and news, f"build {count}")

    def page(self, query: str = "") -> str:
        with urllib.request.urlopen(self.url + query, timeout=WAIT) as answer:
            return answer.read().decode("utf-8")

    def stop(self, how: signal.Signals = signal.SIGINT) -> int:
        """Stop it, as Ctrl-C does (or with another signal); returns its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(how)
            self.process.wait(WAIT)
        for reader in self.readers:
            reader.join(5)
        return self.process.returncode

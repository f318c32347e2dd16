"""Hand a package to Anki desktop, which imports it (``--open``).

Anki itself does the rest: given a file, a second Anki passes it to the one already running (its
single-instance handling) and exits, or, with none running, Anki starts and imports the file once the
profile is open. Either way Anki shows its import dialog. On Linux that is the ``anki`` command on the
PATH (Anki's launcher, or a pip-installed aqt); on macOS ``open -a Anki``; on Windows the program that
opens .apkg files, which Anki's installer registers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path

INSTALL_HINT = "install Anki from https://apps.ankiweb.net, or import the package yourself (File > Import)"


class AnkiNotFound(Exception):
    """No Anki desktop to hand a package to (the message says what was looked for)."""


def find_anki(platform: str = sys.platform) -> Callable[[Path], None]:
    """A function that hands a package to Anki desktop; AnkiNotFound when Anki is known to be missing
    (on Linux, no ``anki`` command; elsewhere only handing a package over can tell)."""
    if platform == "darwin":
        return _open_on_macos
    if platform == "win32":
        return _open_on_windows
    command = shutil.which("anki")
    if command is None:
        raise AnkiNotFound(f"Anki desktop not found: no 'anki' command on the PATH; {INSTALL_HINT}")
    return partial(_open_with, command)


def _open_with(command: str, package: Path) -> None:
    # Not waited for: with no Anki running, this one stays (in a session of its own, so that Ctrl-C in
    # this terminal does not close it). A thread reaps it when it exits, at once when Anki runs already.
    process = subprocess.Popen(
        [command, str(package.absolute())],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    threading.Thread(target=process.wait, name="anki", daemon=True).start()


def _open_on_macos(package: Path) -> None:
    done = subprocess.run(["open", "-a", "Anki", str(package.absolute())], capture_output=True, text=True)
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit status {done.returncode}"
        raise AnkiNotFound(f"Anki desktop not found: open -a Anki says: {said}; {INSTALL_HINT}")


def _open_on_windows(package: Path) -> None:
    try:
        os.startfile(str(package.absolute()))  # type: ignore[attr-defined]  (Windows only)
    except OSError as exc:
        raise AnkiNotFound(f"no program opens .apkg files ({exc.strerror or exc}); {INSTALL_HINT}") from None

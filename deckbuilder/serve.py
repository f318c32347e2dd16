"""build-deck serve: build once, then rebuild on every change, with the cards live in a browser.

Three threads: this module's loop builds (on the main thread, where a card's render time limit
works), watchfiles' watcher queues the paths that change, and the preview server (preview_server.py)
answers the page. Each build goes through build() with a BuildSession, which keeps the render cache
and the previous package in memory; the page is shown as soon as the cards are checked, before the
package is written. The package is written only by a good build (build() raises before writing
anything when the cards have errors), so the last good package stays as it is.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .builder import BuildOptions, BuildResult, build
from .errors import BuildError, Problem, display_path
from .preview_server import LivePreview, PreviewServer
from .session import NOTE_TYPE_CSS, BuildSession

# watchfiles gathers changes until none has come for STEP ms (at most MAX_WAIT ms): an editor's save
# (a temporary file written, then renamed over the card) and a burst of saves each make one batch.
STEP_MS = 50
MAX_WAIT_MS = 1600
# When nothing changes, the watcher's thread wakes this often; its first wake-up says it is watching.
IDLE_MS = 200
# How long a good build waits for an open page to load the new cards before it writes the package.
PAGE_FIRST_SECONDS = 0.5


class WatchError(Exception):
    """The file watcher stopped (the message says why)."""


@dataclass(frozen=True)
class Rebuild:
    """One build of the deck: the paths whose change started it (none for the first), and its result
    (a good build) or its problems (a build with errors, or a package that could not be written)."""

    changed: tuple[Path, ...]
    result: BuildResult | None
    problems: tuple[Problem, ...]
    seconds: float


class Watcher:
    """watchfiles in a thread of its own, queueing the paths that change for the build loop."""

    def __init__(self, paths: list[Path]):
        self._batches: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(paths,), name="watchfiles", daemon=True)
        self._error: WatchError | None = None
        self._thread.start()
        self._ready.wait()  # a change made from now on is seen
        if self._error is not None:
            raise self._error

    def _watch(self, paths: list[Path]) -> None:
        import watchfiles

        try:
            for changes in watchfiles.watch(
                *paths,
                watch_filter=None,  # the session knows what can change a build (see BuildSession.affects)
                step=STEP_MS,
                debounce=MAX_WAIT_MS,
                rust_timeout=IDLE_MS,
                yield_on_timeout=True,
                stop_event=self._stop,
                raise_interrupt=False,
            ):
                self._ready.set()
                if changes:
                    self._batches.put({Path(path) for _, path in changes})
        except Exception as exc:  # e.g. a watched folder removed, or too many folders for inotify
            self._error = WatchError(f"watching the files failed: {exc}")
            self._batches.put(self._error)
        finally:
            self._ready.set()

    def next_batch(self) -> set[Path]:
        """The paths changed since the last call; waits for the first batch, then takes all queued."""
        paths = self._take(self._batches.get())
        while not self._batches.empty():
            paths |= self._take(self._batches.get())
        return paths

    @staticmethod
    def _take(batch) -> set[Path]:
        if isinstance(batch, WatchError):
            raise batch
        return batch

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class LiveDeck:
    """The deck built and rebuilt as it changes, shown at ``url``; use it in a with statement."""

    def __init__(self, options: BuildOptions, port: int, preview_file: Path | None = None):
        self.options = options
        self.preview_file = preview_file
        self.session = BuildSession(save_later=True)
        self.preview = LivePreview()
        self.server = PreviewServer(self.preview, port)  # PortInUse before anything is built
        self.url = self.server.url
        self.watcher: Watcher | None = None

    def __enter__(self) -> LiveDeck:
        try:
            self.watcher = Watcher(self.watched())
        except BaseException:
            self.server.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self.server.stop()

    def watched(self) -> list[Path]:
        """The cards folder, the media folder (if there is one) and the folder of the note types' CSS."""
        folders = [self.options.cards_dir.resolve(), NOTE_TYPE_CSS.parent]
        if self.options.media_dir.is_dir():
            folders.insert(1, self.options.media_dir.resolve())
        return folders

    def rebuilds(self) -> Iterator[Rebuild]:
        """The first build, then one build for each batch of changes that can change the deck."""
        yield self._build(())
        from .render import card  # noqa: F401  (Markdown and Pygments: loaded now, not by the first edit)

        while True:
            changed = [path for path in self.watcher.next_batch() if self._affects(path)]
            if changed:
                self.session.touch(changed)
                yield self._build(tuple(sorted(changed)))

    def _affects(self, path: Path) -> bool:
        ours = [self.options.output, self.preview_file, self.options.cache_dir]
        if any(mine is not None and path.is_relative_to(mine.resolve()) for mine in ours):
            return False  # what the builds write
        return self.session.affects(path, self.options.cards_dir, self.options.media_dir)

    def _build(self, changed: tuple[Path, ...]) -> Rebuild:
        start = time.perf_counter()
        self.preview.build_started()
        result, problems = None, ()
        try:
            result = build(self.options, session=self.session, checked=self._show)
        except BuildError as exc:
            problems = tuple(exc.problems)
        except OSError as exc:  # e.g. the output folder is not writable; the previous package is untouched
            where = display_path(exc.filename or self.options.output)
            problems = (Problem(where, 1, "error", f"cannot write: {exc.strerror or exc}"),)
        self.session.save_cache()  # when no good build did (see _show)
        if problems:
            self.preview.show_problems(list(problems))
        else:
            self._write_preview(result)
        self.preview.build_done()
        return Rebuild(changed, result, problems, time.perf_counter() - start)

    def _show(self, checked: BuildResult) -> None:
        """The cards are good: show them now, before the package is written."""
        self.preview.show_cards(checked.rendered, self._deck_name(checked), checked.warnings)
        self.preview.let_pages_load(PAGE_FIRST_SECONDS)
        self.session.save_cache()

    def _deck_name(self, result: BuildResult) -> str:
        return self.options.deck_name or result.config.name

    def _write_preview(self, result: BuildResult) -> None:
        if self.preview_file is not None:
            from .preview import write_preview

            write_preview(result.rendered, self._deck_name(result), self.preview_file, self.options.media_dir)

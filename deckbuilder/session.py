"""What a long-running process keeps between builds of one deck (build-deck serve).

A build reads the render cache from the cache folder, looks at every card file and reads the
previous package at the output path. A process that builds the same deck again and again keeps all
of that in memory instead: the render cache as the last build left it, each card file's result, and
what the package it wrote holds. A build with a session gives exactly what a build without one
gives; it only looks at less.

The process tells the session which paths changed since the last build (build-deck serve has a
file watcher for that). When only card files the session knows were changed, only those are read
again and every other card is the last build's; anything else (a card added, removed or renamed, a
folder, deck.yaml, a media file, the note types' CSS) makes the next build look at every file, with
the cache still in memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from .package import notetypes
from .package.previous import PreviousBuild, read_previous, written_build
from .read.config import CONFIG_NAME
from .read.files import find_card_files, is_card_path
from .render.cache import RenderCache
from .render.workers import FileResult, process_all

# The note types' CSS, read by every build (notetypes.card_css): a change to it is a change to the deck.
NOTE_TYPE_CSS = Path(notetypes.__file__).resolve().with_name("card.css")


class BuildSession:
    """State kept between builds of one deck in one process; pass it to build() each time."""

    def __init__(self, save_later: bool = False) -> None:
        """``save_later``: builds leave saving the render cache to the folder to save_cache(), which the
        process calls when it has a moment (build-deck serve: once the preview shows the cards)."""
        self.save_later = save_later
        self._unsaved = False
        self.cache: RenderCache | None = None
        self._folders: tuple | None = None  # (cards, media, cache folder) the state below is for
        self._paths: list[Path] = []  # the card files of the last build, in order
        self._results: list[FileResult] = []  # and their results
        self._index: dict[str, int] = {}  # relative path (with "/") -> position in _paths
        self._holders: set[str] = set()  # the folders holding them (relative), "." included
        self._touched: set[Path] | None = None  # changed since the last build; None: not known
        self._package: tuple[tuple, PreviousBuild] | None = None  # (the output's stat, what it holds)

    def forget(self) -> None:
        """Know nothing: the next build looks at every file and reads the cache folder again."""
        self.cache, self._folders, self._touched, self._package, self._unsaved = None, None, None, None, False
        self._paths, self._results, self._index, self._holders = [], [], {}, set()

    # --- what changed ---------------------------------------------------------------------------

    def touch(self, paths: Iterable[Path | str]) -> None:
        """Tell the session that these paths (absolute) were written, added or removed since the last build."""
        paths = [Path(path) for path in paths]
        if NOTE_TYPE_CSS in paths:
            notetypes.card_css.cache_clear()  # read afresh by the next build
        if self._touched is not None:
            self._touched.update(paths)

    def affects(self, path: Path | str, cards_dir: Path, media_dir: Path) -> bool:
        """Whether a change at ``path`` (absolute) can change a build of these folders: anything in the
        media folder, the note types' CSS, and in the cards folder deck.yaml, card files (*.md, not
        hidden), folders and what held known cards; not an editor's temporary or backup files."""
        path = Path(path)
        if path == NOTE_TYPE_CSS:
            return True
        for folder in (media_dir, cards_dir):
            try:
                relative = path.relative_to(folder.resolve())
            except ValueError:
                continue
            if any(part.startswith(".") for part in relative.parts):
                return False  # hidden: never read (see find_card_files, MediaLibrary.files)
            if folder is media_dir:
                return True
            text = relative.as_posix()
            known = text in self._index or text in self._holders  # e.g. a folder renamed or removed
            return text == CONFIG_NAME or is_card_path(text) or known or path.is_dir()
        return False

    def _changed_cards(self, cards_dir: Path, media_dir: Path) -> set[str] | None:
        """The known card files changed since the last build, when nothing else changed; else None."""
        if self._touched is None:
            return None
        changed = set()
        root = cards_dir.resolve()
        for path in self._touched:
            if not self.affects(path, cards_dir, media_dir):
                continue
            try:
                relative = path.relative_to(root).as_posix()
            except ValueError:
                return None  # media, the CSS
            if relative not in self._index or not path.is_file():
                return None  # a new or removed card, a folder, deck.yaml
            changed.add(relative)
        return changed

    # --- the cards ------------------------------------------------------------------------------

    def process_cards(self, options, config, progress: Callable | None) -> tuple[list[Path], list[FileResult]]:
        """Every card file and its result, as builder.check needs them; the render cache is saved now, or
        with save_cache() when the session was made with ``save_later``."""
        folders = (options.cards_dir, options.media_dir, options.cache_dir)
        if folders != self._folders:
            self.forget()
            self._folders = folders
        self.save_cache()  # a save put off by the last build
        try:
            if self.cache is None and options.cache_dir is not None:
                self.cache = RenderCache(options.cache_dir, options.cards_dir, options.media_dir)
            changed = self._changed_cards(options.cards_dir, options.media_dir)
            if changed is None:
                paths = find_card_files(options.cards_dir)
                results = self._process(paths, options, config, progress)
            else:
                paths, results = self._paths, self._again(changed, options, config, progress)
        except BaseException:
            self.forget()  # stopped midway: what is kept may be half updated
            raise
        self._paths, self._results, self._touched = paths, results, set()
        if changed is None:
            self._index = {relative: i for i, relative in enumerate(_relatives(paths, options.cards_dir))}
            self._holders = {str(Path(relative).parent.as_posix()) for relative in self._index}
            self._holders |= {parent.as_posix() for folder in self._holders for parent in Path(folder).parents}
        self._unsaved = self.cache is not None
        if not self.save_later:
            self.save_cache()
        return paths, results

    def save_cache(self) -> None:
        """Save what the last build added to the render cache (see save_later), and ready it for the next."""
        if self._unsaved and self.cache is not None:
            self._unsaved = False
            self.cache.save()
            self.cache.next_build()

    def _process(self, paths: list[Path], options, config, progress) -> list[FileResult]:
        return process_all(paths, options.cards_dir, options.media_dir, config, self.cache, options.jobs, progress,
                           options.start_method)  # fmt: skip

    def _again(self, changed: set[str], options, config, progress) -> list[FileResult]:
        """The last build's results with the changed files (and any the cache cannot vouch for) done again."""
        if self.cache is not None:
            changed = self.cache.keep_all(changed) | (self._index.keys() - self.cache.files.keys())
        again = sorted(self._index[relative] for relative in changed)
        results = list(self._results)
        redone = self._process([self._paths[i] for i in again], options, config, progress)
        for i, result in zip(again, redone, strict=True):
            results[i] = result
        return results

    # --- the package ----------------------------------------------------------------------------

    def previous_package(self, output: Path) -> PreviousBuild:
        """What the package at ``output`` holds: as this session wrote it, unless it changed since."""
        if self._package is not None and self._package[0] == _file_signature(output):
            return self._package[1]
        return read_previous(output)

    def package_written(self, output: Path, previous: PreviousBuild, summary) -> None:
        """Remember what the package at ``output`` holds after write_package gave ``summary`` (what it was
        given as the previous package: still there when the package was up to date)."""
        signature = _file_signature(output)
        if signature is None:
            self._package = None
        elif summary.written:
            self._package = (signature, written_build(summary.manifest))
        else:
            self._package = (signature, previous)


def _relatives(paths: list[Path], cards_dir: Path) -> list[str]:
    # Paths come from find_card_files, so each is str(cards_dir) + "/" + relative ("." vanishes).
    prefix = 0 if str(cards_dir) == "." else len(str(cards_dir)) + 1
    return [str(path)[prefix:].replace(os.sep, "/") for path in paths]


def _file_signature(path: Path) -> tuple | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev)

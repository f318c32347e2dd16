"""The build: read and render every card, check what spans files, then write the package."""

from __future__ import annotations

import gc
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import BuildError, Problem, Report, display_path
from .package.changes import ChangeReport, compare
from .read.cards import unique_ids, with_card_types
from .read.config import DeckConfig, load_config, slugify
from .read.files import find_card_files
from .render.cache import RenderCache, default_cache_dir, folder_key
from .render.media import MediaFile, MediaLibrary
from .render.workers import FileResult, process_all

if TYPE_CHECKING:
    from .session import BuildSession

_TAG = re.compile(r"<[^>]*>")
_SHOWN = re.compile(r"<img\b|\[sound:")  # what a card shows that is not text


@dataclass(frozen=True)
class BuildOptions:
    """What to build from and where to write it."""

    cards_dir: Path
    media_dir: Path
    output: Path | None = None
    deck_name: str | None = None
    check_only: bool = False
    strict: bool = False
    jobs: int = os.cpu_count() or 1
    start_method: str | None = None  # of worker processes; None: the platform's default (see multiprocessing)
    cache_dir: Path | None = field(default_factory=default_cache_dir)  # None: no cache


@dataclass
class BuildResult:
    """What a build did: its warnings, and for a written deck its counts and changes."""

    config: DeckConfig
    output: Path | None
    warnings: list[Problem] = field(default_factory=list)
    rendered: list = field(default_factory=list)
    summary: object | None = None
    changes: ChangeReport | None = None


def default_media_dir(cards_dir: Path) -> Path:
    """The media folder for a cards folder given without one: ``media`` beside it, else ``media`` inside it
    (and beside it when neither exists, so that a missing image names the folder it was looked for in)."""
    beside = cards_dir.absolute().parent / "media"
    inside = cards_dir / "media"
    return inside if inside.is_dir() and not beside.is_dir() else beside


def default_output(options: BuildOptions) -> BuildOptions:
    """The options with the output named after the deck (``My Deck`` -> ``my-deck.apkg``, in the current folder)."""
    name = options.deck_name or load_config(options.cards_dir, Report(options.cards_dir)).name
    return replace(options, output=Path(f"{slugify(name)}.apkg"))


def build_time() -> int:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else now."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(value) if value.isdigit() else int(time.time())


def check(
    options: BuildOptions, progress: Callable | None = None, session: BuildSession | None = None
) -> tuple[DeckConfig, list, Report]:
    """Read and render every card (from the cache where possible), collecting every problem."""
    report = Report(options.cards_dir)
    if not options.cards_dir.is_dir():
        where = display_path(options.cards_dir)
        report.error(options.cards_dir, 1, f"cards folder not found: {where} is not a folder (give one with --cards)")
        raise BuildError(report.sorted())
    config = load_config(options.cards_dir, report)
    if session is None:
        paths, results = process_cards(options, config, progress)
    else:
        paths, results = session.process_cards(options, config, progress)
    for result in results:
        report.problems.extend(result.problems)
    sources = unique_ids([r.source for r in results if r.source is not None], report)
    kept = {id(card) for card in sources}
    rendered = [
        _with_card_types(r.rendered, config, report) for r in results if r.rendered is not None and id(r.source) in kept
    ]
    if not paths and not report.has_errors():
        report.error(options.cards_dir, 1, "no card files (*.md) found")
    elif config.vault and not rendered and not report.has_errors():
        report.error(options.cards_dir, 1, "no cards in the vault: every note was skipped (see the warnings)")
    _check_media(results, rendered, MediaLibrary(options.media_dir), report)
    return config, rendered, report


def process_cards(options: BuildOptions, config: DeckConfig, progress: Callable | None = None):
    """Every card file and its result (see process_all), through the render cache of the cache folder."""
    cache = RenderCache(options.cache_dir, options.cards_dir, options.media_dir) if options.cache_dir else None
    paths = find_card_files(options.cards_dir)
    results = process_all(
        paths, options.cards_dir, options.media_dir, config, cache, options.jobs, progress, options.start_method
    )
    if cache is not None:
        cache.save()  # holds only cards without errors: fixing one card re-renders just that card
    return paths, results


def _with_card_types(card, config: DeckConfig, report: Report):
    """The rendered card with deck.yaml's card types applied to its source (see read.cards.with_card_types);
    a reversed card must have an answer to show."""
    source = with_card_types(card.source, config.reverse, config.type_answer)
    if source.reverse and not _TAG.sub("", card.answer).strip() and not _SHOWN.search(card.answer):
        message = "the answer is empty, so the reversed card would show nothing; write an answer or set reverse: no"
        report.error(source.path, source.question_line, message)
    return card if source is card.source else card._replace(source=source)


def _check_media(results: list[FileResult], rendered: list, library: MediaLibrary, report: Report) -> None:
    """Two files must not share a packaged name; every media file should be used."""
    names: dict[str, object] = {}
    for card in rendered:
        for image in card.images:
            other = names.setdefault(image.name, image)
            if other.source != image.source and os.path.realpath(other.source) != os.path.realpath(image.source):
                message = f"'{image.ref}' and '{other.ref}' would get the same name '{image.name}' in the package"
                report.error(card.source.path, image.line, message)
    referenced = {path for result in results for path in result.referenced}
    for path in library.files():
        if path.resolve() not in referenced:
            report.warning(path, 1, "media file is not used by any card")


def packaged_media(rendered: list) -> list[MediaFile]:
    """Every media file the deck shows, once, sorted by packaged name."""
    files = {image.name: MediaFile(image.name, image.source) for card in rendered for image in card.images}
    return [files[name] for name in sorted(files)]


@contextmanager
def paused_garbage_collector() -> Iterator[None]:
    """A build makes hundreds of thousands of objects and next to no reference cycles: the cyclic
    collector would scan the ever larger heap again and again for nothing (15% of a rebuild)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build(
    options: BuildOptions,
    progress: Callable | None = None,
    session: BuildSession | None = None,
    checked: Callable[[BuildResult], object] | None = None,
) -> BuildResult:
    """Check everything; unless checking only, write the deck. Raises BuildError on errors.

    ``session``: state kept from earlier builds of the deck in this process, to look at less (see
    session.py); the result is the same. ``checked``: called with the result so far (no package yet)
    once the cards are checked and found good, before the package is written (a live preview shows
    them without waiting for the package).
    """
    with paused_garbage_collector():
        return _build(options, progress, session, checked)


def _build(options: BuildOptions, progress: Callable | None, session, checked) -> BuildResult:
    writing = not options.check_only and options.output is not None
    if writing:
        from .package.output import check_output

        report = Report(options.cards_dir)
        check_output(options.output, options.cards_dir, options.media_dir, report)
        if report.has_errors():
            raise BuildError(report.sorted())
    config, rendered, report = check(options, progress, session)
    if report.has_errors(strict=options.strict):
        raise BuildError(report.sorted())
    if checked is not None:
        checked(BuildResult(config, None, report.sorted(), rendered))
    if not writing:
        return BuildResult(config, None, report.sorted(), rendered)
    from .package.output import output_lock

    with output_lock(options.output, options.cache_dir):
        return _write(options, config, rendered, report, session)


def _write(options: BuildOptions, config: DeckConfig, rendered: list, report: Report, session=None) -> BuildResult:
    """Package the rendered cards, against the previous package at the output path (under its lock)."""
    from .package.collection_copy import CollectionCopy
    from .package.notes import make_notes
    from .package.notetypes import note_type_digests, note_types_for
    from .package.previous import read_previous
    from .package.write import write_package

    deck_name = options.deck_name or config.name
    notes = make_notes(rendered, config, deck_name)
    previous = session.previous_package(options.output) if session else read_previous(options.output)
    if previous.damaged:
        message = "the file at the output path is an Anki package this build cannot read; it is replaced"
        report.warning(options.output, 1, message + " (every note counts as new)")
        if options.strict:
            raise BuildError(report.sorted())
    media = packaged_media(rendered)
    copy = CollectionCopy(options.cache_dir, folder_key(options.cards_dir)) if options.cache_dir else None
    summary = write_package(notes, config, deck_name, media, options.output, previous, build_time(), copy)
    if session is not None:
        session.package_written(options.output, previous, summary)
    changes = compare(notes, previous, config, deck_name, note_type_digests(note_types_for(notes)))
    return BuildResult(config, options.output, report.sorted(), rendered, summary, changes)

"""Per-file work: read, parse and render each card, from the cache or in parallel worker processes.

Every file is independent, so this stage can be cached per file and spread across cores;
the checks that span files (duplicate ids, media names, unused media) run afterwards in build.py.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from .cache import RenderCache
from .errors import Problem, Report
from .media import MediaError, MediaLibrary
from .rendered import RenderedCard
from .sources import SourceCard, parse_card, read_bytes

# Below this many cards to render, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 64


@dataclass(frozen=True)
class FileResult:
    """What one card file gave: the parsed and rendered card (unless it had errors) and its problems."""

    source: SourceCard | None
    rendered: RenderedCard | None
    problems: tuple[Problem, ...]
    referenced: tuple[Path, ...]  # media files the card points at, packaged or not


@dataclass(frozen=True)
class Job:
    """One file to process, with the folders it is read against."""

    path: Path
    cards_dir: Path
    media_dir: Path
    data: bytes


def process_file(job: Job) -> FileResult:
    """Parse and render one card file."""
    from .render import render_card  # imported only when something must be rendered

    report = Report(job.cards_dir)
    library = _library(job.media_dir)
    library.referenced = set()
    source = parse_card(job.path, job.cards_dir, report, job.data)
    rendered = render_card(source, library, report) if source is not None else None
    if report.has_errors():
        rendered = None
    elif rendered is not None:
        # The Markdown is not needed once rendered: without it, what is cached and sent
        # back from worker processes is about half the size.
        source = replace(source, question="", answer="", details="")
        rendered = replace(rendered, source=source)
    return FileResult(source, rendered, tuple(report.problems), tuple(sorted(library.referenced)))


# One per folder for the duration of a build (worker processes inherit it when forked).
_libraries: dict[Path, MediaLibrary] = {}


def _library(media_dir: Path) -> MediaLibrary:
    # One per process and folder, so each media file is read and hashed once.
    if media_dir not in _libraries:
        _libraries[media_dir] = MediaLibrary(media_dir)
    return _libraries[media_dir]


def process_all(
    paths: list[Path],
    cards_dir: Path,
    media_dir: Path,
    report: Report,
    cache: RenderCache | None,
    jobs: int,
    progress: Callable[[int], object] | None = None,
) -> list[FileResult]:
    """Results for every file, in order: cached where still valid, the rest rendered (in parallel if many)."""
    results: dict[int, FileResult] = {}
    todo: list[tuple[int, Job, str | None]] = []
    _libraries.clear()  # media files may have changed since the last build in this process
    library = _library(media_dir)
    # Paths come from find_card_files, so each is str(cards_dir) + "/" + relative ("." vanishes).
    prefix = 0 if str(cards_dir) == "." else len(str(cards_dir)) + 1
    for index, path in enumerate(paths):
        data = read_bytes(path, report)
        if data is None:
            continue
        key = cache.key(str(path)[prefix:].replace(os.sep, "/"), data) if cache else None
        hit = cache.get(key) if cache else None
        if hit is not None and _media_unchanged(hit, library):
            results[index] = hit
        else:
            todo.append((index, Job(path, cards_dir, media_dir, data), key))
    for (index, _job, key), result in zip(todo, _render(todo, jobs, progress), strict=True):
        results[index] = result
        if cache and result.rendered is not None:
            cache.put(key, result)
    return [results[i] for i in sorted(results)]


def _render(todo: list, jobs: int, progress) -> Iterator[FileResult]:
    work = [job for _, job, _ in todo]
    bar = progress(len(work)) if progress and work else None
    if jobs > 1 and len(work) >= PARALLEL_THRESHOLD:
        from . import render  # noqa: F401  (import once here; forked workers inherit it)

        context = multiprocessing.get_context("fork")
        with context.Pool(min(jobs, os.cpu_count() or 1)) as pool:
            for result in pool.imap(process_file, work, chunksize=16):
                _tick(bar)
                yield result
    else:
        for job in work:
            result = process_file(job)
            _tick(bar)
            yield result
    if bar is not None:
        bar.__exit__(None, None, None)


def _tick(bar) -> None:
    if bar is not None:
        bar.update(1)


def _media_unchanged(result: FileResult, library: MediaLibrary) -> bool:
    """A cached card is valid only while every image it shows still has the same content."""
    for image in result.rendered.images:
        try:
            if library.resolve(image.ref).name != image.name:
                return False
        except MediaError:
            return False
    return True

"""Per-file work: read, parse and render each card, from the cache or in parallel worker processes.

Every file is independent, so this stage can be cached per file and spread across cores;
the checks that span files (duplicate ids, media names, unused media) run afterwards in build.py.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..errors import Problem, Report
from ..read.cards import SourceCard, parse_card
from ..read.config import DeckConfig, note_guids
from ..read.files import read_bytes
from .cache import RenderCache
from .media import MediaError, MediaLibrary
from .rendered import ImageUse, RenderedCard

# A card that takes longer than this to render is refused (Python-Markdown is quadratic on some
# pathological input); enforced where the platform allows (see time_limit).
MAX_CARD_SECONDS = 10
# Below this many cards to render, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 64
BATCH_SIZE = 128  # files per message to and from a worker process


class FileResult(NamedTuple):
    """What one card file gave: the parsed and rendered card (unless it had errors) and its problems."""

    source: SourceCard | None
    rendered: RenderedCard | None
    problems: tuple[Problem, ...]
    referenced: tuple[Path, ...]  # media files the card points at, packaged or not


@dataclass(frozen=True)
class Job:
    """One file to process, with the folders it is read against."""

    path: Path
    relative: str  # to the cards folder, with "/"
    cards_dir: Path
    media_dir: Path
    namespace: str  # the deck's, for the notes' GUIDs
    tag: str  # the deck's, for the notes' tags and digests
    vault: bool = False  # the deck's: notes that are not cards are skipped (see read.cards.parse_card)


class Outcome(NamedTuple):
    """What process_job gives back for one file."""

    key: str | None  # the file's cache key (None without a cache, or when it could not be read)
    result: FileResult
    rendered: bool  # False when the result came from the cache


class WorkerState:
    """What a process rendering cards holds for one build: the render cache as it was when the
    build started, and one media library per folder (so each media file is read and hashed once)."""

    def __init__(self, cache: RenderCache | None):
        self.cache = cache
        self.libraries: dict[Path, MediaLibrary] = {}

    def library(self, media_dir: Path) -> MediaLibrary:
        if media_dir not in self.libraries:
            self.libraries[media_dir] = MediaLibrary(media_dir)
        return self.libraries[media_dir]


def process_job(job: Job, state: WorkerState) -> Outcome:
    """Read one card file, then take its result from the cache or parse and render it.

    Run in worker processes for many files, so that reading and hashing are spread across
    cores too; they see the cache as it was when they were started.
    """
    report = Report(job.cards_dir)
    data = read_bytes(job.path, report)
    if data is None:
        return Outcome(None, FileResult(None, None, tuple(report.problems), ()), True)
    cache = state.cache
    key = cache.key(job.relative, data) if cache else None
    cached = cache.entries.get(key) if cache else None  # marked as used by the main process
    result = _from_plain(cached, job.path, state.library(job.media_dir)) if cached else None
    if result is not None:
        return Outcome(key, result, False)
    before = cache.previous_entry(job.relative) if cache else None
    known_blocks = _code_blocks(before) if before else ()
    return Outcome(key, process_file(job, data, state.library(job.media_dir), known_blocks), True)


def process_file(job: Job, data: bytes, library: MediaLibrary, known_blocks: tuple = ()) -> FileResult:
    """Parse and render one card file (reusing ``known_blocks``, see render_card)."""
    from ..package.notes import note_digests
    from .card import render_card  # imported only when something must be rendered

    report = Report(job.cards_dir)
    library.referenced = set()
    try:
        with time_limit(MAX_CARD_SECONDS):
            source = parse_card(job.path, job.cards_dir, report, data, job.vault)
            rendered = render_card(source, library, report, known_blocks) if source is not None else None
    except CardTimeout:
        source = rendered = None
        report.error(job.path, 1, f"rendering took more than {MAX_CARD_SECONDS} s; simplify the card (e.g. fewer "
                     "unmatched brackets or emphasis markers)")  # fmt: skip
    except RecursionError:
        source = rendered = None
        report.error(job.path, 1, "the card is nested too deeply (lists or quotes inside each other); flatten it")
    if report.has_errors():
        rendered = None
    elif rendered is not None:
        # The Markdown is not needed once rendered: without it, what is cached and sent
        # back from worker processes is about half the size.
        source = source._replace(question="", answer="", details="")
        guids, digests = note_guids(job.namespace, source.id), note_digests(job.tag, rendered)
        rendered = rendered._replace(source=source, guids=guids, digests=digests)
    return FileResult(source, rendered, tuple(report.problems), tuple(sorted(library.referenced)))


class CardTimeout(BaseException):
    """A card took longer than MAX_CARD_SECONDS (a BaseException: no speed-up's fallback catches it)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise CardTimeout in the block after ``seconds``; only where a timer signal can interrupt it
    (POSIX, on the main thread), else the block runs unbounded."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return
    if signal.getsignal(signal.SIGALRM) is not _expire:
        signal.signal(signal.SIGALRM, _expire)  # once per process: a card's timer is then two system calls
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _expire(signum, frame):
    raise CardTimeout


def process_all(
    paths: list[Path],
    cards_dir: Path,
    media_dir: Path,
    config: DeckConfig,
    cache: RenderCache | None,
    jobs: int,
    progress: Callable[[int], object] | None = None,
    start_method: str | None = None,
) -> list[FileResult]:
    """Results for every file, in order: cached where still valid, the rest rendered (in parallel if many).
    A file's problems (including one that cannot be read) are in its result.

    ``config``: the deck's settings; the notes' GUIDs and digests, worked out with each card, depend
    on its GUID namespace and tag. ``start_method``: how worker processes are started (None: the
    platform's default, e.g. fork on Linux, spawn on Windows and macOS).
    """
    state = WorkerState(cache)  # media files may have changed since the last build in this process
    return _process_all(paths, cards_dir, media_dir, config, state, jobs, progress, start_method)


def _process_all(paths, cards_dir: Path, media_dir: Path, config: DeckConfig, state: WorkerState, jobs: int,
                 progress, start_method: str | None) -> list:  # fmt: skip
    results: dict[int, FileResult] = {}
    todo: list[tuple[int, Job, os.stat_result | None]] = []
    cache, library = state.cache, state.library(media_dir)
    # Paths come from find_card_files, so each is str(cards_dir) + "/" + relative ("." vanishes).
    prefix = 0 if str(cards_dir) == "." else len(str(cards_dir)) + 1
    for index, path in enumerate(paths):
        relative = str(path)[prefix:].replace(os.sep, "/")
        stat = _stat(path)
        key = cache.known_key(relative, stat) if cache and stat else None  # untouched since the last build
        cached = cache.get(key) if key else None
        result = _from_plain(cached, path, library) if cached else None
        if result is not None:
            results[index] = result
            cache.record(relative, stat, key)
        else:
            todo.append((index, Job(path, relative, cards_dir, media_dir, config.namespace, config.tag, config.vault),
                         stat))  # fmt: skip
    for (index, job, stat), outcome in zip(todo, _process(todo, state, jobs, progress, start_method), strict=True):
        results[index] = outcome.result
        if cache and outcome.key and outcome.result.rendered is not None:
            if outcome.rendered:
                cache.put(outcome.key, _to_plain(outcome.result))
            else:
                cache.get(outcome.key)  # keeps it
            if stat is not None:
                cache.record(job.relative, stat, outcome.key)
    return [results[i] for i in sorted(results)]


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)  # before reading: an edit made while it is read shows up next time
    except OSError:
        return None  # read_bytes reports it


def _to_plain(result: FileResult) -> tuple:
    """A cache entry of strings, numbers and tuples: it loads several times faster than objects."""
    source, card = result.source, result.rendered
    plain_source = (source.rel, source.id, source.id_line, source.tags, source.references, source.sections,
                    source.question_line, source.answer_line, source.details_line, source.reverse,
                    source.type_answer)  # fmt: skip
    images = tuple((image.ref, image.line, image.name) for image in card.images)
    plain_card = (card.question, card.answer, card.cloze_text, card.cloze_numbers, card.reference, card.section, images,
                  card.code_blocks, card.guids, card.digests)  # fmt: skip
    problems = tuple((p.path, p.line, p.severity, p.message) for p in result.problems)
    return plain_source, plain_card, problems, tuple(map(str, result.referenced))


def _code_blocks(plain: tuple) -> tuple:
    """The highlighted code blocks (language, code, HTML) of a cache entry made by _to_plain."""
    return plain[1][7]


def _from_plain(plain: tuple, path: Path, library: MediaLibrary) -> FileResult | None:
    """The cached result for the card at ``path``; None when an image it shows has changed since."""
    plain_source, plain_card, problems, referenced = plain
    images = []
    for ref, line, name in plain_card[6]:
        try:
            media = library.resolve(ref)
        except MediaError:
            return None
        if media.name != name:
            return None
        images.append(ImageUse(ref, line, name, media.source))
    rel, card_id, id_line, tags, references, sections, question_line, answer_line, details_line, reverse, typed = (
        plain_source
    )
    source = SourceCard(path, rel, card_id, id_line, tags, references, sections,
                        "", question_line, "", answer_line, "", details_line, reverse, typed)  # fmt: skip
    question, answer, cloze_text, cloze_numbers, reference, section, _, code_blocks, guids, digests = plain_card
    card = RenderedCard(source, question, answer, cloze_text, cloze_numbers, reference, section, tuple(images),
                        code_blocks, guids, digests)  # fmt: skip
    problems = tuple(Problem(*problem) for problem in problems)
    return FileResult(source, card, problems, tuple(map(Path, referenced)))


def _process(todo: list, state: WorkerState, jobs: int, progress, start_method: str | None) -> Iterator[Outcome]:
    work = [job for _, job, _ in todo]
    bar = progress(len(work)) if progress and work else None
    if jobs > 1 and len(work) >= PARALLEL_THRESHOLD:
        from ..package import notes  # noqa: F401  (imported once here: forked workers inherit them)
        from . import card  # noqa: F401

        context = multiprocessing.get_context(start_method)
        workers = min(jobs, os.cpu_count() or 1)
        # The state goes to each worker through the initializer: forked workers inherit it as it
        # is, spawned ones (Windows, macOS) get a pickled copy.
        with context.Pool(workers, initializer=_start_worker, initargs=(WorkerState(state.cache),)) as pool:
            for outcomes in pool.imap(process_batch, _batches(work, workers)):
                for outcome in outcomes:
                    _tick(bar)
                    yield outcome
    else:
        for job in work:
            outcome = process_job(job, state)
            _tick(bar)
            yield outcome
    if bar is not None:
        bar.__exit__(None, None, None)


_worker_state: WorkerState | None = None  # in a worker process: what _start_worker was given


def _start_worker(state: WorkerState) -> None:
    global _worker_state
    _worker_state = state
    gc.enable()  # workers collect garbage as usual (the build pauses the collector only in the main process)
    # Ctrl-C in a terminal interrupts the whole process group: the main process stops the workers, which
    # would otherwise each print a traceback of their own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def process_batch(batch: list[Job]) -> list[Outcome]:
    """process_job for each of several files, in a worker process (one message each way per batch)."""
    return [process_job(job, _worker_state) for job in batch]


def _batches(work: list[Job], workers: int) -> list[list[Job]]:
    # Every message between processes costs the main process about a millisecond of CPU that
    # the workers then lack; batches of up to BATCH_SIZE files make that negligible, and a few
    # batches per worker at the least keep the workers evenly loaded to the end.
    size = max(1, min(BATCH_SIZE, len(work) // (workers * 4)))
    return [work[start : start + size] for start in range(0, len(work), size)]


def _tick(bar) -> None:
    if bar is not None:
        bar.update(1)

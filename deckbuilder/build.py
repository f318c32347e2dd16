"""The build: read every card, render it, then (if nothing is wrong) write the package."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .changes import ChangeReport, compare
from .config import DeckConfig, load_config
from .errors import BuildError, Problem, Report
from .media import MediaLibrary
from .package import PackageSummary, make_notes, write_package
from .previous import read_previous
from .render import RenderedCard, render_card
from .sources import load_cards


@dataclass(frozen=True)
class BuildOptions:
    """What to build from and where to write it."""

    cards_dir: Path
    media_dir: Path
    output: Path | None = None
    deck_name: str | None = None
    check_only: bool = False
    strict: bool = False


@dataclass
class BuildResult:
    """What a build did: its warnings, and for a written deck its counts and changes."""

    config: DeckConfig
    output: Path | None
    warnings: list[Problem] = field(default_factory=list)
    rendered: list[RenderedCard] = field(default_factory=list)
    summary: PackageSummary | None = None
    changes: ChangeReport | None = None


def build_time() -> int:
    """SOURCE_DATE_EPOCH when set (reproducible builds), else now."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(value) if value.isdigit() else int(time.time())


def check(options: BuildOptions) -> tuple[DeckConfig, list[RenderedCard], MediaLibrary, Report]:
    """Read and render every card, collecting every problem."""
    report = Report(options.cards_dir)
    if not options.cards_dir.is_dir():
        report.error(options.cards_dir, 1, "cards folder not found")
        raise BuildError(report.sorted())
    config = load_config(options.cards_dir, report)
    library = MediaLibrary(options.media_dir)
    rendered = [render_card(card, library, report) for card in load_cards(options.cards_dir, report)]
    if not rendered and not report.has_errors():
        report.error(options.cards_dir, 1, "no card files (*.md) found")
    for path in library.files():
        if path.resolve() not in library.referenced:
            report.warning(path, 1, "media file is not used by any card")
    return config, rendered, library, report


def build(options: BuildOptions) -> BuildResult:
    """Check everything; unless checking only, write the deck. Raises BuildError on errors."""
    config, rendered, library, report = check(options)
    if report.has_errors(strict=options.strict):
        raise BuildError(report.sorted())
    warnings = report.sorted()
    if options.check_only or options.output is None:
        return BuildResult(config, None, warnings, rendered)
    deck_name = options.deck_name or config.name
    notes = make_notes(rendered, config, deck_name)
    previous = read_previous(options.output)
    media = sorted(library.used.values(), key=lambda m: m.name)
    summary = write_package(notes, config, deck_name, media, options.output, previous, build_time())
    changes = compare(notes, previous, config)
    return BuildResult(config, options.output, warnings, rendered, summary, changes)

#!/usr/bin/env python3
"""Command line for build_deck: turns Markdown flashcards into an Anki package."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from deckbuilder import __version__
from deckbuilder.build import BuildOptions, BuildResult, build
from deckbuilder.errors import BuildError
from deckbuilder.read.config import slugify

HERE = Path(__file__).resolve().parent

EPILOG = """\b
Examples:
  python build_deck.py                          build the bundled Keras deck
  python build_deck.py --check --strict         validate only, warnings fail (CI)
  python build_deck.py --cards ~/my-cards --media ~/my-cards/media -o my.apkg
"""


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--cards",
    "cards_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=HERE / "cards",
    show_default="cards/ next to build_deck.py",
    help="Folder of Markdown card files.",
)
@click.option(
    "--media",
    "media_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=HERE / "media",
    show_default="media/ next to build_deck.py",
    help="Folder of images the cards use.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the .apkg.  [default: the deck's name, e.g. keras-interview-questions.apkg]",
)
@click.option("--deck-name", default=None, help="Deck name to use instead of the one in deck.yaml.")
@click.option("--check", "check_only", is_flag=True, help="Validate every card and report; write nothing.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--preview",
    "preview",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write one HTML page showing every card's front and back (light/night, phone width).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only warnings and errors.")
@click.version_option(__version__, prog_name="build_deck")
def main(
    cards_dir: Path,
    media_dir: Path,
    output: Path | None,
    deck_name: str | None,
    check_only: bool,
    strict: bool,
    preview: Path | None,
    quiet: bool,
) -> None:
    """Build an Anki deck (.apkg) from a folder of Markdown flashcards.

    Each card file has YAML front matter with a stable id, the question as its first
    '# ' heading and the answer below, with key terms marked {{c1::like this}}.
    """
    options = BuildOptions(cards_dir, media_dir, output, deck_name, check_only, strict)
    if not check_only and output is None:
        options = _with_default_output(options)
    try:
        result = build(options, progress=None if quiet else _progress_bar)
    except BuildError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        errors = sum(p.severity == "error" for p in exc.problems)
        warnings = len(exc.problems) - errors
        click.echo(f"build_deck: {errors} error(s), {warnings} warning(s); nothing was written", err=True)
        sys.exit(1)
    except OSError as exc:  # e.g. the output folder is not writable; the previous output is untouched
        where = f" {exc.filename}" if exc.filename else ""
        click.echo(f"build_deck: error: cannot write{where}: {exc.strerror or exc}; nothing was written", err=True)
        sys.exit(1)
    for problem in result.warnings:
        click.echo(str(problem), err=True)
    if preview is not None:
        from deckbuilder.preview import write_preview

        write_preview(result.rendered, options.deck_name or result.config.name, preview, media_dir=options.media_dir)
        if not quiet:
            click.echo(f"wrote preview {preview}")
    if not quiet:
        _print_identity_hint(result, cards_dir)
        _print_summary(result)


# Rendering this many cards takes about a second or more: worth a progress bar.
PROGRESS_MIN_CARDS = 300


def _progress_bar(total: int):
    """A progress bar on stderr for a long render, only on an interactive terminal."""
    if total < PROGRESS_MIN_CARDS or not sys.stderr.isatty():
        return None
    bar = click.progressbar(length=total, label="rendering cards", file=sys.stderr)
    bar.__enter__()
    return bar


def _with_default_output(options: BuildOptions) -> BuildOptions:
    from dataclasses import replace

    from deckbuilder.errors import Report
    from deckbuilder.read.config import load_config

    name = options.deck_name or load_config(options.cards_dir, Report(options.cards_dir)).name
    return replace(options, output=Path(f"{slugify(name)}.apkg"))


def _print_identity_hint(result: BuildResult, cards_dir: Path) -> None:
    """Without deck.yaml the deck's identity follows its name: suggest pinning it."""
    if result.config.from_file:
        return
    import random
    import uuid

    config = result.config
    click.echo(
        f"note: no deck.yaml in {cards_dir}; the deck's identity is derived from its name '{config.name}'.\n"
        f"      To keep it when you rename the deck, create {cards_dir / 'deck.yaml'} with a fresh id, e.g.:\n"
        f"        name: {config.name}\n        id: {random.randrange(1 << 30, 1 << 31)}\n"
        f"        namespace: {uuid.uuid4()}",
        err=True,
    )


def _print_summary(result: BuildResult) -> None:
    if result.summary is None:
        click.echo(f"checked {len(result.rendered)} card files: no errors")
        return
    s = result.summary
    counts = f"{s.notes} notes, {s.cards} cards, {s.media} media files"
    click.echo(f"wrote {result.output}: {counts}" if s.written else f"{result.output} is up to date: {counts}")
    changes = result.changes
    if changes is None or changes.first_build:
        return
    click.echo(
        f"changes since the previous build: {len(changes.added)} added, {len(changes.changed)} changed, "
        f"{len(changes.removed)} removed, {len(changes.unchanged)} unchanged"
    )
    for label, ids in (("added", changes.added), ("changed", changes.changed), ("removed", changes.removed)):
        for card_id in ids:
            click.echo(f"  {label}: {card_id}")
    if changes.removed:
        click.echo("Anki keeps removed cards on import; to delete them, search the browser for:")
        click.echo(f"  {changes.removed_search()}")


if __name__ == "__main__":
    main()

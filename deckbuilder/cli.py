"""The command line (the only module that speaks click): ``build-deck``, ``python -m deckbuilder``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .builder import BuildOptions, BuildResult, build, default_media_dir, default_output
from .errors import BuildError

BUILD_EPILOG = """\b
Examples:
  build-deck                                 build the deck in ./cards and ./media
  build-deck --check --strict                validate only, warnings fail (CI)
  build-deck --cards ~/notes/cards -o my.apkg    media/ beside the cards folder
"""

# Rendering this many cards takes about a second or more: worth a progress bar.
PROGRESS_MIN_CARDS = 300


class DefaultToBuild(click.Group):
    """``build-deck`` with no command, or only options, runs ``build-deck build``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0].startswith("-") and args[0] not in ("-h", "--help", "--version")):
            args = ["build", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultToBuild, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="build_deck")
def main() -> None:
    """Build Anki decks (.apkg) from folders of Markdown flashcards.

    Each card file has YAML front matter with a stable id, the question as its first
    '# ' heading and the answer below, with key terms marked {{c1::like this}}.
    Without a command, build-deck builds (see build-deck build --help).
    """


@main.command("build", epilog=BUILD_EPILOG)
@click.option(
    "--cards",
    "cards_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("cards"),
    show_default=True,
    help="Folder of Markdown card files.",
)
@click.option(
    "--media",
    "media_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of images the cards use.  [default: ./media, or with --cards the media/ folder beside it]",
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
def build_command(
    cards_dir: Path,
    media_dir: Path | None,
    output: Path | None,
    deck_name: str | None,
    check_only: bool,
    strict: bool,
    preview: Path | None,
    quiet: bool,
) -> None:
    """Build an Anki deck (.apkg) from a folder of Markdown flashcards."""
    given_cards = click.get_current_context().get_parameter_source("cards_dir") != click.core.ParameterSource.DEFAULT
    if media_dir is None:
        media_dir = default_media_dir(cards_dir) if given_cards else Path("media")
    options = BuildOptions(cards_dir, media_dir, output, deck_name, check_only, strict)
    try:
        if not check_only and output is None:
            options = default_output(options)
        result = build(options, progress=None if quiet else _progress_bar)
    except BuildError as exc:
        _fail(exc)
    except OSError as exc:  # e.g. the output folder is not writable; the previous output is untouched
        where = f" {exc.filename}" if exc.filename else ""
        click.echo(f"build_deck: error: cannot write{where}: {exc.strerror or exc}; nothing was written", err=True)
        sys.exit(1)
    for problem in result.warnings:
        click.echo(str(problem), err=True)
    if preview is not None:
        from .preview import write_preview

        write_preview(result.rendered, options.deck_name or result.config.name, preview, media_dir=options.media_dir)
        if not quiet:
            click.echo(f"wrote preview {preview}")
    if not quiet:
        _print_identity_hint(result, cards_dir)
        _print_summary(result)
    if result.changes is not None and result.changes.renamed_decks:
        _print_renames(result.changes.renamed_decks)


@main.command("init", epilog="\b\nExample:\n  build-deck init my-deck && cd my-deck && build-deck")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default=None, help="The deck's name.  [default: from the folder's name]")
def init_command(folder: Path, name: str | None) -> None:
    """Start a new deck in FOLDER: cards/deck.yaml with a fresh identity, an example card, media/."""
    from .starter import create_deck

    try:
        config = create_deck(folder, name)
    except BuildError as exc:
        _fail(exc, written="nothing was created")
    click.echo(f"created the deck '{config.name}' in {folder}: cards/deck.yaml, cards/01-example.md, media/")
    click.echo(f"next: cd {folder} && build-deck")


def _fail(exc: BuildError, written: str = "nothing was written") -> None:
    for problem in exc.problems:
        click.echo(str(problem), err=True)
    errors = sum(p.severity == "error" for p in exc.problems)
    warnings = len(exc.problems) - errors
    click.echo(f"build_deck: {errors} error(s), {warnings} warning(s); {written}", err=True)
    sys.exit(1)


def _progress_bar(total: int):
    """A progress bar on stderr for a long render, only on an interactive terminal."""
    if total < PROGRESS_MIN_CARDS or not sys.stderr.isatty():
        return None
    bar = click.progressbar(length=total, label="rendering cards", file=sys.stderr)
    bar.__enter__()
    return bar


def _print_identity_hint(result: BuildResult, cards_dir: Path) -> None:
    """Without deck.yaml the deck's identity follows its name: suggest pinning it."""
    if result.config.from_file:
        return
    from .starter import fresh_identity

    deck_id, namespace = fresh_identity()
    config = result.config
    click.echo(
        f"note: no deck.yaml in {cards_dir}; the deck's identity is derived from its name '{config.name}'.\n"
        f"      To keep it when you rename the deck, create {cards_dir / 'deck.yaml'} with a fresh id, e.g.:\n"
        f"        name: {config.name}\n        id: {deck_id}\n        namespace: {namespace}",
        err=True,
    )


def _print_renames(renames: tuple[tuple[str, str], ...]) -> None:
    """Anki finds decks by name: without these steps a renamed deck would arrive as a second deck tree."""
    click.echo(
        "note: decks were renamed since the previous build. Anki finds decks by name, so rename them in Anki\n"
        "      before you import this package (deck list: the gear beside a deck, then Rename; on AnkiDroid\n"
        "      and AnkiMobile, long-press the deck), in this order, or the cards arrive in a second deck tree:",
        err=True,
    )
    for old, new in renames:
        click.echo(f'        rename "{old}" to "{new}"', err=True)


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
    types = f"; {len(changes.note_types)} note type(s) changed" if changes.note_types else ""
    click.echo(
        f"changes since the previous build: {len(changes.added)} added, {len(changes.changed)} changed, "
        f"{len(changes.removed)} removed, {len(changes.unchanged)} unchanged{types}"
    )
    for label, ids in (("added", changes.added), ("changed", changes.changed), ("removed", changes.removed)):
        for card_id in ids:
            click.echo(f"  {label}: {card_id}")
    for name in changes.note_types:
        click.echo(f"  note type changed (CSS or templates): {name}")
    if changes.removed:
        click.echo("Anki keeps removed cards on import; to delete them, search the browser for:")
        click.echo(f"  {changes.removed_search()}")

"""The command line (the only module that speaks click): ``build-deck``, ``python -m deckbuilder``."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import click

from . import __version__
from .builder import BuildOptions, BuildResult, build, default_media_dir, default_output
from .errors import BuildError, display_path

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


def deck_options(command):
    """The options that say what to build from and where to write it (build and serve)."""
    options = [
        click.option(
            "--cards",
            "cards_dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path("cards"),
            show_default=True,
            help="Folder of Markdown card files.",
        ),
        click.option(
            "--media",
            "media_dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Folder of images the cards use.  [default: ./media, or with --cards the media/ folder beside it]",
        ),
        click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="Where to write the .apkg.  [default: the deck's name, e.g. keras-interview-questions.apkg]",
        ),
        click.option("--deck-name", default=None, help="Deck name to use instead of the one in deck.yaml."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


PREVIEW_OPTION = click.option(
    "--preview",
    "preview",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write one HTML page showing every card's front and back (light/night, phone width).",
)
OPEN_OPTION = click.option(
    "--open",
    "open_in_anki",
    is_flag=True,
    help="Hand the package written to Anki desktop, which imports it (a running Anki, or it starts).",
)
STRICT_OPTION = click.option("--strict", is_flag=True, help="Treat warnings as errors.")
QUIET_OPTION = click.option("-q", "--quiet", is_flag=True, help="Print only warnings and errors.")


def _options(cards_dir: Path, media_dir: Path | None, output: Path | None, **settings) -> BuildOptions:
    """BuildOptions from the command line's, the media folder and output named by default where not given."""
    given_cards = click.get_current_context().get_parameter_source("cards_dir") != click.core.ParameterSource.DEFAULT
    if media_dir is None:
        media_dir = default_media_dir(cards_dir) if given_cards else Path("media")
    options = BuildOptions(cards_dir, media_dir, output, **settings)
    if not options.check_only and output is None:
        options = default_output(options)
    return options


@main.command("build", epilog=BUILD_EPILOG)
@deck_options
@click.option("--check", "check_only", is_flag=True, help="Validate every card and report; write nothing.")
@STRICT_OPTION
@PREVIEW_OPTION
@OPEN_OPTION
@QUIET_OPTION
def build_command(
    cards_dir: Path,
    media_dir: Path | None,
    output: Path | None,
    deck_name: str | None,
    check_only: bool,
    strict: bool,
    preview: Path | None,
    open_in_anki: bool,
    quiet: bool,
) -> None:
    """Build an Anki deck (.apkg) from a folder of Markdown flashcards."""
    opener = _anki() if open_in_anki and not check_only else None  # before building: Anki missing is an error
    try:
        options = _options(cards_dir, media_dir, output, deck_name=deck_name, check_only=check_only, strict=strict)
        result = build(options, progress=None if quiet else _progress_bar)
    except BuildError as exc:
        _fail(exc)
    except OSError as exc:  # e.g. the output folder is not writable; the previous output is untouched
        click.echo(f"build_deck: error: {_cannot_write(exc)}; nothing was written", err=True)
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
    if opener is not None:
        _hand_to_anki(opener, options.output, quiet, fatal=True)


SERVE_EPILOG = """\b
Examples:
  build-deck serve                           build ./cards, then open http://127.0.0.1:8000/
  build-deck serve --port 8001 --open        another port; each new package goes to Anki
"""


@main.command("serve", epilog=SERVE_EPILOG)
@deck_options
@STRICT_OPTION
@PREVIEW_OPTION
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port of the live preview on 127.0.0.1 (0: any free port).",
)
@OPEN_OPTION
@QUIET_OPTION
def serve_command(
    cards_dir: Path,
    media_dir: Path | None,
    output: Path | None,
    deck_name: str | None,
    strict: bool,
    preview: Path | None,
    port: int,
    open_in_anki: bool,
    quiet: bool,
) -> None:
    """Build, then rebuild on every change and show the cards live in the browser.

    Watches the cards and media folders (deck.yaml included) and the note types' CSS. Every change
    rebuilds the deck; a good build writes the package and updates the page, which reloads itself;
    a build with errors writes nothing and shows the errors at the top of the page. Ctrl-C stops.
    """
    from .preview_server import PortInUse
    from .serve import LiveDeck, WatchError

    opener = _anki() if open_in_anki else None
    try:
        options = _options(cards_dir, media_dir, output, deck_name=deck_name, strict=strict)
        if not options.cards_dir.is_dir():
            build(options)  # the error a build gives
        live = LiveDeck(options, port, preview)
    except BuildError as exc:
        _fail(exc)
    except PortInUse as exc:
        _error(f"port {exc.port} is in use; stop the program using it, or choose another port with --port")
    except OSError as exc:  # e.g. a port below 1024 without the right to it
        _error(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}; choose another port with --port")
    signal.signal(signal.SIGTERM, _interrupt)  # stopped by a service manager or an IDE: as Ctrl-C
    try:
        with live:
            click.echo(f"serving the preview at {live.url} (Ctrl-C to stop)")
            for rebuild in live.rebuilds():
                _print_rebuild(rebuild, options, quiet, opener)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while it stops: still no traceback
        if not quiet:
            click.echo("stopped")
    except WatchError as exc:
        _error(str(exc))


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _print_rebuild(rebuild, options: BuildOptions, quiet: bool, opener) -> None:
    """What a build of build-deck serve did, as a build prints it (after the paths that changed)."""
    if rebuild.changed and not quiet:
        shown = ", ".join(display_path(path) for path in rebuild.changed[:3])
        more = f" and {len(rebuild.changed) - 3} more" if len(rebuild.changed) > 3 else ""
        click.echo(f"[{time.strftime('%H:%M:%S')}] changed: {shown}{more}")
    if rebuild.result is None:
        for problem in rebuild.problems:
            click.echo(str(problem), err=True)
        errors = sum(p.severity == "error" for p in rebuild.problems)
        warnings = len(rebuild.problems) - errors
        kept = "the package was not written (the last good one is kept)"
        click.echo(f"build_deck: {errors} error(s), {warnings} warning(s); {kept}", err=True)
        return
    result = rebuild.result
    for problem in result.warnings:
        click.echo(str(problem), err=True)
    if not quiet:
        if not rebuild.changed:
            _print_identity_hint(result, options.cards_dir)
        _print_summary(result)
        click.echo(f"built in {rebuild.seconds:.2f} s; the page is up to date")
    if result.changes is not None and result.changes.renamed_decks:
        _print_renames(result.changes.renamed_decks)
    if opener is not None and (result.summary.written or not rebuild.changed):
        _hand_to_anki(opener, options.output, quiet, fatal=False)


def _anki():
    """The function that hands a package to Anki desktop; a missing Anki is an error (exit 1)."""
    from .anki_app import AnkiNotFound, find_anki

    try:
        return find_anki()
    except AnkiNotFound as exc:
        _error(f"cannot open the package in Anki: {exc}")


def _hand_to_anki(opener, package: Path, quiet: bool, fatal: bool) -> None:
    from .anki_app import AnkiNotFound

    try:
        opener(package)
    except (AnkiNotFound, OSError) as exc:
        message = f"build_deck: error: cannot open {package} in Anki: {exc}"
        click.echo(message, err=True)
        if fatal:
            sys.exit(1)
        return
    if not quiet:
        click.echo(f"handed {package} to Anki desktop")


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


def _error(message: str) -> None:
    click.echo(f"build_deck: error: {message}", err=True)
    sys.exit(1)


def _cannot_write(exc: OSError) -> str:
    where = f" {exc.filename}" if exc.filename else ""
    return f"cannot write{where}: {exc.strerror or exc}"


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

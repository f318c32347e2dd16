"""``python -m deckbuilder``: the command line."""

from .cli import main

main(prog_name="build-deck")

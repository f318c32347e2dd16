#!/usr/bin/env python3
"""Build the deck in ./cards and ./media (run from a clone: `python build_deck.py`); the same as `build-deck`."""

from deckbuilder.cli import main

if __name__ == "__main__":
    main()

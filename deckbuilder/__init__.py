"""build_deck: Markdown flashcards to Anki packages."""

__version__ = "0.1.0"

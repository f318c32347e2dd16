"""build_deck: Markdown flashcards to Anki packages.

The Python API is what the command line itself uses::

    from pathlib import Path
    from deckbuilder import BuildError, BuildOptions, build

    try:
        result = build(BuildOptions(Path("cards"), Path("media"), output=Path("deck.apkg")))
    except BuildError as error:
        for problem in error.problems:  # each with .path, .line, .severity, .message
            print(problem)
    else:
        print(result.summary, result.changes)

``create_deck(folder)`` starts a new deck folder, as ``build-deck init`` does.
"""

__version__ = "0.1.0"

from .builder import BuildOptions, BuildResult, build
from .errors import BuildError, Problem
from .starter import create_deck

__all__ = ["BuildError", "BuildOptions", "BuildResult", "Problem", "build", "create_deck"]

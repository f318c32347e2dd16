"""Speed-ups: drop-in replacements for plain library calls that give the same output in less time.

- ``markdown``: Python-Markdown without the work that cannot change its HTML (markdown.py), and plain
  questions rendered without it;
- ``lexer``: Pygments' lexers with each state's rules joined into one regular expression (lexer.py);
- ``sanitize``: the sanitiser left out for Markdown that cannot make markup it would change: without
  a ``<`` (raw HTML, autolinks) or a link or image (``](``, ``]:``), all the markup is Python-Markdown's
  own and the text in it is escaped (sanitize.py);
- ``zip``: the package written with its collection in independent deflate chunks, so a rebuild keeps
  the unchanged chunks' compressed bytes (zip.py), instead of by Python's zipfile.

All are on by default. ``BUILD_DECK_SPEEDUPS`` chooses: ``none``, or the names of those to use
(``markdown,lexer``). Tests compare each with the plain call; on anything it does not expect, a speed-up
falls back to the plain call. The rest of the tool can be read without them.
"""

from __future__ import annotations

import os

NAMES = ("markdown", "lexer", "sanitize", "zip")


def enabled_names() -> tuple[str, ...]:
    """The speed-ups in use, as BUILD_DECK_SPEEDUPS says (all when it is unset)."""
    setting = os.environ.get("BUILD_DECK_SPEEDUPS", "all").strip().lower()
    if setting in ("", "all"):
        return NAMES
    chosen = {name.strip() for name in setting.split(",")}
    return tuple(name for name in NAMES if name in chosen)


def enabled(name: str) -> bool:
    """Whether the speed-up ``name`` is in use."""
    return name in enabled_names()

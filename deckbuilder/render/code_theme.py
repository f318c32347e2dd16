"""Accessible syntax colours for code blocks, one palette for light and one for night mode.

Both Pygments styles come from one table, so every token type the light theme colours
has a night colour too (a light colour left over in night mode would be unreadable).
Every colour meets WCAG AA (4.5:1) against its code background; tests/test_phone.py
checks each token class the highlighter can emit, in both modes.
"""

from __future__ import annotations

from pygments.style import Style
from pygments.token import (
    Comment,
    Error,
    Generic,
    Keyword,
    Literal,
    Name,
    Number,
    Operator,
    String,
    Token,
)

CODE_CLASS = "highlight"  # the class of every highlighted <pre>
# Code lines carry their indentation as a class (indent-0 ... indent-40, see highlight._Lines);
# deeper indentation is drawn as this deep.
MAX_INDENT = 40
LIGHT_BACKGROUND = "#f6f8fa"
NIGHT_BACKGROUND = "#161b22"

# token type: (light colour, night colour, font style). Child token types inherit from
# the nearest listed parent, as in any Pygments style. The hues follow GitHub's Primer
# themes, darkened or lightened where needed to pass 4.5:1 on the code background.
PALETTE: dict = {
    Token: ("#1f2328", "#e6edf3", ""),
    Comment: ("#57606a", "#9ea7b3", "italic"),
    Comment.Preproc: ("#953800", "#ffa657", "noitalic"),
    Comment.PreprocFile: ("#0a3069", "#a5d6ff", "noitalic"),
    Keyword: ("#cf222e", "#ff7b72", ""),
    Keyword.Constant: ("#0550ae", "#79c0ff", ""),
    Keyword.Type: ("#953800", "#ffa657", ""),
    Operator: ("#1f2328", "#e6edf3", ""),
    Operator.Word: ("#cf222e", "#ff7b72", ""),
    Name.Builtin: ("#953800", "#ffa657", ""),
    Name.Builtin.Pseudo: ("#0550ae", "#79c0ff", ""),
    Name.Class: ("#6639ba", "#d2a8ff", ""),
    Name.Function: ("#6639ba", "#d2a8ff", ""),
    Name.Decorator: ("#953800", "#ffa657", ""),
    Name.Exception: ("#953800", "#ffa657", ""),
    Name.Attribute: ("#0550ae", "#79c0ff", ""),
    Name.Tag: ("#116329", "#7ee787", ""),
    Name.Variable: ("#953800", "#ffa657", ""),
    Name.Constant: ("#0550ae", "#79c0ff", ""),
    Name.Entity: ("#0550ae", "#79c0ff", ""),
    Name.Label: ("#953800", "#ffa657", ""),
    Literal: ("#0550ae", "#79c0ff", ""),
    Number: ("#0550ae", "#79c0ff", ""),
    String: ("#0a3069", "#a5d6ff", ""),
    String.Escape: ("#0550ae", "#79c0ff", ""),
    String.Interpol: ("#0550ae", "#79c0ff", ""),
    String.Regex: ("#116329", "#7ee787", ""),
    String.Symbol: ("#0550ae", "#79c0ff", ""),
    Generic.Deleted: ("#82071e", "#ffa198", ""),
    Generic.Inserted: ("#116329", "#7ee787", ""),
    Generic.Error: ("#82071e", "#ffa198", ""),
    Generic.Traceback: ("#82071e", "#ffa198", ""),
    Generic.Heading: ("#0550ae", "#79c0ff", "bold"),
    Generic.Subheading: ("#6639ba", "#d2a8ff", "bold"),
    Generic.Prompt: ("#57606a", "#9ea7b3", ""),
    Generic.Emph: ("#1f2328", "#e6edf3", "italic"),
    Generic.Strong: ("#1f2328", "#e6edf3", "bold"),
    Generic.EmphStrong: ("#1f2328", "#e6edf3", "bold italic"),
    Error: ("#82071e", "#ffa198", ""),
}


def _styles(night: bool) -> dict:
    return {token: f"{extra} {colours[night]}".strip() for token, (*colours, extra) in PALETTE.items()}


class LightCodeStyle(Style):
    """Dark tokens on a pale grey block."""

    name = "build-deck-light"
    background_color = LIGHT_BACKGROUND
    styles = _styles(night=False)


class NightCodeStyle(Style):
    """Light tokens on a near-black block, for Anki's night mode."""

    name = "build-deck-night"
    background_color = NIGHT_BACKGROUND
    styles = _styles(night=True)

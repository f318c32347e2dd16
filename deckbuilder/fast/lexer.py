"""Pygments' RegexLexer with one regular expression per state instead of one per rule.

At every position, RegexLexer tries the rules of the current state one by one, in Python:
for Python code that is dozens of regex calls per token, and most of the time spent in
highlighting. Joined into one alternation per state, ``(?P<r0>rule 0)|(?P<r1>rule 1)|...``,
the regex engine tries the same rules in the same order and stops at the same first match,
in C. Everything else (actions, state changes, error recovery) is done as RegexLexer does it,
so the tokens are the same; a test compares them with Pygments' own.

Only the lexers in TESTED (tests/test_combined_lexer.py compares their tokens with Pygments'
on generated text) are joined, and of those only if every rule can be joined safely (no
back-references, no callbacks but ``bygroups`` and ``using``, compatible flags).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

from pygments.lexer import RegexLexer
from pygments.token import Error, Whitespace, _TokenType

# Scoped flags a rule may carry inside the joined expression (re.ASCII and re.LOCALE may not).
_SCOPED_FLAGS = {re.IGNORECASE: "i", re.MULTILINE: "m", re.DOTALL: "s", re.VERBOSE: "x"}
_LEADING_FLAGS = re.compile(r"^\(\?[aiLmsux]+\)")
_UNSAFE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")  # back-references and conditionals count groups
_CALLBACKS = {"bygroups.<locals>.callback", "using.<locals>.callback"}  # they only read the match
# Lexer class -> a name to get it by.
TESTED = {
    "PythonLexer": "python", "JavascriptLexer": "javascript", "TypeScriptLexer": "typescript", "HtmlLexer": "html",
    "XmlLexer": "xml", "CssLexer": "css", "SqlLexer": "sql", "TOMLLexer": "toml", "JavaLexer": "java", "GoLexer": "go",
    "KotlinLexer": "kotlin", "ScalaLexer": "scala", "SLexer": "r",
}  # fmt: skip


class _RuleMatch:
    """A match of one rule inside the joined expression, numbered as if the rule had matched alone."""

    __slots__ = ("_base", "_match")

    def __init__(self, match: re.Match, base: int):
        self._match, self._base = match, base

    def group(self, index: int = 0):
        return self._match.group(self._base + index)

    def start(self, index: int = 0) -> int:
        return self._match.start(self._base + index)

    def end(self, index: int = 0) -> int:
        return self._match.end(self._base + index)


@cache
def joined_lexer(lexer):
    """A copy of ``lexer`` (same options) with joined expressions; None when it cannot have them."""
    if type(lexer).__name__ not in TESTED:
        return None
    quick = type(lexer)(**lexer.options)
    join_states(quick)
    return quick if hasattr(quick, "joined_states") else None


def tokens(lexer, code: str) -> list | None:
    """``lexer.get_tokens(code)`` as the joined copy of the lexer gives them; None when there is no such
    copy, or when it fails on this code (Pygments' own lexer then decides)."""
    quick = joined_lexer(lexer)
    if quick is None:
        return None
    try:
        return list(quick.get_tokens(code))
    except Exception:
        return None


def accelerate(lexer) -> None:
    """Give a lexer the joined expressions, if it is a tested one and its rules allow it."""
    if type(lexer).__name__ in TESTED:
        join_states(lexer)


def join_states(lexer) -> None:
    """Give a RegexLexer instance the joined expressions, if its rules allow it."""
    if type(lexer).get_tokens_unprocessed is not RegexLexer.get_tokens_unprocessed:
        return
    states = JoinedStates()
    for name, rules in lexer._tokens.items():
        joined = _join(rules)
        if joined is None:
            return
        states.sources[name] = joined
    lexer.joined_states = states
    lexer.get_tokens_unprocessed = lambda text, stack=("root",): _tokens(lexer, states, text, stack)


class JoinedStates(dict):
    """State name -> (joined pattern, rules by group), compiled when the state is first entered:
    compiling all of Python's 49 states would take longer than highlighting a card."""

    def __init__(self):
        super().__init__()
        self.sources: dict[str, tuple[str, int, dict]] = {}

    def __missing__(self, name: str) -> tuple[re.Pattern, dict]:
        source, flags, rules = self.sources[name]
        self[name] = compiled = (re.compile(source, flags), rules)
        return compiled


def _join(rules: list) -> tuple[str, int, dict[int, tuple]] | None:
    """One pattern (and its flags) for a state's rules, and each rule's (action, new state, first group)
    by its group; None when the rules cannot be joined."""
    if not rules:
        return r"(?!)", 0, {}
    base = getattr(rules[0][0], "__self__", re.compile("")).flags
    parts, by_group, group = [], {}, 1
    for rexmatch, action, new_state in rules:
        pattern = getattr(rexmatch, "__self__", None)
        if not isinstance(pattern, re.Pattern) or _UNSAFE.search(pattern.pattern) or pattern.groupindex:
            return None
        if action is not None and type(action) is not _TokenType and action.__qualname__ not in _CALLBACKS:
            return None
        scoped = _scoped_flags(pattern.flags, base)
        if scoped is None:
            return None
        body = _LEADING_FLAGS.sub("", pattern.pattern)
        if pattern.flags & re.VERBOSE:
            body += "\n"  # ends a trailing comment, which would swallow the closing parenthesis
        parts.append(f"((?{scoped}:{body}))" if scoped else f"({body})")
        by_group[group] = (action, new_state, group)
        group += 1 + pattern.groups
    return "|".join(parts), base, by_group


def _scoped_flags(flags: int, base: int) -> str | None:
    """The ``on-off`` flags that turn the joined expression's flags into the rule's; None if impossible."""
    if (flags ^ base) & (re.ASCII | re.LOCALE | re.UNICODE):
        return None
    on = "".join(letter for flag, letter in _SCOPED_FLAGS.items() if flags & flag and not base & flag)
    off = "".join(letter for flag, letter in _SCOPED_FLAGS.items() if base & flag and not flags & flag)
    return on + (f"-{off}" if off else "")


def _tokens(lexer, states: dict, text: str, stack=("root",)) -> Iterator[tuple[int, object, str]]:
    """RegexLexer.get_tokens_unprocessed, one match per token."""
    pos = 0
    statestack = list(stack)
    pattern, rules = states[statestack[-1]]
    while True:
        m = pattern.match(text, pos)
        if m is None:
            # As RegexLexer: at the end of a line go back to the root state, else one error character.
            if pos >= len(text):
                break
            if text[pos] == "\n":
                statestack = ["root"]
                pattern, rules = states["root"]
                yield pos, Whitespace, "\n"
            else:
                yield pos, Error, text[pos]
            pos += 1
            continue
        action, new_state, group = rules[m.lastindex]
        if action is not None:
            if type(action) is _TokenType:
                yield pos, action, m.group(group)
            else:
                yield from action(lexer, _RuleMatch(m, group))
        pos = m.end()
        if new_state is not None:
            _change_state(statestack, new_state)
            pattern, rules = states[statestack[-1]]


def _change_state(statestack: list[str], new_state) -> None:
    if isinstance(new_state, tuple):
        for state in new_state:
            if state == "#pop":
                if len(statestack) > 1:
                    statestack.pop()
            elif state == "#push":
                statestack.append(statestack[-1])
            else:
                statestack.append(state)
    elif isinstance(new_state, int):
        # Pop, but keep at least one state (random code must not raise).
        if abs(new_state) >= len(statestack):
            del statestack[1:]
        else:
            del statestack[new_state:]
    elif new_state == "#push":
        statestack.append(statestack[-1])
    else:
        raise ValueError(f"wrong state definition: {new_state!r}")

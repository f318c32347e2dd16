"""Read card sources: front matter, question heading and answer body."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import yaml

from ..errors import Report, quoted
from . import strict_yaml
from .fences import lines_outside_fences
from .files import find_card_files, read_text

KNOWN_KEYS = {"id", "tags", "reference", "test", "reverse", "type-answer"}
# Obsidian's own keys, which mean nothing to a card: ignored without a warning.
IGNORED_KEYS = {"aliases"}
# A typed answer is short and exact (a name, a value): what fits one line of the type-in box on a phone.
MAX_TYPE_ANSWER = 80
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
TAG_PATTERN = re.compile(r"[^\s\"]+")
# Sub-folders are sections and sub-decks; deeper than this is a mistake (and Anki's deck list would show it).
MAX_FOLDER_DEPTH = 8
DETAILS_HEADING = re.compile(r"^##[ \t]+Details[ \t]*#*[ \t]*$")


class SourceCard(NamedTuple):
    """One question file, split into its parts, with line numbers for messages.

    A tuple rather than a frozen dataclass: ten times quicker to make, which a large deck
    read from the render cache notices.
    """

    path: Path
    rel: str
    id: str
    id_line: int
    tags: tuple[str, ...]
    references: tuple[str, ...]
    sections: tuple[str, ...]
    question: str
    question_line: int
    answer: str
    answer_line: int
    details: str
    details_line: int
    reverse: bool | None = None  # a reversed card too (None: as deck.yaml says)
    type_answer: str = ""  # the exact text of a type-in card ("" for none)


_ORDER_NUMBER = re.compile(r"^(\d+)[-_ .]*")


def section_name(folder: str) -> str:
    """``2-intermediate`` -> ``Intermediate``: the section's name as cards show it, without its number."""
    words = _ORDER_NUMBER.sub("", folder).replace("-", " ").replace("_", " ").strip()
    words = words or folder
    return words[:1].upper() + words[1:]


def order_number(folder: str) -> str | None:
    """The number a folder's name starts with (``2-intermediate`` -> ``2``), if any."""
    match = _ORDER_NUMBER.match(folder)
    return match.group(1) if match and _ORDER_NUMBER.sub("", folder) else None


def load_cards(cards_dir: Path, report: Report) -> list[SourceCard]:
    """Parse every card file; problems go to the report, good cards are returned."""
    cards = [parse_card(path, cards_dir, report) for path in find_card_files(cards_dir)]
    return unique_ids([card for card in cards if card is not None], report)


def unique_ids(cards: list[SourceCard], report: Report) -> list[SourceCard]:
    """The cards with ids not taken by an earlier file; each clash is an error naming both files.

    Ids are compared regardless of case: Anki's search, which finds removed cards by id, ignores it.
    """
    if len({card.id.casefold() for card in cards}) == len(cards):
        return list(cards)  # no clash: the usual case, and quicker to tell (build-deck serve does it often)
    seen: dict[str, SourceCard] = {}
    for card in cards:
        other = seen.get(card.id.casefold())
        if other is None:
            seen[card.id.casefold()] = card
            continue
        same = "" if other.id == card.id else f" as '{other.id}' (ids may not differ only in case)"
        first = report.note(other.path, other.id_line, "first used here")
        message = f"id '{card.id}' is already used by {other.rel}{same}; ids must be unique"
        report.error(card.path, card.id_line, message, (first,))
    return list(seen.values())


def parse_card(
    path: Path, cards_dir: Path, report: Report, data: bytes | None = None, vault: bool = False
) -> SourceCard | None:
    """Split one file (its bytes, if already read) into front matter, question and body.

    ``vault``: the cards folder is an Obsidian vault, where a note that is not a card (no ``id`` in its
    front matter, or no question heading) is skipped with a warning instead of being an error.
    """
    # find_card_files does not follow linked folders, so only the file itself can lead out.
    if path.is_symlink() and not path.resolve().is_relative_to(cards_dir.resolve()):
        report.error(path, 1, "symbolic link leads outside the cards folder; refusing to read it")
        return None
    text = read_text(path, report, data)
    if text is None:
        return None
    lines = text.split("\n")
    if vault:
        reason = _not_a_card(path, lines)
        if reason:
            report.warning(path, 1, f"not a card ({reason}); skipped, as deck.yaml says the cards folder is a vault")
            return None
    meta, body_start = _front_matter(path, lines, report)
    if meta is None:
        return None
    key_lines = _key_lines(lines, body_start)
    card_id = _card_id(path, meta, key_lines, report)
    tags = _tags(path, meta, key_lines, report)
    references = _string_list(path, meta, key_lines, "reference", report)
    for ref in references:
        if not re.match(r"https?://", ref):
            report.error(path, key_lines.get("reference", 1), f"reference must be an http(s) URL, not {quoted(ref)}")
    for tag in tags:
        if not TAG_PATTERN.fullmatch(tag):
            report.error(path, key_lines.get("tags", 1), f"tag {quoted(tag)} must not contain spaces or quotes")
    if not isinstance(meta.get("test", {}), dict):
        report.error(path, key_lines.get("test", 1), "'test' must be a mapping (it is for test tools, never shown)")
    reverse = _reverse(path, meta, key_lines, report)
    type_answer = _type_answer(path, meta, key_lines, report)
    known = ", ".join(sorted(KNOWN_KEYS))
    for key in sorted(set(meta) - KNOWN_KEYS - IGNORED_KEYS):
        report.warning(path, key_lines.get(key, 1), f"unknown front-matter key {quoted(key)} (known: {known})")
    sections = _sections(path, cards_dir, report)
    heading = _question_line(lines, body_start)
    if heading is None:
        report.error(path, body_start + 1, "no question: start the question with a '# ' heading")
        return None
    if card_id is None or sections is None:
        return None
    question = lines[heading][2:].strip()
    body = lines[heading + 1 :]
    split = _details_split(body)
    answer, details = body[:split], body[split + 1 :]
    return SourceCard(
        path=path,
        rel=path.relative_to(cards_dir).as_posix(),
        id=card_id,
        id_line=key_lines.get("id", 1),
        tags=tuple(tags),
        references=tuple(references),
        sections=sections,
        question=question,
        question_line=heading + 1,
        answer="\n".join(answer),
        answer_line=heading + 2,
        details="\n".join(details),
        details_line=heading + split + 3,
        reverse=reverse,
        type_answer=type_answer,
    )


def with_card_types(card: SourceCard, reverse: bool, type_answer: bool) -> SourceCard:
    """The card with deck.yaml's settings applied: ``reverse`` where its front matter does not say, and
    no typed answer unless ``type_answer``."""
    wanted = (bool(reverse if card.reverse is None else card.reverse), card.type_answer if type_answer else "")
    if wanted == (bool(card.reverse), card.type_answer):
        return card  # the same cards (None and False both mean no reversed card): a build keeps its objects
    return card._replace(reverse=wanted[0], type_answer=wanted[1])


def _not_a_card(path: Path, lines: list[str]) -> str | None:
    """Why a note of a vault is not a card (None when it is one, or means to be: then its errors count)."""
    meta, body_start = _front_matter(path, lines, Report(path.parent))
    if meta is None:  # none, or one that cannot be read: a card if it names an id all the same
        end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), len(lines))
        has_id = lines[:1] == ["---"] and any(re.match(r"id[ \t]*:", line) for line in lines[1:end])
        return None if has_id else "no front matter with an 'id'"
    if "id" not in meta:
        return "no 'id' in its front matter"
    if _question_line(lines, body_start) is None:
        return "no '# ' question heading"
    return None


def _sections(path: Path, cards_dir: Path, report: Report) -> tuple[str, ...] | None:
    """The section names of the folders the card is in; None (reported) for folders that cannot be sub-decks."""
    folders = path.relative_to(cards_dir).parts[:-1]
    if len(folders) > MAX_FOLDER_DEPTH:
        report.error(path, 1, f"the card is {len(folders)} folders deep; sections nest at most {MAX_FOLDER_DEPTH} deep")
        return None
    for folder in folders:
        if "::" in folder:
            message = f"folder {quoted(folder)} has '::' in its name, which Anki reads as a sub-deck; rename it"
            report.error(path, 1, message)
            return None
    return tuple(section_name(folder) for folder in folders)


def _front_matter(path: Path, lines: list[str], report: Report) -> tuple[dict | None, int]:
    """The YAML mapping between the leading ``---`` lines and the index after it."""
    if not lines or lines[0].rstrip() != "---":
        report.error(path, 1, "missing front matter: start the file with '---', 'id: ...', '---'")
        return None, 0
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        report.error(path, 1, "front matter is not closed: add a '---' line after it")
        return None, 0
    try:
        meta = strict_yaml.load("\n".join(lines[1:end]))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        # (a reader error has no problem, and its text goes on over a second line: only the first is kept)
        problem = getattr(exc, "problem", None) or str(exc).strip().split("\n")[0] or "syntax error"
        context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and start:
            problem += f" ({context} that starts at line {start.line + 2})"
        report.error(path, line, f"front matter is not valid YAML: {problem}")
        return None, end + 1
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        report.error(path, 2, "front matter must be a mapping such as 'id: my-card'")
        return None, end + 1
    return meta, end + 1


def _card_id(path: Path, meta: dict, key_lines: dict[str, int], report: Report) -> str | None:
    if "id" not in meta:
        report.error(path, 1, "front matter has no 'id'; add a stable, unique id such as 'id: my-card'")
        return None
    value = meta["id"]
    line = key_lines.get("id", 1)
    if not isinstance(value, str):
        report.error(path, line, "'id' must be a single word such as 'my-card', not a list or mapping")
        return None
    card_id = value.strip()
    if not card_id:
        report.error(path, line, "'id' is empty")
        return None
    if not ID_PATTERN.fullmatch(card_id):
        suggestion = re.sub(r"[^A-Za-z0-9._-]+", "-", card_id).strip("-._")
        hint = f"; did you mean '{suggestion}'?" if suggestion else ""
        report.error(path, line, f"id {quoted(card_id)} may use only letters, digits, '.', '_' and '-'{hint}")
        return None
    return card_id


def _tags(path: Path, meta: dict, key_lines: dict[str, int], report: Report) -> list[str]:
    """A list of tags, or (Obsidian's habit) a string of them separated by spaces or commas; a leading '#'
    is dropped, as Obsidian writes tags in its text."""
    value = meta.get("tags")
    if isinstance(value, str):
        return [tag for word in re.split(r"[\s,]+", value) if (tag := word.removeprefix("#"))]
    return [tag.removeprefix("#") for tag in _string_list(path, meta, key_lines, "tags", report)]


def _reverse(path: Path, meta: dict, key_lines: dict[str, int], report: Report) -> bool | None:
    if "reverse" not in meta:
        return None
    value = strict_yaml.boolean(meta["reverse"])
    if value is None:
        shown = quoted(meta["reverse"]) if isinstance(meta["reverse"], str) else "a list or mapping"
        report.error(path, key_lines.get("reverse", 1), f"'reverse' must be true or false (or yes/no), not {shown}")
    return value


def _type_answer(path: Path, meta: dict, key_lines: dict[str, int], report: Report) -> str:
    """The exact text a type-in card compares with what the learner types ("" for none)."""
    if "type-answer" not in meta:
        return ""
    value, line = meta["type-answer"], key_lines.get("type-answer", 1)
    text = value.strip() if isinstance(value, str) else None
    if text is None:
        problem = "must be the answer's text, not a list or mapping"
    elif not text:
        problem = "is empty: write the exact text the learner types (or remove the key)"
    elif "\n" in text:
        problem = "must be one line: the learner types it into one box (keep longer answers in the card)"
    elif len(text) > MAX_TYPE_ANSWER:
        problem = (f"is {len(text)} characters; a typed answer is short and exact, at most {MAX_TYPE_ANSWER}"
                   " (a name, a value, a term)")  # fmt: skip
    elif "{{" in text:
        problem = "is compared with what the learner types, as text: a cloze cannot work in it"
    else:
        if "`" in text:
            message = "'type-answer' is compared as typed: the learner would have to type the backticks too"
            report.warning(path, line, message)
        return text
    report.error(path, line, f"'type-answer' {problem}")
    return ""


def _string_list(path: Path, meta: dict, key_lines: dict[str, int], key: str, report: Report) -> list[str]:
    value = meta.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value]
    report.error(path, key_lines.get(key, 1), f"'{key}' must be a string or a list of strings")
    return []


def _key_lines(lines: list[str], end: int) -> dict[str, int]:
    """The line number of each top-level key of the front matter (which ends before line index ``end``)."""
    found: dict[str, int] = {}
    for number in range(2, end):
        key, colon, _ = lines[number - 1].partition(":")
        if colon and key and not key[0].isspace() and key not in found:
            found[key.strip()] = number
    return found


def _question_line(lines: list[str], start: int) -> int | None:
    return next((i for i in lines_outside_fences(lines, start) if lines[i].startswith("# ")), None)


def _details_split(body: list[str]) -> int:
    return next((i for i in lines_outside_fences(body) if DETAILS_HEADING.match(body[i])), len(body))

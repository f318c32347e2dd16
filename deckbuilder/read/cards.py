"""Read card sources: front matter, question heading and answer body."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import yaml

from ..errors import Report
from .files import find_card_files, read_text

# libyaml's loader is some thirty times faster than the pure-Python one (see bench/README.md).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
KNOWN_KEYS = {"id", "tags", "reference", "test"}
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
TAG_PATTERN = re.compile(r"[^\s\"]+")
FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
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


def section_name(folder: str) -> str:
    """``2-intermediate`` -> ``Intermediate``: the number only orders sections."""
    words = re.sub(r"^\d+[-_ .]*", "", folder).replace("-", " ").replace("_", " ").strip()
    words = words or folder
    return words[:1].upper() + words[1:]


def load_cards(cards_dir: Path, report: Report) -> list[SourceCard]:
    """Parse every card file; problems go to the report, good cards are returned."""
    cards = [parse_card(path, cards_dir, report) for path in find_card_files(cards_dir)]
    return unique_ids([card for card in cards if card is not None], report)


def unique_ids(cards: list[SourceCard], report: Report) -> list[SourceCard]:
    """The cards with ids not taken by an earlier file; each clash is an error naming both files."""
    seen: dict[str, SourceCard] = {}
    for card in cards:
        if card.id in seen:
            other = seen[card.id]
            report.error(card.path, card.id_line, f"id '{card.id}' is already used by {other.rel}; ids must be unique")
        else:
            seen[card.id] = card
    return list(seen.values())


def parse_card(path: Path, cards_dir: Path, report: Report, data: bytes | None = None) -> SourceCard | None:
    """Split one file (its bytes, if already read) into front matter, question and body."""
    # find_card_files does not follow linked folders, so only the file itself can lead out.
    if path.is_symlink() and not path.resolve().is_relative_to(cards_dir.resolve()):
        report.error(path, 1, "symbolic link leads outside the cards folder; refusing to read it")
        return None
    text = read_text(path, report, data)
    if text is None:
        return None
    lines = text.split("\n")
    meta, body_start = _front_matter(path, lines, report)
    if meta is None:
        return None
    card_id = _card_id(path, meta, lines, report)
    tags = _string_list(path, meta, lines, "tags", report)
    references = _string_list(path, meta, lines, "reference", report)
    for ref in references:
        if not re.match(r"https?://", ref):
            report.error(path, _key_line(lines, "reference"), f"reference must be an http(s) URL, not '{ref}'")
    for tag in tags:
        if not TAG_PATTERN.fullmatch(tag):
            report.error(path, _key_line(lines, "tags"), f"tag '{tag}' must not contain spaces or quotes")
    if not isinstance(meta.get("test", {}), dict):
        report.error(path, _key_line(lines, "test"), "'test' must be a mapping (it is for test tools, never shown)")
    for key in sorted(set(map(str, meta)) - KNOWN_KEYS):
        report.warning(
            path, _key_line(lines, key), f"unknown front-matter key '{key}' (known: {', '.join(sorted(KNOWN_KEYS))})"
        )
    heading = _question_line(lines, body_start)
    if heading is None:
        report.error(path, body_start + 1, "no question: start the question with a '# ' heading")
        return None
    if card_id is None:
        return None
    question = lines[heading][2:].strip()
    body = lines[heading + 1 :]
    split = _details_split(body)
    answer, details = body[:split], body[split + 1 :]
    rel_parts = path.relative_to(cards_dir).parts
    return SourceCard(
        path=path,
        rel=path.relative_to(cards_dir).as_posix(),
        id=card_id,
        id_line=_key_line(lines, "id"),
        tags=tuple(tags),
        references=tuple(references),
        sections=tuple(section_name(p) for p in rel_parts[:-1]),
        question=question,
        question_line=heading + 1,
        answer="\n".join(answer),
        answer_line=heading + 2,
        details="\n".join(details),
        details_line=heading + split + 3,
    )


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
        meta = yaml.load("\n".join(lines[1:end]), Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        problem = getattr(exc, "problem", None) or "syntax error"
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


def _card_id(path: Path, meta: dict, lines: list[str], report: Report) -> str | None:
    if "id" not in meta:
        report.error(path, 1, "front matter has no 'id'; add a stable, unique id such as 'id: my-card'")
        return None
    value = meta["id"]
    card_id = "" if value is None else str(value).strip()
    line = _key_line(lines, "id")
    if not card_id:
        report.error(path, line, "'id' is empty")
        return None
    if not ID_PATTERN.fullmatch(card_id):
        suggestion = re.sub(r"[^A-Za-z0-9._-]+", "-", card_id).strip("-._")
        hint = f"; did you mean '{suggestion}'?" if suggestion else ""
        report.error(path, line, f"id '{card_id}' may use only letters, digits, '.', '_' and '-'{hint}")
        return None
    return card_id


def _string_list(path: Path, meta: dict, lines: list[str], key: str, report: Report) -> list[str]:
    value = meta.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [value.strip()]
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v).strip() for v in value]
    report.error(path, _key_line(lines, key), f"'{key}' must be a string or a list of strings")
    return []


def _key_line(lines: list[str], key: str) -> int:
    for number, line in enumerate(lines[1:], start=2):
        if line.rstrip() in ("---", "..."):
            break
        if line.startswith(f"{key}:"):
            return number
    return 1


def _first_outside_fences(lines: list[str], start: int, wanted) -> int | None:
    """Index of the first line from ``start`` that is not inside a code fence and matches ``wanted``."""
    in_fence = False
    for i in range(start, len(lines)):
        if FENCE.match(lines[i]):
            in_fence = not in_fence
        elif not in_fence and wanted(lines[i]):
            return i
    return None


def _question_line(lines: list[str], start: int) -> int | None:
    return _first_outside_fences(lines, start, lambda line: line.startswith("# "))


def _details_split(body: list[str]) -> int:
    found = _first_outside_fences(body, 0, DETAILS_HEADING.match)
    return len(body) if found is None else found

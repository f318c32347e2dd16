"""The two note types: ids, fields, templates and CSS.

Every id here is fixed forever. Anki matches note types, fields and templates by id,
so keeping them lets a later release change names, templates or CSS in place instead
of forking the note type into "Name+" on import.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from pygments.style import Style

from ..render.code_theme import (
    CODE_CLASS,
    LIGHT_BACKGROUND,
    MAX_INDENT,
    NIGHT_BACKGROUND,
    LightCodeStyle,
    NightCodeStyle,
)

QA_MODEL_ID = 1_734_209_113
CLOZE_MODEL_ID = 1_734_209_114

QA_FIELDS = ("Question", "Answer", "Reference", "Section", "Id")
CLOZE_FIELDS = ("Text", "Question", "Reference", "Section", "Id")

_SECTION = '{{#Section}}<div class="section">{{Section}}</div>{{/Section}}\n'
_REFERENCE = '\n{{#Reference}}<div class="reference">Source: {{Reference}}</div>{{/Reference}}'

QA_FRONT = _SECTION + '<div class="question">{{Question}}</div>'
QA_BACK = '{{FrontSide}}\n<hr id="answer">\n<div class="answer">{{Answer}}</div>' + _REFERENCE
CLOZE_FRONT = _SECTION + '<div class="question context">{{Question}}</div>\n<div class="answer">{{cloze:Text}}</div>'
CLOZE_BACK = CLOZE_FRONT + _REFERENCE


def _fields(names: tuple[str, ...], first_id: int) -> list[dict]:
    return [{"name": name, "id": first_id + i} for i, name in enumerate(names)]


def code_css() -> str:
    """Code colours: the light theme, then the night theme scoped to Anki's night-mode class.

    Both come from deckbuilder/render/code_theme.py, which gives every token class a colour
    meeting WCAG AA on its block's background in both modes.
    """
    # A wrapped code line hangs two columns under the start of its own text (see highlight._Lines).
    hanging = "".join(
        f"pre.{CODE_CLASS} .indent-{n} {{ padding-left: {n + 2}ch; text-indent: -{n + 2}ch; }}\n"
        for n in range(MAX_INDENT + 1)
    )
    light = hanging + f"pre.{CODE_CLASS} {{ background-color: {LIGHT_BACKGROUND}; }}\n"
    night = f".nightMode pre.{CODE_CLASS} {{ background-color: {NIGHT_BACKGROUND}; }}\n"
    return (
        light
        + _scoped_style(LightCodeStyle, f".{CODE_CLASS}")
        + night
        + _scoped_style(NightCodeStyle, f".nightMode .{CODE_CLASS}")
    )


def _scoped_style(style: type[Style], scope: str) -> str:
    # get_style_defs also emits unscoped rules (pre, line numbers) and the theme's
    # background (set above, on pre); keep only the token rules. Highlighted lines
    # (.hll) are never emitted, and their pale yellow would glare in night mode.
    from pygments.formatters import HtmlFormatter

    rules = HtmlFormatter(style=style).get_style_defs(scope).splitlines()
    return "\n".join(r for r in rules if r.startswith(scope + " .") and not r.startswith(scope + " .hll")) + "\n"


@lru_cache(maxsize=1)
def card_css() -> str:
    """The CSS of both note types."""
    return resources.files(__package__).joinpath("card.css").read_text(encoding="utf-8") + code_css()


@dataclass(frozen=True)
class NoteType:
    """One of our note types, defined without genanki (so a build that writes nothing never imports it)."""

    model_id: int
    name: str
    fields: tuple[dict, ...]
    templates: tuple[dict, ...]
    is_cloze: bool
    sort_field: int

    def digest(self, css: str) -> str:
        """Fingerprint of everything Anki takes from the note type on import."""
        spec = [self.name, css, self.fields, self.templates, self.is_cloze, self.sort_field]
        return hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()

    def to_genanki(self, css: str):
        """The genanki Model (with copies: genanki writes into the dicts)."""
        import genanki

        return genanki.Model(
            self.model_id,
            self.name,
            fields=[dict(f) for f in self.fields],
            templates=[dict(t) for t in self.templates],
            css=css,
            model_type=genanki.Model.CLOZE if self.is_cloze else genanki.Model.FRONT_BACK,
            sort_field_index=self.sort_field,
        )


QA = NoteType(
    QA_MODEL_ID,
    "build_deck Q&A",
    tuple(_fields(QA_FIELDS, 1_734_209_201)),
    ({"name": "Question → Answer", "id": 1_734_209_301, "qfmt": QA_FRONT, "afmt": QA_BACK},),
    is_cloze=False,
    sort_field=0,
)
CLOZE = NoteType(
    CLOZE_MODEL_ID,
    "build_deck Cloze",
    tuple(_fields(CLOZE_FIELDS, 1_734_209_211)),
    ({"name": "Cloze", "id": 1_734_209_311, "qfmt": CLOZE_FRONT, "afmt": CLOZE_BACK},),
    is_cloze=True,
    sort_field=1,  # the question: sorting cloze notes by their blanked text would be meaningless
)
NOTE_TYPES = (QA, CLOZE)


def note_type_digests() -> dict[int, tuple[str, str]]:
    """Each note type's name and digest (of everything Anki takes from it), by id."""
    css = card_css()
    return {note_type.model_id: (note_type.name, note_type.digest(css)) for note_type in NOTE_TYPES}

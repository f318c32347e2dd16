"""The note types: ids, fields, templates and CSS.

Every id here is fixed forever. Anki matches note types, fields and templates by id,
so keeping them lets a later release change names, templates or CSS in place instead
of forking the note type into "Name+" on import. For the same reason a note type never
gets another field or template (that changes its schema, and Anki forks it on import):
the reversed and type-in cards a card asks for are notes of note types of their own.
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
REVERSE_MODEL_ID = 1_734_209_115
TYPE_MODEL_ID = 1_734_209_116

QA_FIELDS = ("Question", "Answer", "Reference", "Section", "Id")
CLOZE_FIELDS = ("Text", "Question", "Reference", "Section", "Id")
REVERSE_FIELDS = QA_FIELDS
TYPE_FIELDS = ("Question", "Expected", "Answer", "Reference", "Section", "Id")

_SECTION = '{{#Section}}<div class="section">{{Section}}</div>{{/Section}}\n'
_REFERENCE = '\n{{#Reference}}<div class="reference">Source: {{Reference}}</div>{{/Reference}}'

QA_FRONT = _SECTION + '<div class="question">{{Question}}</div>'
QA_BACK = '{{FrontSide}}\n<hr id="answer">\n<div class="answer">{{Answer}}</div>' + _REFERENCE
CLOZE_FRONT = _SECTION + '<div class="question context">{{Question}}</div>\n<div class="answer">{{cloze:Text}}</div>'
CLOZE_BACK = CLOZE_FRONT + _REFERENCE
# The answer asks for the question.
REVERSE_FRONT = _SECTION + '<div class="answer">{{Answer}}</div>'
REVERSE_BACK = '{{FrontSide}}\n<hr id="answer">\n<div class="question">{{Question}}</div>' + _REFERENCE
# The question, and a box to type the exact answer in; the back compares what was typed with it (Anki's
# reviewer does, in place of {{type:Expected}}), then shows the whole answer. Not {{FrontSide}} on the back:
# it would bring a second type-in box (as in Anki's own "Basic (type in the answer)").
_TYPE_QUESTION = _SECTION + '<div class="question">{{Question}}</div>\n'
TYPE_FRONT = _TYPE_QUESTION + "{{type:Expected}}"
TYPE_BACK = _TYPE_QUESTION + '<hr id="answer">\n{{type:Expected}}\n<div class="answer">{{Answer}}</div>' + _REFERENCE


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
    """The CSS of every note type (one for all: a card looks the same whichever kind it is)."""
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
REVERSE = NoteType(
    REVERSE_MODEL_ID,
    "build_deck Reverse",
    tuple(_fields(REVERSE_FIELDS, 1_734_209_221)),
    ({"name": "Answer → Question", "id": 1_734_209_321, "qfmt": REVERSE_FRONT, "afmt": REVERSE_BACK},),
    is_cloze=False,
    sort_field=0,
)
TYPE = NoteType(
    TYPE_MODEL_ID,
    "build_deck Type answer",
    tuple(_fields(TYPE_FIELDS, 1_734_209_231)),
    ({"name": "Type the answer", "id": 1_734_209_331, "qfmt": TYPE_FRONT, "afmt": TYPE_BACK},),
    is_cloze=False,
    sort_field=0,
)
NOTE_TYPES = (QA, CLOZE, REVERSE, TYPE)
# In every package; the others only in those whose notes use them.
ALWAYS = (QA_MODEL_ID, CLOZE_MODEL_ID)


def note_types_for(notes) -> tuple[NoteType, ...]:
    """The note types a package of ``notes`` (PackagedNote) holds: question/answer and cloze, and the
    reversed and type-in ones when a note uses them."""
    used = {packaged.note_type.model_id for packaged in notes}
    return tuple(t for t in NOTE_TYPES if t.model_id in ALWAYS or t.model_id in used)


def note_type_digests(note_types: tuple[NoteType, ...] | None = None) -> dict[int, tuple[str, str]]:
    """Each note type's name and digest (of everything Anki takes from it), by id (of all, by default)."""
    css = card_css()
    return {t.model_id: (t.name, t.digest(css)) for t in (NOTE_TYPES if note_types is None else note_types)}

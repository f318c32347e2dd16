"""The two note types: ids, fields, templates and CSS.

Every id here is fixed forever. Anki matches note types, fields and templates by id,
so keeping them lets a later release change names, templates or CSS in place instead
of forking the note type into "Name+" on import.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import genanki
from pygments.formatters import HtmlFormatter

from .highlight import CODE_CLASS

QA_MODEL_ID = 1_734_209_113
CLOZE_MODEL_ID = 1_734_209_114
LIGHT_CODE_STYLE = "default"
NIGHT_CODE_STYLE = "github-dark"

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
    """Pygments colours: a light theme, and a night theme scoped to Anki's night-mode class."""
    return _scoped_style(LIGHT_CODE_STYLE, f".{CODE_CLASS}") + _scoped_style(
        NIGHT_CODE_STYLE, f".nightMode .{CODE_CLASS}"
    )


def _scoped_style(style: str, scope: str) -> str:
    # get_style_defs also emits unscoped rules (pre, line numbers); keep only ours, and
    # drop the theme's background: the card CSS sets it once per mode.
    rules = HtmlFormatter(style=style).get_style_defs(scope).splitlines()
    return "\n".join(r for r in rules if r.startswith(scope + " .")) + "\n"


@lru_cache(maxsize=1)
def card_css() -> str:
    """The CSS of both note types."""
    return resources.files(__package__).joinpath("card.css").read_text(encoding="utf-8") + code_css()


def qa_model(css: str | None = None) -> genanki.Model:
    """The question/answer note type."""
    return genanki.Model(
        QA_MODEL_ID,
        "build_deck Q&A",
        fields=_fields(QA_FIELDS, 1_734_209_201),
        templates=[{"name": "Question → Answer", "id": 1_734_209_301, "qfmt": QA_FRONT, "afmt": QA_BACK}],
        css=card_css() if css is None else css,
        sort_field_index=0,
    )


def cloze_model(css: str | None = None) -> genanki.Model:
    """The cloze note type; its question field gives each blank its context."""
    return genanki.Model(
        CLOZE_MODEL_ID,
        "build_deck Cloze",
        fields=_fields(CLOZE_FIELDS, 1_734_209_211),
        templates=[{"name": "Cloze", "id": 1_734_209_311, "qfmt": CLOZE_FRONT, "afmt": CLOZE_BACK}],
        css=card_css() if css is None else css,
        model_type=genanki.Model.CLOZE,
        sort_field_index=1,
    )

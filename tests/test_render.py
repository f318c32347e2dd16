"""What Anki renders from our cards: clozes, highlighted code, math, images, key terms."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import SVG, blank, card, cards_of, import_package, visible_text
from hypothesis import given, settings
from hypothesis import strategies as st

from deckbuilder.fast import markdown as fast_markdown
from deckbuilder.render import markdown as converter

ROOT = Path(__file__).resolve().parent.parent
_PLAIN_MARKDOWN = converter.new_markdown()  # Python-Markdown as it is, set up as this tool renders

LOSS_CARD = card(
    "sparse-loss",
    "When do you use `sparse_categorical_crossentropy`?",
    """
    Use {{c1::`sparse_categorical_crossentropy`::loss name}} when labels are {{c2::integer class ids}}.

    ```python
    model.compile(optimizer="adam", loss={{c3::"sparse_categorical_crossentropy"}})
    ```

    - one-hot labels need {{c4::categorical_crossentropy}}
    """,
)


def imported(project, collection, files, media=None):
    project.write(files, media)
    project.build()
    import_package(collection, project.output)
    return collection


def cloze_card(col, ordinal: int):
    return next(c for c in cards_of(col, "note:*Cloze") if c.ord == ordinal - 1)


def test_cloze_front_shows_blank_and_back_reveals_term(project, collection):
    col = imported(project, collection, {"loss.md": LOSS_CARD})
    card2 = cloze_card(col, 2)
    assert blank(2).search(card2.question())
    assert "integer class ids" not in visible_text(card2.question())
    assert blank(2, "integer class ids").search(card2.answer())


def test_cloze_hint_is_shown_in_the_blank(project, collection):
    col = imported(project, collection, {"loss.md": LOSS_CARD})
    assert blank(1, "[loss name]").search(cloze_card(col, 1).question())


def test_cloze_card_shows_the_question_as_context(project, collection):
    col = imported(project, collection, {"loss.md": LOSS_CARD})
    front = cloze_card(col, 4).question()
    assert "When do you use <code>sparse_categorical_crossentropy</code>?" in front


def test_cloze_inside_code_hides_exactly_that_code_and_keeps_highlighting(project, collection):
    col = imported(project, collection, {"loss.md": LOSS_CARD})
    code_card = cloze_card(col, 3)
    front = code_card.question().split("<pre", 1)[1]
    assert blank(3).search(front)
    assert "sparse_categorical_crossentropy" not in visible_text(front)
    assert '<span class="s2">"adam"</span>' in front and '<span class="o">=</span>' in front
    assert "model.compile(" in visible_text(front)
    back = code_card.answer().split("<pre", 1)[1]
    assert blank(3, '<span class="s2">"sparse_categorical_crossentropy"</span>').search(back)


def test_basic_answer_shows_key_terms_emphasised_without_cloze_markup(project, collection):
    col = imported(project, collection, {"loss.md": LOSS_CARD})
    (basic,) = cards_of(col, "note:*Q&A")
    answer = basic.answer()
    assert "{{c" not in answer and "[...]" not in answer
    assert '<span class="term"><code>sparse_categorical_crossentropy</code></span>' in answer
    assert '<span class="term">integer class ids</span>' in answer


def test_one_cloze_card_per_number_and_one_basic_card(project, collection):
    col = imported(project, collection, {"loss.md": LOSS_CARD})
    assert sorted(c.ord for c in cards_of(col, "note:*Cloze")) == [0, 1, 2, 3]
    assert len(cards_of(col, "note:*Q&A")) == 1
    assert col.get_empty_cards().notes == []


def test_snake_case_and_inline_code_come_out_intact(project, collection):
    body = "Pass sparse_categorical_crossentropy or `from_logits=True` to __init__, not _private_name {{c1::ok}}."
    col = imported(project, collection, {"a.md": card("a", "Q", body)})
    answer = cards_of(col, "note:*Q&A")[0].answer()
    assert "sparse_categorical_crossentropy" in answer
    assert "to __init__, not _private_name" in answer
    assert "<code>from_logits=True</code>" in answer
    assert "<em>categorical</em>" not in answer and "<strong>init</strong>" not in answer


def test_mathjax_delimiters_reach_anki_untouched(project, collection):
    body = r"""
    Inline \(x_1 + x_{2}\) and {{c1::display}}:

    \[ \hat{y} = \sigma(W_1 x + b_1) \]
    """
    col = imported(project, collection, {"m.md": card("m", r"What is \(\hat{y}\)?", body)})
    answer = cards_of(col, "note:*Q&A")[0].answer()
    assert r"\(x_1 + x_{2}\)" in answer
    assert r"\[ \hat{y} = \sigma(W_1 x + b_1) \]" in answer
    assert r"What is \(\hat{y}\)?" in answer


def test_images_are_packaged_flat_and_resolve_in_anki(project, collection):
    body = "![a diagram](diagrams/flow chart.svg) and {{c1::![png](p.png)}}"
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
    col = imported(project, collection, {"i.md": card("i", "Q", body)}, {"diagrams/flow chart.svg": SVG, "p.png": png})
    answer = cards_of(col, "note:*Q&A")[0].answer()
    names = re.findall(r'<img[^>]* src="([^"]+)"', answer)
    assert len(names) == 2
    assert all("/" not in n and " " not in n for n in names)
    assert names[0].startswith("diagrams-flow-chart-") and names[0].endswith(".svg")
    media_dir = col.media.dir()
    for name in names:
        assert (media_dir + "/" + name) and __import__("os").path.exists(f"{media_dir}/{name}")
    check = col.media.check()
    assert list(check.missing) == [] and list(check.unused) == []


def test_tables_render_as_html_tables(project, collection):
    body = "| arg | default |\n|---|:-:|\n| `patience` | {{c1::0}} |"
    col = imported(project, collection, {"t.md": card("t", "Q", body)})
    answer = cards_of(col, "note:*Q&A")[0].answer()
    assert "<table>" in answer and '<td align="center">' in answer


def test_double_colons_and_braces_in_code_survive_on_cloze_cards(project, collection):
    body = '```python\nx = {{c1::y}}[::2]\nz = {"a": {"b": 1}}\n```'
    col = imported(project, collection, {"c.md": card("c", "Q", body)})
    front, back = cloze_card(col, 1).question(), cloze_card(col, 1).answer()
    assert blank(1).search(front)
    assert "x = [...][::2]" in visible_text(front)
    assert "x = y[::2]" in visible_text(back)
    assert 'z = {"a": {"b": 1}}' in visible_text(back)


def test_first_double_colon_in_a_cloze_starts_its_hint_as_in_anki(project, collection):
    col = imported(project, collection, {"c.md": card("c", "Q", "Slice {{c1::x[1:]::slice}} here")})
    assert blank(1, "[slice]").search(cloze_card(col, 1).question())
    assert blank(1, "x[1:]").search(cloze_card(col, 1).answer())


def test_plain_questions_skip_markdown_but_render_exactly_as_markdown_would():
    from deckbuilder.render import card as render

    md, _ = _PLAIN_MARKDOWN
    questions = [
        "When do you use `sparse_categorical_crossentropy`?",
        "What does C# or F# have to do with it | really ~ now!",
        "Quotes \"x\" and 'y' (in parentheses): done?",
    ]
    for question in questions:
        quick = fast_markdown.plain_question(question)
        assert quick is not None, question
        assert quick == render._PARAGRAPH.sub(r"\1", md.reset().convert(question).strip())
    assert fast_markdown.plain_question("With *emphasis*?") is None


TRICKY_MARKDOWN = [  # one feature each, so that no other character lets a needed pattern in
    "Plain words only, nothing to match.",
    "A `code` span.",
    "`Code` first, ``two `ticks` inside``, `` ` `` and `last`",
    "An `unclosed tick and a ``double one`.",
    "Code `a < b && c` with `*stars*`, `_under_` and `[brackets]`.",
    "Code `across\nlines` in a paragraph.",
    "- `list` item\n- another with `code` and\n  a `continued` line\n\n  loose `paragraph`\n    - nested `x`",
    "# Heading with `code`\n\nSetext `too`\n---",
    "> quoted `code`\n> more",
    "    indented `code block` stays",
    "<div>raw `html` block</div>\n\nafter `it`",
    "**bold**, *em* and a * lone star.",
    "_em_, __strong__, snake_case and __init__.",
    "Escaped \\* star.",
    "Escaped \\` tick, \\_ and \\[.",
    "[link](https://example.com)",
    "![alt](d.svg)",
    "[ref][1] and [short]\n\n[1]: https://example.com\n[short]: https://example.org",
    "![img ref][1]\n\n[1]: d.svg",
    "<b>html</b> and a < b > c",
    "<https://auto.link> and <me@example.com>",
    "&copy; named",
    "&#169; numeric and &#xA9; hex",
    "hard  \nbreak",
    "a tab at the end\t\nof a line",
    "trailing spaces at the very end  ",
    "* list\n* items\n\n1. one\n2. two",
    "| a | b |\n|---|---|\n| `x` | *y* |",
    "| one column |\n| - |\n| cell |",
    "a | b\n--|--\n1 | 2",
    "a pipe | in a one-line paragraph",
    "> quote with **bold**\n>\n> second  \n> line",
    "Math \\(a_b * c\\) and \\[x^2\\] stay.",
    "A {{c1::cloze}} with *em* inside {{c2::`code`::hint}}.",
    "# h1\n## h2 ##\n\n***\n\n- - -\n\n___",
    "Dollar math $x_1 * y_2$ and $$\\sum_i x_i$$, $20 and $30, \\$5.",
    "An ==highlight== and a == b == c.",
    "A [[wikilink]], [[note#heading|alias]] and ![[d.svg]] embed.",
    "> [!tip] A *callout*\n> with `code` and [[a link]]\n>\n> > [!warning]\n> > nested",
    "| [[a\\|b]] | ==c== |\n|---|---|\n| $x|y$ | d |",
]


# Questions with inline syntax that the quick path for plain questions must leave to Markdown.
TRICKY_QUESTIONS = ["What is $x_1$ here?", "Why $$a$$?", "Which ==one== now?", "What is [[a note]]?", r"Cost \$5?"]


def test_skipping_markdown_work_that_cannot_match_changes_no_html(tmp_path, monkeypatch):
    """Every bundled card and a set of tricky Markdown render the same with Python-Markdown as
    it is, without the work this tool leaves out or does its own way (fast.markdown.speed_up)."""
    from deckbuilder.errors import Report
    from deckbuilder.read.cards import parse_card
    from deckbuilder.read.files import find_card_files
    from deckbuilder.render import card as render
    from deckbuilder.render.media import MediaLibrary

    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "d.svg").write_bytes(SVG)
    for i, body in enumerate(TRICKY_MARKDOWN):
        (tmp_path / f"t{i}.md").write_text(card(f"t{i}", f"Tricky {i}?", body), encoding="utf-8")
    for i, question in enumerate(TRICKY_QUESTIONS):
        (tmp_path / f"q{i}.md").write_text(card(f"q{i}", question, "An answer."), encoding="utf-8")
    sources = [(p, ROOT / "cards", ROOT / "media") for p in find_card_files(ROOT / "cards")]
    sources += [(p, tmp_path, tmp_path / "media") for p in sorted(tmp_path.glob("*.md"))]

    def render_all():
        out = []
        for path, cards_dir, media_dir in sources:
            report = Report(cards_dir)
            out.append((render.render_card(parse_card(path, cards_dir, report), MediaLibrary(media_dir), report),
                        report.problems))  # fmt: skip
        return out

    fast = render_all()
    chooser = fast_markdown._converter()[2]
    monkeypatch.setenv("BUILD_DECK_SPEEDUPS", "lexer,zip")  # all but those that leave Markdown's and nh3's work out
    assert render_all() == fast
    assert len(chooser.chosen) > 3  # the inputs did exercise different choices


def test_text_whose_only_inline_syntax_is_code_spans_skips_the_inline_pass():
    from markdown.util import AtomicString

    md, _, _ = fast_markdown._converter()
    md.reset()
    root = md.parser.parseDocument(["A `code` span, ``an`other`` and done.", "", "- `x` item"]).getroot()
    md.treeprocessors["build_deck_simple_inline"].run(root)
    assert [code.text for code in root.iter("code")] == ["code", "an`other", "x"]
    texts = [text for element in root.iter() if element is not root for text in (element.text, element.tail) if text]
    assert texts and all(isinstance(text, AtomicString) for text in texts)  # nothing left for the inline pass...
    assert not md.treeprocessors["build_deck_simple_inline"].left_for_inline_pass  # ...which is skipped


MARKDOWN_BITS = [
    "`", "``", "`code`", "``a ` b``", "**", "*", "_", "__init__", "\\", "[a](b)", "![i](d.svg)", "[r]", "\n[r]: u\n",
    "<b>", "</b>", "<x@y.z>", "&amp;", "&", "  \n", "\n\n", "\n- ", "\n* ", "\n1. ", "\n    ", "\n> ", "\n# ",
    "\n---\n", "\n===\n", "\n| a | b |\n|---|---|\n", "|", "\t", "\n", " ", "word", "x_y", "<div>\n", "\x02",
    "==", "=", "[[", "]]", "![[", "[[a|b]]", "\n> [!note] ", "[!tip]", "$", "$$",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(MARKDOWN_BITS) | st.text("ab `*_\\[]()<>&|#-=!$\n\t", max_size=4), max_size=40))
def test_any_markdown_renders_the_same_without_the_speed_ups(bits):

    text = "".join(bits)
    fast, fast_resolver, chooser = fast_markdown._converter()
    plain, plain_resolver = _PLAIN_MARKDOWN
    fast_resolver.resolve = plain_resolver.resolve = lambda ref: ref
    chooser.choose(text)
    assert fast.reset().convert(text) == plain.reset().convert(text)


def test_uncoloured_code_tokens_get_no_span_and_coloured_ones_do():
    from deckbuilder.render.highlight import highlight

    code = highlight("x = keras.Input(shape=(3,))  # note\n", "python")
    assert '<span class="n">' not in code and "x " in code
    assert '<span class="c1"># note</span>' in code and '<span class="o">=</span>' in code

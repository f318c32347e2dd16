"""The syntax people bring from other tools and from Obsidian (issue #17), as real Anki renders it:
dollar math, reversed and type-in cards, audio and video, embeds, wikilinks, callouts, highlights,
front-matter habits and vaults."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import (
    SOUNDS,
    SVG,
    blank,
    card,
    cards_of,
    features_files,
    import_package,
    visible_text,
    wav,
)

from deckbuilder.cli import main
from deckbuilder.package.notetypes import REVERSE_MODEL_ID, TYPE_MODEL_ID
from deckbuilder.read.config import extra_note_guid, note_guids

DECK = "name: Syntax\nid: 1500000018\nnamespace: 5f0c1d2e-0000-4000-8000-000000000018\ntag: syntax\n"
NAMESPACE = "5f0c1d2e-0000-4000-8000-000000000018"


def cli(project, *extra):
    args = ["--cards", str(project.cards), "--media", str(project.media), "-o", str(project.output), *extra]
    return CliRunner().invoke(main, args)


def imported(project, collection, files, media=None):
    project.write({"deck.yaml": DECK, **files}, media)
    result = cli(project)
    assert result.exit_code == 0, result.output
    import_package(collection, project.output)
    return collection


def answer_of(col, search: str = "note:*Q&A") -> str:
    return cards_of(col, search)[0].answer()


def stripped(html: str) -> str:
    return re.sub(r"<style>.*?</style>", "", html, flags=re.DOTALL)


# --- $ math ----------------------------------------------------------------------------------


def test_dollar_math_reaches_anki_as_mathjax_reads_it_and_dollar_amounts_stay_text(project, collection):
    body = r"""
    Inline $x_1 * y_2$, display $$\sum_i x_i$$ and on its own line:

    $$
    \hat{y} = \sigma(W x)
    $$

    Prices: $20,000 and $30,000, $5 or $10, a literal \$7, and $a$5 (a digit after the closing one).

    `echo $HOME $PATH$` stays code, and so does this:

        cost=$5 total=$x$
    """
    col = imported(project, collection, {"m.md": card("m", "What is $\\hat{y}$?", body)})
    answer = stripped(answer_of(col))
    assert r"What is \(\hat{y}\)?" in answer
    assert r"Inline \(x_1 * y_2\), display \[\sum_i x_i\]" in answer
    assert "\\[\n\\hat{y} = \\sigma(W x)\n\\]" in answer
    assert "Prices: $20,000 and $30,000, $5 or $10, a literal $7, and $a$5" in answer
    assert "<code>echo $HOME $PATH$</code>" in answer
    assert "cost=$5 total=$x$" in answer  # an indented code block keeps the text as written
    assert "<em>" not in answer  # no Markdown emphasis made of the math's * and _


def test_a_blank_line_ends_dollar_math(project, collection):
    col = imported(project, collection, {"m.md": card("m", "Q?", "A $ 5 and $x\n\ny$ stay text.")})
    assert "A $ 5 and $x</p>\n<p>y$ stay text." in answer_of(col)


def test_clozes_around_and_inside_dollar_math_work_in_anki(project, collection):
    body = r"The numerator is {{c1::$e^{z_i}$}}, and $\sigma = {{c2::\frac{1}{1 + e^{-x} } }}$ for two classes."
    col = imported(project, collection, {"m.md": card("m", "Q?", body)})
    first, second = cards_of(col, "note:*Cloze")
    assert blank(1).search(first.question()) and r"\(e^{z_i}\)" not in visible_text(first.question())
    assert blank(1, r"\(e^{z_i}\)").search(first.answer())
    # Inside math Anki blanks the TeX itself (it removes the cloze's markup for MathJax).
    assert r"\(\sigma = [...]\)" in visible_text(second.question())
    assert r"\(\sigma = \frac{1}{1 + e^{-x} } \)" in visible_text(second.answer())
    # On the question/answer card a key term inside math is not marked: an element would cut the math in two
    # and MathJax would leave it as TeX (the real Anki desktop's test sees it typeset).
    qa = answer_of(col)
    assert r"\(\sigma = \frac{1}{1 + e^{-x} } \)" in qa and r'<span class="term">\(e^{z_i}\)</span>' in qa


TEX_DOUBLE_BRACES = {
    "around the math": (r"A {{c1::$x^{a_{b}}$}} b.", 1),
    "inside the math": (r"A $\sqrt{ {{c2::x^{2}}} }$ b.", 2),
    "around backslash math": (r"A {{c3::\(\frac{1}{b^{2}}\)}} b.", 3),
}


@pytest.mark.parametrize("case", TEX_DOUBLE_BRACES)
def test_a_tex_double_brace_that_would_end_a_cloze_is_an_error_at_its_line(project, case):
    body, number = TEX_DOUBLE_BRACES[case]
    project.write({"deck.yaml": DECK, "m.md": card("m", "Q?", "First line.\n\n" + body)})
    result = cli(project)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        f"m.md:8: error: cloze {{{{c{number}::...}}}} ends early, at a '}}}}' of the TeX (Anki ends a cloze at the "
        "first '}}'); write '} }' there instead"
    ) in result.stderr.splitlines()
    assert not project.output.exists()


def test_a_cloze_from_inside_math_to_outside_is_an_error(project):
    project.write({"deck.yaml": DECK, "m.md": card("m", "Q?", r"A $x = {{c1::y$ and more}}.")})
    result = cli(project)
    assert result.exit_code == 1
    assert (
        "m.md:6: error: cloze {{c1::...}} starts inside math and ends outside it; put it inside the math or around "
        "all of it"
    ) in result.stderr.splitlines()


# --- reversed and type-in cards ----------------------------------------------------------------


def test_reverse_and_type_answer_make_notes_of_note_types_of_their_own(project, collection):
    front_matter = "reverse: yes\ntype-answer: from_logits=True\n"
    body = "Pass {{c1::`from_logits=True`}} when the model outputs logits."
    col = imported(project, collection, {"a.md": card("a", "What tells the loss the outputs are logits?", body,
                                                       front_matter)})  # fmt: skip
    kinds = sorted(c.note_type()["name"] for c in cards_of(col))
    assert kinds == ["build_deck Cloze", "build_deck Q&A", "build_deck Reverse", "build_deck Type answer"]
    assert col.get_empty_cards().notes == []
    (reverse,) = cards_of(col, '"note:build_deck Reverse"')
    assert "Pass" in visible_text(reverse.question()) and "What tells" not in visible_text(reverse.question())
    assert "What tells the loss" in visible_text(reverse.answer().split('<hr id="answer">')[1])
    (typed,) = cards_of(col, '"note:build_deck Type answer"')
    assert "[[type:Expected]]" in typed.question() and "What tells" in visible_text(typed.question())
    assert typed.note()["Expected"] == "from_logits=True"
    assert "Pass" in visible_text(typed.answer())  # the whole answer, after the comparison
    # What Anki's reviewer shows for the typed text: all of it right, or what is missing.
    assert "typeBad" not in col.compare_answer(typed.note()["Expected"], "from_logits=True")
    assert "typeMissed" in col.compare_answer(typed.note()["Expected"], "from_logits")
    guids = {c.note_type()["id"]: c.note().guid for c in cards_of(col)}
    assert guids[REVERSE_MODEL_ID] == extra_note_guid(NAMESPACE, "a", "reverse")
    assert guids[TYPE_MODEL_ID] == extra_note_guid(NAMESPACE, "a", "type")


def test_a_typed_answer_is_compared_as_the_text_written(project, collection):
    col = imported(project, collection, {"a.md": card("a", "Q?", "A.", "type-answer: 'a < b & \"c\"'\n")})
    (typed,) = cards_of(col, '"note:build_deck Type answer"')
    comparison = col.compare_answer(typed.note()["Expected"], 'a < b & "c"')
    assert "typeGood" in comparison and "typeBad" not in comparison and "typeMissed" not in comparison


def test_deck_yaml_sets_the_default_and_a_card_can_say_otherwise(project, collection):
    files = {
        "deck.yaml": DECK + "reverse: true\ntype-answer: no\n",
        "a.md": card("a", "A?", "Alpha.", "type-answer: alpha\n"),
        "b.md": card("b", "B?", "Beta.", "reverse: false\n"),
    }
    project.write(files)
    assert cli(project).exit_code == 0
    import_package(collection, project.output)
    kinds = sorted((c.note()["Id"], c.note_type()["name"]) for c in cards_of(collection))
    assert kinds == [("a", "build_deck Q&A"), ("a", "build_deck Reverse"), ("b", "build_deck Q&A")]


CARD_TYPE_ERRORS = {
    "reverse-maybe": ("reverse: maybe\n", "a.md:3: error: 'reverse' must be true or false (or yes/no), not 'maybe'"),
    "reverse-list": ("reverse: [yes]\n", "a.md:3: error: 'reverse' must be true or false (or yes/no), not a list or "
                     "mapping"),
    "empty": ("type-answer: ''\n", "a.md:3: error: 'type-answer' is empty: write the exact text the learner types "
              "(or remove the key)"),
    "list": ("type-answer: [a, b]\n", "a.md:3: error: 'type-answer' must be the answer's text, not a list or mapping"),
    "two-lines": ("type-answer: |\n  first\n  second\n", "a.md:3: error: 'type-answer' must be one line: the learner "
                  "types it into one box (keep longer answers in the card)"),
    "too-long": (f"type-answer: {'x' * 81}\n", "a.md:3: error: 'type-answer' is 81 characters; a typed answer is short "
                 "and exact, at most 80 (a name, a value, a term)"),
    "cloze": ("type-answer: '{{c1::x}}'\n", "a.md:3: error: 'type-answer' is compared with what the learner types, as "
              "text: a cloze cannot work in it"),
    "deck-yaml": ("", "deck.yaml:1: error: 'vault' must be true or false (or yes/no), not 'sometimes'"),
}  # fmt: skip


@pytest.mark.parametrize("case", CARD_TYPE_ERRORS)
def test_card_types_that_cannot_work_are_errors_at_their_line(project, case):
    front_matter, expected = CARD_TYPE_ERRORS[case]
    deck = DECK + ("vault: sometimes\n" if case == "deck-yaml" else "")
    project.write({"deck.yaml": deck, "a.md": card("a", "Q?", "A.", front_matter)})
    result = cli(project)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert expected in result.stderr.splitlines()
    assert not project.output.exists()


def test_backticks_in_a_typed_answer_are_a_warning(project):
    project.write({"deck.yaml": DECK, "a.md": card("a", "Q?", "A.", "type-answer: '`fit`'\n")})
    result = cli(project, "--strict")
    assert result.exit_code == 1
    assert (
        "a.md:3: warning: 'type-answer' is compared as typed: the learner would have to type the backticks too"
    ) in result.stderr.splitlines()


def test_a_deck_without_reversed_or_type_in_cards_has_only_the_two_note_types(project, collection):
    col = imported(project, collection, {"a.md": card("a", "Q?", "A {{c1::b}}.")})
    names = {c.note_type()["name"] for c in cards_of(col)}
    assert names == {"build_deck Q&A", "build_deck Cloze"}
    assert not [m for m in col.models.all() if m["id"] in (REVERSE_MODEL_ID, TYPE_MODEL_ID)]


# --- audio and video -------------------------------------------------------------------------


def test_audio_and_video_become_anki_sound_tags_packaged_flat(project, collection):
    media = {f"clips/clip{suffix}": data for suffix, data in SOUNDS.items()} | {"beep.wav": wav()}
    refs = " ".join(f"![{suffix}](clips/clip{suffix})" for suffix in SOUNDS)
    body = f"Listen: {refs} and ![[beep.wav]].\n\nA {{{{c1::![](beep.wav)}}}} blank."
    col = imported(project, collection, {"s.md": card("s", "What does ![](beep.wav) sound like?", body)}, media)
    qa = cards_of(col, "note:*Q&A")[0]
    (beep,) = [tag.filename for tag in qa.question_av_tags()]
    played = [tag.filename for tag in qa.answer_av_tags()]  # (Anki does not play the front's again)
    assert re.fullmatch(r"beep-[0-9a-f]{8}\.wav", beep) and played[5:] == [beep, beep]
    assert [name.rsplit(".", 1)[1] for name in played[:5]] == [suffix[1:] for suffix in SOUNDS]
    assert all(re.fullmatch(r"clips-clip-[0-9a-f]{8}\.\w+", name) for name in played[:5])
    check = col.media.check()
    assert list(check.missing) == [] and list(check.unused) == []
    # On the cloze card the blanked sound is not played on the front, only once revealed.
    cloze = cards_of(col, "note:*Cloze")[0]
    assert [tag.filename for tag in cloze.question_av_tags()] == [beep, *played[:6]]
    assert [tag.filename for tag in cloze.answer_av_tags()] == [beep, *played]


def test_sound_tags_written_in_a_card_are_shown_as_text(project, collection):
    body = "Written by hand: [sound:beep.wav], and in code `[sound:beep.wav]` or `[[type:Expected]]`."
    project.write({"deck.yaml": DECK, "s.md": card("s", "Q?", body)}, {"beep.wav": wav()})
    result = cli(project)
    assert (
        "s.md:6: warning: '[sound:...]' is shown as text, as written (a card plays only files this tool packages); "
        "write ![](file.mp3) to play a file from the media folder"
    ) in result.stderr.splitlines()
    import_package(collection, project.output)
    qa = cards_of(collection, "note:*Q&A")[0]
    assert qa.answer_av_tags() == [] and "[[type:" not in qa.answer()
    assert "[sound:beep.wav]" in visible_text(qa.answer())


MEDIA_ERRORS = {
    "not-an-mp3": ({"a.mp3": b"\x89PNG\r\n\x1a\n" + bytes(16)}, "![](a.mp3)",
                   "audio 'a.mp3' is not an MP3 file (its content looks like PNG)"),
    "wav-that-is-webp": ({"a.wav": b"RIFF\0\0\0\0WEBPVP8 "}, "![](a.wav)",
                         "audio 'a.wav' is not a WAV file (its content looks like WebP)"),
    "webm-that-is-mp4": ({"a.webm": SOUNDS[".mp4"]}, "![[a.webm]]", "video 'a.webm' is not a WEBM file (its content "
                         "looks like MP4)"),
    "ogg-that-is-html": ({"a.ogg": b"<html>"}, "![](a.ogg)", "audio 'a.ogg' is not an OGG file (its content looks "
                         "like SVG or XML)"),
    "outside": ({}, "![](../secret.mp3)", "audio '../secret.mp3' points outside the media folder; use a file name "
                "inside it"),
    "web": ({}, "![](https://example.com/a.mp4)", "video 'https://example.com/a.mp4' is not a file in the media "
            "folder; only local media files can be packaged"),
    "too-large": ({"big.mp4": SOUNDS[".mp4"] + bytes(11 << 20)}, "![](big.mp4)",
                  f"video 'big.mp4' is {len(SOUNDS['.mp4']) + (11 << 20):,} bytes; media files are limited to "
                  "10,485,760 bytes"),
    "missing": ({"clip.mp3": SOUNDS[".mp3"]}, "![[clp.mp3]]", "audio 'clp.mp3' not found in the media folder "
                "{media}; did you mean 'clip.mp3'?"),
    "a-note": ({}, "![[Some note]]", "'![[Some note]]' embeds a note, which a card cannot show; embed only media "
               "files (.gif, .jpeg, .jpg, .m4a, .mp3, .mp4, .ogg, .png, .svg, .wav, .webm, .webp)"),
}  # fmt: skip


@pytest.mark.parametrize("case", MEDIA_ERRORS)
def test_audio_and_video_get_the_checks_images_get(project, case):
    media, body, message = MEDIA_ERRORS[case]
    project.write({"deck.yaml": DECK, "a.md": card("a", "Q?", body)}, media)
    result = cli(project)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"a.md:6: error: {message.replace('{media}', str(project.media))}" in result.stderr.splitlines()


def test_a_link_out_of_the_media_folder_is_refused_for_audio_too(project, tmp_path):
    (tmp_path / "secret.mp3").write_bytes(SOUNDS[".mp3"])
    (project.media / "link.mp3").symlink_to(tmp_path / "secret.mp3")
    project.write({"deck.yaml": DECK, "a.md": card("a", "Q?", "![](link.mp3)")})
    result = cli(project)
    assert "a.md:6: error: audio 'link.mp3' is a link leading outside the media folder" in result.stderr.splitlines()


# --- Obsidian --------------------------------------------------------------------------------


def test_obsidian_embeds_wikilinks_highlights_and_callouts(project, collection):
    body = """
    See [[Activations]], [[Losses#Cross-entropy]], [[losses_note|the losses note]] and ==the key idea==.
    ![[plot.svg]] ![[plot.svg|120]] ![[plot.svg|a plot]]

    > [!warning] Mind the **logits**
    > A {{c1::warning}} with [[a link]].
    >
    > > [!faq]-
    > > Nested, folded in Obsidian, open on a card.

    > [!unknown-kind] Custom
    > Looks like a note.

    > A plain quote with [!note] inside.

    | term | meaning |
    |---|---|
    | [[x\\|alias in a table]] | ==marked== |
    """
    col = imported(project, collection, {"o.md": card("o", "Q?", body)}, {"plot.svg": SVG})
    answer = stripped(answer_of(col))
    assert "See Activations, Losses &gt; Cross-entropy, the losses note and <mark>the key idea</mark>." in answer
    names = re.findall(r'<img alt="([^"]*)" src="(plot-[0-9a-f]{8}\.svg)"( width="120")?>', answer)
    assert [(alt, width) for alt, _, width in names] == [("", ""), ("", ' width="120"'), ("a plot", "")]
    assert (
        '<div class="callout callout-warning">\n<div class="callout-title">Mind the <strong>logits</strong></div>\n'
        '<p>A <span class="term">warning</span> with a link.</p>\n<div class="callout callout-question">\n'
        '<div class="callout-title">Faq</div>\n<p>Nested, folded in Obsidian, open on a card.</p>\n</div>\n</div>'
    ) in answer
    assert '<div class="callout callout-note">\n<div class="callout-title">Custom</div>' in answer
    assert "<blockquote>\n<p>A plain quote with [!note] inside.</p>\n</blockquote>" in answer
    assert "<td>alias in a table</td>\n<td><mark>marked</mark></td>" in answer
    cloze = cards_of(col, "note:*Cloze")[0]
    assert blank(1).search(cloze.question().split('class="callout-title"')[1])


def test_obsidian_tags_and_aliases_in_front_matter(project, collection):
    files = {
        "a.md": card("a", "A?", "A.", 'tags: "#python, loops  #basics"\naliases: [Looping]\n'),
        "b.md": card("b", "B?", "B.", "tags:\n  - '#python'\n  - nested/tag\n"),
    }
    project.write({"deck.yaml": DECK, **files})
    result = cli(project, "--strict")  # aliases: no warning
    assert result.exit_code == 0, result.output
    import_package(collection, project.output)
    tags = {c.note()["Id"]: sorted(c.note().tags) for c in cards_of(collection)}
    assert tags == {"a": ["basics", "loops", "python", "syntax"], "b": ["nested/tag", "python", "syntax"]}


VAULT = {
    "deck.yaml": DECK + "vault: true\n",
    "Daily/2024-05-01.md": "Just a journal entry, no front matter.\n",
    "Notes/plain.md": "---\naliases: [x]\ntags: [a]\n---\n# A heading but no id\n",
    "Notes/no-question.md": "---\nid: not-yet\n---\nSome notes without a question heading.\n",
    "Cards/softmax.md": card("softmax", "What is softmax?", "==A normalised exponential==, see [[Activations]]."),
    "Cards/broken.md": "---\nid: broken\n---\n# Q?\n\nA {{c1::unclosed\n",
}
SKIPPED = [
    "Daily/2024-05-01.md:1: warning: not a card (no front matter with an 'id'); skipped, as deck.yaml says the cards "
    "folder is a vault",
    "Notes/no-question.md:1: warning: not a card (no '# ' question heading); skipped, as deck.yaml says the cards "
    "folder is a vault",
    "Notes/plain.md:1: warning: not a card (no 'id' in its front matter); skipped, as deck.yaml says the cards folder "
    "is a vault",
]


def test_a_vault_builds_its_cards_and_skips_its_other_notes_with_one_warning_each(project, collection):
    project.write(VAULT)
    result = cli(project)
    assert result.exit_code == 1  # a card of the vault that is broken is still an error
    assert [line for line in result.stderr.splitlines() if "Cards/broken.md" in line] == [
        "Cards/broken.md:6: error: cloze {{c1::... is not closed: add '}}' after the hidden text"
    ]
    (project.cards / "Cards" / "broken.md").unlink()
    result = cli(project)
    assert result.exit_code == 0, result.output
    assert [line for line in result.stderr.splitlines() if ": warning: " in line] == SKIPPED
    assert cli(project, "--strict").exit_code == 1
    import_package(collection, project.output)
    (qa,) = cards_of(collection)
    assert qa.note()["Id"] == "softmax" and "<mark>A normalised exponential</mark>" in qa.answer()


def test_without_vault_the_same_notes_are_errors(project):
    project.write({**VAULT, "deck.yaml": DECK})
    errors = [line for line in cli(project).stderr.splitlines() if ": error: " in line]
    assert any(line.startswith("Notes/plain.md:1: error: front matter has no 'id'") for line in errors)
    assert any(line.startswith("Daily/2024-05-01.md:1: error: missing front matter") for line in errors)


def test_a_vault_with_no_card_at_all_is_an_error(project):
    project.write({"deck.yaml": DECK + "vault: yes\n", "note.md": "# Only a note\n"})
    result = cli(project)
    assert result.exit_code == 1
    assert "cards:1: error: no cards in the vault: every note was skipped (see the warnings)" in result.stderr


# --- the card that uses everything -----------------------------------------------------------


def test_the_features_card_builds_without_warnings_and_imports_into_anki(project, collection):
    files, media = features_files()
    project.write(files, media)
    result = cli(project, "--strict")
    assert result.exit_code == 0, result.output
    assert "4 notes, 7 cards, 2 media files" in result.output  # Q&A, 4 clozes, reversed, type-in
    log = import_package(collection, project.output)
    assert len(log.new) == 4 and not log.conflicting
    assert collection.get_empty_cards().notes == []
    check = collection.media.check()
    assert list(check.missing) == [] and list(check.unused) == []
    assert sorted(cards_of(collection)[0].note().tags) == ["activations", "features", "output", "probabilities"]
    guids = {c.note().guid for c in cards_of(collection)}
    namespace = "5f0c1d2e-0000-4000-8000-000000000017"
    assert guids == {*note_guids(namespace, "softmax")[1:], *(extra_note_guid(namespace, "softmax", k)
                                                                for k in ("reverse", "type"))}  # fmt: skip


def test_a_sound_s_file_name_gives_nothing_away(project):
    """A cloze's answer in the name of a sound the card plays is not shown: Anki shows a play button."""
    project.write({"deck.yaml": DECK, "s.md": card("s", "Q?", "A {{c1::beep}}: ![](beep.wav)")}, {"beep.wav": wav()})
    result = cli(project, "--strict")
    assert result.exit_code == 0, result.output


def test_a_reversed_card_needs_an_answer_to_show(project):
    project.write({"deck.yaml": DECK + "reverse: yes\n", "a.md": "---\nid: a\n---\n# Only a question?\n"})
    result = cli(project)
    assert result.exit_code == 1
    assert (
        "a.md:4: error: the answer is empty, so the reversed card would show nothing; write an answer or set "
        "reverse: no"
    ) in result.stderr.splitlines()
    project.write({"a.md": "---\nid: a\n---\n# Only a question?\n\n![](beep.wav)\n"}, {"beep.wav": wav()})
    assert cli(project).exit_code == 0


@pytest.mark.parametrize("speedups", ["all", "none"])
def test_the_new_markup_is_a_fixed_point_of_the_sanitiser(project, tmp_path, monkeypatch, speedups):
    """Callout boxes, highlights, embedded images and sounds are what the sanitiser keeps as they are (it ran
    last on the markup), hostile text in them included."""
    import sqlite3
    import zipfile

    from conftest import fixed_points_of_the_sanitiser
    from test_fuzz import active_markup

    monkeypatch.setenv("BUILD_DECK_SPEEDUPS", speedups)
    files, media = features_files()
    tricky = (
        '> [!note] A <b onclick="x()">title</b> and [[<i>note</i>|a "quoted" alias]]\n> ==marked <q>==\n\n'
        '![[softmax.svg|an alt " onerror="x]] ![[beep.wav]] $a "b" < c$, $p<q$ and `$d "e"$` [sound:x.mp3]'
    )
    project.write({**files, "tricky.md": card("tricky", 'A "$x$" question?', tricky)}, media)
    project.build()
    db = tmp_path / "collection.anki2"
    db.write_bytes(zipfile.ZipFile(project.output).read("collection.anki2"))
    conn = sqlite3.connect(db)
    try:
        fields = [field for (flds,) in conn.execute("SELECT flds FROM notes") for field in flds.split("\x1f")]
    finally:
        conn.close()
    text = "\n".join(fields)
    assert 'class="callout callout-note"' in text and "<mark>" in text and "[sound:beep-" in text
    assert active_markup(text) == []  # the handlers are gone, or text (an alt text with its quotes escaped)
    assert fixed_points_of_the_sanitiser(fields)

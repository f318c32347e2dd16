"""Checking that clozes wrap whole HTML elements: the scan that skips what lies outside clozes
finds what a scan of every tag from the start finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from deckbuilder.render.cloze import _MARKER_OR_TAG, _VOID_TAGS, CLOSE, OPEN_BASE, Cloze, ClozeTable

OPENS = [chr(OPEN_BASE + index) for index in range(4)]
HTML_BITS = [
    "<p>", "</p>", "<em>", "</em>", "<li>", "</li>", "<br>", "<img src='d.svg'/>", '<a title="', '">', ">", "<",
    "</", "/>", "text", " ", "\n", "<code class='x'>", "</code>", "<B>", "</b>", *OPENS, CLOSE,
]  # fmt: skip


def broken_by_full_scan(table: ClozeTable, rendered: str) -> list[Cloze]:
    """ClozeTable.broken as first written: every marker and tag from the start."""
    broken: list[Cloze] = []
    open_clozes: list[tuple[int, list[str]]] = []
    for match in _MARKER_OR_TAG.finditer(rendered):
        token = match.group()
        if token == CLOSE:
            if open_clozes:
                index, tags = open_clozes.pop()
                if tags:
                    broken.append(table.clozes[index])
        elif len(token) == 1:
            open_clozes.append((ord(token) - OPEN_BASE, []))
        elif open_clozes and match.group("name").lower() not in _VOID_TAGS:
            tags = open_clozes[-1][1]
            if match.group("end"):
                if tags and tags[-1] == match.group("name").lower():
                    tags.pop()
                else:
                    tags.append("</")
            elif not match.group("selfclosing"):
                tags.append(match.group("name").lower())
    return broken + [table.clozes[index] for index, _ in open_clozes]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(HTML_BITS), max_size=40))
def test_skipping_what_lies_outside_clozes_finds_the_same_broken_clozes(bits):
    table = ClozeTable()
    for number in range(len(OPENS)):
        table.add(Cloze(number + 1, "", number + 1))
    rendered = "".join(bits)
    assert table.broken(rendered) == broken_by_full_scan(table, rendered)


def test_a_marker_inside_a_tag_is_part_of_the_tag():
    table = ClozeTable()
    table.add(Cloze(1, "", 1))
    # The open marker sits in an attribute: the tag takes it in, so only the close marker is seen.
    assert table.broken(f'<p>a</p><img alt="{OPENS[0]}x">y{CLOSE}') == []
    assert table.broken(f"<p>{OPENS[0]}a</p><p>b{CLOSE}</p>") == [table.clozes[0]]

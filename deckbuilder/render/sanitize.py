"""Allow-list HTML sanitising: cards run as HTML and JavaScript on the reviewer's phone."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

from ..errors import LineCounter, quoted

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "mark", "ol", "p", "pre",
    "s", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "u", "ul",
}  # fmt: skip
# On every tag (what nh3 keeps on any tag unless told otherwise; named here so the report agrees).
GENERIC_ATTRIBUTES = {"title", "lang"}
ATTRIBUTES = {
    "*": GENERIC_ATTRIBUTES,
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "span": {"class"},
    "code": {"class"},
    "pre": {"class"},
    "div": {"class"},
    "td": {"align"},
    "th": {"align"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def sanitize(html: str, media_names: frozenset[str]) -> str:
    """Keep formatting; drop scripts, handlers, embeds, and images that are not packaged media."""

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            return value if value in media_names else None
        if tag == "a" and attribute == "href":  # a relative link would open a media file as a page
            return value if _scheme(value) in URL_SCHEMES else None
        return value

    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=keep,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


class _UnsafeHtmlFinder(HTMLParser):
    """Names what the sanitiser will remove from raw HTML in a card, with the line it is on."""

    def __init__(self, first_line: int):
        super().__init__(convert_charrefs=True)
        self.first_line = first_line
        self.found: list[tuple[int, str]] = []

    def _report(self, message: str) -> None:
        self.found.append((self.first_line + self.getpos()[0] - 1, message))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if ":" in tag or "@" in tag:  # a Markdown autolink such as <https://keras.io>
            return
        if tag not in TAGS:
            self._report(f"removed unsafe or unsupported HTML <{tag[:40]}>")
            return
        for name, value in attrs:
            if name not in ATTRIBUTES.get(tag, set()) | GENERIC_ATTRIBUTES:
                self._report(f"removed attribute {quoted(name)} from <{tag}>")
            elif name in ("href", "src") and _scheme(value or "") not in URL_SCHEMES | {""}:
                self._report(f"removed {_scheme(value or '')}: URL from <{tag} {name}>")
            elif name == "href" and not _scheme(value or ""):
                self._report(
                    f"removed the link to {quoted(value or '')}: only web (https://) and mailto: links work in a card"
                )
            elif tag == "img" and name == "src":
                self._report("removed raw <img> source: use Markdown ![alt](file) with a file from the media folder")


def _scheme(url: str) -> str:
    match = re.match(r"\s*([A-Za-z][A-Za-z0-9+.-]*):", url)
    return match.group(1).lower() if match else ""


# Declarations other than comments ("<![x", "<!foo") and processing instructions: not HTML a card
# can use, and markup that parsers read in different ways.
_MALFORMED = re.compile(r"<!(?!--)|<\?")


def find_unsafe_html(text: str, first_line: int) -> list[tuple[int, str]]:
    """(line, message) for each piece of raw HTML in Markdown prose that sanitising removes."""
    if "<" not in text:
        return []
    lines = LineCounter(text, first_line)
    message = "malformed HTML; the sanitiser removes what it cannot parse"
    found = [(lines.line_of(match.start()), message) for match in _MALFORMED.finditer(text)]
    finder = _UnsafeHtmlFinder(first_line)
    try:
        finder.feed(text)
        finder.close()
    except AssertionError:  # some versions of html.parser give up on such markup
        pass
    return found + finder.found


# An inline link or image (its text may hold one level of brackets), or a reference definition.
_MARKDOWN_LINK = re.compile(
    r"(?P<image>!?)\[(?:[^\[\]\n]|\[[^\[\]\n]*\])*\]\(\s*<?(?P<inline>[^)\s>]*)|^\s*\[[^\]]+\]:\s*<?(?P<defined>\S*)",
    re.MULTILINE,
)


def find_unsafe_links(text: str, first_line: int) -> list[tuple[int, str]]:
    """(line, message) for each Markdown link that sanitising removes: an unsafe scheme (``javascript:``...),
    or a relative link (it would open a media file as a page; images are resolved, not linked)."""
    found = []
    lines = LineCounter(text, first_line)
    for match in _MARKDOWN_LINK.finditer(text):
        url = match.group("inline") if match.group("defined") is None else match.group("defined")
        scheme = _scheme(url)
        line = lines.line_of(match.start())
        if scheme and scheme not in URL_SCHEMES:
            found.append((line, f"removed {scheme}: link URL"))
        elif not scheme and url and match.group("inline") is not None and not match.group("image"):
            found.append(
                (line, f"removed the link to {quoted(url)}: only web (https://) and mailto: links work in a card")
            )
    return found

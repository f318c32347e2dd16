"""Allow-list HTML sanitising: cards run as HTML and JavaScript on the reviewer's phone."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "mark", "ol", "p", "pre",
    "s", "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "u", "ul",
}  # fmt: skip
ATTRIBUTES = {
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
            self._report(f"removed unsafe or unsupported HTML <{tag}>")
            return
        for name, value in attrs:
            if name not in ATTRIBUTES.get(tag, ()):
                self._report(f"removed attribute '{name}' from <{tag}>")
            elif name in ("href", "src") and _scheme(value or "") not in URL_SCHEMES | {""}:
                self._report(f"removed {_scheme(value or '')}: URL from <{tag} {name}>")
            elif tag == "img" and name == "src":
                self._report("removed raw <img> source: use Markdown ![alt](file) with a file from the media folder")


def _scheme(url: str) -> str:
    match = re.match(r"\s*([A-Za-z][A-Za-z0-9+.-]*):", url)
    return match.group(1).lower() if match else ""


def find_unsafe_html(text: str, first_line: int) -> list[tuple[int, str]]:
    """(line, message) for each piece of raw HTML in Markdown prose that sanitising removes."""
    if "<" not in text:
        return []
    finder = _UnsafeHtmlFinder(first_line)
    try:
        finder.feed(text)
        finder.close()
    except AssertionError:  # html.parser gives up on some malformed markup, e.g. "<![x"
        finder._report("malformed HTML; the sanitiser removes what it cannot parse")
    return finder.found


_MARKDOWN_LINK = re.compile(r"\]\(\s*<?([^)\s>]*)|^\s*\[[^\]]+\]:\s*<?(\S*)", re.MULTILINE)


def find_unsafe_links(text: str, first_line: int) -> list[tuple[int, str]]:
    """(line, message) for each Markdown link whose URL scheme sanitising removes (``javascript:``...)."""
    found = []
    for match in _MARKDOWN_LINK.finditer(text):
        scheme = _scheme(match.group(1) or match.group(2) or "")
        if scheme and scheme not in URL_SCHEMES:
            found.append((first_line + text.count("\n", 0, match.start()), f"removed {scheme}: link URL"))
    return found

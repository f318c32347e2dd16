"""What a media file holds must be what its name says, and an SVG must be a picture, not a program.

An SVG is a document: opened from a link, or on some clients shown as a page, its scripts, event
handlers and references to other files or the web would run. Such SVGs are refused, with the first
offending element or attribute named, rather than cleaned silently.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

# The first bytes of each kind of image, as their formats define them.
_SIGNATURES = {
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".gif": (b"GIF87a", b"GIF89a"),
}
_KINDS = {b"\x89PNG": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"RIFF": "WebP", b"<": "SVG or XML"}
_ACTIVE_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener", "audio", "video"}
# href values that stay inside the picture: a fragment (#id) or embedded image data.
_LOCAL_REF = re.compile(r"\s*(#|data:image/(png|jpeg|gif|webp);)", re.IGNORECASE)
_EXTERNAL_URL = re.compile(r"url\(\s*['\"]?\s*(?!#)|@import", re.IGNORECASE)


def content_problem(suffix: str, data: bytes) -> str | None:
    """Why ``data`` cannot be packaged as a ``suffix`` file; None when it can."""
    if suffix == ".svg":
        return _svg_problem(data)
    is_webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if is_webp if suffix == ".webp" else data.startswith(_SIGNATURES[suffix]):
        return None
    kind = next((name for start, name in _KINDS.items() if data.lstrip().startswith(start)), "something else")
    return f"is not a {suffix[1:].upper()} file (its content looks like {kind})"


def _svg_problem(data: bytes) -> str | None:
    if b"<!ENTITY" in data:
        return "is an SVG with entity declarations (which can expand without bound); remove them"
    try:
        root = ElementTree.fromstring(data)
    except (ElementTree.ParseError, ValueError) as exc:
        return f"is not a well-formed SVG file ({exc})"
    if _local(root.tag) != "svg":
        return f"is not an SVG file (its root element is <{_local(root.tag)}>)"
    for element in root.iter():
        name = _local(element.tag)
        if name in _ACTIVE_ELEMENTS:
            return f"is an SVG with a <{name}> element, which could run code or load other files; remove it"
        if name == "style" and _EXTERNAL_URL.search(element.text or ""):
            return "is an SVG whose <style> loads other files (url() or @import); remove that"
        for attribute, value in element.attrib.items():
            problem = _attribute_problem(name, _local(attribute), value)
            if problem:
                return problem
    return None


def _attribute_problem(element: str, attribute: str, value: str) -> str | None:
    if attribute.lower().startswith("on"):
        return f"is an SVG with an event handler ({attribute} on <{element}>), which would run code; remove it"
    if attribute == "href" and not _LOCAL_REF.match(value):
        return f"is an SVG that refers to another file or page (href on <{element}>); embed it or remove it"
    if attribute == "attributeName" and value.lower().endswith("href"):  # <animate>/<set> rewriting a link
        return f'is an SVG that animates a link (<{element} attributeName="{value}">); remove it'
    if "javascript:" in value.lower().replace(" ", ""):
        return f"is an SVG with a javascript: URL (in {attribute} on <{element}>); remove it"
    if attribute == "style" and _EXTERNAL_URL.search(value):
        return f"is an SVG whose style on <{element}> loads other files (url() or @import); remove that"
    return None


def _local(name: str) -> str:
    """An element or attribute name without its XML namespace ({http://www.w3.org/2000/svg}rect -> rect)."""
    return name.rsplit("}", 1)[-1].lower() if name.startswith("{") else name.lower()

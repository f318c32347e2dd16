"""What a media file holds must be what its name says, and an SVG must be a picture, not a program.

Images, audio and video are recognised by the signatures their formats define (the first bytes); a
file of another kind under such a name (a page renamed to .mp3, say) is refused with what it looks like.

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
    ".ogg": (b"OggS",),  # an Ogg page
}
_KINDS = {b"\x89PNG": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"ID3": "MP3", b"OggS": "Ogg",
          b"\x1a\x45\xdf\xa3": "WebM or Matroska", b"<": "SVG or XML"}  # fmt: skip
_ACTIVE_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener", "audio", "video"}
# href values that stay inside the picture: a fragment (#id) or embedded image data.
_LOCAL_REF = re.compile(r"\s*(#|data:image/(png|jpeg|gif|webp);)", re.IGNORECASE)
_EXTERNAL_URL = re.compile(r"url\(\s*['\"]?\s*(?!#)|@import", re.IGNORECASE)


def content_problem(suffix: str, data: bytes) -> str | None:
    """Why ``data`` cannot be packaged as a ``suffix`` file; None when it can."""
    if suffix == ".svg":
        return _svg_problem(data)
    if _is(suffix, data):
        return None
    name = suffix[1:].upper()
    return f"is not {'an' if name[0] in 'AEFHILMNORSX' else 'a'} {name} file (its content looks like {_kind(data)})"


def _is(suffix: str, data: bytes) -> bool:
    if suffix in _SIGNATURES:
        return data.startswith(_SIGNATURES[suffix])
    if suffix in (".webp", ".wav"):  # RIFF containers, told apart by their form type
        return data[:4] == b"RIFF" and data[8:12] == (b"WEBP" if suffix == ".webp" else b"WAVE")
    if suffix in (".mp4", ".m4a"):  # an ISO media file starts with its file-type box
        return data[4:8] == b"ftyp"
    if suffix == ".webm":  # an EBML header whose document type is webm
        return data.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in data[:64]
    if suffix == ".mp3":  # ID3 tags, or straight away an MPEG audio frame (eleven set bits of frame sync)
        return data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)
    return False


def _kind(data: bytes) -> str:
    """What a file's content looks like, for a message."""
    if data[:4] == b"RIFF":
        return {b"WEBP": "WebP", b"WAVE": "WAV"}.get(data[8:12], "a RIFF file")
    if data[4:8] == b"ftyp":
        return "MP4"
    return next((name for start, name in _KINDS.items() if data.lstrip().startswith(start)), "something else")


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

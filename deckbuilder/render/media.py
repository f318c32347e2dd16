"""Resolve media references (images, audio, video) to files in the media folder and name them for Anki."""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..errors import display_path, quoted
from ..read.files import FileTooLarge, read_regular_file
from .media_content import content_problem

MAX_MEDIA_BYTES = 10 << 20
IMAGE_TYPES = {".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp"}
AUDIO_TYPES = {".mp3", ".ogg", ".wav", ".m4a"}
VIDEO_TYPES = {".mp4", ".webm"}
# Audio and video are played by Anki from a [sound:name] tag in a field (video too: the name is Anki's).
SOUND_TYPES = AUDIO_TYPES | VIDEO_TYPES
MEDIA_TYPES = IMAGE_TYPES | SOUND_TYPES
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class MediaError(ValueError):
    """A reference that cannot be packaged; the message says why."""


@dataclass(frozen=True)
class MediaFile:
    """A media file as packaged: its flat, content-hashed name and where it comes from."""

    name: str
    source: Path

    def read(self) -> bytes:
        """The file's bytes, as they were when it was checked (its name holds their digest); OSError if the
        file changed since, so that nothing unchecked is packaged."""
        data = read_regular_file(self.source, MAX_MEDIA_BYTES)
        if not self.name.rpartition(".")[0].endswith("-" + _digest(data)):
            raise OSError(f"{display_path(self.source)} changed during the build; build again")
        return data


def media_kind(ref: str) -> str:
    """What a reference names, by its extension, as messages call it: "audio", "video" or "image"."""
    suffix = PurePosixPath(ref).suffix.lower()
    return "audio" if suffix in AUDIO_TYPES else "video" if suffix in VIDEO_TYPES else "image"


def is_sound(name: str) -> bool:
    """Whether a media file is played (audio or video) rather than shown."""
    return PurePosixPath(name).suffix.lower() in SOUND_TYPES


# A played file's place in the HTML until it has been sanitised: private-use characters around its
# packaged name, made into Anki's [sound:name] last (sound_tags), like cloze markers.
SOUND_MARK = "\ue040{}\ue041"
_SOUND_MARK = re.compile("\ue040([A-Za-z0-9._-]+)\ue041")
# What Anki's reviewer acts on in a card's text, anywhere (code too): a media tag, a text-to-speech
# tag and the type-in box. A card's own text must not make them: only the files this tool packages play.
_ANKI_TAG = re.compile(r"\[(?=sound:|anki:|\[type:)")


def sound_tags(html: str) -> str:
    """Sanitised HTML with played media as Anki's ``[sound:name]`` and any such tag of the card's own text
    turned into text (its bracket as an entity, which Anki's reviewer does not read as a tag)."""
    if "[" in html:
        html = _ANKI_TAG.sub("&#91;", html)
    return _SOUND_MARK.sub(r"[sound:\1]", html) if "\ue040" in html else html


def packaged_name(relative: str, content: bytes) -> str:
    """Flat, Anki-safe and unique per content: ``diagrams/a b.svg`` -> ``diagrams-a-b-1a2b3c4d.svg``.

    The content hash keeps an edited image from being skipped (or renamed) by Anki's
    importer, which keeps an existing file of the same name.
    """
    path = PurePosixPath(relative)
    stem = _UNSAFE.sub("-", "-".join((*path.parent.parts, path.stem))).strip("-.") or "media"
    suffix = _UNSAFE.sub("", path.suffix.lower())
    return f"{stem[:80]}-{_digest(content)}{suffix}"


def _digest(content: bytes) -> str:
    return hashlib.sha1(content).hexdigest()[:8]


@dataclass
class MediaLibrary:
    """The media folder: checks references and remembers which files the deck uses."""

    media_dir: Path
    referenced: set[Path] = field(default_factory=set)  # every file a card points at, packaged or not
    _by_ref: dict[str, MediaFile] = field(default_factory=dict)
    _real: dict[str, Path] = field(default_factory=dict)  # resolved once: a system call per use adds up

    def resolve(self, ref: str) -> MediaFile:
        """The packaged file for ``ref``, or MediaError saying what is wrong with it."""
        if ref not in self._by_ref:
            media = self._load(ref)
            self._by_ref[ref] = media
            self._real[ref] = media.source.resolve()
        self.referenced.add(self._real[ref])  # on every use: each card reports what it shows
        return self._by_ref[ref]

    def _load(self, ref: str) -> MediaFile:
        what = f"{media_kind(ref)} {quoted(ref)}"
        if _SCHEME.match(ref) or ref.startswith("//"):
            raise MediaError(f"{what} is not a file in the media folder; only local media files can be packaged")
        relative = PurePosixPath(ref.replace("\\", "/"))
        if relative.is_absolute() or ".." in relative.parts:
            raise MediaError(f"{what} points outside the media folder; use a file name inside it")
        if relative.suffix.lower() not in MEDIA_TYPES:
            kinds = ", ".join([*sorted(IMAGE_TYPES), *sorted(SOUND_TYPES)])
            raise MediaError(f"{what} is not an image, audio or video file; use one of {kinds}")
        root = self.media_dir.resolve()
        path = self.media_dir / relative
        if not path.is_file():
            folder = display_path(self.media_dir)
            if not self.media_dir.is_dir():
                raise MediaError(f"{what} not found: the media folder {folder} does not exist (see --media)")
            raise MediaError(f"{what} not found in the media folder {folder}{self._suggestion(ref)}")
        self.referenced.add(path.resolve())
        if not path.resolve().is_relative_to(root):
            raise MediaError(f"{what} is a link leading outside the media folder")
        try:
            data = read_regular_file(path, MAX_MEDIA_BYTES)
        except FileTooLarge as exc:
            raise MediaError(
                f"{what} is {exc.size:,} bytes; media files are limited to {MAX_MEDIA_BYTES:,} bytes"
            ) from None
        except OSError as exc:
            raise MediaError(f"{what} cannot be read: {exc.strerror or exc}") from None
        problem = content_problem(relative.suffix.lower(), data)
        if problem:
            raise MediaError(f"{what} {problem}")
        return MediaFile(packaged_name(relative.as_posix(), data), path)

    def _suggestion(self, ref: str) -> str:
        names = [p.relative_to(self.media_dir).as_posix() for p in self.files()]
        close = difflib.get_close_matches(ref, names, n=1, cutoff=0.5)
        return f"; did you mean '{close[0]}'?" if close else ""

    def files(self) -> list[Path]:
        """Every file in the media folder (hidden ones skipped), sorted."""
        if not self.media_dir.is_dir():
            return []
        return sorted(
            p
            for p in self.media_dir.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(self.media_dir).parts)
        )

"""What this tool is made of: its own source code and the versions of the libraries that shape its output.

The package records these (not install paths or file times), so two installs of the same versions
build byte-identical packages from the same cards.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
from pathlib import Path

from . import __version__

# The libraries whose output ends up in a package, by module name and distribution name.
LIBRARIES = {"markdown": "markdown", "pygments": "pygments", "nh3": "nh3", "yaml": "pyyaml", "genanki": "genanki"}
PACKAGE_DIR = Path(__file__).resolve().parent


def source_digest() -> str:
    """A digest of this tool's own files (code, CSS, starter deck), by their names inside the package."""
    digest = hashlib.sha256()
    for path in sorted(p for p in PACKAGE_DIR.rglob("*") if p.suffix in (".py", ".css", ".md", ".svg")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """The installed version of each library in LIBRARIES."""
    return {module: _version(module, distribution) for module, distribution in LIBRARIES.items()}


def tool_identity() -> dict:
    """What a package records of the tool that made it."""
    return {"build_deck": __version__, "code": source_digest()[:20], "libraries": library_versions()}


def _version(module: str, distribution: str) -> str:
    # From the name of the .dist-info folder beside the module, as installers write it
    # ("PyYAML-6.0.2.dist-info"): importlib.metadata gives the same, but importing it adds
    # some 50 ms to every build's start-up, more than an up-to-date build takes in all.
    spec = importlib.util.find_spec(module)
    if spec and spec.origin:
        folder = Path(spec.origin).parent
        folder = folder.parent if Path(spec.origin).name == "__init__.py" else folder
        for entry in os.listdir(folder):
            name, _, version = entry.removesuffix(".dist-info").partition("-")
            if entry.endswith(".dist-info") and _normalise(name) == distribution and version:
                return version
    from importlib import metadata  # an install of another shape (egg, zip): ask the slow way

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()

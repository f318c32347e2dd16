"""The tool as people install it: its wheel, pip-installed into fresh virtual environments outside the repository.

The dependencies are copied into each environment from this one (the tests stay offline), at new paths with
new file times, as a second install would have them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from conftest import card, import_package, write_tree
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DATE_EPOCH = "1700000000"


@pytest.fixture(scope="session")
def dists(tmp_path_factory) -> dict[str, Path]:
    """The wheel and sdist, built from this checkout without network access."""
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    for leftover in ("build", "build_deck.egg-info"):  # what setuptools leaves in the checkout
        shutil.rmtree(ROOT / leftover, ignore_errors=True)
    return {"wheel": next(out.glob("*.whl")), "sdist": next(out.glob("*.tar.gz"))}


def _wheel_requirements(wheel: Path) -> list[str]:
    """The Requires-Dist lines of the wheel's own metadata (not those of the checkout installed here)."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(name).decode()
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Requires-Dist:")]


def _requirements(wheel: Path) -> set[str]:
    """The distributions the wheel needs to run (no extras), as installed here."""
    needed, todo = set(), list(_wheel_requirements(wheel))
    while todo:
        requirement = Requirement(todo.pop())
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue  # an extra, or for another Python or platform
        name = requirement.name
        if name.lower() in needed:
            continue
        needed.add(name.lower())
        todo.extend(metadata.requires(name) or [])
    return needed


def make_venv(folder: Path, wheel: Path) -> Path:
    """A fresh virtual environment with the wheel installed by pip; returns its bin folder."""
    venv.create(folder, with_pip=True)
    bin_dir = folder / "bin"
    site = Path(
        subprocess.check_output([bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                text=True).strip()
    )  # fmt: skip
    for name in _requirements(wheel):
        dist = metadata.distribution(name)
        for file in dist.files or []:
            source = Path(dist.locate_file(file))
            if ".." not in file.parts and source.is_file():  # scripts outside site-packages are not needed
                target = site / file
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
    pip = subprocess.run([bin_dir / "python", "-m", "pip", "install", "-q", "--no-index", "--no-deps", str(wheel)],
                         capture_output=True, text=True)  # fmt: skip
    assert pip.returncode == 0, pip.stderr
    check = subprocess.run([bin_dir / "python", "-m", "pip", "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout  # every dependency is there, at a version the wheel allows
    return bin_dir


@pytest.fixture(scope="session")
def installs(dists, tmp_path_factory) -> list[Path]:
    """Two separate installs of the wheel."""
    return [make_venv(tmp_path_factory.mktemp(f"venv-{n}"), dists["wheel"]) for n in ("a", "b")]


def run(bin_dir: Path, args: list[str], cwd: Path, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, **env}
    environment.pop("PYTHONPATH", None)
    return subprocess.run([str(bin_dir / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True,
                          env=environment)  # fmt: skip


def test_the_wheel_holds_the_package_its_data_and_the_license_but_no_tests(dists):
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = wheel.namelist()
    assert "deckbuilder/package/card.css" in names and "deckbuilder/starter/example.md" in names
    assert any(re.search(r"\.dist-info/(licenses/)?LICENSE$", name) for name in names)
    assert not any(name.startswith(("tests/", "cards/", "build_deck.py")) for name in names)


def test_the_sdist_carries_its_tests_and_they_run(dists, tmp_path):
    with tarfile.open(dists["sdist"]) as sdist:
        sdist.extractall(tmp_path, filter="data")
    (top,) = tmp_path.iterdir()
    for needed in ("LICENSE", "tests/conftest.py", "tests/browser.py", "cards/deck.yaml", "media"):
        assert (top / needed).exists(), needed
    tests = ["tests/test_sources.py", "tests/test_cli.py", "tests/test_bundled_deck.py"]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests], cwd=top,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    where = subprocess.run([sys.executable, "-c", "import deckbuilder; print(deckbuilder.__file__)"], cwd=top,
                           capture_output=True, text=True)  # fmt: skip
    assert where.stdout.startswith(str(top))  # the sdist's own code was tested


def test_installed_init_then_build_in_a_plain_folder(installs, tmp_path, collection):
    bin_dir = installs[0]
    created = run(bin_dir, ["build-deck", "init", "my-deck"], cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    built = run(bin_dir, ["build-deck", "--strict"], cwd=tmp_path / "my-deck")
    assert built.returncode == 0 and built.stderr == "", built.stderr
    assert "wrote my-deck.apkg: 4 notes, 7 cards, 1 media files" in built.stdout
    log = import_package(collection, tmp_path / "my-deck" / "my-deck.apkg")
    assert len(log.new) == 4 and list(collection.media.check().missing) == []
    assert run(bin_dir, ["python", "-m", "deckbuilder", "--version"], cwd=tmp_path).returncode == 0


def plain_copy_of_the_bundled_deck(folder: Path) -> Path:
    shutil.copytree(ROOT / "cards", folder / "cards")
    shutil.copytree(ROOT / "media", folder / "media")
    return folder


SYNTHETIC = {  # enough cards to be rendered by worker processes
    f"s{i % 3}/c{i:03d}.md": card(f"c{i}", f"Question {i}?", f"Answer {{{{c1::{i}}}}}.\n\n```python\nx = {i}\n```")
    for i in range(100)
}
BUILD = """
import sys
from pathlib import Path
from deckbuilder import BuildOptions, build
cards, output, method = sys.argv[1:]
build(BuildOptions(Path(cards), Path(cards).parent / "media", Path(output), jobs=2, start_method=method))
"""


def test_two_installs_build_byte_identical_packages_under_fork_and_spawn(installs, tmp_path):
    bundled = plain_copy_of_the_bundled_deck(tmp_path / "bundled")
    synthetic = write_tree(tmp_path / "synthetic" / "cards", SYNTHETIC)
    (tmp_path / "synthetic" / "media").mkdir()
    outputs: dict[str, list[bytes]] = {"bundled": [], "synthetic": []}
    for n, bin_dir in enumerate(installs):
        cache = {"BUILD_DECK_CACHE": str(tmp_path / f"cache-{n}")}
        done = run(bin_dir, ["build-deck", "-q", "-o", str(tmp_path / f"bundled-{n}.apkg")], cwd=bundled, **cache)
        assert done.returncode == 0, done.stderr
        outputs["bundled"].append((tmp_path / f"bundled-{n}.apkg").read_bytes())
        for method in ("fork", "spawn"):
            output = tmp_path / f"synthetic-{n}-{method}.apkg"
            done = run(bin_dir, ["python", "-c", BUILD, str(synthetic), str(output), method], cwd=tmp_path, **cache)
            assert done.returncode == 0, done.stderr
            outputs["synthetic"].append(output.read_bytes())
    for name, packages in outputs.items():
        assert all(package == packages[0] for package in packages), name

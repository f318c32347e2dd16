#!/usr/bin/env python3
"""Benchmark build_deck against the straightforward baseline, on the same synthetic cards, in one run.

    python bench/benchmark.py            # 10,000 cards
    python bench/benchmark.py --cards 2000

Every timing is the wall-clock time of a fresh process (as a user runs it), median of a few runs
(the baseline, cold builds and rebuilds taking turns, as the machine's speed drifts).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(HERE)]

from serve_bench import measure_serve  # noqa: E402
from synth import make_cards  # noqa: E402

PYTHON = sys.executable


def process_tree_memory(pid: int) -> int:
    """Memory of a process and all its descendants, in bytes: the sum of their proportional set sizes
    (PSS, from /proc), which counts a page shared by forked workers once, not once per process."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            with open(f"/proc/{current}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def run(args: list[str], env: dict | None = None, sample_memory: bool = False) -> tuple[float, int]:
    """Wall time of one command, and (if asked) the peak memory of its process tree."""
    start = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **(env or {})},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process_tree_memory(process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample) if sample_memory else None
    if sampler:
        sampler.start()
    _, stderr = process.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    if sampler:
        sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(args)}\n{stderr.decode()}")
    return elapsed, peak


def median_time(args: list[str], env: dict | None = None, repeat: int = 5) -> float:
    return statistics.median(run(args, env)[0] for _ in range(repeat))


def build_args(cards: Path, output: Path) -> list[str]:
    return [PYTHON, "build_deck.py", "-q", "--cards", str(cards), "--media", str(ROOT / "media"), "-o", str(output)]


def genanki_default_size(cards: Path, work: Path, cache: Path) -> int:
    """Size of genanki's default (uncompressed) package holding the same notes as ours."""
    import genanki

    from deckbuilder.builder import BuildOptions, check, packaged_media
    from deckbuilder.package.notes import make_notes
    from deckbuilder.package.notetypes import NOTE_TYPES, card_css

    config, rendered, _ = check(BuildOptions(cards, ROOT / "media", cache_dir=cache))
    models = {t.model_id: t.to_genanki(card_css()) for t in NOTE_TYPES}
    decks: dict[str, genanki.Deck] = {}
    for packaged in make_notes(rendered, config, config.name):
        deck = decks.setdefault(packaged.deck_name, genanki.Deck(len(decks) + 1, packaged.deck_name))
        note = genanki.Note(models[packaged.note_type.model_id], list(packaged.fields), tags=list(packaged.tags),
                            guid=packaged.guid, due=packaged.due)  # fmt: skip
        note.cards = [genanki.Card(ord_) for ord_ in packaged.ords]
        deck.add_note(note)
    output = work / "genanki-default.apkg"
    media = [str(m.source) for m in packaged_media(rendered)]
    genanki.Package(list(decks.values()), media).write_to_file(str(output), timestamp=1_700_000_000)
    return output.stat().st_size


def edit_one_card(cards: Path, where: float) -> None:
    """Add a sentence to the answer of the card at this fraction of the deck."""
    files = sorted(cards.rglob("*.md"))
    card = files[int(len(files) * where)]
    card.write_text(card.read_text(encoding="utf-8").replace("\n## Details", "\nOne more sentence.\n\n## Details", 1))


def bundled_after_edits(work: Path, env: dict) -> float:
    """Median time to rebuild a copy of the bundled deck after editing one of its cards."""
    cards = work / "bundled-copy"
    shutil.copytree(ROOT / "cards", cards)
    args = build_args(cards, work / "bundled-copy.apkg")
    run(args, env)
    card = sorted(cards.rglob("*.md"))[0]
    times = []
    for i in range(5):
        card.write_text(card.read_text(encoding="utf-8") + f"\nEdit {i}.\n", encoding="utf-8")
        times.append(run(args, env)[0])
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=10_000, help="number of synthetic cards (default 10,000)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of baseline, cold build, 2 rebuilds")
    parser.add_argument("--saves", type=int, default=15, help="saves timed from the file to the page (serve)")
    parser.add_argument("--edits", type=int, default=500, help="edits served before memory is measured again")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="build-deck-bench-"))
    try:
        report(measure(work, args.cards, args.repeat, args.saves, args.edits), args.cards)
    finally:
        shutil.rmtree(work)


def timed_rounds(cards: Path, work: Path, repeat: int) -> tuple[dict, Path, Path]:
    """Median times of the baseline, of cold builds and of rebuilds after a one-card edit; and the
    last cold build's cache and package.

    This machine's speed drifts by 10-15% over minutes, so they take turns: each round runs the
    baseline, a cold build (with an empty cache of its own), then two rebuilds of that build after
    editing a different card each time.
    """
    baselines, colds, rebuilds = [], [], []
    edits = iter(index / (2 * repeat + 1) for index in range(1, 2 * repeat + 1))
    for i in range(repeat):
        baselines.append(run([PYTHON, str(HERE / "baseline.py"), str(cards), str(work / f"baseline-{i}.apkg")])[0])
        cache, output = work / f"cache-{i}", work / f"deck-{i}.apkg"
        colds.append(run(build_args(cards, output), {"BUILD_DECK_CACHE": str(cache)})[0])
        for where in (next(edits), next(edits)):
            edit_one_card(cards, where)
            rebuilds.append(run(build_args(cards, output), {"BUILD_DECK_CACHE": str(cache)})[0])
    results = {
        "baseline": statistics.median(baselines),
        "cold": statistics.median(colds),
        "rebuild": statistics.median(rebuilds),
        "baseline_range": (min(baselines), max(baselines)),
        "cold_range": (min(colds), max(colds)),
        "rebuilds": len(rebuilds),
    }
    return results, cache, output


def measure(work: Path, count: int, repeat: int, saves: int, edits: int) -> dict:
    cards = make_cards(work, count)
    print(f"{count} synthetic cards in {cards}; measuring...", file=sys.stderr)
    results, cache, output = timed_rounds(cards, work, repeat)
    env = {"BUILD_DECK_CACHE": str(cache)}  # the last cold build's cache and package
    # Memory in a run of its own: sampling /proc every 20 ms takes CPU from the build it times.
    _, results["memory"] = run(build_args(cards, work / "memory.apkg"), {"BUILD_DECK_CACHE": str(work / "c-memory")},
                               sample_memory=True)  # fmt: skip
    results["size"] = output.stat().st_size
    results["genanki_size"] = genanki_default_size(cards, work, cache)
    results["startup"] = median_time([PYTHON, "-c", "import genanki, markdown, pygments, click"])
    bundled = build_args(ROOT / "cards", work / "bundled.apkg")
    run(bundled, env)  # warm the cache, as after any earlier build
    results["bundled"] = median_time(bundled, env)
    results["bundled_cards"] = sum(1 for _ in (ROOT / "cards").rglob("*.md"))
    results["bundled_edit"] = bundled_after_edits(work, env)
    results["bundled_cold"] = statistics.median(
        run(build_args(ROOT / "cards", work / f"bundled-{i}.apkg"), {"BUILD_DECK_CACHE": str(work / f"c{i}")})[0]
        for i in range(3)
    )
    # build-deck serve on the same deck, its cache warm (see serve_bench.py)
    results["saves"] = saves
    results.update(measure_serve(cards, ROOT / "media", work, env, saves, edits, process_tree_memory))
    return results


def report(r: dict, count: int) -> None:
    mb = 1024 * 1024
    rows = [
        ("(a) baseline: Markdown + codehilite + genanki (median)", f"{r['baseline']:.2f} s", "", "", ""),
        ("    baseline runs, fastest to slowest", "{:.2f}–{:.2f} s".format(*r["baseline_range"]), "", "", ""),
        ("(b) cold build, no cache (median)", f"{r['cold']:.2f} s", f"{r['baseline'] / r['cold']:.1f}× faster",
         "≥ 3× faster", r["baseline"] / r["cold"] >= 3),
        ("    cold builds, fastest to slowest", "{:.2f}–{:.2f} s".format(*r["cold_range"]), "", "", ""),
        (f"(c) rebuild after editing one card (median of {r['rebuilds']})", f"{r['rebuild']:.2f} s",
         f"{r['rebuild'] / r['cold']:.3f} of cold",
         "≤ 0.10 of cold", r["rebuild"] / r["cold"] <= 0.10),
        (f"(d) bundled deck ({r['bundled_cards']} card files), unchanged", f"{r['bundled']:.3f} s",
         f"{r['bundled'] / r['startup']:.2f}× start-up",
         "≤ 1.5× start-up", r["bundled"] / r["startup"] <= 1.5),
        ("    Python start-up + imports", f"{r['startup']:.3f} s", "", "", ""),
        ("    bundled deck after editing a card", f"{r['bundled_edit']:.3f} s",
         f"{r['bundled_edit'] / r['startup']:.2f}× start-up", "", ""),
        ("    bundled deck, no cache", f"{r['bundled_cold']:.3f} s",
         f"{r['bundled_cold'] / r['startup']:.2f}× start-up", "", ""),
        ("(e) peak memory (PSS), cold build", f"{r['memory'] / mb:.0f} MB", "", "< 300 MB", r["memory"] < 300 * mb),
        ("    .apkg size", f"{r['size'] / mb:.1f} MB", f"{r['size'] / r['genanki_size']:.2f} of genanki's",
         "≤ 0.25", r["size"] / r["genanki_size"] <= 0.25),
        ("    genanki default package, same notes", f"{r['genanki_size'] / mb:.1f} MB", "", "", ""),
        *serve_rows(r, count),
    ]  # fmt: skip
    print(f"\n{count:,} cards, {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    print("| measurement | result | ratio | target | met |")
    print("|---|---:|---:|---|:-:|")
    for name, value, ratio, target, met in rows:
        mark = "" if target == "" else ("yes" if met else "**no**")
        print(f"| {name} | {value} | {ratio} | {target} | {mark} |")


def serve_rows(r: dict, count: int) -> list[tuple]:
    mb = 1024 * 1024
    first, last = r["serve_memory"]
    if "serve_page" in r:
        page = (f"(f) serve: save to page ({count:,} cards), median of {r['saves']}", f"{r['serve_page']:.2f} s",
                f"slowest {r['serve_page_max']:.2f} s", "≤ 0.3 s", r["serve_page"] <= 0.3)  # fmt: skip
    else:
        page = (f"(f) serve: save to page ({count:,} cards)", "no chromium", "", "≤ 0.3 s", False)
    memory = (f"    serve: memory after {r['serve_edits']} edits", f"{last / mb:.0f} MB",
              f"{(last - first) / mb:+.0f} MB since the 10th", "flat (≤ +5%)", last <= first * 1.05)  # fmt: skip
    return [page, memory]


if __name__ == "__main__":
    main()

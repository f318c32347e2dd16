"""Run the Python code of every card against real Keras 3: one process per backend.

A card says how its code is run in its front matter, under ``test`` (the builder never shows it)::

    test:
      backend: tensorflow   # jax (the default) or tensorflow; a list runs it on each
      setup: |              # run first, never shown: imports, a toy model, data
        import keras
      replace:              # explicit substitutions in the card's code; each must match
        'weights="imagenet"': 'weights=None'
      check: |              # run after the card's code: asserts what the card claims
        assert ...

The card's code is all its ```python blocks in order, cloze markup stripped as the builder strips
it (hidden text kept, hints dropped), run in one fresh namespace after ``setup`` and before ``check``.
Tracebacks point at the card file's own lines.

Keras reads ``KERAS_BACKEND`` once, at import, so each backend runs in a child process of its own
(JAX on CPU); the backends' processes run at the same time. Run it by hand with
``python tests/keras_examples.py [--cards DIR] [--backend jax] [ID ...]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from deckbuilder.errors import Report
from deckbuilder.read.cards import load_cards
from deckbuilder.render.cloze import strip_clozes

ROOT = Path(__file__).resolve().parent.parent
CARDS = ROOT / "cards"
BACKENDS = ("jax", "tensorflow")
DEFAULT_BACKEND = "jax"
TEST_KEYS = {"backend", "setup", "replace", "check"}
# Seconds one card may take; a child stuck past it (in C code, where the alarm cannot reach) is killed.
CARD_TIMEOUT = 120.0
KILL_GRACE = 30.0
RESULT_PREFIX = "KERAS-EXAMPLE "
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # Keras puts bold into its error messages
# Results of this pytest session, for pytest_terminal_summary.
RESULTS: list[Result] = []


@dataclass(frozen=True)
class Snippet:
    """Code and the line of the card file where it starts (so tracebacks point into the card)."""

    text: str
    line: int
    what: str  # "setup", "code" or "check"


@dataclass(frozen=True)
class Example:
    """One card's code and how to run it."""

    id: str
    rel: str
    path: Path
    blocks: tuple[Snippet, ...]
    backends: tuple[str, ...] = (DEFAULT_BACKEND,)
    setup: Snippet | None = None
    check: Snippet | None = None
    replace: tuple[tuple[str, str], ...] = ()
    problem: str = ""  # a malformed test spec: reported as a failure, never run


@dataclass
class Result:
    """What happened to one card on one backend."""

    id: str
    rel: str
    backend: str | None
    ok: bool
    error: str = ""
    seconds: float = 0.0
    ran: bool = True  # False: a card without python code (or not run at all)
    details: dict = field(default_factory=dict)


class ExampleError(Exception):
    """A card whose code cannot even be assembled (e.g. a replace that matches nothing)."""


class ExampleTimeout(Exception):
    pass


# --- reading the cards -------------------------------------------------------------------


def load_examples(cards_dir: Path = CARDS) -> list[Example]:
    """Every card of the folder, read with the builder's own parser, with its code and test spec."""
    report = Report(cards_dir)
    cards = load_cards(cards_dir, report)
    errors = [str(p) for p in report.problems if p.severity == "error"]
    if errors:
        raise ExampleError("the cards do not parse:\n" + "\n".join(errors))
    return [read_example(card) for card in cards]


def read_example(card) -> Example:
    blocks = python_blocks(card.answer, card.answer_line) + python_blocks(card.details, card.details_line)
    base = Example(card.id, card.rel, card.path, tuple(blocks))
    text = card.path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    try:
        return spec_example(base, *read_test_spec(text))
    except ExampleError as exc:
        return Example(base.id, base.rel, base.path, base.blocks, problem=f"{card.rel}: {exc}")


def python_blocks(text: str, first_line: int) -> list[Snippet]:
    """The ```python blocks of a part of the card, cloze markup stripped, with their first lines."""
    blocks, lines, start = [], text.split("\n"), None
    for index, line in enumerate(lines):
        fence = line.strip()
        if start is None and fence.startswith("```"):
            start = index + 1 if fence[3:].strip() == "python" else -(index + 1)
        elif start is not None and fence == "```":
            if start > 0:
                code = "\n".join(lines[start:index])
                blocks.append(Snippet(strip_clozes(code), first_line + start, "code"))
            start = None
    return blocks


def read_test_spec(text: str) -> tuple[dict, dict[str, int]]:
    """The card's ``test`` mapping and, for its keys, the file line where each value's text starts."""
    lines = text.split("\n")
    end = next(i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "..."))
    source = "\n".join(lines[1:end])
    node = yaml.compose(source, Loader=yaml.SafeLoader)
    meta = yaml.safe_load(source) or {}
    spec = meta.get("test") or {}
    if not isinstance(spec, dict):
        raise ExampleError("'test' must be a mapping")
    where: dict[str, int] = {}
    for key, value in node.value if node is not None else []:
        if key.value == "test" and isinstance(value, yaml.MappingNode):
            for sub_key, sub_value in value.value:
                # A block scalar ("|") starts on the line after its indicator; front matter starts at line 2.
                block = getattr(sub_value, "style", None) in ("|", ">")
                where[sub_key.value] = sub_value.start_mark.line + 2 + block
    return spec, where


def spec_example(base: Example, spec: dict, where: dict[str, int]) -> Example:
    """The example with its test spec checked and applied."""
    unknown = set(map(str, spec)) - TEST_KEYS
    if unknown:
        raise ExampleError(f"unknown key(s) under 'test': {', '.join(sorted(unknown))} (known: {sorted(TEST_KEYS)})")
    if spec and not base.blocks:
        raise ExampleError("'test' is given but the card has no ```python block to run")
    backends = spec.get("backend", DEFAULT_BACKEND)
    backends = tuple([backends] if isinstance(backends, str) else backends or ())
    bad = [b for b in backends if b not in BACKENDS]
    if bad or (base.blocks and not backends):
        raise ExampleError(f"'test.backend' must be one or more of {', '.join(BACKENDS)}, not {backends or 'none'}")
    replace = spec.get("replace") or {}
    if not isinstance(replace, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in replace.items()):
        raise ExampleError("'test.replace' must map strings to strings")
    snippets = {}
    for key in ("setup", "check"):
        if key in spec:
            if not isinstance(spec[key], str):
                raise ExampleError(f"'test.{key}' must be a string of Python code")
            snippets[key] = Snippet(spec[key], where[key], key)
    return Example(
        base.id, base.rel, base.path, base.blocks, backends, snippets.get("setup"), snippets.get("check"),
        tuple(replace.items()),
    )  # fmt: skip


def program(example: Example) -> list[Snippet]:
    """What runs, in order: setup, the card's code with its replacements made, check."""
    blocks = list(example.blocks)
    for old, new in example.replace:
        if not any(old in block.text for block in blocks):
            raise ExampleError(f"{example.rel}: test.replace key {old!r} matches nothing in the card's code")
        blocks = [Snippet(b.text.replace(old, new), b.line, b.what) for b in blocks]
    return [s for s in (example.setup, *blocks, example.check) if s is not None]


# --- running, inside one backend's process -----------------------------------------------


def run_example(example: Example, backend: str, timeout: float) -> Result:
    """Run one card in a fresh namespace and a scratch folder; any exception is the failure."""
    started = time.perf_counter()
    try:
        if example.problem:
            raise ExampleError(example.problem)
        snippets = program(example)
        with scratch_folder(), alarm(timeout):
            namespace = {"__name__": "__card__"}
            for snippet in snippets:
                run_snippet(snippet, example, namespace)
        ok, error = True, ""
    except Exception as exc:
        ok, error = False, failure_text(exc, example)
    finally:
        reset_keras()
    return Result(example.id, example.rel, backend, ok, error, round(time.perf_counter() - started, 2))


def run_snippet(snippet: Snippet, example: Example, namespace: dict) -> None:
    # Blank lines in front so line numbers in tracebacks are the card file's own.
    code = compile("\n" * (snippet.line - 1) + snippet.text, str(example.path), "exec")
    exec(code, namespace)


def failure_text(exc: BaseException, example: Example) -> str:
    if isinstance(exc, ExampleError):
        return str(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    # Drop the runner's own frames: the story starts in the card.
    while frames and frames[0].filename != str(example.path):
        frames.pop(0)
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)]
    return ANSI_ESCAPE.sub("", "".join(lines + traceback.format_exception_only(exc))).rstrip()


@contextlib.contextmanager
def scratch_folder():
    """Files a card writes (checkpoints, exports) go to a folder of its own, removed after."""
    before, environ = os.getcwd(), dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="card-") as folder:
        os.chdir(folder)
        try:
            yield
        finally:
            os.chdir(before)
            os.environ.clear()
            os.environ.update(environ)


@contextlib.contextmanager
def alarm(seconds: float):
    def expired(signum, frame):
        raise ExampleTimeout(f"the card's code took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def reset_keras() -> None:
    """Undo global settings a card may change (a dtype policy, say), so the next card starts clean."""
    import keras

    keras.config.set_dtype_policy("float32")
    keras.config.set_floatx("float32")
    keras.config.set_epsilon(1e-7)
    keras.config.set_image_data_format("channels_last")
    keras.distribution.set_distribution(None)  # a card that failed midway may leave its distribution set
    keras.utils.clear_session()
    keras.utils.set_random_seed(0)


def child_main(cards_dir: Path, backend: str, ids: list[str], timeout: float) -> None:
    """The body of one backend's process: run the given cards, one result line each on stdout."""
    results = sys.stdout
    sys.stdout = sys.stderr  # what the cards print must not mix with the results
    import keras

    assert keras.backend.backend() == backend, (keras.backend.backend(), backend)
    reset_keras()
    examples = {e.id: e for e in load_examples(cards_dir)}
    for card_id in ids:
        print(RESULT_PREFIX + json.dumps({"start": card_id}), file=results, flush=True)
        result = run_example(examples[card_id], backend, timeout)
        print(RESULT_PREFIX + json.dumps(asdict(result)), file=results, flush=True)


# --- the parent: one child per backend ---------------------------------------------------


def child_environment(backend: str) -> dict[str, str]:
    env = dict(os.environ, KERAS_BACKEND=backend, JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # A keras.json in the user's home must not change anything; nothing may be downloaded either.
    env["KERAS_HOME"] = tempfile.mkdtemp(prefix="keras-home-")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "tests"), env.get("PYTHONPATH")]))
    return env


def run_backend(cards_dir: Path, backend: str, examples: list[Example], timeout: float) -> list[Result]:
    """Run the examples in a child process for the backend; a hung child is killed and the rest re-run."""
    results: list[Result] = []
    pending = [e for e in examples]
    while pending:
        done = run_child(cards_dir, backend, pending, timeout)
        results += done
        finished = {r.id for r in done}
        pending = [e for e in pending if e.id not in finished]
    return results


def run_child(cards_dir: Path, backend: str, examples: list[Example], timeout: float) -> list[Result]:
    """One child process over the examples; returns a result for at least the first of them."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--backend", backend]
    command += ["--cards", str(cards_dir), "--timeout", str(timeout), *[e.id for e in examples]]
    by_id = {e.id: e for e in examples}
    with tempfile.TemporaryFile("w+") as stderr:
        child = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=child_environment(backend)
        )
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=lambda: [*map(lines.put, child.stdout), lines.put(None)], daemon=True).start()
        results, current, deadline = [], None, time.monotonic() + timeout + 120  # + starting keras
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                child.kill()
                why = f"killed: no result within {timeout + KILL_GRACE:g} s (timeout {timeout:g} s)"
                break
            if line is None:
                child.wait()
                why = f"the {backend} process ended with exit code {child.returncode}"
                break
            if not line.startswith(RESULT_PREFIX):
                continue
            message = json.loads(line[len(RESULT_PREFIX) :])
            if "start" in message:
                current, deadline = message["start"], time.monotonic() + timeout + KILL_GRACE
            else:
                results.append(Result(**message))
                current = None
        child.wait()
        stderr.seek(0)
        tail = stderr.read()[-3000:]
    # The card that was running fails with the process's story. If no card had started, the process
    # never got going (keras not importable, say) and every card fails with it; cards after the last
    # result are run again in a new process.
    failing = []
    if current is not None:
        failing = [by_id[current]]
    elif not results:
        failing = examples
    results += [Result(e.id, e.rel, backend, False, f"{e.rel}: {why}\n{tail}".rstrip()) for e in failing]
    return results


def planned(examples: list[Example], backends=BACKENDS) -> dict[str, list[Example]]:
    """Which examples run on which backend."""
    return {b: [e for e in examples if e.blocks and b in e.backends] for b in backends}


def run_all(
    cards_dir: Path = CARDS,
    only: set[tuple[str, str]] | None = None,
    timeout: float = CARD_TIMEOUT,
    backends=BACKENDS,
) -> list[Result]:
    """Run every card (or only the given (id, backend) pairs) on its backends, the backends at once.

    Cards without python code come back as results with ``ran=False`` (failed if they have a test spec).
    """
    examples = load_examples(cards_dir)
    plan = planned(examples, backends)
    if only is not None:
        plan = {b: [e for e in todo if (e.id, b) in only] for b, todo in plan.items()}
    found: dict[str, list[Result]] = {}
    threads = [
        threading.Thread(target=lambda b=b, todo=todo: found.__setitem__(b, run_backend(cards_dir, b, todo, timeout)))
        for b, todo in plan.items()
        if todo
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results = [r for b in backends for r in found.get(b, [])]
    for example in examples:
        if not example.blocks:
            results.append(Result(example.id, example.rel, None, not example.problem, example.problem, ran=False))
    return results


def missing_keras(backends=BACKENDS) -> str:
    """Why the examples cannot run here ('' when they can): a package that is not importable."""
    import importlib.util

    missing = [name for name in ("keras", *backends) if importlib.util.find_spec(name) is None]
    return f"not importable: {', '.join(missing)} (pip install -e '.[test]')" if missing else ""


def summary_lines(results: list[Result]) -> list[str]:
    ran = [r for r in results if r.ran]
    counts = ", ".join(
        f"{sum(r.backend == b for r in ran)} on {b}" for b in BACKENDS if any(r.backend == b for r in ran)
    )
    failed = sum(not r.ok for r in results)
    seconds = sum(r.seconds for r in ran)
    lines = [f"keras examples: {len(ran)} ran ({counts or 'none'}), {failed} failed, {seconds:.0f} s of card time"]
    slowest = sorted(ran, key=lambda r: -r.seconds)[:3]
    if slowest:
        lines.append("slowest: " + ", ".join(f"{r.id} ({r.backend}) {r.seconds:.0f} s" for r in slowest))
    no_code = sorted(r.id for r in results if not r.ran and r.ok)
    if no_code:
        lines.append(f"cards without python code (not run): {', '.join(no_code)}")
    return lines


def pytest_terminal_summary(terminalreporter) -> None:
    """How many card examples ran on which backend (import this into conftest.py)."""
    if RESULTS:
        terminalreporter.section("Keras examples")
        for line in summary_lines(RESULTS):
            terminalreporter.write_line(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ids", nargs="*", help="card ids to run (default: all)")
    parser.add_argument("--cards", type=Path, default=CARDS, help="cards folder")
    parser.add_argument("--backend", choices=BACKENDS, action="append", help="only this backend (repeatable)")
    parser.add_argument("--timeout", type=float, default=CARD_TIMEOUT, help="seconds per card")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.cards, args.backend[0], args.ids, args.timeout)
        return 0
    backends = tuple(args.backend or BACKENDS)
    only = None
    if args.ids:
        only = {(card_id, b) for card_id in args.ids for b in backends}
    results = run_all(args.cards, only, args.timeout, backends)
    for r in results:
        status = "ok" if r.ok else "FAIL"
        print(f"{status:4} {r.backend or '-':10} {r.seconds:6.1f}s  {r.rel}" + ("" if r.ran else "  (no python code)"))
        if r.error:
            print("     " + r.error.replace("\n", "\n     "))
    print("\n".join(summary_lines(results)))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

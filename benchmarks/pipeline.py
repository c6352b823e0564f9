"""The whole command as a user runs it: ``python -m benchmarks pipeline [--only NAME] [--runs N]``.

Each figure is one ``export-sentry-issue`` process, from spawn to exit, against a fake Sentry on loopback
(50 ms per request) or on a saved payload, with its wall time and its own peak RSS (``wait4``, from a small
launcher so that the benchmark's own memory is not counted in), beside a floor:

- start: the same command exporting one issue with no latency (interpreter, imports, one round trip); the
  floor of every other figure includes it;
- N issues, no limits: a self-hosted server without rate limits; floor: start + latency x (1 + N / 8), one
  index page and then the events eight at a time;
- 100 issues under sentry.io's limits (issue details 5/s, events 15/s, index 5/s); floor: N events at 15/s;
- the same with what each issue says across all its events (its tags at 10/s, its recent events, its
  activity), as the command does by default; floor: N tags at 10/s.

The other figures export with ``--events 0 --tag-values 0``, the work an export did before reports showed the
whole issue, so that they compare with older checkouts and their targets hold as they were set.
- the 20 MB event: a generated SDK event of about 20 MB through ``--from-file``; floor: start + ``json.loads``.

The fetch benchmark measures the client alone, in process; this one measures everything around it too:
start-up, rendering, memory, the file. Prints a table; exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from tests.child_process import REPO_ROOT, command_environment, run_measured
from tests.fake_sentry import SENTRY_IO_CONCURRENCY, SENTRY_IO_LIMITS, FakeSentry

LATENCY = 0.05
CONCURRENCY = 8
BIG_EVENT_BYTES = 20_000_000


@attrs.frozen
class Figure:
    seconds: float
    peak_mb: float
    output_bytes: int
    exit_code: int


def run_cli(args: list[str], env: dict[str, str], cwd: str) -> Figure:
    """One CLI process: wall time, peak RSS of that process alone, and the size of the report it wrote."""
    before = set(os.listdir(cwd))
    finished = run_measured(
        [sys.executable, "-m", "sentry_issue_export.cli", *args], env=env, cwd=cwd, stdout=subprocess.DEVNULL
    )
    if finished.returncode not in (0, 1):
        raise RuntimeError(f"export-sentry-issue exited {finished.returncode}: {finished.stderr.decode()[-2000:]}")
    written = [Path(cwd, name) for name in set(os.listdir(cwd)) - before]
    size = sum(path.stat().st_size for path in written)
    for path in written:
        path.unlink()
    return Figure(finished.seconds, finished.peak_mb, size, finished.returncode)


@attrs.frozen
class Code:
    """The checkout whose command is measured: this one, or another given with ``--compare``."""

    label: str
    root: str

    def common(self, *, lean: bool) -> list[str]:
        """The options every figure passes: eight requests at a time (a checkout from before --concurrency
        existed sent eight too) and, for a lean figure, no tags or recent events (none existed before)."""
        cli = Path(self.root, "sentry_issue_export", "cli.py").read_text(encoding="utf-8")
        options = ["--concurrency", str(CONCURRENCY)] if "--concurrency" in cli else []
        if lean and "--tag-values" in cli:
            options += ["--events", "0", "--tag-values", "0"]
        return options


def _revision(root: str) -> str:
    """The commit a checkout is at, or its path when it is no git checkout."""
    done = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else root


HERE = Code("this checkout", REPO_ROOT)


def big_event(target_bytes: int = BIG_EVENT_BYTES) -> dict[str, Any]:
    """An event of about ``target_bytes`` of JSON: the huge sample with three times its breadcrumbs and spans
    and, on every frame, 40 local variables of 1,200 characters (a dump of records in each frame of a loop)."""
    from sentry_issue_export.samples import load_sample

    sample = load_sample("huge_event")
    for entry in sample["event"]["entries"]:
        data = entry.get("data")
        if entry["type"] == "breadcrumbs":
            data["values"] = [copy.deepcopy(item) for _ in range(3) for item in data["values"]]
        elif entry["type"] == "spans":
            entry["data"] = [copy.deepcopy(item) for _ in range(3) for item in data]
    frames = [
        frame
        for entry in sample["event"]["entries"]
        if entry["type"] == "exception"
        for value in entry["data"]["values"]
        for frame in (value.get("stacktrace") or {}).get("frames", [])
    ]
    size = len(json.dumps(sample))
    record = "".join(f"{{'sku': 'SKU-{n:06d}', 'qty': {n % 17}, 'warehouse': 'eu-west-{n % 3}'}}, " for n in range(16))
    index = 0
    while size < target_bytes:
        frame = frames[index % len(frames)]
        name = f"record_{index // len(frames):02d}"
        value = f"[{record[: 1200 - 10]}] #{index}"
        frame.setdefault("vars", {})[name] = value
        size += len(name) + len(value) + 8
        index += 1
    return sample


@attrs.frozen
class Scenario:
    name: str
    issues: int
    limits: bool
    target_seconds: float | None
    target_mb: float | None
    floor: Callable[[float], float]
    """start seconds -> the least time this work can take."""
    lean: bool = True
    """Export without tags and recent events (``--events 0 --tag-values 0``)."""


def _network_floor(issues: int) -> float:
    return LATENCY * (1 + -(-issues // CONCURRENCY))


SCENARIOS = (
    Scenario("100 issues", 100, False, 1.1, None, lambda start: start + _network_floor(100)),
    Scenario("1,000 issues", 1000, False, 7.0, 100.0, lambda start: start + _network_floor(1000)),
    Scenario("10,000 issues", 10_000, False, None, 120.0, lambda start: start + _network_floor(10_000)),
    Scenario(
        "100 issues, sentry.io limits",
        100,
        True,
        1.1 * 100 / SENTRY_IO_LIMITS["event"],
        None,
        lambda start: 100 / SENTRY_IO_LIMITS["event"],
    ),
    Scenario(
        "100 whole issues, sentry.io",
        100,
        True,
        1.1 * 100 / SENTRY_IO_LIMITS["tags"],
        None,
        lambda start: 100 / SENTRY_IO_LIMITS["tags"],
        lean=False,
    ),
)


def _print(
    name: str, figure: Figure, floor: float, target_s: float | None, target_mb: float | None, *, judged: bool = True
) -> bool:
    ok = (target_s is None or figure.seconds <= target_s) and (target_mb is None or figure.peak_mb <= target_mb)
    targets = " and ".join(
        part
        for part in (f"<= {target_s:.2f} s" if target_s else "", f"<= {target_mb:.0f} MB" if target_mb else "")
        if part
    )
    verdict = ("ok" if ok else "MISSED") if judged else ""
    print(
        f"{name:<30} {figure.seconds:7.2f} s  floor {floor:6.2f} s  ratio {figure.seconds / floor:5.2f}  "
        f"peak RSS {figure.peak_mb:6.0f} MB  output {figure.output_bytes / 1e6:7.2f} MB  "
        f"exit {figure.exit_code}  target {(targets or '-') if judged else '':<22} {verdict}"
    )
    return ok or not judged


def _medians(
    runs: int, command: Callable[[Code], list[str]], codes: list[Code], home: str, fake: FakeSentry | None, cwd: str
) -> dict[Code, Figure]:
    """Per checkout, the run of median time with the highest peak RSS of all its runs; the checkouts take turns,
    run by run, so a slow spell of the machine falls on both."""
    figures: dict[Code, list[Figure]] = {code: [] for code in codes}
    for _ in range(runs):
        for code in codes:
            figures[code].append(run_cli(command(code), command_environment(home, fake, root=code.root), cwd))
    medians = {}
    for code, each in figures.items():
        middle = sorted(each, key=lambda figure: figure.seconds)[len(each) // 2]
        medians[code] = attrs.evolve(middle, peak_mb=max(figure.peak_mb for figure in each))
    return medians


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; the median is shown (default 3)")
    parser.add_argument("--only", help="run only the figures whose name contains this text")
    parser.add_argument(
        "--compare",
        metavar="DIR",
        help="also measure the command of another checkout (a worktree of an older commit), run for run in turn "
        "with this one, for a before/after table from one run",
    )
    args = parser.parse_args(argv)
    codes = [HERE] + (
        [Code(f"before ({_revision(args.compare)})", str(Path(args.compare).resolve()))] if args.compare else []
    )

    def wanted(name: str) -> bool:
        return args.only is None or args.only in name

    def show(name: str, figures: dict[Code, Figure], floors: dict[Code, float], *targets: float | None) -> None:
        for code in codes:
            label = name if code is HERE else f"  {code.label}"[:30]
            results.append(_print(label, figures[code], floors[code], *targets, judged=code is HERE))

    results: list[bool] = []
    starts: dict[Code, float] = {}
    with tempfile.TemporaryDirectory() as home:
        work = os.path.join(home, "work")
        os.mkdir(work)
        print(f"python {sys.version.split()[0]}; {LATENCY * 1000:.0f} ms per request; median of {args.runs} runs")
        with FakeSentry() as fake:
            ids = fake.add_synthetic_issues(max([1, *(s.issues for s in SCENARIOS if wanted(s.name))]))

            def export(count: int, *, lean: bool = True) -> Callable[[Code], list[str]]:
                return lambda code: [*ids[:count], *code.common(lean=lean), "--output-dir", work]

            _medians(1, export(1), codes, home, fake, work)  # warm the disk cache and byte-code
            starts = {
                code: figure.seconds for code, figure in _medians(args.runs, export(1), codes, home, fake, work).items()
            }
            for code in codes:
                label = "start (one issue, no latency)" if code is HERE else f"  {code.label}"
                print(f"{label[:30]:<30} {starts[code]:7.2f} s")
            for scenario in SCENARIOS:
                if not wanted(scenario.name):
                    continue
                fake.latency = LATENCY
                fake.rate_limits = dict(SENTRY_IO_LIMITS) if scenario.limits else {}
                fake.concurrent_limits = dict(SENTRY_IO_CONCURRENCY) if scenario.limits else {}
                runs = 1 if scenario.issues >= 10_000 else args.runs
                figures = _medians(runs, export(scenario.issues, lean=scenario.lean), codes, home, fake, work)
                floors = {code: scenario.floor(starts[code]) for code in codes}
                show(scenario.name, figures, floors, scenario.target_seconds, scenario.target_mb)
                if fake.rate_limited:
                    print(f"{'':<30} the server answered 429 {fake.rate_limited} times")
                fake.clear_log()
                fake.latency = 0.0
        if wanted("20 MB event"):
            payload = Path(home, "big_event.json")
            sample = big_event()
            text = json.dumps(sample)
            payload.write_text(text)
            started = time.perf_counter()
            json.loads(text)
            loads = time.perf_counter() - started
            figures = _medians(
                args.runs, lambda code: ["--from-file", str(payload), "--output-dir", work], codes, home, None, work
            )
            name = f"the {len(text) / 1e6:.0f} MB event (--from-file)"
            show(name, figures, {code: starts.get(code, 0.0) + loads for code in codes}, 1.5, 120.0)
    return 0 if all(results) else 1

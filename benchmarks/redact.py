"""Redaction speed on the stress sample: ``python -m benchmarks redact [--runs N]``.

Redacts the huge_event sample's event (3.2 MB of JSON: 250 frames with variables, 1,000 breadcrumbs, 1,000
spans) with the built-in redactor and prints the median time beside the ``json.loads`` floor of the same
payload. Run it from two checkouts (``PYTHONPATH=<checkout> python -m benchmarks redact``) to compare them in
one sitting; the package's older layout (``sentry_issue_export.redact``) is found too.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import time
from typing import Any


def _redactor() -> Any:
    for module in ("sentry_issue_export.redaction", "sentry_issue_export.redact"):
        try:
            return importlib.import_module(module).redact_payload
        except ImportError:
            continue
    raise SystemExit("no redactor found")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks redact", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="measured runs (default 7)")
    args = parser.parse_args(argv)

    from sentry_issue_export.samples import load_sample

    redact = _redactor()
    event = load_sample("huge_event")["event"]
    text = json.dumps(event)
    redact(event)  # warm the caches a long-running process would have warmed
    times, floors = [], []
    for _ in range(args.runs):
        payload = json.loads(text)
        started = time.perf_counter()
        redact(payload)
        times.append(time.perf_counter() - started)
        started = time.perf_counter()
        json.loads(text)
        floors.append(time.perf_counter() - started)
    median, floor = statistics.median(times), statistics.median(floors)
    print(f"redact huge_event event ({len(text) / 1e6:.1f} MB): median {median * 1000:.0f} ms over {args.runs} runs")
    print(f"json.loads floor {floor * 1000:.0f} ms; ratio {median / floor:.1f}x")
    return 0

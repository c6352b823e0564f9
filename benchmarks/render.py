"""Render the very large sample with each renderer; print time and peak memory per renderer.

``python -m benchmarks render [--repeat N]``. Each renderer runs in a fresh process so that its peak RSS covers
the whole process (interpreter, imports, payload, redaction, models, rendering). The floor printed beside the
figures is the time to ``json.loads`` the same payload.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time


def measure_one(renderer_name: str, repeat: int) -> dict[str, float]:
    from sentry_issue_export import Settings
    from sentry_issue_export.exporter import export_issues_sync
    from sentry_issue_export.plugins import build_registry, make_plugin_manager
    from sentry_issue_export.samples import load_sample

    registry = build_registry(*make_plugin_manager(load_entrypoints=False))
    settings = Settings(source="samples", format=renderer_name)
    payload_text = json.dumps(load_sample("huge_event"))
    timings, render_only = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        result = export_issues_sync("huge_event", settings, write=False, registry=registry)
        timings.append(time.perf_counter() - started)
        renderer = registry.renderer(renderer_name)
        from sentry_issue_export.hookspecs import RenderOptions
        from sentry_issue_export.models import apply_limits

        capped = [apply_limits(report, settings.limits) for report in result.reports]
        started = time.perf_counter()
        renderer.render(capped, RenderOptions(limits=settings.limits))
        render_only.append(time.perf_counter() - started)
        assert not result.failures, result.failures
    loads = []
    for _ in range(repeat):
        started = time.perf_counter()
        json.loads(payload_text)
        loads.append(time.perf_counter() - started)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "pipeline_s": statistics.median(timings),
        "render_s": statistics.median(render_only),
        "json_loads_s": statistics.median(loads),
        "payload_mb": len(payload_text) / 1e6,
        "output_kb": len(result.content) / 1e3,
        "peak_rss_mb": peak_kib / 1024,
    }


def whole_process_seconds(renderer_name: str) -> float:
    """Wall time of ``export-sentry-issue --demo huge_event --format NAME --output -``: start-up and imports too."""
    command = [sys.executable, "-m", "sentry_issue_export.cli", "--demo", "huge_event", "--format", renderer_name]
    started = time.perf_counter()
    subprocess.run([*command, "--output", "-"], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks render", description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure_one(args.one, args.repeat)))
        return 0

    print("huge_event sample; median of", args.repeat, "runs; each renderer in its own process")
    header = f"{'renderer':<10} {'fetch+redact+model+render':>26} {'render only':>12} {'json.loads':>11} "
    print(header + f"{'ratio':>7} {'peak RSS':>9} {'output':>9} {'whole CLI process':>18}")
    for name in ("text", "markdown", "json"):
        completed = subprocess.run(
            [sys.executable, "-m", "benchmarks", "render", "--one", name, "--repeat", str(args.repeat)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(completed.stdout)
        ratio = figures["pipeline_s"] / figures["json_loads_s"]
        process_s = statistics.median(whole_process_seconds(name) for _ in range(args.repeat))
        print(
            f"{name:<10} {figures['pipeline_s'] * 1000:>24.0f}ms {figures['render_s'] * 1000:>10.0f}ms "
            f"{figures['json_loads_s'] * 1000:>9.1f}ms {ratio:>6.1f}x {figures['peak_rss_mb']:>7.0f}MB "
            f"{figures['output_kb']:>7.0f}kB {process_s * 1000:>16.0f}ms"
        )
    print(f"payload: {figures['payload_mb']:.1f} MB of JSON; targets: <= 0.5 s and <= 150 MB per renderer")
    return 0

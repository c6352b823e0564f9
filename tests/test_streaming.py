"""The streaming export: issues rendered as they arrive, in any order, and the file written from the spool.

What streaming must not change: the file is the document ``render`` gives for the same reports, in the order
the user gave, for every format. What it must change: the export holds summaries, not reports, unless asked.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentry_issue_export import Settings, export_issues_sync, hookimpl
from sentry_issue_export.budget import AnswerKeeper, fit_answer
from sentry_issue_export.errors import RenderError
from sentry_issue_export.hookspecs import BaseSource, FetchFailure, IssuePart, RawIssue, Renderer, RenderOptions
from sentry_issue_export.models import IssueReport, IssueSummary, apply_limits
from sentry_issue_export.plugins import Registry, build_registry, make_plugin_manager
from sentry_issue_export.refs import IssueRef
from sentry_issue_export.renderers.formatting import fitted_json
from sentry_issue_export.renderers.templating import _TrailingSpaceStripper
from sentry_issue_export.rendering import render
from sentry_issue_export.samples import SAMPLE_NAMES, load_sample
from sentry_issue_export.sources.fetching import as_completed
from sentry_issue_export.spool import IssueSpool

SMALL_SAMPLES = [name for name in SAMPLE_NAMES if name != "huge_event"]


def registry_with(*plugins: object) -> Registry:
    pm, problems = make_plugin_manager(load_entrypoints=False, extra_plugins=plugins)
    return build_registry(pm, problems)


class ShuffledSamples(BaseSource):
    """The bundled samples, answered in reverse order with a pause each, as a slow server would."""

    name = "shuffled"
    description = "samples, the last asked for first"
    needs_credentials = False

    def ref_from_word(self, word: str) -> IssueRef | None:
        return IssueRef(word) if word in SAMPLE_NAMES or word.startswith("missing") else None

    async def fetch(self, refs: Sequence[IssueRef], settings: Settings) -> AsyncIterator[RawIssue | FetchFailure]:
        from sentry_issue_export.errors import NotFoundError

        for ref in reversed(refs):
            await asyncio.sleep(0.001)
            if ref.issue_id.startswith("missing"):
                yield FetchFailure(ref, NotFoundError(f"{ref.issue_id} is gone"))
                continue
            sample = load_sample(ref.issue_id)
            yield RawIssue(ref, sample["issue"], sample["event"])


class ShuffledPlugin:
    @hookimpl
    def register_sources(self, register: Any) -> None:
        register(ShuffledSamples())


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_the_streamed_file_is_the_document_render_gives_in_the_order_asked(fmt: str, tmp_path: Path) -> None:
    registry = registry_with(ShuffledPlugin())
    settings = Settings(source="shuffled", format=fmt, output_dir=tmp_path)
    words = [*SMALL_SAMPLES, "missing-1"]
    result = export_issues_sync(" ".join(words), settings, registry=registry)
    assert [summary.ref_text for summary in result.issues] == SMALL_SAMPLES
    kept = [report.ref_text for report in result.reports]
    assert kept == SMALL_SAMPLES  # keep_reports is the Python API's default
    whole = render(result.reports, registry.renderer(fmt), settings, failures=result.failures)
    assert result.path is not None and result.path.read_text(encoding="utf-8") == whole
    assert [failure.ref_text for failure in result.failures] == ["missing-1"]


def test_without_keep_reports_only_summaries_are_held(tmp_path: Path) -> None:
    registry = registry_with(ShuffledPlugin())
    settings = Settings(source="shuffled", output_dir=tmp_path)
    result = export_issues_sync(" ".join(SMALL_SAMPLES), settings, registry=registry, keep_reports=False)
    assert result.reports == () and len(result.issues) == len(SMALL_SAMPLES)
    assert result.issues[0].title == load_sample(SMALL_SAMPLES[0])["issue"]["title"]
    assert "Sentry issue export: " in result.content  # read back from the file


def test_a_document_rendered_in_memory_is_the_same_text(tmp_path: Path) -> None:
    registry = registry_with(ShuffledPlugin())
    settings = Settings(source="shuffled", output_dir=tmp_path)
    written = export_issues_sync(" ".join(SMALL_SAMPLES), settings, registry=registry)
    in_memory = export_issues_sync(" ".join(SMALL_SAMPLES), settings, registry=registry, write=False)
    assert in_memory.path is None and in_memory.text == written.content
    assert list(tmp_path.iterdir()) == [written.path]


class FailsOnSecondIssue:
    """A streaming renderer whose second issue fails: the export must fail whole and write nothing."""

    @hookimpl
    def register_renderers(self, register: Any) -> None:
        calls: list[str] = []

        def render_issue(report: IssueReport, options: RenderOptions) -> str:
            calls.append(report.ref_text)
            if len(calls) == 2:
                raise ValueError("broken template logic")
            return report.ref_text + "\n"

        def write_document(parts: Any, options: RenderOptions, write: Any) -> None:
            for part in parts:
                write(part.text())

        register(
            Renderer(
                "fragile",
                "txt",
                lambda reports, options: "",
                render_issue=render_issue,
                write_document=write_document,
            )
        )


def test_a_renderer_failing_mid_export_fails_it_and_leaves_no_file(tmp_path: Path) -> None:
    registry = registry_with(FailsOnSecondIssue())
    settings = Settings(source="samples", format="fragile", output_dir=tmp_path)
    with pytest.raises(RenderError, match="fragile renderer failed: ValueError: broken template logic"):
        export_issues_sync(" ".join(SMALL_SAMPLES[:3]), settings, registry=registry)
    assert list(tmp_path.iterdir()) == []


class FailsWhileWriting:
    @hookimpl
    def register_renderers(self, register: Any) -> None:
        def write_document(parts: Any, options: RenderOptions, write: Any) -> None:
            write("the first half of a document\n" * 10_000)
            raise ValueError("the footer failed")

        register(
            Renderer(
                "halfway",
                "txt",
                lambda reports, options: "",
                render_issue=lambda report, options: "part\n",
                write_document=write_document,
            )
        )


def test_a_document_failing_half_written_leaves_no_file(tmp_path: Path) -> None:
    registry = registry_with(FailsWhileWriting())
    settings = Settings(source="samples", format="halfway", output_dir=tmp_path)
    with pytest.raises(RenderError, match="the footer failed"):
        export_issues_sync(" ".join(SMALL_SAMPLES[:2]), settings, registry=registry)
    assert list(tmp_path.iterdir()) == []


def test_the_spool_gives_back_each_text_by_position_in_any_order() -> None:
    texts = {3: "third ✓\n", 0: "first\n" * 1000, 7: "", 1: "\udcff surrogate kept"}
    with IssueSpool() as spool:
        for position, text in texts.items():
            spool.put(position, text)
        assert {position: spool.read(position) for position in (1, 7, 0, 3)} == texts
        part = spool.part(0, IssueSummary(ref_text="x"))
        assert part.text() == texts[0] and part.summary.name == "x"


@given(st.text(alphabet=" \t\nab", max_size=60), st.lists(st.integers(0, 60), max_size=8))
def test_trailing_blanks_are_removed_across_chunks_as_from_the_whole(text: str, cuts: list[int]) -> None:
    pieces, last = [], 0
    for cut in sorted(set(cuts)):
        pieces.append(text[last:cut])
        last = max(last, cut)
    pieces.append(text[last:])
    out: list[str] = []
    stripper = _TrailingSpaceStripper(out.append)
    for piece in pieces:
        stripper.write(piece)
    stripper.close()
    assert "".join(out) == re.sub(r"[ \t]+$", "", text, flags=re.MULTILINE)


def test_as_completed_starts_no_more_than_its_window_and_yields_every_result() -> None:
    running = peak = 0

    async def job(number: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.001 * (number % 3))
        running -= 1
        return number

    async def main() -> list[int]:
        return [result async for result in as_completed((job(n) for n in range(200)), window=7)]

    results = asyncio.run(main())
    assert sorted(results) == list(range(200)) and peak == 7


def test_as_completed_stopped_early_cancels_the_running_and_closes_the_unstarted() -> None:
    cancelled: list[int] = []

    async def job(number: int) -> int:
        try:
            await asyncio.sleep(0 if number == 0 else 10)
        except asyncio.CancelledError:
            cancelled.append(number)
            raise
        return number

    async def main() -> int:
        results = as_completed((job(n) for n in range(50)), window=4)
        first = await results.__anext__()
        await results.aclose()
        return first

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine was never awaited" would be a RuntimeWarning
        assert asyncio.run(main()) == 0
    # Jobs 1-3 were waiting and are cancelled; job 4 was started as 0 finished and is cancelled before its first
    # step (its body never runs); jobs 5-49 were never started, and are closed without a warning.
    assert sorted(cancelled) in ([1, 2, 3], [1, 2, 3, 4])


def test_the_answer_from_kept_reports_is_the_answer_from_all_of_them(registry: Registry) -> None:
    """The keeper picks, in any arrival order, exactly the reports the answer can show."""
    settings = Settings(source="samples")
    reports = [load_report(name) for name in SMALL_SAMPLES * 12]  # more than a budget can show
    summaries = [IssueSummary.of(report) for report in reports]
    renderer = registry.renderer("text")
    budget = 24_000
    everything = fit_answer("head", summaries, reports, renderer, settings, budget)
    assert 0 < everything.detailed < len(reports)  # the test needs a budget the batch overflows
    keeper = AnswerKeeper(renderer, settings, budget)
    for position in [*range(len(reports) - 1, 40, -1), *range(41)]:  # the last ones first
        keeper.offer(position, reports[position])
    kept = keeper.kept()
    assert everything.detailed <= len(kept) < len(reports)
    assert fit_answer("head", summaries, kept, renderer, settings, budget) == everything


def load_report(name: str) -> IssueReport:
    from sentry_issue_export.models import build_report

    sample = load_sample(name)
    return build_report(sample["issue"], sample["event"], name)


def test_the_json_document_streams_the_layout_fitted_json_gives_the_whole(registry: Registry) -> None:
    renderer = registry.renderer("json")
    assert renderer.render_issue is not None and renderer.write_document is not None
    settings = Settings()
    options = RenderOptions(limits=settings.limits)
    reports = [apply_limits(load_report(name), settings.limits) for name in SMALL_SAMPLES[:2]]
    parts = [part(renderer.render_issue(report, options)) for report in reports]
    assert written(renderer, parts, options) == renderer.render(reports, options)
    # Items short enough share one line, as fitted_json writes a short list.
    for items in ([], [1, 2], list(range(40))):
        whole = fitted_json({"schema_version": 1, "reports": items, "failures": []}, force_break=True) + "\n"
        assert written(renderer, [part(str(item)) for item in items], options) == whole


def written(renderer: Renderer, parts: list[IssuePart], options: RenderOptions) -> str:
    out: list[str] = []
    assert renderer.write_document is not None
    renderer.write_document(parts, options, out.append)
    return "".join(out)


def part(text: str) -> IssuePart:
    return IssuePart(IssueSummary(), lambda: text)


def test_a_full_disk_while_spooling_is_one_sentence_and_leaves_no_report(tmp_path: Path) -> None:
    """A file-size limit (as a full disk would) where the rendered issues are spooled: exit 2 with a sentence said
    once, no traceback, nothing in the output directory."""
    probe = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4000, 4000))\n"
        "from sentry_issue_export.cli import main\n"
        f"sys.exit(main(['--demo', '--output-dir', {str(tmp_path / 'out')!r}]))\n"
    )
    (tmp_path / "out").mkdir()
    env = {**os.environ, "EXPORT_SENTRY_ISSUE_NO_TEMPLATE_CACHE": "1"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("could not be kept in a temporary file") == 1 and "File too large" in done.stderr
    assert "Traceback" not in done.stderr
    assert list((tmp_path / "out").iterdir()) == []

"""budget.py: answers that fit a character budget by the ladder, keeping every issue's every section."""

from __future__ import annotations

import itertools
import re

import attrs
import pytest

from sentry_issue_export import Settings, export_issues_sync
from sentry_issue_export.budget import (
    ANSWER_LADDER,
    DEFAULT_BUDGET,
    answer_ladder,
    describe_cuts,
    fair_shares,
    fit_reports,
)
from sentry_issue_export.models import apply_limits
from sentry_issue_export.plugins import Registry
from sentry_issue_export.samples import SAMPLE_NAMES
from sentry_issue_export.settings import RenderLimits
from tests.report_text import section_headings

SAMPLES = Settings(source="samples")


def exported(refs: str, fmt: str = "text", **settings: object):
    return export_issues_sync(refs, attrs.evolve(SAMPLES, format=fmt, **settings), write=False)


def test_each_step_is_at_least_as_tight_as_the_one_before_and_the_first_is_the_file() -> None:
    ladder = answer_ladder(RenderLimits())
    assert ladder[0] == RenderLimits() and len(ladder) == len(ANSWER_LADDER)
    numbers = [field.name for field in attrs.fields(RenderLimits) if field.type in ("int", int)]
    assert len(numbers) >= 11
    for looser, tighter in itertools.pairwise(ladder):
        assert all(getattr(tighter, name) <= getattr(looser, name) for name in numbers)
        assert looser.library_frame_details or not tighter.library_frame_details


def test_the_ladder_never_loosens_tighter_file_limits() -> None:
    strict = RenderLimits(max_breadcrumbs=3, max_value_chars=50)
    assert all(step.max_breadcrumbs <= 3 and step.max_value_chars <= 50 for step in answer_ladder(strict))


def test_fair_shares_give_small_issues_what_they_need_and_the_rest_to_the_large() -> None:
    assert fair_shares({0: 1_000, 1: 50_000, 2: 2_000, 3: 90_000}, 30_000) == {
        0: 1_000,
        2: 2_000,
        1: 13_500.0,
        3: 13_500.0,
    }
    assert fair_shares({0: 10, 1: 20}, 1_000) == {0: 10, 1: 20}


@pytest.mark.parametrize("name", SAMPLE_NAMES)
@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_every_sample_fits_the_default_budget(name: str, fmt: str, registry: Registry) -> None:
    result = exported(name, fmt)
    fitted = fit_reports(result.reports, registry.renderer(fmt), attrs.evolve(SAMPLES, format=fmt))
    assert len(fitted.content) <= DEFAULT_BUDGET and not fitted.omitted
    if len(result.content) <= DEFAULT_BUDGET:
        assert fitted.content == result.content and not fitted.shortened  # what fits is answered as it is
    if fmt == "text":
        assert section_headings(fitted.content) == section_headings(result.content)


def test_the_deep_recursion_and_huge_samples_keep_every_section_and_say_what_was_cut(registry: Registry) -> None:
    result = exported("huge_event")
    fitted = fit_reports(result.reports, registry.renderer("text"), SAMPLES)
    assert len(result.content) > 5 * DEFAULT_BUDGET and len(fitted.content) <= DEFAULT_BUDGET
    assert section_headings(fitted.content) == section_headings(result.content)
    [note] = fitted.shortened
    assert note.startswith("INGEST-WORKER-2B: ") and "breadcrumbs (newest kept)" in note and " of 200" in note
    # The newest breadcrumb is the one kept last; the file's newest is the answer's newest.
    newest = result.reports[0].event.breadcrumbs[-1].message
    assert newest and newest[:40] in fitted.content
    assert (
        "… 178 more frames of recurse"
        in fit_reports(exported("deep_recursion").reports, registry.renderer("text"), SAMPLES).content
    )


def per_issue(batch: str) -> list[str]:
    """The issues of a multi-issue text report, split at their banners."""
    return re.split(r"^### Issue \d+ of \d+: .*$", batch, flags=re.MULTILINE)[1:]


def test_a_batch_of_every_sample_fits_with_each_issue_keeping_each_of_its_sections(registry: Registry) -> None:
    batch = exported(" ".join(SAMPLE_NAMES))
    fitted = fit_reports(batch.reports, registry.renderer("text"), SAMPLES, DEFAULT_BUDGET - 2_000)
    assert len(fitted.content) <= DEFAULT_BUDGET - 2_000 and not fitted.omitted
    parts = per_issue(fitted.content)
    assert len(parts) == len(SAMPLE_NAMES)
    for name, part in zip(SAMPLE_NAMES, parts, strict=True):
        for heading in section_headings(exported(name).content):
            assert f"\n{heading}\n" in part, (name, heading)


def test_small_issues_keep_everything_when_a_large_one_is_shortened(registry: Registry) -> None:
    batch = exported("csp_report huge_event")
    fitted = fit_reports(batch.reports, registry.renderer("text"), SAMPLES)
    small = exported("csp_report").content
    assert per_issue(fitted.content)[0].strip() == small.strip()
    assert [note.split(":")[0] for note in fitted.shortened] == ["INGEST-WORKER-2B"]


def test_a_budget_too_small_for_every_issue_shows_the_first_and_lists_the_rest(registry: Registry) -> None:
    batch = exported(" ".join(SAMPLE_NAMES))
    fitted = fit_reports(batch.reports, registry.renderer("text"), SAMPLES, 9_000)
    assert len(fitted.content) <= 9_000
    shown = len(SAMPLE_NAMES) - len(fitted.omitted)
    assert 1 <= shown < len(SAMPLE_NAMES)
    assert [report.ref_text for report in fitted.omitted] == list(SAMPLE_NAMES[shown:])


def test_fitting_is_deterministic(registry: Registry) -> None:
    batch = exported("huge_event deep_recursion python_chained_exception").reports
    first = fit_reports(batch, registry.renderer("markdown"), SAMPLES, 20_000)
    assert fit_reports(batch, registry.renderer("markdown"), SAMPLES, 20_000) == first


def test_every_format_fits_the_huge_sample(registry: Registry) -> None:
    report = exported("huge_event").reports
    for fmt in ("text", "markdown", "json"):
        settings = attrs.evolve(SAMPLES, format=fmt)
        assert len(fit_reports(report, registry.renderer(fmt), settings).content) <= DEFAULT_BUDGET, fmt


def test_describe_cuts_counts_what_the_answer_shows_of_each_kind() -> None:
    report = exported("huge_event").reports[0]
    full = apply_limits(report, RenderLimits())
    short = apply_limits(report, answer_ladder(RenderLimits())[-1])
    cuts = describe_cuts(full, short)
    assert f"breadcrumbs (newest kept) {len(short.event.breadcrumbs)} of 200" in cuts
    assert any(cut.startswith("spans (top level and slowest kept)") for cut in cuts)
    assert f"values cut at {short.limits.max_value_chars} characters" in cuts
    assert describe_cuts(full, full) == []

"""budget.py: answers that fit a budget: a headline per issue first, then every section of each issue shown,
shrunk by the ladder, what the issue says across its events cut last."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentry_issue_export import Settings, export_issues_sync
from sentry_issue_export.budget import (
    ANSWER_LADDER,
    CONTENT_HEADING,
    DEFAULT_BUDGET,
    MIN_BUDGET,
    answer_ladder,
    describe_cuts,
    fair_shares,
    fit_answer,
    no_room,
    shorten,
    shorten_middle,
    size,
)
from sentry_issue_export.errors import ExportError
from sentry_issue_export.exporter import ExportResult
from sentry_issue_export.mcp import wording
from sentry_issue_export.models import IssueReport, IssueSummary, apply_limits, build_report
from sentry_issue_export.plugins import Registry, build_registry, make_plugin_manager
from sentry_issue_export.refs import IssueSearch
from sentry_issue_export.renderers.overview import headline
from sentry_issue_export.samples import SAMPLE_NAMES
from sentry_issue_export.selection import IssueFailure, SearchOutcome
from sentry_issue_export.settings import RenderLimits
from tests.fake_sentry import SYNTHETIC_NOW, synthetic_issue
from tests.report_text import section_headings
from tests.strategies import hostile_text

SAMPLES = Settings(source="samples")
HEAD = "✅ Export completed!\nSuccess: 1"


def exported(refs: str, fmt: str = "text", **settings: object):
    return export_issues_sync(refs, attrs.evolve(SAMPLES, format=fmt, **settings), write=False)


def fitted(result, registry: Registry, budget: int = DEFAULT_BUDGET, fmt: str = "text", head: str = HEAD):
    settings = attrs.evolve(SAMPLES, format=fmt)
    return fit_answer(head, result.issues, result.reports, registry.renderer(fmt), settings, budget)


def content(answer: str) -> str:
    """The issues shown in detail, after the content heading."""
    return answer.split(CONTENT_HEADING + "\n", 1)[1]


def test_each_step_is_at_least_as_tight_as_the_one_before_and_the_first_is_the_file() -> None:
    ladder = answer_ladder(RenderLimits())
    assert ladder[0] == RenderLimits() and len(ladder) == len(ANSWER_LADDER)
    numbers = [field.name for field in attrs.fields(RenderLimits) if field.type in ("int", int)]
    assert len(numbers) >= 15
    for looser, tighter in itertools.pairwise(ladder):
        assert all(getattr(tighter, name) <= getattr(looser, name) for name in numbers)
        assert looser.library_frame_details or not tighter.library_frame_details


def test_the_ladder_never_loosens_tighter_file_limits() -> None:
    strict = RenderLimits(max_breadcrumbs=3, max_value_chars=50)
    assert all(step.max_breadcrumbs <= 3 and step.max_value_chars <= 50 for step in answer_ladder(strict))


def test_what_the_issue_says_across_its_events_is_cut_last() -> None:
    """The tag summary, activity and recent events stay until well after the event's bulk is cut."""
    ladder = answer_ladder(RenderLimits())
    first_cut = {
        name: next(n for n, step in enumerate(ladder) if getattr(step, name) < getattr(ladder[0], name))
        for name in ("max_tag_keys", "max_tag_values", "max_activity", "max_recent_events", "max_breadcrumbs")
    }
    assert first_cut["max_breadcrumbs"] < min(first_cut[name] for name in first_cut if name != "max_breadcrumbs")
    assert first_cut["max_tag_keys"] == len(ladder) - 2 and ladder[-1].max_tag_keys >= 8
    assert ladder[-1].max_tag_values >= 2 and ladder[-1].max_activity >= 3 and ladder[-1].max_recent_events >= 2


def test_fair_shares_give_small_issues_what_they_need_and_the_rest_to_the_large() -> None:
    assert fair_shares({0: 1_000, 1: 50_000, 2: 2_000, 3: 90_000}, 30_000) == {
        0: 1_000,
        2: 2_000,
        1: 13_500.0,
        3: 13_500.0,
    }
    assert fair_shares({0: 10, 1: 20}, 1_000) == {0: 10, 1: 20}


def test_size_counts_what_javascript_clients_count() -> None:
    assert size("abc") == 3
    assert size("日本語") == 3
    assert size("😀") == 2  # one code point outside the BMP is two UTF-16 units
    assert size("▁▂█·") == 4


@pytest.mark.parametrize("name", SAMPLE_NAMES)
@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_every_sample_fits_the_default_budget_with_every_section(name: str, fmt: str, registry: Registry) -> None:
    result = exported(name, fmt)
    answer = fitted(result, registry, fmt=fmt)
    assert size(answer.text) <= DEFAULT_BUDGET and answer.detailed == 1 and answer.listed == 1
    if len(result.content) <= DEFAULT_BUDGET - 200:
        assert content(answer.text).strip() == result.content.strip()  # what fits is answered as it is
        assert not answer.shortened
    if fmt == "text":
        assert section_headings(content(answer.text)) == section_headings(result.content)


def test_the_huge_and_deep_recursion_samples_keep_every_section_and_say_what_was_cut(registry: Registry) -> None:
    result = exported("huge_event")
    answer = fitted(result, registry)
    assert len(result.content) > 5 * DEFAULT_BUDGET and size(answer.text) <= DEFAULT_BUDGET
    assert section_headings(content(answer.text)) == section_headings(result.content)
    [note] = answer.shortened
    assert note.startswith("INGEST-WORKER-2B: ") and "breadcrumbs (newest kept)" in note and " of 200" in note
    assert f"- {note}" in answer.text
    newest = result.reports[0].event.breadcrumbs[-1].message  # the file's newest breadcrumb is the answer's
    assert newest and newest[:40] in answer.text
    assert "… 178 more frames of recurse" in fitted(exported("deep_recursion"), registry).text


def per_issue(answer: str) -> list[str]:
    """The issues shown in detail, split where each one's header begins."""
    return re.split(r"^=+\nIssue ID: ", content(answer), flags=re.MULTILINE)[1:]


SMALL_SAMPLES = [name for name in SAMPLE_NAMES if name != "huge_event"]


def test_a_batch_opens_with_a_headline_per_issue_then_each_issue_with_each_of_its_sections(
    registry: Registry,
) -> None:
    batch = exported(" ".join(SMALL_SAMPLES))
    answer = fitted(batch, registry, DEFAULT_BUDGET - 2_000)
    assert size(answer.text) <= DEFAULT_BUDGET - 2_000
    assert answer.listed == answer.detailed == len(SMALL_SAMPLES)
    before_details = answer.text.split(CONTENT_HEADING)[0]
    for number, summary in enumerate(batch.issues, 1):
        assert re.search(rf"^{number}\.\s+{re.escape(summary.name)}\s+{summary.level}\s", before_details, re.M)
        assert (summary.title or "")[:60] in before_details
    parts = per_issue(answer.text)
    assert len(parts) == len(SMALL_SAMPLES)
    for name, part in zip(SMALL_SAMPLES, parts, strict=True):
        for heading in section_headings(exported(name).content):
            assert re.search(rf"^{re.escape(heading)}\n-+$", part, re.M), (name, heading)


def test_small_issues_keep_everything_when_a_large_one_is_shortened(registry: Registry) -> None:
    batch = exported("csp_report huge_event")
    answer = fitted(batch, registry)
    small = exported("csp_report").content
    assert ("Issue ID: " + per_issue(answer.text)[0]).strip() == small.strip().split("\n", 1)[1]
    assert [note.split(":")[0] for note in answer.shortened] == ["INGEST-WORKER-2B"]


def test_a_budget_too_small_for_every_issue_in_detail_still_lists_every_issue(registry: Registry) -> None:
    batch = exported(" ".join(SAMPLE_NAMES))
    answer = fitted(batch, registry, 12_000)
    assert size(answer.text) <= 12_000
    assert answer.listed == len(SAMPLE_NAMES) and 1 <= answer.detailed < len(SAMPLE_NAMES)
    assert f"Details below for issues 1–{answer.detailed} of {len(SAMPLE_NAMES)}" in answer.text or (
        answer.detailed == 1 and f"Details below for issue 1 of {len(SAMPLE_NAMES)}" in answer.text
    )
    assert len(per_issue(answer.text)) == answer.detailed
    tiny = fitted(batch, registry, 3_000)
    assert tiny.listed == len(SAMPLE_NAMES) and tiny.detailed == 0 and size(tiny.text) <= 3_000
    assert tiny.text.endswith("No issue fits this answer in detail, even shortened; the saved report has every one.")


def summary(number: int) -> IssueSummary:
    return IssueSummary(
        ref_text=str(number),
        id=str(4_100_000_000 + number),
        short_id=f"SRCH-{number}",
        title=f"ValueError: invalid amount in cart {number} " + "x" * 80,
        level="error",
        count=1_000 + number,
        user_count=number,
    )


def test_hundreds_of_issues_show_as_many_headlines_as_fit_and_count_the_rest(registry: Registry) -> None:
    summaries = [summary(number) for number in range(1, 601)]
    answer = fit_answer(HEAD, summaries, [], registry.renderer("text"), SAMPLES, 20_000)
    assert size(answer.text) <= 20_000
    assert 50 < answer.listed < 600 and answer.detailed == 0
    lines = answer.text.splitlines()
    assert lines[-1] == f"… and {600 - answer.listed:,} more issues, listed only in the file."
    assert f"{answer.listed}.  SRCH-{answer.listed}  error" in answer.text
    assert f"SRCH-{answer.listed + 1} " not in answer.text


BATCH = exported(" ".join(SAMPLE_NAMES))
BUILT_INS = build_registry(*make_plugin_manager(load_entrypoints=False))


@settings(max_examples=30)
@given(budget=st.integers(min_value=1_500, max_value=40_000), emoji=st.integers(min_value=0, max_value=50))
def test_an_answer_never_passes_its_budget(budget: int, emoji: int) -> None:
    answer = fitted(BATCH, BUILT_INS, budget, head=HEAD + "\nFile saved: /tmp/" + "😀" * emoji)
    assert size(answer.text) <= budget
    assert answer.listed == len(SAMPLE_NAMES) or answer.detailed == 0


def test_the_issue_wide_part_survives_a_tight_answer(registry: Registry) -> None:
    """Shrunk to the ladder's last step, an issue still shows its trend, releases, tag shares, the team's note
    and its recent events."""
    result = exported("python_chained_exception huge_event huge_event", fmt="text")
    answer = fitted(result, registry, 14_000)
    assert answer.detailed >= 1
    first = per_issue(answer.text)[0]
    assert "24 h, hourly" in first and "131 events; peak 14 in the hour from 2025-03-13 17:00 UTC" in first
    assert "Regressed in:" in first and "storefront-api@2025.03.2+8c1e4f7" in first
    assert re.search(r"^  browser\s+Chrome 122\.0\.0 888 \(69%\) · Safari 17\.3 347 \(27%\)", first, re.M)
    assert "note by Priya Raman" in first and "Happens when the SKU was swapped" in first
    assert "b7e3c0f1a4d94e8c9a2f6d51e0c3b8a7" in first and "0c4f9a3e2d1b48a7b6e5d4c3b2a19f08" in first


def test_fitting_is_deterministic(registry: Registry) -> None:
    batch = exported("huge_event deep_recursion python_chained_exception", fmt="markdown")
    first = fitted(batch, registry, 20_000, fmt="markdown")
    assert fitted(batch, registry, 20_000, fmt="markdown") == first


def test_every_format_fits_the_huge_sample(registry: Registry) -> None:
    for fmt in ("text", "markdown", "json"):
        result = exported("huge_event", fmt)
        assert size(fitted(result, registry, fmt=fmt).text) <= DEFAULT_BUDGET, fmt


def test_describe_cuts_counts_what_the_answer_shows_of_each_kind() -> None:
    report = exported("huge_event").reports[0]
    full = apply_limits(report, RenderLimits())
    short = apply_limits(report, answer_ladder(RenderLimits())[-1])
    cuts = describe_cuts(full, short)
    assert f"breadcrumbs (newest kept) {len(short.event.breadcrumbs)} of 200" in cuts
    assert any(cut.startswith("spans (top level and slowest kept)") for cut in cuts)
    assert f"values cut at {short.limits.max_value_chars} characters" in cuts
    assert describe_cuts(full, full) == []
    rich = exported("python_chained_exception").reports[0]
    cuts = describe_cuts(apply_limits(rich, RenderLimits()), apply_limits(rich, answer_ladder(RenderLimits())[-1]))
    assert "recent events 2 of 5" in cuts and "activity entries 3 of 4" in cuts
    deep = exported("deep_recursion").reports[0]
    one_frame = attrs.evolve(answer_ladder(RenderLimits())[-1], max_detail_frames=1)
    assert "code and variables for 1 frame only" in describe_cuts(
        apply_limits(deep, RenderLimits()), apply_limits(deep, one_frame)
    )


# --- hostile input: every line capped, every answer within its budget ----------------------------------------


def test_shortening_counts_utf16_units_and_keeps_a_paths_file_name() -> None:
    assert shorten("abc", 3) == "abc" and shorten("abcd", 3) == "ab…"
    cut = shorten("😀" * 10, 6)
    assert cut == "😀😀…" and size(cut) == 5  # a third emoji would take 7 units
    path = "/srv/" + "deep/" * 100 + "sentry_issue_1_20250314.txt"
    short = shorten_middle(path, 120)
    assert size(short) <= 120 and short.startswith("/srv/deep/") and short.endswith("/sentry_issue_1_20250314.txt")
    assert shorten("anything", 0) == "" and size(shorten_middle("😀" * 50, 9)) <= 9


def hostile_summary(number: int, short_id: str) -> IssueSummary:
    return attrs.evolve(summary(number), short_id=short_id)


def test_a_headline_cuts_what_the_server_sent_and_keeps_the_counts_in_view() -> None:
    line = headline(attrs.evolve(summary(7), short_id="P7-" + "S" * 297, level="e\n" * 100), 7)
    assert size(line) < 300 and "1,007 events" in line and "7 users" in line
    assert "\n" not in line


def test_a_budget_the_head_leaves_no_room_in_answers_with_one_fixed_line(registry: Registry) -> None:
    """A head (or the headlines' heading) that leaves no room gives one line of bounded size, never more."""
    summaries = [hostile_summary(number, f"P{number}-" + "S" * 300) for number in range(1, 301)]
    where = "the file /srv/" + "reports/" * 200 + "sentry_issues_20250314.txt"
    answer = fit_answer(
        "✅ Export completed!\n" + "x" * 2_000,
        summaries,
        [],
        registry.renderer("text"),
        SAMPLES,
        MIN_BUDGET,
        where=where,
    )
    assert answer.text == no_room(300, where, MIN_BUDGET)
    assert answer.text.startswith("300 issues exported to the file /srv/reports/")
    assert answer.text.endswith(
        "/sentry_issues_20250314.txt; the answer budget (1,000 characters) holds no more: read the file."
    )
    assert size(answer.text) <= MIN_BUDGET // 2 and (answer.listed, answer.detailed) == (0, 0)
    assert size(fit_answer("x" * 200, summaries, [], registry.renderer("text"), SAMPLES, 50).text) <= 50


def export_result(**fields: object) -> ExportResult:
    return ExportResult(**{"issues": (), "failures": (), "format": "text", **fields})  # type: ignore[arg-type]


def test_head_lines_are_cut_in_utf16_units() -> None:
    failures = (IssueFailure("😀" * 400, ExportError("🇯🇵" * 400)),)
    [line] = wording.failure_lines(export_result(failures=failures))
    assert size(line) <= wording.HEAD_LINE_CHARS and line.endswith("…")
    [search] = wording.search_lines(export_result(searches=(SearchOutcome(IssueSearch("日本😀" * 500), 3, 3),)))
    assert size(search) <= wording.HEAD_LINE_CHARS and search.endswith("; exported all 3")


def test_what_a_list_of_the_head_leaves_out_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "sentry_issues.txt"
    searches = tuple(SearchOutcome(IssueSearch(f"is:unresolved release:{n} " + "x" * 400), 10, 10) for n in range(40))
    failures = tuple(IssueFailure(f"PROJ-{n}", ExportError("Not found. " * 60)) for n in range(300))
    debug = tuple(tmp_path / f"debug_issue_{n}.json" for n in range(300))
    result = export_result(issues=(summary(1),), searches=searches, failures=failures, path=path, debug_paths=debug)
    answer = wording.export_answer(result, BUILT_INS.renderer("text"), SAMPLES, reports=(), max_inline_chars=4_000)
    assert size(answer) <= 4_000
    head = answer.split("\n\n")[0]
    assert size(head) <= 2_000
    assert re.search(r"^… and 3\d more searches, not shown here\.$", head, re.M)
    assert re.search(rf"^- … and 2\d\d more failed references; all are listed in {re.escape(str(path))}\.$", head, re.M)
    assert re.search(rf"^… and 2\d\d more debug payloads saved in {re.escape(str(tmp_path))}\.$", head, re.M)
    lines = head.splitlines()
    assert lines[0] == "✅ Export completed!" and f"File saved: {path}" in lines and "Success: 1" in lines


def test_the_search_line_names_the_search_once() -> None:
    [line] = wording.search_lines(export_result(searches=(SearchOutcome(IssueSearch("is:unresolved"), 40, 10),)))
    assert line == "Matched: 40 issues for search 'is:unresolved'; exported the first 10"


def hostile_report(short_id: str, title: str, level: str, value: str, buckets: int) -> IssueReport:
    """A generated issue whose every echoed field is what the strategy gives, as a server would send it."""
    issue, event = synthetic_issue(4_200_000_001)
    issue.update(shortId=short_id, title=title, level=level, culprit=value)
    issue["metadata"]["value"] = value
    issue["stats"] = {"24h": [[SYNTHETIC_NOW - 3600 * (buckets - n), n % 7] for n in range(buckets)]}
    event["title"] = title
    [exception] = event["entries"][0]["data"]["values"]
    exception["value"] = value
    exception["stacktrace"]["frames"][0]["vars"] = {"text": value, title[:50] or "x": level}
    return build_report(issue, event, short_id)


SAMPLE_REPORTS = dict(zip(SAMPLE_NAMES, BATCH.reports, strict=True))
searches = st.builds(
    lambda query, pasted, hits, taken: SearchOutcome(IssueSearch(query, text=pasted), hits, taken),
    hostile_text,
    st.one_of(st.just(""), hostile_text),
    st.one_of(st.none(), st.integers(0, 10**9)),
    st.integers(0, 1_000),
)


@settings(max_examples=100)
@given(
    budget=st.integers(min_value=MIN_BUDGET, max_value=DEFAULT_BUDGET),
    fmt=st.sampled_from(["text", "markdown"]),
    samples=st.lists(st.sampled_from(SMALL_SAMPLES), max_size=3),
    generated=st.lists(
        st.builds(hostile_report, hostile_text, hostile_text, hostile_text, hostile_text, st.integers(0, 3_000)),
        max_size=2,
    ),
    outcomes=st.lists(searches, max_size=12),
    failed=st.lists(st.tuples(hostile_text, hostile_text), max_size=25),
    folder=hostile_text,
    name=hostile_text,
    debug=st.integers(min_value=0, max_value=300),
    notes=st.lists(hostile_text, max_size=2),
)
def test_no_input_takes_an_answer_past_its_budget(
    budget: int,
    fmt: str,
    samples: list[str],
    generated: list[IssueReport],
    outcomes: list[SearchOutcome],
    failed: list[tuple[str, str]],
    folder: str,
    name: str,
    debug: int,
    notes: list[str],
) -> None:
    """References, queries, server-sent ids, titles and values of any length and script, through the functions
    the MCP tools answer with: the answer, and the error when nothing was exported, fit the budget."""
    reports = [*generated, *(SAMPLE_REPORTS[sample] for sample in samples)]
    path = Path("/srv") / folder / (name + ".txt")
    result = ExportResult(
        issues=tuple(IssueSummary.of(report) for report in reports),
        failures=tuple(IssueFailure(ref, ExportError(message)) for ref, message in failed),
        format=fmt,
        path=path,
        debug_paths=tuple(path.parent / f"debug_issue_{n}.json" for n in range(debug)),
        searches=tuple(outcomes),
        reports=tuple(reports),
    )
    settings_ = attrs.evolve(SAMPLES, format=fmt)
    if reports:
        answer = wording.export_answer(result, BUILT_INS.renderer(fmt), settings_, max_inline_chars=budget, notes=notes)
        assert size(answer) <= budget
        assert answer.startswith("✅ Export completed!") or answer == no_room(len(reports), f"the file {path}", budget)
    failed_only = attrs.evolve(result, issues=(), reports=())
    assert size(wording.all_failed_message(failed_only, budget)) <= budget

"""The pipeline end to end on the offline sources: files, failures, debug dumps, redaction, progress."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from sentry_issue_export import Redactor, Settings, export_issues_sync, hookimpl
from sentry_issue_export.errors import InvalidReferenceError, OutputError
from sentry_issue_export.plugins import build_registry, make_plugin_manager
from sentry_issue_export.samples import SAMPLE_NAMES, load_sample


@pytest.fixture
def demo(tmp_path: Path) -> Settings:
    return Settings(source="samples", output_dir=tmp_path)


def test_demo_exports_every_sample_into_one_file(demo: Settings, registry):
    result = export_issues_sync([], demo, registry=registry)
    assert result.failures == ()
    assert len(result.reports) == len(SAMPLE_NAMES) - 1  # all but the stress event
    assert result.path is not None and result.path.name.startswith("sentry_issues_")
    assert result.path.read_text(encoding="utf-8") == result.content
    assert list(demo.output_dir.iterdir()) == [result.path]


def test_one_issue_gets_its_own_name(demo: Settings, registry):
    result = export_issues_sync("python_chained_exception", demo, registry=registry)
    issue_id = load_sample("python_chained_exception")["issue"]["id"]
    assert result.path is not None and result.path.name.startswith(f"sentry_issue_{issue_id}_")
    assert result.ok


def test_a_failing_issue_does_not_sink_the_batch(demo: Settings, registry):
    result = export_issues_sync("python_chained_exception 999999 https://github.com/a/b", demo, registry=registry)
    assert len(result.reports) == 1
    reasons = {failure.ref_text: failure.message for failure in result.failures}
    assert set(reasons) == {"999999", "https://github.com/a/b"}
    assert "python_chained_exception" in reasons["999999"]  # the not-found message lists what exists
    assert "github.com" in reasons["https://github.com/a/b"]
    assert not result.ok and result.path is not None


def test_all_failed_writes_nothing(demo: Settings, registry):
    result = export_issues_sync("999999", demo, registry=registry)
    assert result.reports == () and result.path is None
    assert list(demo.output_dir.iterdir()) == []


def test_no_reference_at_all_is_a_clear_error(tmp_path: Path, registry):
    with pytest.raises(InvalidReferenceError, match="reference"):
        export_issues_sync("", Settings(output_dir=tmp_path), registry=registry)


def test_bad_output_name_is_refused_before_anything_is_fetched(demo: Settings, registry):
    with pytest.raises(OutputError):
        export_issues_sync("python_chained_exception", demo, output_file="../escape.txt", registry=registry)
    assert list(demo.output_dir.iterdir()) == []


def test_write_false_writes_nothing(demo: Settings, registry):
    result = export_issues_sync("csp_report", demo, write=False, registry=registry)
    assert result.path is None and result.content
    assert list(demo.output_dir.iterdir()) == []


def test_debug_dump_is_redacted_and_re_renders_identically(demo: Settings, registry):
    settings = attrs.evolve(demo, debug=True)
    issue_id = load_sample("python_chained_exception")["issue"]["id"]
    result = export_issues_sync(issue_id, settings, registry=registry)
    [dump] = result.debug_paths
    assert dump.name.startswith("debug_issue_")
    payload = json.loads(dump.read_text())
    assert set(payload) == {"issue", "event", "tags", "events"}  # the issue across its events re-renders too
    assert "[Filtered]" in dump.read_text()
    assert "RECENT EVENTS" in result.content and "TAGS ACROSS ALL EVENTS" in result.content

    again = export_issues_sync(
        [], Settings(source="file", from_file=dump, output_dir=demo.output_dir / "again"), registry=registry
    )
    assert again.failures == ()
    assert again.content == result.content


def test_progress_is_reported_per_issue(demo: Settings, registry):
    seen: list[tuple[int, int]] = []
    export_issues_sync(
        "csp_report transaction_spans",
        demo,
        registry=registry,
        on_progress=lambda done, total, message: seen.append((done, total)),
    )
    assert seen == [(1, 2), (2, 2)]


def test_a_failing_redactor_fails_the_issue_without_leaking(demo: Settings):
    class Broken:
        @hookimpl
        def register_redactors(self, register):
            register(Redactor("broken", lambda payload, kind, settings: 1 / 0))

    registry = build_registry(*make_plugin_manager(load_entrypoints=False, extra_plugins=[Broken()]))
    result = export_issues_sync("csp_report", demo, registry=registry)
    [failure] = result.failures
    assert "broken" in failure.message and "not exported" in failure.message
    assert result.path is None


def test_reports_keep_the_order_the_user_gave(demo: Settings, registry):
    names = ["transaction_spans", "csp_report", "python_chained_exception"]
    result = export_issues_sync(names, demo, write=False, registry=registry)
    expected = [load_sample(name)["issue"]["id"] for name in names]
    assert [report.issue.id for report in result.reports] == expected

"""The built-in renderers: every sample pinned by a snapshot, plus the rules every output follows."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import attrs
import pytest
from syrupy.assertion import SnapshotAssertion

from sentry_issue_export.errors import RenderError
from sentry_issue_export.hookspecs import Renderer, RenderOptions
from sentry_issue_export.models import IssueReport, apply_limits, build_report
from sentry_issue_export.renderers import json as json_renderer
from sentry_issue_export.renderers import markdown, text
from sentry_issue_export.renderers.templating import Flavor, TemplateSet
from sentry_issue_export.samples import SAMPLE_NAMES, load_sample
from sentry_issue_export.settings import RenderLimits
from sentry_issue_export.textsafe import cut, escape_control, escape_line, indent_continuation

from .snapshot_ext import SNAPSHOT_EXTENSIONS

RenderFunction = Callable[[Sequence[IssueReport], RenderOptions], str]

RENDERERS: dict[str, RenderFunction] = {
    "text": TemplateSet(text.TEXT).render_reports,
    "markdown": TemplateSet(markdown.MARKDOWN).render_reports,
    "json": json_renderer.render_json,
}
HUGE_SNAPSHOT_LIMITS = RenderLimits(max_frames=12, max_breadcrumbs=15, max_spans=25, max_value_chars=300)
"""The huge sample's snapshots use tight limits: small enough to review, and every cut shows."""

RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
RULE = "-" * 80


def redacted(payload: Any) -> Any:
    """The payload as the exporter hands it to renderers: through the built-in redactor."""
    from sentry_issue_export.redaction import redact_payload

    return redact_payload(payload)


@cache
def sample_report(name: str) -> IssueReport:
    """A sample's report as an export builds it: redacted, with its tags and recent events when it has them."""
    sample = load_sample(name)
    overview = redacted({"tags": sample.get("tags"), "events": sample.get("events")})
    return build_report(
        redacted(sample["issue"]),
        redacted(sample["event"]),
        sample["issue"].get("shortId", ""),
        tags=overview["tags"],
        events=overview["events"],
    )


def render(fmt: str, reports: Sequence[IssueReport], **options: Any) -> str:
    """What the exporter does: cap the reports to the limits once, then call the renderer."""
    limits = options.pop("limits", RenderLimits())
    return RENDERERS[fmt]([apply_limits(report, limits) for report in reports], RenderOptions(limits=limits, **options))


def minimal_issue(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "42",
        "shortId": "DEMO-1",
        "title": "ValueError: bad input",
        "count": "3",
        "userCount": 1,
        **overrides,
    }


def exception_event(value: str = "bad input", **overrides: Any) -> dict[str, Any]:
    frame = {"filename": "app/main.py", "function": "handler", "lineNo": 3, "inApp": True, "context": [[3, "x()"]]}
    exception = {"type": "ValueError", "value": value, "stacktrace": {"frames": [frame]}}
    return {"eventID": "a" * 32, "entries": [{"type": "exception", "data": {"values": [exception]}}], **overrides}


# --- snapshots ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLE_NAMES)
@pytest.mark.parametrize("fmt", list(RENDERERS))
def test_sample_snapshot(fmt: str, sample: str, snapshot: SnapshotAssertion) -> None:
    limits = HUGE_SNAPSHOT_LIMITS if sample == "huge_event" else RenderLimits()
    output = render(fmt, [sample_report(sample)], limits=limits)
    assert output == snapshot(extension_class=SNAPSHOT_EXTENSIONS[fmt])


@pytest.mark.parametrize("fmt", list(RENDERERS))
def test_no_event_snapshot(fmt: str, snapshot: SnapshotAssertion) -> None:
    report = build_report(minimal_issue(status="resolved", permalink="https://acme.sentry.io/issues/42/"), None)
    assert render(fmt, [report]) == snapshot(extension_class=SNAPSHOT_EXTENSIONS[fmt])


@pytest.mark.parametrize("fmt", list(RENDERERS))
def test_overview_gaps_and_derived_releases_snapshot(fmt: str, snapshot: SnapshotAssertion) -> None:
    """Parts a server did not give are one line each; releases read from the release tag say so; a tag whose
    values cover only some of its events shows the rest as others; a tag value cut by max_tag_values."""
    tags = [
        {
            "key": "release",
            "totalValues": 10,
            "topValues": [
                {"value": "shop@3.1.0", "count": 6, "firstSeen": "2025-03-10T08:00Z", "lastSeen": "2025-03-14T09:00Z"},
                {"value": "shop@3.0.9", "count": 3, "firstSeen": "2025-03-01T08:00Z", "lastSeen": "2025-03-09T09:00Z"},
            ],
        },
        {"key": "region", "totalValues": 10, "topValues": [{"value": "eu-west-3", "count": 10}]},
    ]
    unavailable = {
        "trend": "GlitchTip's issue API gives no event counts over time (its stats are empty).",
        "activity": "Not read: Sentry refused access (403) to the activity of issue 42.",
        "events": "Not read: Sentry could not find the events of issue 42 (404).",
    }
    report = build_report(minimal_issue(), exception_event(), "DEMO-1", tags=tags, unavailable=unavailable)
    assert render(fmt, [report]) == snapshot(extension_class=SNAPSHOT_EXTENSIONS[fmt])


# --- structure --------------------------------------------------------------------------------------------------


def test_builtin_renderers_register_through_the_hook() -> None:
    registered: list[Renderer] = []
    for module in (text, markdown, json_renderer):
        module.register_renderers(registered.append)
    assert [(r.name, r.extension) for r in registered] == [("text", "txt"), ("markdown", "md"), ("json", "json")]
    assert all(r.description for r in registered)


def test_text_header_has_every_field_in_order() -> None:
    output = render("text", [sample_report("python_chained_exception")])
    assert output.startswith("=" * 80 + "\n")
    header = output.split("=" * 80)[1]
    expected = ["Issue ID", "Short ID", "Title", "Status", "Level", "Count", "First seen", "Last seen", "Permalink"]
    found = [line.split(":")[0] for line in header.strip().splitlines()]
    assert found[: len(expected)] == expected
    assert "Count:         1,287 events, 342 users" in header


def test_empty_sections_are_left_out() -> None:
    report = build_report(minimal_issue(), exception_event())
    output = render("text", [report])
    assert "\nERROR\n" in output and "\nSTACK TRACE: ValueError (most recent call first)\n" in output
    for title in ("REQUEST", "BREADCRUMBS", "SPANS", "THREADS", "USER", "CONTEXTS", "TAGS", "EXTRA DATA", "SDK"):
        assert f"\n{title}\n" not in output
    md = render("markdown", [report])
    assert "### Error" in md
    for title in ("Request", "Breadcrumbs", "Spans", "Threads", "User", "Contexts", "Tags", "Extra data", "SDK"):
        assert f"### {title}" not in md


def test_no_event_is_said_plainly() -> None:
    report = build_report(minimal_issue(), None)
    assert "No event is available for this issue" in render("text", [report])
    assert "No event is available for this issue" in render("markdown", [report])
    assert json.loads(render("json", [report]))["reports"][0]["event"] is None


def test_chain_is_listed_newest_first_with_relations() -> None:
    output = render("text", [sample_report("python_chained_exception")])
    error = output.split("\nERROR\n")[1].split("\nSTACK TRACE")[0]
    assert error.index("[1] RuntimeError") < error.index("[2] ValueError") < error.index("[3] KeyError")
    assert "The direct cause of exception 1 (RuntimeError)." in error
    assert "While handling this exception, exception 2 (ValueError) was raised." in error


def test_several_issues_in_one_file() -> None:
    reports = [build_report(minimal_issue(), exception_event()), sample_report("csp_report")]
    output = render("text", reports)
    assert output.startswith("Sentry issue export: 2 issues\n")
    assert "### Issue 1 of 2: DEMO-1 " in output and "### Issue 2 of 2: " in output
    assert output.count("=" * 80) == 4  # each issue keeps its own header block
    md = render("markdown", reports)
    assert md.startswith("# Sentry issue export: 2 issues\n") and md.count("\n---\n") == 2
    document = json.loads(render("json", reports))
    assert [r["issue"]["short_id"] for r in document["reports"]] == ["DEMO-1", reports[1].issue.short_id]


def test_json_document_shape() -> None:
    document = json.loads(render("json", [sample_report("transaction_spans")]))
    assert document["schema_version"] == 1
    event = document["reports"][0]["event"]
    assert event["date_created"].endswith("Z")
    assert event["spans"][0]["depth"] == 0 and event["spans"][0]["duration_ms"] > 0
    assert event["breadcrumbs_truncated"] == 0 and event["spans_truncated"] == 0


# --- limits -----------------------------------------------------------------------------------------------------


def capped_event() -> dict[str, Any]:
    frames = [
        {"filename": f"app/f{i}.py", "function": f"f{i}", "lineNo": i, "vars": {f"v{j}": j for j in range(8)}}
        for i in range(30)
    ]
    nested: Any = "bottom"
    for _ in range(10):
        nested = {"level": nested}
    frames[-1]["vars"] = {"deep": nested, "long": "x" * 5000}
    return {
        "entries": [
            {"type": "exception", "data": {"values": [{"type": "E", "value": "v", "stacktrace": {"frames": frames}}]}},
            {"type": "breadcrumbs", "data": {"values": [{"message": f"crumb {i}"} for i in range(50)]}},
            {
                "type": "spans",
                "data": [
                    {"span_id": str(i), "op": "db", "start_timestamp": 1000.0 + i, "timestamp": 1000.5 + i}
                    for i in range(40)
                ],
            },
            {"type": "threads", "data": {"values": [{"id": i, "crashed": i == 7} for i in range(12)]}},
        ]
    }


TIGHT = RenderLimits(
    max_frames=9, max_breadcrumbs=5, max_spans=4, max_threads=3, max_vars=3, max_value_chars=100, max_depth=3
)


def test_caps_are_announced_in_text_and_markdown() -> None:
    report = build_report(minimal_issue(), capped_event())
    for fmt in ("text", "markdown"):
        output = render(fmt, [report], limits=TIGHT)
        assert "21 frames omitted (max_frames=9)" in output
        assert "45 older breadcrumbs not shown (max_breadcrumbs=5)" in output
        assert "36 later spans not shown (max_spans=4)" in output
        assert "9 more threads not shown (max_threads=3)" in output
        assert "more variables not shown (max_vars=3)" in output
        assert "… [cut 4,900 chars]" in output
        assert "nested too deep: object with 1 keys" in output


def test_caps_keep_newest_and_oldest_frames_newest_crumbs_earliest_spans_crashed_thread() -> None:
    report = build_report(minimal_issue(), capped_event())
    event = json.loads(render("json", [report], limits=TIGHT))["reports"][0]["event"]
    stacktrace = event["exceptions"][0]["stacktrace"]
    functions = [frame["function"] for frame in stacktrace["frames"]]
    assert functions == ["f0", "f1", "f2", "f24", "f25", "f26", "f27", "f28", "f29"]
    assert (stacktrace["frames_truncated"], stacktrace["frames_truncated_at"]) == (21, 3)
    assert [crumb["message"] for crumb in event["breadcrumbs"]] == [f"crumb {i}" for i in range(45, 50)]
    assert [span["span_id"] for span in event["spans"]] == ["0", "1", "2", "3"]
    assert event["threads"][0]["crashed"] and event["threads_truncated"] == 9
    assert stacktrace["frames"][-1]["vars_truncated"] == 0 and stacktrace["frames"][0]["vars_truncated"] == 5


def test_huge_sample_output_is_bounded_by_the_default_limits() -> None:
    # Speed is measured by `python -m benchmarks render`; here, that the caps keep the output bounded.
    report = sample_report("huge_event")
    for fmt in RENDERERS:
        output = render(fmt, [report])
        assert 10_000 < len(output) < 2_000_000, f"{fmt}: {len(output):,} characters"


# --- payload text cannot break the output ----------------------------------------------------------------------

HOSTILE = "\x1b[31mred\x1b[0m\r\x00\u202eevil\x07"


def hostile_event() -> dict[str, Any]:
    event = exception_event(value=f"{HOSTILE}\n\nREQUEST\n{RULE}\nforged")
    event["entries"][0]["data"]["values"][0]["stacktrace"]["frames"][0]["vars"] = {"v": HOSTILE, HOSTILE: 1}
    event["entries"].append({"type": "breadcrumbs", "data": {"values": [{"category": "query", "message": HOSTILE}]}})
    event["entries"].append({"type": "message", "data": {"formatted": f"line 1\nTAGS\n{RULE}\n{HOSTILE}"}})
    event["tags"] = [[HOSTILE, HOSTILE], ["table|pipe", "a | b"]]
    event["contexts"] = {"os": {"name": HOSTILE}}
    return event


@pytest.mark.parametrize("fmt", list(RENDERERS))
def test_control_characters_are_escaped(fmt: str) -> None:
    output = render(fmt, [build_report(minimal_issue(title=HOSTILE), hostile_event())])
    assert not RAW_CONTROL.search(output)
    if fmt == "text":
        assert "\\x1b[31mred\\x1b[0m\\r\\x00\\u202eevil\\x07" in output
    elif fmt == "markdown":
        assert "\\\\x1b\\[31mred" in output  # the escape's backslash is itself escaped for Markdown
    else:
        assert "\\u001b[31mred" in output and "\\u202e" in output


def test_payload_text_cannot_forge_a_section_heading() -> None:
    output = render("text", [build_report(minimal_issue(), hostile_event())])
    lines = output.splitlines()
    headings = [lines[i - 1] for i, line in enumerate(lines) if line == RULE]
    assert headings == [
        "ERROR",
        "STACK TRACE: ValueError (most recent call first)",
        "MESSAGE",
        "BREADCRUMBS",
        "CONTEXTS",
        "TAGS",
    ]
    assert "\n    REQUEST\n    " + RULE in output  # the forged heading is indented under its exception


def test_markdown_fences_outlast_backticks_and_tables_escape_pipes() -> None:
    event = exception_event(platform="python")
    event["entries"][0]["data"]["values"][0]["stacktrace"]["frames"][0]["context"] = [[3, "s = '````' # ```"]]
    event["tags"] = [["table|pipe", "a | b"]]
    output = render("markdown", [build_report(minimal_issue(), event)])
    assert "\n`````python\n> 3 | s = '````' # ```\n`````\n" in output
    assert "| `table\\|pipe` | a \\| b |" in output


# --- templates ----------------------------------------------------------------------------------------------


def test_template_typo_fails_loudly(tmp_path: Path) -> None:
    (tmp_path / "issue.txt.j2").write_text("{{ issue.titel }}\n")
    with pytest.raises(RenderError) as caught:
        render("text", [build_report(minimal_issue(), None)], templates_dir=tmp_path)
    message = str(caught.value)
    assert "issue DEMO-1" in message and "titel" in message and "issue.txt.j2" in message
    assert str(tmp_path) in message


def test_user_template_replaces_a_whole_file(tmp_path: Path) -> None:
    (tmp_path / "issue.txt.j2").write_text("Custom: {{ issue.short_id }} ({{ issue.title }})\n")
    output = render("text", [build_report(minimal_issue(), exception_event())], templates_dir=tmp_path)
    assert output == "Custom: DEMO-1 (ValueError: bad input)\n"


def test_user_template_extends_the_default_and_overrides_one_block(tmp_path: Path) -> None:
    template = '{% extends "default:issue.txt.j2" %}\n{% block tags %}\nTAGS REPLACED: {{ event.tags | length }}\n'
    (tmp_path / "issue.txt.j2").write_text(template + "{% endblock %}\n")
    report = sample_report("python_chained_exception")
    output = render("text", [report], templates_dir=tmp_path)
    default = render("text", [report])
    assert "TAGS REPLACED: 17" in output and "\nTAGS\n" not in output
    assert output.split("\nTAGS")[0].rstrip() == default.split("\nTAGS")[0].rstrip()  # the rest is untouched


def test_user_markdown_template_extends_the_default(tmp_path: Path) -> None:
    (tmp_path / "issue.md.j2").write_text('{% extends "default:issue.md.j2" %}{% block header %}# Mine{% endblock %}')
    output = render("markdown", [build_report(minimal_issue(), exception_event())], templates_dir=tmp_path)
    assert output.startswith("# Mine") and "### Error" in output


def test_limits_do_not_change_the_report_they_are_given() -> None:
    report = build_report(minimal_issue(), capped_event())
    before = attrs.asdict(report)
    render("text", [report], limits=TIGHT)
    assert attrs.asdict(report) == before


def test_environments_are_built_once_per_templates_dir_and_kept_by_their_renderer(tmp_path: Path) -> None:
    plain, marked = TemplateSet(text.TEXT), TemplateSet(markdown.MARKDOWN)
    assert plain.environment(tmp_path) is plain.environment(str(tmp_path))
    assert plain.environment(None) is plain.environment(None)
    assert plain.environment(None) is not marked.environment(None)
    assert plain.environment(None) is not plain.environment(tmp_path)
    assert plain.environment(None) is not TemplateSet(text.TEXT).environment(None)  # nothing shared by name
    for number in range(TemplateSet.MAX_ENVIRONMENTS + 5):  # bounded however many directories are used
        plain.environment(tmp_path / str(number))
    assert len(plain._environments) == TemplateSet.MAX_ENVIRONMENTS


def test_a_plugin_flavour_named_like_a_builtin_gets_its_own_environment() -> None:
    """A plugin may replace the text renderer with a flavour of the same name that escapes differently (here: it
    shouts). Its exports must use its own environment, not the built-in one built earlier under the name."""
    from sentry_issue_export import Settings, export_issues_sync, hookimpl
    from sentry_issue_export.plugins import build_registry, make_plugin_manager

    shouting = Flavor("text", "txt", lambda value: text.TEXT.finalize(value).upper(), text.FILTERS, text.GLOBALS)

    class Shouting:
        @hookimpl
        def register_renderers(self, register: Callable[[Renderer], None]) -> None:
            register(TemplateSet(shouting).renderer("text, shouted"))

    settings = Settings(source="samples")
    assert "Blocked 'script' from" in export_issues_sync("csp_report", settings, write=False).content
    registry = build_registry(*make_plugin_manager(load_entrypoints=False, extra_plugins=[Shouting()]))
    shouted = export_issues_sync("csp_report", settings, write=False, registry=registry).content
    assert "BLOCKED 'SCRIPT' FROM" in shouted and "Blocked 'script' from" not in shouted


@pytest.mark.parametrize(
    ("value", "escaped_line", "escaped_block"),
    [
        ("plain", "plain", "plain"),
        ("a\nb\tc", "a\\nb\tc", "a\nb\tc"),
        (
            "\x1b[1m\r\x00\x7f\x85\u2028\u202e",
            "\\x1b[1m\\r\\x00\\x7f\\x85\\u2028\\u202e",
            "\\x1b[1m\\r\\x00\\x7f\\x85\\u2028\\u202e",
        ),
    ],
)
def test_textsafe_escapes(value: str, escaped_line: str, escaped_block: str) -> None:
    assert escape_line(value) == escaped_line
    assert escape_control(value) == escaped_block


def test_textsafe_cut_says_how_much_is_missing() -> None:
    assert cut("x" * 12_345, 0) == "… [cut 12,345 chars]"
    assert cut("short", 10) == "short"
    assert indent_continuation("a\nb\n\nc", "  ") == "a\n  b\n\n  c"


@pytest.mark.parametrize(
    ("value", "platform", "shown"),
    [
        (
            {"sku": "'SKU-1'", "qty": 2, "gift": None, "ok": True},
            "python",
            "{'sku': 'SKU-1', 'qty': 2, 'gift': None, 'ok': True}",
        ),
        ([None, False, "'a'"], "python", "[None, False, 'a']"),
        (None, "python", "None"),
        ("'plain repr'", "python", "'plain repr'"),
        ({"sku": "SKU-1", "gift": None, "ok": True}, "javascript", '{"sku": "SKU-1", "gift": null, "ok": true}'),
        (None, None, "null"),
    ],
)
def test_a_variable_is_shown_as_its_frames_language_writes_it(value, platform, shown):
    from sentry_issue_export.renderers.formatting import variable_value

    assert variable_value(value, platform) == shown


# --- native code ----------------------------------------------------------------------------------------------


def test_the_os_error_reads_as_a_person_says_it() -> None:
    from sentry_issue_export.models import MechanismMeta
    from sentry_issue_export.renderers.native import mechanism_meta_text

    meta = MechanismMeta.from_api(
        {
            "signal": {"number": 11, "name": "SIGSEGV", "code_name": "SEGV_MAPERR"},
            "mach_exception": {"exception": 1, "code": 1, "subcode": 0, "name": "EXC_BAD_ACCESS"},
        }
    )
    assert mechanism_meta_text(meta) == "SIGSEGV (11), SEGV_MAPERR; Mach EXC_BAD_ACCESS (1), code 1, subcode 0x0"
    assert (
        mechanism_meta_text(MechanismMeta.from_api({"errno": {"number": 2, "name": "ENOENT"}, "signal": {"number": 6}}))
        == "signal 6; errno ENOENT (2)"
    )
    assert mechanism_meta_text(MechanismMeta.from_api({"ns_error": {"domain": "NSURLErrorDomain", "code": -1009}})) == (
        "NSError NSURLErrorDomain, code -1009"
    )


def native_event(**frame: Any) -> dict[str, Any]:
    frame = {"instruction_addr": "0x100003f3c", "package": "/private/var/App.app/App", **frame}
    return {
        "eventID": "b" * 32,
        "platform": "cocoa",
        "entries": [
            {
                "type": "exception",
                "data": {
                    "values": [
                        {
                            "type": "EXC_BAD_ACCESS",
                            "mechanism": {"type": "mach", "meta": {"signal": {"number": 11, "name": "SIGSEGV"}}},
                            "stacktrace": {"frames": [frame], "registers": {"pc": "0x100003f3c", "sp": "0x16fdff0a0"}},
                        }
                    ]
                },
            }
        ],
    }


def test_a_native_frame_leads_with_its_address_and_keeps_it_beside_its_file() -> None:
    symbolicated = native_event(
        function="main", symbol_addr="0x100003f00", filename="main.swift", lineno=7, in_app=True
    )
    for fmt, expected in (
        ("text", "  0x100003f3c  App  main + 60 (main.swift:7) [in app]\n"),
        ("markdown", "- `0x100003f3c` `App` `main + 60` (`main.swift:7`) · **in app**\n"),
    ):
        assert expected in render(fmt, [build_report(minimal_issue(), symbolicated)]), fmt
    scanned = native_event(trust="scan", addr_mode="rel:0")
    text_output = render("text", [build_report(minimal_issue(), scanned)])
    assert "  0x100003f3c  App [found by scanning the stack; address relative to image 0]\n" in text_output
    assert "  Registers:\n    pc 0x100003f3c  sp 0x16fdff0a0\n" in text_output
    assert "OS error:    SIGSEGV (11)\n" in text_output


@pytest.mark.parametrize(
    ("platform", "raw_frame", "label"),
    [
        (
            "javascript",
            {"filename": "app.min.js", "lineno": 1, "colno": 99},
            "Raw frames, before source maps were applied",
        ),
        (
            "java",
            {"module": "a.b", "function": "c", "filename": "SourceFile", "lineno": 3},
            "Raw frames, before deobfuscation",
        ),
        ("native", {"instruction_addr": "0x1000"}, "Raw frames, before symbolication"),
    ],
)
def test_raw_frames_are_labelled_by_what_processed_them(platform: str, raw_frame: dict[str, Any], label: str) -> None:
    processed = [{"function": "inlined", "instruction_addr": raw_frame.get("instruction_addr")}, {"function": "f"}]
    exception = {"type": "E", "stacktrace": {"frames": processed}, "rawStacktrace": {"frames": [raw_frame]}}
    event = {"platform": platform, "entries": [{"type": "exception", "data": {"values": [exception]}}]}
    output = render("text", [build_report(minimal_issue(), event)])
    assert f"\n  {label}:\n" in output
    assert output.count("Raw frames") == 1


def test_raw_frames_identical_to_the_processed_ones_are_not_repeated() -> None:
    frames = [{"function": "main", "filename": "main.c", "lineno": 3, "instruction_addr": "0x10"}]
    exception = {"type": "E", "stacktrace": {"frames": frames}, "rawStacktrace": {"frames": frames}}
    thread = {"id": 1, "crashed": True, "stacktrace": {"frames": frames}, "rawStacktrace": {"frames": frames}}
    event = {
        "platform": "native",
        "entries": [
            {"type": "exception", "data": {"values": [exception]}},
            {"type": "threads", "data": {"values": [thread]}},
        ],
    }
    for fmt in ("text", "markdown"):
        assert "Raw frames" not in render(fmt, [build_report(minimal_issue(), event)]), fmt


def test_a_body_sentry_removed_is_said_where_the_body_would_be() -> None:
    event = {
        "entries": [
            {"type": "request", "data": {"method": "POST", "url": "https://shop.example/upload", "data": None}}
        ],
        "_meta": {"entries": {"0": {"data": {"data": {"": {"rem": [["!limit", "x"]], "len": 4194304}}}}}},
    }
    report = build_report(minimal_issue(), event)
    assert "  Body: removed by Sentry: too large, originally 4,194,304 long\n" in render("text", [report])
    assert "\nBody: removed by Sentry: too large, originally 4,194,304 long\n" in render("markdown", [report])
    assert "REMOVED BY SENTRY" not in render("text", [report])  # said once, where it belongs

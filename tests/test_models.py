"""Models built from Sentry's JSON: every known quirk, and robustness against any JSON value at all."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentry_issue_export.hookspecs import RenderOptions
from sentry_issue_export.models import (
    Breadcrumb,
    ContextLine,
    Csp,
    DebugImage,
    Event,
    ExceptionInfo,
    ExpectCt,
    Frame,
    Hpkp,
    Issue,
    Mechanism,
    MechanismMeta,
    Message,
    Occurrence,
    ProcessingError,
    Request,
    SdkInfo,
    Span,
    Stacktrace,
    Tag,
    Thread,
    UnknownEntry,
    User,
    Variable,
    build_report,
    parse_timestamp,
)
from sentry_issue_export.renderers import markdown, text
from sentry_issue_export.renderers.json import render_json
from sentry_issue_export.renderers.templating import TemplateSet
from sentry_issue_export.settings import RenderLimits


def event_with(*entries: dict[str, Any], **fields: Any) -> Event:
    return Event.from_api({"entries": list(entries), **fields})


def exception_entry(*values: dict[str, Any]) -> dict[str, Any]:
    return {"type": "exception", "data": {"values": list(values)}}


# --- the issue ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field", "expected"),
    [
        ({"count": "1287"}, "count", 1287),
        ({"count": 12}, "count", 12),
        ({"count": "1,287"}, "count", 1287),
        ({"count": "many"}, "count", None),
        ({"userCount": "5"}, "user_count", 5),
        ({"culprit": None}, "culprit", None),
        ({"culprit": ""}, "culprit", None),
        ({"id": 5832104417}, "id", "5832104417"),
        ({"title": 42}, "title", "42"),
        (
            {"assignedTo": {"type": "user", "name": "Priya", "email": "p@example.com"}},
            "assigned_to",
            "Priya <p@example.com>",
        ),
        ({"assignedTo": {"type": "team", "name": "frontend"}}, "assigned_to", "team frontend"),
        ({"assignedTo": None}, "assigned_to", None),
        ({"firstRelease": {"version": "api@1.2.3"}}, "first_release", "api@1.2.3"),
        ({"lastRelease": "api@1.2.4"}, "last_release", "api@1.2.4"),
        ({"project": "backend"}, "project", Issue.from_api({"project": {"slug": "backend"}}).project),
        ({"firstSeen": "2025-02-27T16:02:11.271000Z"}, "first_seen", datetime(2025, 2, 27, 16, 2, 11, 271000, UTC)),
    ],
)
def test_issue_quirks(payload: dict[str, Any], field: str, expected: Any) -> None:
    assert getattr(Issue.from_api(payload), field) == expected


# --- timestamps -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-05-01T12:00:00Z", datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),
        ("2024-05-01T12:00:00.123456Z", datetime(2024, 5, 1, 12, 0, 0, 123456, UTC)),
        ("2024-05-01T12:00:00.1Z", datetime(2024, 5, 1, 12, 0, 0, 100000, UTC)),
        ("2024-05-01T14:00:00+02:00", datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),
        ("2024-05-01T12:00:00", datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),
        ("2024-05-01 12:00:00.5", datetime(2024, 5, 1, 12, 0, 0, 500000, UTC)),
        (1714564800.25, datetime(2024, 5, 1, 12, 0, 0, 250000, UTC)),
        (1714564800, datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),
        ("1714564800", datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)),
        ("yesterday at noon", "yesterday at noon"),
        ("0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00+01:00"),
        (1e300, "1e+300"),
        ("", None),
        (None, None),
        (True, None),
    ],
)
def test_timestamps_parse_to_aware_utc_or_keep_the_text(raw: Any, expected: Any) -> None:
    parsed = parse_timestamp(raw)
    assert parsed == expected
    if isinstance(parsed, datetime):
        assert parsed.tzinfo is not None


# --- frames and stack traces ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vars_value", "expected"),
    [
        ({"a": 1, "b": "'text'"}, (Variable("a", 1), Variable("b", "'text'"))),
        ('{"a": 1}', (Variable("a", 1),)),
        ("{'a': 1, 'b': (1, 2)}", (Variable("a", 1), Variable("b", "(1, 2)"))),
        ("{'request': <WSGIRequest>}", (Variable("(vars)", "{'request': <WSGIRequest>}"),)),
        ("not a dict", (Variable("(vars)", "not a dict"),)),
        (["x", "y"], (Variable("[0]", "x"), Variable("[1]", "y"))),
        (None, ()),
        (7, (Variable("(vars)", 7),)),
        # Nested values that are JSON strings or reprs stay the text they were.
        (
            {"payload": '{"nested": true}', "obj": "<User 1>"},
            (Variable("payload", '{"nested": true}'), Variable("obj", "<User 1>")),
        ),
    ],
)
def test_frame_vars_in_every_shape(vars_value: Any, expected: tuple[Variable, ...]) -> None:
    assert Frame.from_api({"vars": vars_value}).vars == expected


def test_frame_context_marks_the_failing_line_and_takes_numbers_as_strings() -> None:
    frame = Frame.from_api({"lineNo": "42", "colNo": "7", "context": [["41", "a"], [42, "b"], [43, None], "odd"]})
    assert (frame.lineno, frame.colno) == (42, 7)
    assert frame.context == (
        ContextLine(41, "a"),
        ContextLine(42, "b", True),
        ContextLine(43, ""),
        ContextLine(None, "odd"),
    )


def test_glitchtip_snake_case_frames() -> None:
    frame = Frame.from_api(
        {
            "filename": "app.py",
            "abs_path": "/srv/app.py",
            "lineno": 10,
            "in_app": True,
            "pre_context": ["def f():", "    x = 1"],
            "context_line": "    return x / 0",
            "post_context": ["", "f()"],
        }
    )
    assert frame.abs_path == "/srv/app.py" and frame.in_app is True and frame.colno is None
    assert [(line.lineno, line.code, line.is_error_line) for line in frame.context] == [
        (8, "def f():", False),
        (9, "    x = 1", False),
        (10, "    return x / 0", True),
        (11, "", False),
        (12, "f()", False),
    ]


def test_source_mapped_frames_keep_the_minified_location() -> None:
    camel = Frame.from_api(
        {"origAbsPath": "https://x/app.min.js", "origLineNo": 1, "origColNo": "2345", "origFunction": "n"}
    )
    nested = Frame.from_api(
        {"data": {"orig_filename": "app.min.js", "orig_lineno": 1, "sourcemap": "https://x/app.js.map"}}
    )
    assert (camel.orig_abs_path, camel.orig_lineno, camel.orig_colno, camel.orig_function) == (
        "https://x/app.min.js",
        1,
        2345,
        "n",
    )
    assert camel.is_source_mapped and nested.is_source_mapped
    assert nested.source_map == "https://x/app.js.map"


def test_stacktrace_keeps_order_omitted_range_and_raw_stacktrace() -> None:
    exc = ExceptionInfo.from_api(
        {
            "type": "TypeError",
            "stacktrace": {"frames": [{"function": "main"}, {"function": "inner"}], "framesOmitted": ["3", 9]},
            "rawStacktrace": {"frames": [{"function": "n"}]},
        }
    )
    assert exc.stacktrace is not None and exc.raw_stacktrace is not None
    assert [frame.function for frame in exc.stacktrace.frames] == ["main", "inner"]  # oldest call first
    assert exc.stacktrace.frames_omitted == (3, 9)
    assert [frame.function for frame in exc.raw_stacktrace.frames] == ["n"]
    assert Stacktrace.from_api({"frames": None, "framesOmitted": [1]}) == Stacktrace()


# --- exceptions and chains ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"value": {"type": "E", "value": "v"}},
        {"value": [{"type": "E", "value": "v"}]},
        [{"type": "E", "value": "v"}],
        {"type": "E", "value": "v"},
    ],
)
def test_exception_entry_shapes(data: Any) -> None:
    event = event_with({"type": "exception", "data": data})
    assert [(exc.type, exc.value) for exc in event.exceptions] == [("E", "v")]


def test_python_chain_from_mechanism_ids() -> None:
    event = event_with(
        exception_entry(
            {"type": "KeyError", "mechanism": {"source": "__context__", "exception_id": 2, "parent_id": 1}},
            {"type": "ValueError", "mechanism": {"source": "__cause__", "exception_id": 1, "parent_id": 0}},
            {"type": "RuntimeError", "mechanism": {"type": "django", "handled": False, "exception_id": 0}},
        )
    )
    relations = [(exc.type, exc.parent, exc.relation, exc.relation_inferred) for exc in event.exceptions]
    assert relations == [
        ("KeyError", 1, "context", False),
        ("ValueError", 2, "cause", False),
        ("RuntimeError", None, None, False),
    ]


def test_exception_group_members() -> None:
    event = event_with(
        exception_entry(
            {"type": "OSError", "mechanism": {"source": "exceptions[1]", "exception_id": 2, "parent_id": 0}},
            {"type": "ValueError", "mechanism": {"source": "exceptions[0]", "exception_id": 1, "parent_id": 0}},
            {"type": "ExceptionGroup", "mechanism": {"is_exception_group": True, "exception_id": 0}},
        )
    )
    assert [(exc.parent, exc.relation) for exc in event.exceptions] == [(2, "group"), (2, "group"), (None, None)]


@pytest.mark.parametrize(("platform", "relation"), [("python", "context"), (None, "context"), ("java", "cause")])
def test_chain_without_mechanism_is_inferred_from_order(platform: str | None, relation: str) -> None:
    event = event_with(exception_entry({"type": "A"}, {"type": "B"}), platform=platform)
    first, last = event.exceptions
    assert (first.parent, first.relation, first.relation_inferred) == (1, relation, True)
    assert (last.parent, last.relation) == (None, None)


def test_mechanism_tolerates_wrong_types() -> None:
    mechanism = Mechanism.from_api(
        {"handled": "false", "exception_id": "3", "parent_id": "x", "data": "raw", "meta": None}
    )
    assert (mechanism.handled, mechanism.exception_id, mechanism.parent_id) == (False, 3, None)
    assert mechanism.data == (("value", "raw"),)


def test_exception_title_uses_what_exists() -> None:
    assert ExceptionInfo.from_api({"type": "E", "value": 42}).title == "E: 42"
    assert ExceptionInfo.from_api({"value": "only value"}).title == "only value"
    assert ExceptionInfo.from_api({}).title == "(exception without type or value)"


# --- entries ----------------------------------------------------------------------------------------------------


def test_nulls_everywhere_and_entries_without_data() -> None:
    event = event_with(
        None,  # type: ignore[arg-type]
        {"type": "exception", "data": None},
        {"type": "request", "data": None},
        {"type": "breadcrumbs", "data": {"values": None}},
        {"type": None, "data": None},
        {"type": "threads", "data": {"values": [None, {"id": None}]}},
        tags=None,
        contexts=None,
        user=None,
        sdk=None,
        errors=None,
        context=None,
    )
    assert event.exceptions == () and event.request is None and event.breadcrumbs == ()
    assert event.threads == (Thread(), Thread())
    assert (event.tags, event.contexts, event.user, event.sdk, event.errors, event.extra) == (
        (),
        (),
        None,
        None,
        (),
        (),
    )
    assert event.unknown_entries == ()


@pytest.mark.parametrize("payload", [None, [], [1, 2], "event", 5, 1.5, True, {}])
def test_payload_that_is_not_an_event_gives_an_empty_one(payload: Any) -> None:
    assert Event.from_api(payload) == Event()


def test_unknown_entry_and_event_types_are_kept() -> None:
    event = event_with({"type": "hologram", "data": {"fps": 30}}, {"type": "debugmeta", "data": [1]}, type="replay_x")
    assert event.type == "replay_x"
    assert event.unknown_entries == (UnknownEntry("hologram", {"fps": 30}), UnknownEntry("debugmeta", [1]))


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ([{"key": "env", "value": "prod"}], (Tag("env", "prod"),)),
        ([["env", "prod"]], (Tag("env", "prod"),)),
        (
            [{"key": None, "value": "orphan"}, {"key": "empty", "value": None}],
            (Tag(None, "orphan"), Tag("empty", None)),
        ),
        ([["level", 5], ["flag", True]], (Tag("level", "5"), Tag("flag", "true"))),
        ({"env": "prod"}, (Tag("env", "prod"),)),
        ([None, ["only-key"]], (Tag("only-key", None),)),
    ],
)
def test_tags_in_every_shape(tags: Any, expected: tuple[Tag, ...]) -> None:
    assert Event.from_api({"tags": tags}).tags == expected


def test_fields_kept_only_as_tags_are_recovered() -> None:
    event = Event.from_api({"tags": [["environment", "prod"], ["level", "error"], ["transaction", "/a"]]})
    assert (event.environment, event.level, event.transaction) == ("prod", "error", "/a")


def test_context_is_the_extra_data() -> None:
    assert Event.from_api({"context": {"order": 7, "flags": {"a": True}}}).extra == (
        ("order", 7),
        ("flags", {"a": True}),
    )


def test_contexts_order_and_types() -> None:
    event = Event.from_api(
        {
            "contexts": {
                "react": {"type": "default", "version": "19"},
                "trace": {"type": "trace", "trace_id": "t"},
                "client_os": {"type": "os", "name": "macOS"},
                "browser": {"name": "Chrome"},
                "custom": "just text",
                "gone": None,
            }
        }
    )
    assert [(c.name, c.type) for c in event.contexts] == [
        ("browser", "browser"),
        ("client_os", "os"),
        ("trace", "trace"),
        ("react", "default"),
        ("custom", "custom"),
    ]
    assert event.contexts[-1].fields == (("value", "just text"),)


def test_request_pairs_in_every_shape() -> None:
    request = Request.from_api(
        {
            "method": "POST",
            "url": "https://x/a",
            "query": "a=1&b=&c=%20d",
            "headers": {"Accept": "json", "X-Count": 3},
            "cookies": "session=[Filtered]; theme=dark",
            "data": "raw body",
            "env": {"REMOTE_ADDR": "10.0.0.1"},
            "inferredContentType": "text/plain",
        }
    )
    assert request.query == (("a", "1"), ("b", ""), ("c", " d"))
    assert request.headers == (("Accept", "json"), ("X-Count", "3"))
    assert request.cookies == (("session", "[Filtered]"), ("theme", "dark"))
    assert (request.data, request.env, request.inferred_content_type) == (
        "raw body",
        (("REMOTE_ADDR", "10.0.0.1"),),
        "text/plain",
    )
    assert Request.from_api({"query": [["a", "1"], ["b", None]], "headers": [["H", "v"], ["Only"]]}).headers == (
        ("H", "v"),
        ("Only", None),
    )


def test_message_entry_and_top_level_message() -> None:
    event = event_with({"type": "message", "data": {"formatted": "hi 5", "message": "hi %s", "params": [5]}})
    assert event.log_message == Message("hi 5", "hi %s", (5,))
    assert Message.from_api("plain").text == "plain"
    assert Event.from_api({"message": {"formatted": "from logentry"}}).message == "from logentry"


def test_breadcrumbs_sql_and_timestamps() -> None:
    crumbs = event_with(
        {
            "type": "breadcrumbs",
            "data": {
                "values": [{"category": "query", "message": "SELECT 1", "timestamp": 1714564800.5}, {"type": "http"}]
            },
        }
    ).breadcrumbs
    assert crumbs[0].is_sql and not crumbs[1].is_sql
    assert crumbs[0].timestamp == datetime(2024, 5, 1, 12, 0, 0, 500000, UTC)
    assert Breadcrumb.from_api({"category": "db.sql.query"}).is_sql


def test_spans_get_duration_depth_and_tree_order() -> None:
    spans = [
        {"span_id": "c", "parent_span_id": "b", "op": "db", "start_timestamp": 10.2, "timestamp": 10.3},
        {"span_id": "b", "parent_span_id": "root", "op": "http", "start_timestamp": 10.1, "timestamp": 10.5},
        {
            "span_id": "d",
            "parent_span_id": "root",
            "op": "cache",
            "start_timestamp": "1970-01-01T00:00:10.05Z",
            "timestamp": 10.06,
        },
        {"span_id": "x", "parent_span_id": "y", "op": "loop", "start_timestamp": None},
        {"span_id": "y", "parent_span_id": "x", "op": "loop"},
    ]
    event = event_with({"type": "spans", "data": spans}, startTimestamp=10.0, endTimestamp="10.5")
    assert [(s.span_id, s.depth) for s in event.spans] == [("d", 0), ("b", 0), ("c", 1), ("x", 0), ("y", 1)]
    by_id = {s.span_id: s for s in event.spans}
    assert by_id["c"].duration_ms == pytest.approx(100.0) and by_id["c"].offset_ms == pytest.approx(200.0)
    assert by_id["x"].duration_ms is None and event.duration_ms == pytest.approx(500.0)


def test_csp_user_sdk_errors_occurrence() -> None:
    csp = Csp.from_api({"blocked_uri": "https://evil", "line_number": "2", "new_field": "kept", "empty": None})
    assert (csp.blocked_uri, csp.line_number, csp.other) == ("https://evil", 2, (("new_field", "kept"),))
    user = User.from_api({"id": 48213, "geo": {"city": "Berlin"}, "sentry_user": "id:48213", "data": None})
    assert (user.id, user.geo, user.other) == ("48213", (("city", "Berlin"),), (("sentry_user", "id:48213"),))
    sdk = SdkInfo.from_api(
        {"name": "sentry.python", "integrations": ["django", None], "packages": [{"name": "pypi:x", "version": "1"}]}
    )
    assert (sdk.integrations, sdk.packages) == (("django",), ("pypi:x 1",))
    error = ProcessingError.from_api({"type": "js_no_source", "data": {"url": "u"}, "name": "frame"})
    assert (error.type, error.data) == ("js_no_source", (("url", "u"), ("name", "frame")))
    occurrence = Occurrence.from_api(
        {
            "issueTitle": "N+1 Query",
            "evidenceDisplay": [{"name": "Spans", "value": "db", "important": True}, None],
            "evidenceData": {"offenderSpanIds": ["a", None, 3]},
        }
    )
    assert (occurrence.issue_title, len(occurrence.evidence), occurrence.offender_span_ids) == (
        "N+1 Query",
        1,
        ("a", "3"),
    )


def test_raw_sdk_payload_without_entries() -> None:
    event = Event.from_api(
        {
            "event_id": "e" * 32,
            "exception": {"values": [{"type": "E", "stacktrace": {"frames": [{"lineno": 3, "in_app": True}]}}]},
            "breadcrumbs": {"values": [{"message": "m"}]},
            "logentry": {"formatted": "log"},
            "extra": {"k": 1},
            "modules": {"django": "5.0"},
        }
    )
    assert event.id == "e" * 32 and event.exceptions[0].stacktrace is not None
    assert event.exceptions[0].stacktrace.frames[0].lineno == 3
    assert (len(event.breadcrumbs), event.log_message, event.extra, event.packages) == (
        1,
        Message("log"),
        (("k", 1),),
        (("django", "5.0"),),
    )


def test_glitchtip_shaped_event() -> None:
    report = build_report(
        {"id": "7", "shortId": "APP-7", "count": "2", "permalink": "https://gt.example/app/issues/7"},
        {
            "projectID": 3,
            "errors": None,
            "entries": [exception_entry({"type": "E", "stacktrace": {"frames": [{"context_line": "x", "lineno": 1}]}})],
        },
        "7",
    )
    assert report.issue.assigned_to is None and report.event is not None
    assert report.event.errors == () and report.event.exceptions[0].module is None


def test_build_report_keeps_missing_event_as_none() -> None:
    report = build_report({"id": "1"}, None, "https://acme.sentry.io/issues/1/")
    assert report.event is None and report.ref_text == "https://acme.sentry.io/issues/1/"


# --- native, mobile and security events -------------------------------------------------------------------------


def test_native_frame_fields_in_both_spellings_and_registers_as_hex_text() -> None:
    sdk = Frame.from_api(
        {
            "instruction_addr": 4295032836,
            "symbol_addr": "0x100010000",
            "addr_mode": "rel:1",
            "image_addr": "0x100000000",
            "trust": "cfi",
            "function_id": "0x6000041",
        }
    )
    rest = Frame.from_api({"instructionAddr": "0x0000000100010004", "symbolAddr": "0x100010000", "addrMode": "rel:1"})
    assert (sdk.instruction_addr, sdk.symbol_addr, sdk.image_addr) == ("0x100010004", "0x100010000", "0x100000000")
    assert (sdk.addr_mode, sdk.trust, sdk.function_id) == ("rel:1", "cfi", "0x6000041")
    assert (rest.instruction_addr, rest.addr_mode) == ("0x0000000100010004", "rel:1")
    stacktrace = Stacktrace.from_api({"frames": [{}], "registers": {"rip": "0x55d1", "rsp": 140737, "x": None}})
    assert stacktrace.registers == (("rip", "0x55d1"), ("rsp", "0x225c1"), ("x", None))


def test_mechanism_meta_is_read_as_data_in_both_shapes() -> None:
    meta = {
        "signal": {"number": 11, "code": 0, "name": "SIGSEGV", "code_name": "SEGV_NOOP"},
        "mach_exception": {"exception": 1, "code": 1, "subcode": "0x10", "name": "EXC_BAD_ACCESS"},
        "errno": {"number": 2, "name": "ENOENT"},
        "ns_error": {"code": -1009, "domain": "NSURLErrorDomain"},
        "vendor": "x",
    }
    mechanism = Mechanism.from_api({"type": "mach", "meta": meta, "data": {"relevant_address": "0x10"}})
    assert mechanism.meta is not None and mechanism.data == (("relevant_address", "0x10"),)
    meta = mechanism.meta
    assert meta.signal and meta.mach_exception and meta.errno and meta.ns_error
    assert (meta.signal.name, meta.signal.code_name, meta.mach_exception.subcode) == ("SIGSEGV", "SEGV_NOOP", 16)
    assert (meta.errno.number, meta.ns_error.domain, meta.ns_error.code) == (2, "NSURLErrorDomain", -1009)
    assert mechanism.meta.other == (("vendor", "x"),)
    legacy = Mechanism.from_api(
        {
            "posix_signal": {"signal": 6, "name": "SIGABRT"},
            "mach_exception": {"exception": 10, "code": 0, "subcode": 0, "exception_name": "EXC_CRASH"},
            "relevant_address": "0x0",
        }
    )
    assert legacy.type == "generic" and legacy.data == (("relevant_address", "0x0"),)
    assert legacy.meta == MechanismMeta.from_api(
        {
            "signal": {"number": 6, "name": "SIGABRT"},
            "mach_exception": {"exception": 10, "code": 0, "subcode": 0, "name": "EXC_CRASH"},
        }
    )


def test_debug_images_the_frames_point_into_come_first_in_the_order_they_are_reached() -> None:
    images = [
        {"type": "macho", "code_file": "/usr/lib/dyld", "image_addr": "0x1000", "image_size": 256, "debug_id": "d"},
        {"type": "macho", "code_file": "/System/UIKitCore", "image_addr": "0x2000", "image_size": 256, "uuid": "u"},
        {
            "type": "elf",
            "code_file": "/app/libshop.so",
            "image_addr": "0x3000",
            "debug_id": "s",
        },  # no size: up to the next
        {"type": "macho", "code_file": "/usr/lib/unused.dylib", "image_addr": "0x9000", "image_size": 16},
        {"type": "pe_dotnet", "code_file": "/app/Acme.dll", "debug_id": "a"},
    ]
    frames = [
        {"instruction_addr": "0x1010"},  # dyld, oldest
        {"function": "Main", "addr_mode": "rel:4", "instruction_addr": "0x1a"},  # the .NET image, by index
        {"package": "/System/UIKitCore"},  # by path
        {"instruction_addr": "0x8fff"},  # libshop.so reaches up to unused.dylib
    ]
    event = Event.from_api(
        {
            "threads": {"values": [{"crashed": True, "stacktrace": {"frames": frames}}]},
            "debug_meta": {
                "images": images,
                "sdk_info": {"sdk_name": "iOS", "version_major": 17, "version_minor": 2, "version_patchlevel": 1},
            },
        }
    )
    assert [(image.name, image.referenced, image.index) for image in event.images] == [
        ("libshop.so", True, 2),
        ("UIKitCore", True, 1),
        ("Acme.dll", True, 4),
        ("dyld", True, 0),
        ("unused.dylib", False, 3),
    ]
    assert event.images[1].debug_id == "u" and event.system_sdk == "iOS 17.2.1"


def test_expect_ct_and_hpkp_reports_in_relays_and_the_browsers_spelling() -> None:
    report = ExpectCt.from_api(
        {
            "date-time": "2025-03-14T07:31:15Z",
            "host_name": "shop.example",
            "port": "443",
            "scts": [{"version": 1, "status": "invalid", "source": "embedded", "serialized_sct": "AB=="}],
            "test-report": "false",
            "extra-field": 1,
        }
    )
    assert (report.date_time, report.hostname, report.port, report.test_report) == (
        "2025-03-14T07:31:15Z",
        "shop.example",
        443,
        False,
    )
    assert report.scts[0].serialized_sct == "AB==" and report.other == (("extra_field", 1),)
    pins = Hpkp.from_api({"hostname": "pay.example", "known-pins": ['pin-sha256="x"'], "include_subdomains": True})
    assert pins.known_pins == ('pin-sha256="x"',) and pins.include_subdomains is True
    event = event_with({"type": "expectct", "data": {"hostname": "a"}}, {"type": "hpkp", "data": {"hostname": "b"}})
    assert event.expectct == ExpectCt(hostname="a") and event.hpkp == Hpkp(hostname="b") and not event.unknown_entries


def test_legacy_interface_names_and_the_top_level_stack_trace() -> None:
    legacy = Event.from_api(
        {
            "sentry.interfaces.Exception": {"type": "TypeError", "value": "x"},
            "sentry.interfaces.Stacktrace": {"frames": [{"function": "go"}]},
            "sentry.interfaces.Message": {"message": "boom %s", "params": ["now"]},
            "sentry.interfaces.Http": {"url": "https://shop.example/"},
            "sentry.interfaces.User": {"id": "7"},
        }
    )
    [exception] = legacy.exceptions
    assert exception.stacktrace is not None and exception.stacktrace.frames[0].function == "go"  # moved, as Relay does
    assert legacy.stacktrace is None and legacy.log_message == Message(message="boom %s", params=("now",))
    assert legacy.request is not None and legacy.user == User(id="7")
    own = Event.from_api({"message": "slow sync", "stacktrace": {"frames": [{"function": "Main"}]}})
    assert own.stacktrace is not None and own.log_message == Message(formatted="slow sync")
    rest = event_with({"type": "stacktrace", "data": {"frames": [{"function": "Main"}], "registers": {"pc": "0x1"}}})
    assert rest.stacktrace is not None and rest.stacktrace.registers == (("pc", "0x1"),)


@pytest.mark.parametrize(
    ("payload", "level", "platform"),
    [
        ({"message": "x"}, "error", "other"),
        ({"type": "transaction", "transaction": "/"}, "info", "other"),
        ({"level": "fatal", "platform": "cocoa"}, "fatal", "cocoa"),
        ({"entries": [], "tags": [{"key": "level", "value": "warning"}]}, "warning", "other"),
    ],
)
def test_a_missing_level_or_platform_gets_sentrys_default(payload: dict[str, Any], level: str, platform: str) -> None:
    event = Event.from_api(payload)
    assert (event.level, event.platform) == (level, platform)


def test_what_sentry_removed_is_read_from_meta_in_both_shapes() -> None:
    rest = event_with(
        {"type": "message", "data": {"formatted": "x"}},
        {"type": "request", "data": {"url": "https://shop.example/", "data": None}},
        _meta={
            "entries": {"1": {"data": {"data": {"": {"rem": [["!limit", "x"]], "len": 98304}}}}},
            "context": {"payload": {"": {"rem": [["@password:filter", "x"]]}}},
            "user": {"email": {"": {"rem": [["@email", "s", 0, 10]], "len": 22}}},  # replaced, not removed
        },
    )
    assert [(r.path, r.place, r.reason, r.original_length) for r in rest.removed] == [
        ("request.data", "request body", "too large", 98304),
        ("extra.payload", "extra data payload", "rule @password:filter", None),
    ]
    assert rest.removed[0].note == "removed by Sentry: too large, originally 98,304 long"
    raw = Event.from_api({"request": {"url": "/"}, "_meta": {"request": {"data": {"": {"rem": [["!limit", "x"]]}}}}})
    assert [removal.path for removal in raw.removed] == ["request.data"]


# --- any JSON value ----------------------------------------------------------------------------------------------

UNSAFE_TEXT = st.sampled_from(["\x1b[31m", "\r", "\x00", "\u202e", "\u2028", "\x85", "`", "|", "\n#", "\n", "\t"])
TEXT = st.text(max_size=6) | UNSAFE_TEXT | st.tuples(st.text(max_size=4), UNSAFE_TEXT).map("".join)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | TEXT
JSON = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=12
)
WRONG = SCALARS | st.lists(SCALARS, max_size=2) | st.dictionaries(TEXT, SCALARS, max_size=2)
"""A small value of any JSON type, for the keys of an event-shaped payload."""
ADDRESS = st.integers(-1, 2**64).map(hex) | st.integers(-5, 2**64) | TEXT


def shaped(
    keys: list[str], required: tuple[str, ...] = (), **special: st.SearchStrategy[Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """A dict shaped like an API object: plausible values (or null) under ``special`` keys, any JSON value
    (a wrong type, often) under the other ``keys``; ``required`` keys are always present."""

    def value(key: str) -> st.SearchStrategy[Any]:
        return special[key] | st.none() if key in special else WRONG

    optional = {key: value(key) for key in keys if key not in required}
    return st.fixed_dictionaries({key: special.get(key, WRONG) for key in required}, optional=optional)


FRAME = shaped(
    [
        "filename",
        "absPath",
        "module",
        "function",
        "lineNo",
        "colNo",
        "inApp",
        "context",
        "vars",
        "context_line",
        "pre_context",
        "origAbsPath",
        "origLineNo",
        "data",
        "instructionAddr",
        "symbolAddr",
        "package",
        "trust",
        "addrMode",
    ],
    lineNo=st.integers(-2, 500) | TEXT,
    instructionAddr=ADDRESS,
    symbolAddr=ADDRESS,
    addrMode=st.sampled_from(["abs", "rel:0", "rel:7", "rel:x"]) | TEXT,
    inApp=st.booleans(),
    context=st.lists(st.tuples(st.integers(-2, 500) | TEXT, TEXT).map(list), max_size=3),
    vars=st.dictionaries(TEXT, JSON, max_size=2) | TEXT,
    context_line=TEXT,
)
STACKTRACE = shaped(
    ["frames", "framesOmitted", "registers"],
    ("frames",),
    frames=st.lists(FRAME, min_size=1, max_size=2),
    registers=st.dictionaries(TEXT, ADDRESS | WRONG, max_size=3),
)
META = shaped(
    ["signal", "mach_exception", "errno", "ns_error", "other"],
    signal=shaped(["number", "code", "name", "code_name"], number=st.integers(-1, 64) | TEXT),
    mach_exception=shaped(["exception", "code", "subcode", "name"], subcode=st.integers(-1, 2**64) | ADDRESS),
)
IMAGE = shaped(
    ["type", "code_file", "debug_id", "image_addr", "image_size", "arch", "debug_status", "uuid", "name"],
    image_addr=ADDRESS,
    image_size=st.integers(-1, 2**40) | TEXT,
    code_file=TEXT | st.sampled_from(["C:\\app\\a.exe", "/usr/lib/libc.so", "Shop"]),
)
MECHANISM = shaped(
    ["type", "handled", "source", "exception_id", "parent_id", "is_exception_group", "data", "meta"],
    meta=META,
    exception_id=st.integers(0, 3),
    parent_id=st.integers(0, 3),
    source=st.sampled_from(["__cause__", "__context__", "exceptions[0]", "cause"]),
)
EXCEPTION = shaped(
    ["type", "value", "module", "mechanism", "stacktrace", "rawStacktrace"],
    ("type", "value", "stacktrace"),
    type=TEXT,
    value=TEXT,
    mechanism=MECHANISM,
    stacktrace=STACKTRACE,
    rawStacktrace=STACKTRACE,
)
SPAN = shaped(
    ["span_id", "parent_span_id", "op", "description", "status", "start_timestamp", "timestamp", "data"],
    ("span_id", "start_timestamp", "timestamp"),
    span_id=st.sampled_from("abc"),
    parent_span_id=st.sampled_from("abc"),
    start_timestamp=st.floats(0, 2e9) | TEXT,
    timestamp=st.floats(0, 2e9),
    description=TEXT,
)
CRUMB = shaped(
    ["timestamp", "type", "category", "level", "message", "data"],
    ("message",),
    category=st.sampled_from(["query", "http", "navigation"]),
    message=TEXT,
    timestamp=st.floats(0, 2e9) | TEXT,
)
THREAD = shaped(["id", "name", "crashed", "current", "state", "stacktrace"], ("stacktrace",), stacktrace=STACKTRACE)
ENTRY_DATA = {
    "exception": shaped(["values", "value"], ("values",), values=st.lists(EXCEPTION, min_size=1, max_size=2)),
    "threads": shaped(["values"], ("values",), values=st.lists(THREAD, min_size=1, max_size=2)),
    "breadcrumbs": shaped(["values"], ("values",), values=st.lists(CRUMB, min_size=1, max_size=3)),
    "spans": st.lists(SPAN, min_size=1, max_size=3),
    "request": shaped(
        ["method", "url", "query", "headers", "cookies", "data", "env"],
        headers=st.lists(st.lists(TEXT | st.none(), max_size=3), max_size=3),
        url=TEXT,
    ),
    "message": shaped(["formatted", "message", "params"], ("formatted",), formatted=TEXT),
    "csp": shaped(["blocked_uri", "line_number", "document_uri"]),
    "stacktrace": STACKTRACE,
    "debugmeta": shaped(["images", "sdk_info"], ("images",), images=st.lists(IMAGE, max_size=3)),
    "expectct": shaped(["hostname", "port", "scts", "served_certificate_chain", "test_report"]),
    "hpkp": shaped(["hostname", "known_pins", "include_subdomains", "validated_certificate_chain"]),
}
ENTRY = st.one_of(
    *(st.fixed_dictionaries({"type": st.just(kind), "data": data | st.none()}) for kind, data in ENTRY_DATA.items()),
    st.fixed_dictionaries({"type": TEXT, "data": JSON}),
    JSON,
)
EVENT = shaped(
    [
        "eventID",
        "type",
        "title",
        "message",
        "platform",
        "dateCreated",
        "startTimestamp",
        "endTimestamp",
        "entries",
        "tags",
        "user",
        "contexts",
        "sdk",
        "context",
        "errors",
        "release",
        "occurrence",
        "packages",
        "_meta",
    ],
    ("entries",),
    # Every event gets an exception, threads or spans entry first, then anything at all.
    entries=st.tuples(
        st.sampled_from(["exception", "threads", "spans"]).flatmap(
            lambda kind: st.fixed_dictionaries({"type": st.just(kind), "data": ENTRY_DATA[kind]})
        ),
        st.lists(ENTRY, max_size=2),
    ).map(lambda parts: [parts[0], *parts[1]]),
    tags=st.lists(
        st.fixed_dictionaries({"key": TEXT | st.none(), "value": JSON}) | st.lists(JSON, max_size=2), max_size=3
    ),
    contexts=st.dictionaries(TEXT, shaped(["type", "name", "version"]), max_size=3),
    platform=st.sampled_from(["python", "javascript", "java", "native"]),
)
ISSUE = shaped(
    [
        "id",
        "shortId",
        "title",
        "culprit",
        "count",
        "userCount",
        "firstSeen",
        "lastSeen",
        "assignedTo",
        "project",
        "status",
    ]
)

RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
TINY = RenderOptions(
    limits=RenderLimits(
        max_frames=2, max_breadcrumbs=2, max_spans=2, max_threads=1, max_vars=2, max_value_chars=20, max_depth=2
    )
)
RENDERERS: list[Callable[..., str]] = [
    TemplateSet(text.TEXT).render_reports,
    TemplateSet(markdown.MARKDOWN).render_reports,
    render_json,
]
MODEL_CLASSES: list[Any] = [
    Issue,
    Event,
    ExceptionInfo,
    Mechanism,
    Stacktrace,
    Frame,
    Thread,
    Message,
    Request,
    Breadcrumb,
    Span,
    User,
    Csp,
    ExpectCt,
    Hpkp,
    DebugImage,
    MechanismMeta,
    SdkInfo,
    ProcessingError,
    Occurrence,
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=JSON)
def test_every_model_accepts_any_json_value(value: Any) -> None:
    for cls in MODEL_CLASSES:
        cls.from_api(value)


def assert_renders_safely(issue: Any, event: Any, ref: str, tiny: bool) -> None:
    report = build_report(issue, event, ref)
    options = TINY if tiny else RenderOptions(limits=RenderLimits())
    for render in RENDERERS:
        output = render([report], options)
        assert not RAW_CONTROL.search(output), (render.__name__, RAW_CONTROL.search(output))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(issue=ISSUE, event=EVENT, ref=TEXT, tiny=st.booleans())
def test_event_shaped_payloads_build_and_render_without_raw_control_characters(
    issue: Any, event: Any, ref: str, tiny: bool
) -> None:
    assert_renders_safely(issue, event, ref, tiny)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(issue=JSON, event=JSON, ref=TEXT, tiny=st.booleans())
def test_any_json_payload_builds_and_renders(issue: Any, event: Any, ref: str, tiny: bool) -> None:
    assert_renders_safely(issue, event, ref, tiny)

"""The file source: debug dumps, REST API events and raw SDK events re-rendered offline.

``fixtures/sdk_events.json`` holds two events exactly as sentry-sdk 2.75 sent them (captured through its
transport): an unhandled ``ValueError`` from a WSGI app (chained to a ``KeyError``, with the request, locals
that hold an ``Authorization`` header and a cookie, and logging breadcrumbs) and a logged error message.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sentry_issue_export import Settings, export_issues_sync
from sentry_issue_export.errors import ExportError
from sentry_issue_export.samples import load_sample
from sentry_issue_export.sources.file import issue_from_event, load_dumps

SDK_EVENTS = Path(__file__).parent / "fixtures" / "sdk_events.json"
SECRETS_THE_SDK_LEFT = ("abc123", "eyJhbGciOiJIUzI1NiJ9", "c2lnbmF0dXJl", "4eC39HqLyjWDarjtT1zdp7dc")


def export_file(path: Path, fmt: str = "text") -> str:
    result = export_issues_sync("", Settings(source="file", from_file=path, format=fmt), write=False)
    assert result.failures == ()
    return result.content


def test_raw_sdk_events_render_every_section_they_carry() -> None:
    report = export_file(SDK_EVENTS)
    for expected in (
        "Sentry issue export: 2 issues",
        "ValueError: unknown SKU in cart: 'SKU-9'",  # the issue title, from the raised exception
        "While handling this exception, exception 1 (ValueError) was raised.",  # the chain, oldest first
        "shop.py:16 in checkout [in app]",
        "POST https://shop.example.com/checkout",
        "coupon = SPRING",  # the query string, parsed
        "User-Agent: Mozilla/5.0",  # headers sent as an object
        "checkout started for 2 items",  # a logging breadcrumb
        "payment provider stripe answered 502",  # logentry: the message event
        "Template: payment provider %s answered %d",
        "tenant = acme",  # tags sent as an object
        "Server:        shop-web-1",
        "sys.argv",  # extra
        "sentry-sdk",  # modules
    ):
        assert expected in report, expected


def test_secrets_the_sdk_let_through_are_redacted() -> None:
    for fmt in ("text", "markdown", "json"):
        output = export_file(SDK_EVENTS, fmt)
        assert all(secret not in output for secret in SECRETS_THE_SDK_LEFT), fmt
        assert "HTTP_AUTHORIZATION" in output  # the name stays; its value is gone


def test_an_issue_is_derived_from_an_event_of_either_shape() -> None:
    sdk_event = json.loads(SDK_EVENTS.read_text())[0]
    assert issue_from_event(sdk_event) == {
        "id": None,
        "title": "ValueError: unknown SKU in cart: 'SKU-9'",
        "level": "error",
        "platform": "python",
        "culprit": "generic WSGI request",  # the transaction, for want of a culprit
    }
    rest_event = load_sample("csp_report")["event"]
    derived = issue_from_event(rest_event)
    assert derived["id"] == rest_event["groupID"] and derived["title"] == rest_event["title"]


def test_a_rest_api_event_alone_and_a_debug_dump_both_load(tmp_path: Path) -> None:
    sample = load_sample("message_with_threads")
    event_only = tmp_path / "event.json"
    event_only.write_text(json.dumps(sample["event"]))
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps(sample))
    assert "Thread" in export_file(event_only) and "Thread" in export_file(dump)
    [(issue_id, loaded)] = load_dumps(dump)
    issue, event = loaded.issue, loaded.event
    assert (issue_id, issue, event) == (sample["issue"]["id"], sample["issue"], sample["event"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        ('{"hello": 1}', "is neither a debug dump"),
        ("[]", "holds no issues"),
        ("[" * 100_000 + "]" * 100_000, "nests its JSON too deeply"),
    ],
)
def test_a_file_that_is_no_payload_gets_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(ExportError, match=message):
        load_dumps(bad)


# --- every event shape Relay accepts ------------------------------------------------------------------------

SHAPES = {
    "only a message": ({"message": "disk quota exceeded\non volume /data"}, "disk quota exceeded"),
    "only a logentry": ({"logentry": {"message": "retry %s of %s", "params": [3, 5]}}, "retry %s of %s"),
    "only a request": ({"request": {"method": "GET", "url": "https://shop.example.com/cart"}}, "/cart"),
    "only spans": ({"spans": [{"span_id": "a1", "op": "db", "start_timestamp": 1.0, "timestamp": 1.5}]}, "db"),
    "only a transaction": ({"type": "transaction", "transaction": "/checkout"}, "/checkout"),
    "a top-level stack trace": (
        {"stacktrace": {"frames": [{"function": "Main", "filename": "Program.cs", "lineno": 12}]}},
        "Program.cs:12 in Main",
    ),
    "legacy interface names": (
        {
            "sentry.interfaces.Exception": {"type": "TypeError", "value": "x is undefined"},
            "sentry.interfaces.Stacktrace": {"frames": [{"filename": "app.js", "lineno": 3, "function": "go"}]},
            "sentry.interfaces.Http": {"url": "https://shop.example.com/", "method": "GET"},
            "sentry.interfaces.User": {"id": "42"},
            "sentry.interfaces.Message": {"message": "boom"},
            "sentry.interfaces.Breadcrumbs": {"values": [{"message": "clicked buy"}]},
        },
        "app.js:3 in go",
    ),
}


@pytest.mark.parametrize("name", SHAPES)
def test_every_event_shape_relay_accepts_is_read(name: str, tmp_path: Path) -> None:
    event, expected = SHAPES[name]
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    report = export_file(path)
    assert expected in report
    assert "Level:         " in report and "Level:         ?" not in report


def test_legacy_names_are_read_as_their_modern_keys(tmp_path: Path) -> None:
    path = tmp_path / "legacy.json"
    path.write_text(json.dumps(SHAPES["legacy interface names"][0]))
    report = export_file(path)
    assert "Title:         TypeError: x is undefined" in report  # the issue's title, from the legacy exception
    for expected in ("GET https://shop.example.com/", "ID: 42", "clicked buy", "STACK TRACE: TypeError"):
        assert expected in report, expected


def test_a_title_is_the_first_line_as_in_sentry(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"exception": {"values": [{"type": "Error", "value": "first line\nsecond line"}]}}))
    assert issue_from_event(json.loads(path.read_text()))["title"] == "Error: first line"
    report = export_file(path)
    assert "Title:         Error: first line\n" in report and "\\n" not in report.split("=" * 80)[1]
    assert "second line" in report  # the whole value stays under ERROR


def test_a_refusal_names_the_keys_it_looked_for(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"hello": 1, "world": 2}')
    with pytest.raises(ExportError) as caught:
        load_dumps(path)
    message = str(caught.value)
    for key in ("exception", "threads", "stacktrace", "message", "request", "spans", "transaction", "entries"):
        assert key in message, key
    assert "sentry.interfaces.Exception" in message and "It has: hello, world." in message


def test_invalid_json_is_a_clear_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sentry_issue_export.cli import main

    path = tmp_path / "broken.json"
    path.write_text('{"event_id": ')
    assert main(["--from-file", str(path), "--output", "-"]) == 2
    assert "is not valid JSON" in capsys.readouterr().err

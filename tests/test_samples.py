"""The bundled samples keep the API shapes and quirks they exist to exercise, and the samples source serves them."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from datetime import datetime
from importlib import resources
from typing import Any

import pluggy
import pytest

from sentry_issue_export import hookspecs
from sentry_issue_export.errors import NotFoundError
from sentry_issue_export.hookspecs import FetchFailure, RawIssue, Source
from sentry_issue_export.refs import IssueRef
from sentry_issue_export.samples import (
    SAMPLE_NAMES,
    SAMPLE_ORG,
    find_sample,
    huge_event_sample,
    load_sample,
    sample_issue,
    sample_names,
)
from sentry_issue_export.samples import huge as huge_module
from sentry_issue_export.settings import Settings
from sentry_issue_export.sources import samples as samples_source
from sentry_issue_export.sources.samples import SamplesSource

HEX32 = re.compile(r"^[0-9a-f]{32}$")
SHORT_ID = re.compile(r"^[A-Z0-9][A-Z0-9-]*-[0-9A-Z]+$")


def entries_of(event: dict[str, Any], entry_type: str) -> list[dict[str, Any]]:
    return [entry for entry in event["entries"] if entry["type"] == entry_type]


def entry_data(event: dict[str, Any], entry_type: str) -> Any:
    (entry,) = entries_of(event, entry_type)
    return entry["data"]


def all_frames(stacktrace: dict[str, Any]) -> list[dict[str, Any]]:
    return stacktrace["frames"]


@pytest.fixture(scope="module")
def samples() -> dict[str, dict[str, Any]]:
    return {name: load_sample(name) for name in SAMPLE_NAMES}


# --- the loader -------------------------------------------------------------------------------------------------


def test_names_are_stable_and_match_the_bundled_files() -> None:
    assert sample_names() == SAMPLE_NAMES
    assert SAMPLE_NAMES[-1] == "huge_event"
    assert len(set(SAMPLE_NAMES)) == len(SAMPLE_NAMES) == 8
    package = resources.files("sentry_issue_export.samples")
    bundled = {item.name.removesuffix(".json") for item in package.iterdir() if item.name.endswith(".json")}
    assert bundled == set(SAMPLE_NAMES) - {"huge_event"}  # deep_recursion.json holds one recurse frame


def test_unknown_name_raises_value_error_listing_the_valid_names() -> None:
    with pytest.raises(ValueError) as caught:
        load_sample("python_chained")
    message = str(caught.value)
    assert "'python_chained'" in message
    assert all(name in message for name in SAMPLE_NAMES)


def test_each_load_is_a_fresh_copy() -> None:
    first = load_sample("python_chained_exception")
    first["issue"]["title"] = "changed"
    first["event"]["entries"].clear()
    second = load_sample("python_chained_exception")
    assert second["issue"]["title"] != "changed"
    assert second["event"]["entries"]


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_issue_has_the_api_shape_and_quirks(samples: dict[str, dict[str, Any]], name: str) -> None:
    issue = samples[name]["issue"]
    assert {"issue", "event"} <= set(samples[name]) <= {"issue", "event", "tags", "events"}
    assert isinstance(issue["id"], str) and issue["id"].isdigit()
    assert SHORT_ID.match(issue["shortId"])
    assert isinstance(issue["count"], str) and int(issue["count"]) >= 1  # Sentry sends the count as a string
    assert isinstance(issue["userCount"], int)
    assert issue["permalink"] == f"https://{SAMPLE_ORG}.sentry.io/issues/{issue['id']}/"
    assert issue["project"]["slug"] and issue["shortId"].startswith(issue["project"]["slug"].upper())
    for field in ("firstSeen", "lastSeen"):
        assert datetime.fromisoformat(issue[field]).tzinfo is not None
    assert sample_issue(name) == issue


@pytest.mark.parametrize("name", [name for name in SAMPLE_NAMES if "tags" in load_sample(name)])
def test_issue_wide_payloads_have_the_api_shape(samples: dict[str, dict[str, Any]], name: str) -> None:
    """``tags`` as ``GET …/issues/{id}/tags/`` answers, ``events`` as ``GET …/issues/{id}/events/`` does."""
    issue, tags, events = samples[name]["issue"], samples[name]["tags"], samples[name]["events"]
    for tag in tags:
        assert {"key", "name", "totalValues", "topValues"} <= set(tag)
        counts = [value["count"] for value in tag["topValues"]]
        assert counts == sorted(counts, reverse=True) and sum(counts) <= tag["totalValues"] <= int(issue["count"])
        assert all(value["key"] == tag["key"] for value in tag["topValues"])
    dates = [datetime.fromisoformat(event["dateCreated"]) for event in events]
    assert dates == sorted(dates, reverse=True)  # newest first, as Sentry lists them
    for event in events:
        assert HEX32.match(event["eventID"]) and event["id"] == event["eventID"] and event["groupID"] == issue["id"]
        assert all(set(tag) == {"key", "value"} for tag in event["tags"])
    assert events[0]["eventID"] == samples[name]["event"]["eventID"]  # the latest event is the newest listed


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_event_has_the_api_shape(samples: dict[str, dict[str, Any]], name: str) -> None:
    issue, event = samples[name]["issue"], samples[name]["event"]
    assert HEX32.match(event["id"]) and event["eventID"] == event["id"]
    assert event["groupID"] == issue["id"]
    assert datetime.fromisoformat(event["dateCreated"]).tzinfo is not None
    assert all(set(tag) == {"key", "value"} for tag in event["tags"])
    assert all(set(entry) == {"type", "data"} for entry in event["entries"])
    assert "extra" not in event  # the extra data is called "context" in the API
    json.dumps(event, allow_nan=False)  # plain JSON, as the API would send it


def test_samples_are_distinct_issues(samples: dict[str, dict[str, Any]]) -> None:
    ids = [sample["issue"]["id"] for sample in samples.values()]
    short_ids = [sample["issue"]["shortId"] for sample in samples.values()]
    event_ids = [sample["event"]["id"] for sample in samples.values()]
    assert len(set(ids)) == len(set(short_ids)) == len(set(event_ids)) == len(SAMPLE_NAMES)


def test_timestamps_come_with_and_without_fractional_seconds(samples: dict[str, dict[str, Any]]) -> None:
    stamps = [
        value
        for sample in samples.values()
        for value in (sample["issue"]["firstSeen"], sample["issue"]["lastSeen"], sample["event"]["dateCreated"])
    ]
    assert any("." in stamp for stamp in stamps)
    assert any("." not in stamp for stamp in stamps)


def test_some_tag_value_is_null(samples: dict[str, dict[str, Any]]) -> None:
    assert any(tag["value"] is None for sample in samples.values() for tag in sample["event"]["tags"])


@pytest.mark.parametrize("name", [name for name in SAMPLE_NAMES if name != "huge_event"])
def test_frame_context_is_line_pairs_around_the_frame_line(samples: dict[str, dict[str, Any]], name: str) -> None:
    event = samples[name]["event"]
    stacktraces = [value["stacktrace"] for value in _exception_values(event)]
    stacktraces += [
        thread["stacktrace"] for entry in entries_of(event, "threads") for thread in entry["data"]["values"]
    ]
    for stacktrace in stacktraces:
        for frame in all_frames(stacktrace):
            for pair in frame["context"] or []:
                assert isinstance(pair[0], int) and isinstance(pair[1], str)
            if frame["context"] and frame["lineNo"] is not None:
                assert frame["lineNo"] in [lineno for lineno, _ in frame["context"]]


def _exception_values(event: dict[str, Any]) -> list[dict[str, Any]]:
    values: list[dict[str, Any]] = []
    for entry in entries_of(event, "exception"):
        data = entry["data"]
        values += data["values"] if "values" in data else [data["value"]]
    return values


# --- sample by sample -------------------------------------------------------------------------------------------


def test_python_chain_is_oldest_first_with_mechanism_links(samples: dict[str, dict[str, Any]]) -> None:
    event = samples["python_chained_exception"]["event"]
    values = entry_data(event, "exception")["values"]
    assert [value["type"] for value in values] == ["KeyError", "ValueError", "RuntimeError"]
    mechanisms = [value["mechanism"] for value in values]
    raised = mechanisms[-1]
    assert raised["exception_id"] == 0 and "parent_id" not in raised and raised["handled"] is False
    for older, newer in itertools.pairwise(mechanisms):
        assert older["parent_id"] == newer["exception_id"]  # each cause points at the exception it led to
    assert [mechanism.get("source") for mechanism in mechanisms] == ["__context__", "__cause__", None]
    assert values[0]["value"] == "'SKU-4471-BLK'"  # KeyError's str() is the repr of the key


def test_python_frames_mix_in_app_and_library_with_varied_vars(samples: dict[str, dict[str, Any]]) -> None:
    event = samples["python_chained_exception"]["event"]
    frames = entry_data(event, "exception")["values"][-1]["stacktrace"]["frames"]
    assert frames[0]["module"] == "django.core.handlers.exception"  # the outermost call comes first
    assert frames[-1]["function"] == "issue_refund" and frames[-1]["inApp"] is True
    assert {frame["inApp"] for frame in frames} == {True, False}
    kinds = {type(frame["vars"]).__name__ for frame in frames}
    assert {"dict", "str", "NoneType"} <= kinds
    reprs = [value for frame in frames if isinstance(frame["vars"], dict) for value in frame["vars"].values()]
    assert "'ord_7Hc2LmQ9'" in reprs  # strings in vars arrive as Python reprs


def test_python_request_breadcrumbs_and_context(samples: dict[str, dict[str, Any]]) -> None:
    event = samples["python_chained_exception"]["event"]
    request = entry_data(event, "request")
    headers = dict(request["headers"])
    assert all(isinstance(pair, list) and len(pair) == 2 for pair in request["headers"] + request["query"])
    assert headers["Authorization"] == "Bearer sample-token-not-real"
    assert "sessionid=" in headers["Cookie"] and "User-Agent" in headers and "Content-Type" in headers
    crumbs = entry_data(event, "breadcrumbs")["values"]
    categories = {crumb["category"] for crumb in crumbs}
    assert {"query", "httplib"} <= categories
    assert any(crumb["type"] == "log" for crumb in crumbs)
    assert any(crumb["message"].startswith("SELECT") for crumb in crumbs if crumb["category"] == "query")
    assert {"browser", "os", "runtime", "trace"} <= set(event["contexts"])
    assert event["user"]["email"] and event["user"]["ip_address"]
    assert event["context"]["payment_gateway"]["api_key"] == "[Filtered]"
    assert event["_meta"]["context"]["payment_gateway"]["api_key"][""]["rem"]


def test_javascript_frames_are_source_mapped_with_raw_frames_kept(samples: dict[str, dict[str, Any]]) -> None:
    event = samples["javascript_sourcemapped"]["event"]
    (value,) = entry_data(event, "exception")["values"]
    assert value["type"] == "TypeError" and value["value"] == "Cannot read properties of undefined (reading 'map')"
    frames, raw_frames = value["stacktrace"]["frames"], value["rawStacktrace"]["frames"]
    assert len(frames) == len(raw_frames)
    mapped = [frame for frame in frames if "map" in frame]
    assert mapped and all(
        {"origAbsPath", "origFunction", "origLineNo", "mapUrl", "colNo"} <= set(frame) for frame in mapped
    )
    assert frames[-1]["function"] == "OrderList" and frames[-1]["filename"].endswith(".tsx")
    assert raw_frames[-1]["function"] == frames[-1]["origFunction"]
    assert all(".js" in frame["absPath"] for frame in raw_frames)
    assert [error["type"] for error in event["errors"]] == ["js_no_source"]
    categories = {crumb["category"] for crumb in entry_data(event, "breadcrumbs")["values"]}
    assert {"ui.click", "navigation", "xhr"} <= categories
    assert {"browser", "os", "device"} <= set(event["contexts"])


def test_message_event_has_threads_and_no_exception(samples: dict[str, dict[str, Any]]) -> None:
    sample = samples["message_with_threads"]
    event = sample["event"]
    assert not entries_of(event, "exception")
    assert event["type"] == "default" and sample["issue"]["level"] == "warning"
    message = entry_data(event, "message")
    formatted = message["message"]
    for param in message["params"]:
        formatted = formatted.replace("{}", param, 1)
    assert formatted == message["formatted"]
    threads = entry_data(event, "threads")["values"]
    assert len(threads) == 3
    assert sum(thread["crashed"] for thread in threads) == 1
    assert sum(thread["current"] for thread in threads) == 1
    assert all(thread["stacktrace"]["frames"] for thread in threads)


def test_transaction_spans_are_a_nested_list(samples: dict[str, dict[str, Any]]) -> None:
    sample = samples["transaction_spans"]
    event = sample["event"]
    assert event["type"] == "transaction" and sample["issue"]["issueCategory"] == "performance"
    spans = entry_data(event, "spans")
    assert isinstance(spans, list) and len(spans) >= 12
    ids = {span["span_id"] for span in spans}
    root = event["contexts"]["trace"]["span_id"]
    assert {"op", "status"} <= set(event["contexts"]["trace"])
    assert all(span["parent_span_id"] in ids | {root} for span in spans)
    assert _depth(spans, root) >= 4
    assert {"db", "http.client", "cache.get", "template.render"} <= {span["op"] for span in spans}
    for span in spans:
        assert isinstance(span["start_timestamp"], float) and isinstance(span["timestamp"], float)
        assert event["startTimestamp"] <= span["start_timestamp"] <= span["timestamp"] <= event["endTimestamp"]
    offenders = event["occurrence"]["evidenceData"]["offenderSpanIds"]
    assert set(offenders) <= ids and len(offenders) >= 5


def _depth(spans: list[dict[str, Any]], root: str) -> int:
    parent_of = {span["span_id"]: span["parent_span_id"] for span in spans}

    def depth(span_id: str) -> int:
        return 0 if span_id == root else 1 + depth(parent_of[span_id])

    return max(depth(span_id) for span_id in parent_of)


def test_csp_report_uses_the_snake_case_interface_keys(samples: dict[str, dict[str, Any]]) -> None:
    event = samples["csp_report"]["event"]
    assert event["type"] == "csp"
    csp = entry_data(event, "csp")
    required = {
        "document_uri",
        "effective_directive",
        "blocked_uri",
        "violated_directive",
        "source_file",
        "line_number",
        "original_policy",
        "disposition",
    }
    assert required <= set(csp)
    assert csp["blocked_uri"].split("/")[2] in event["title"]


def test_future_event_is_full_of_unknowns_and_nulls(samples: dict[str, dict[str, Any]]) -> None:
    issue, event = samples["future_event_type"]["issue"], samples["future_event_type"]["event"]
    assert event["type"] not in {"error", "default", "transaction", "csp", "generic"}
    known = {"exception", "threads", "message", "request", "breadcrumbs", "spans", "csp", "debugmeta"}
    assert {entry["type"] for entry in event["entries"]} - known
    exception = entry_data(event, "exception")
    assert "values" not in exception and isinstance(exception["value"], dict)
    assert issue["culprit"] is None and event["culprit"] is None
    assert not {"type", "value"} & set(issue["metadata"])
    for field in ("user", "sdk", "errors", "release"):
        assert event[field] is None
    assert any(tag["value"] is None for tag in event["tags"])
    cut = exception["value"]["value"]
    meta = event["_meta"]["entries"]["0"]["data"]["value"]["value"][""]
    assert cut.endswith("...") and meta["len"] > len(cut)


# --- the huge sample --------------------------------------------------------------------------------------------


def test_huge_sample_is_deterministic_and_big() -> None:
    first = huge_event_sample()
    assert first == huge_event_sample() == load_sample("huge_event")
    assert first is not huge_event_sample()
    assert len(json.dumps(first)) > 2_500_000


def test_huge_sample_has_the_stated_sizes() -> None:
    event = huge_event_sample()["event"]
    values = entry_data(event, "exception")["values"]
    assert len(values) == 2
    deep = values[0]["stacktrace"]["frames"]
    assert len(deep) == huge_module.FRAME_COUNT == 250
    assert all(len(frame["vars"]) == huge_module.VARS_PER_FRAME for frame in deep)
    assert all(isinstance(frame["vars"]["node"]["children"], dict) for frame in deep)
    crumbs = entry_data(event, "breadcrumbs")["values"]
    assert len(crumbs) == 1000
    assert {"query", "httplib"} <= {crumb["category"] for crumb in crumbs}
    assert any(crumb["type"] == "log" for crumb in crumbs)
    spans = entry_data(event, "spans")
    assert len(spans) == 1000
    assert all(
        span["parent_span_id"] in {s["span_id"] for s in spans} | {event["contexts"]["trace"]["span_id"]}
        for span in spans
    )
    assert _depth(spans, event["contexts"]["trace"]["span_id"]) >= 3
    assert len(entry_data(event, "request")["data"]) >= 500_000


# --- the samples source -----------------------------------------------------------------------------------------


def collect(refs: list[IssueRef]) -> list[RawIssue | FetchFailure]:
    async def run() -> list[RawIssue | FetchFailure]:
        return [result async for result in SamplesSource().fetch(refs, Settings())]

    return asyncio.run(run())


def served(result: RawIssue | FetchFailure) -> RawIssue:
    assert isinstance(result, RawIssue), result
    return result


def test_source_satisfies_the_protocol_and_offers_every_sample_but_the_stress_test() -> None:
    source = SamplesSource()
    assert isinstance(source, Source) and source.name == "samples" and source.description
    refs = source.default_refs(Settings())
    demo_names = [name for name in SAMPLE_NAMES if name != "huge_event"]
    assert [ref.text for ref in refs] == demo_names
    assert [ref.issue_id for ref in refs] == [sample_issue(name)["id"] for name in demo_names]
    assert {ref.org for ref in refs} == {"acme"}


def test_source_serves_every_default_ref() -> None:
    refs = list(SamplesSource().default_refs(Settings()))
    results = collect(refs)
    assert len(results) == len(refs)
    assert all(isinstance(result, RawIssue) for result in results)
    assert [result.issue["id"] for result in results if isinstance(result, RawIssue)] == [r.issue_id for r in refs]
    assert all(result.event is not None for result in results if isinstance(result, RawIssue))


def test_source_matches_short_ids_and_names_in_any_case_and_reports_unknown_refs() -> None:
    refs = [
        IssueRef(issue_id="storefront-api-3k", text="storefront-api-3k"),
        IssueRef(issue_id="CSP_REPORT"),
        IssueRef(issue_id="999"),
        IssueRef(issue_id="5832107321", event_id="latest"),
    ]
    results = collect(refs)
    assert len(results) == len(refs)
    by_input = {result.ref.issue_id: result for result in results}
    assert served(by_input["storefront-api-3k"]).issue["shortId"] == "STOREFRONT-API-3K"
    assert served(by_input["CSP_REPORT"]).event == load_sample("csp_report")["event"]
    assert served(by_input["5832107321"]).event == load_sample("message_with_threads")["event"]
    failure = by_input["999"]
    assert isinstance(failure, FetchFailure) and isinstance(failure.error, NotFoundError)
    assert "'999'" in str(failure.error)
    assert all(name in str(failure.error) for name in SAMPLE_NAMES)


def test_source_refuses_an_event_the_sample_does_not_have() -> None:
    (result,) = collect([IssueRef(issue_id="5832104417", event_id="0" * 32)])
    assert isinstance(result, FetchFailure) and isinstance(result.error, NotFoundError)
    assert load_sample("python_chained_exception")["event"]["id"] in str(result.error)


def test_find_sample_accepts_names_ids_and_short_ids() -> None:
    assert find_sample("huge_event") == "huge_event"
    assert find_sample(" INGEST-WORKER-2B ") == "huge_event"
    assert find_sample("5832113002") == "csp_report"
    assert find_sample("nothing-like-it") is None


def test_plugin_registers_the_source_through_the_hook() -> None:
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    manager.register(samples_source)
    registered: list[Source] = []
    manager.hook.register_sources(register=registered.append)
    assert [type(source) for source in registered] == [SamplesSource]


def test_deep_recursion_is_one_function_calling_itself_with_a_long_local(samples: dict[str, dict[str, Any]]) -> None:
    from sentry_issue_export.samples.recursion import RECURSION_FRAMES

    frames = entry_data(samples["deep_recursion"]["event"], "exception")["values"][-1]["stacktrace"]["frames"]
    recursing = [frame for frame in frames if frame["function"] == "recurse"]
    assert len(recursing) == RECURSION_FRAMES == 180 and frames[-RECURSION_FRAMES:] == recursing
    assert {(frame["filename"], frame["lineNo"]) for frame in recursing} == {("corpus/make_corpus.py", 201)}
    assert [frame["vars"]["depth"] for frame in recursing] == [str(depth) for depth in range(RECURSION_FRAMES)]
    assert all(len(frame["vars"]["text"]) > 5000 for frame in recursing)

"""The built-in redactor: secrets planted in every place Sentry puts them never survive; debugging data does."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentry_issue_export.hookspecs import Redactor
from sentry_issue_export.redaction import (
    FILTERED,
    MAX_DEPTH,
    TOO_DEEP,
    is_sensitive_key,
    redact_payload,
    redact_payload_for_settings,
    redact_text,
    register_redactors,
)
from sentry_issue_export.settings import Settings

from .secrets_fixture import harmless_neighbours, planted_secrets_event, planted_secrets_issue
from .strategies import HARMLESS_KEYS, PLANTINGS, secrets, sensitive_names

SECRET = "S3CR3T-d0nt-l3ak"


def dumped(payload: Any, *, remove_pii: bool = False) -> str:
    return json.dumps(redact_payload(payload, remove_pii=remove_pii), ensure_ascii=False)


def request_event(**data: Any) -> dict[str, Any]:
    return {"entries": [{"type": "request", "data": {"method": "GET", **data}}]}


def frame_vars_event(frame_vars: Any) -> dict[str, Any]:
    frame = {"function": "login", "vars": frame_vars}
    return {"entries": [{"type": "exception", "data": {"values": [{"stacktrace": {"frames": [frame]}}]}}]}


# --- the planted payloads ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("remove_pii", [False, True])
@pytest.mark.parametrize("planted", [planted_secrets_event, planted_secrets_issue])
def test_no_planted_secret_survives_and_neighbours_do(planted, remove_pii):
    payload, secrets = planted()
    everything = json.dumps([planted_secrets_event()[0], planted_secrets_issue()[0]])
    output = dumped(payload, remove_pii=remove_pii)

    assert [s for s in secrets if s in output] == []
    assert all(s in json.dumps(payload) for s in secrets), "every listed secret is really planted"
    neighbours = [n for n in harmless_neighbours() if n in json.dumps(payload)]
    assert neighbours and [n for n in neighbours if n not in output] == []
    assert all(n in everything for n in harmless_neighbours())


def test_the_input_is_left_untouched_and_shares_nothing_with_the_result():
    payload, _ = planted_secrets_event()
    pristine = copy.deepcopy(payload)

    result = redact_payload(payload)
    assert payload == pristine
    result["entries"][2]["data"]["headers"].append(["X-Mutated", "yes"])
    result["user"]["data"]["plan"] = "mutated"
    assert payload == pristine


def test_redacting_twice_changes_nothing_more():
    payload, _ = planted_secrets_event()
    once = redact_payload(payload, remove_pii=True)
    assert redact_payload(once, remove_pii=True) == once


# --- the request entry ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "X-Forwarded-For", "X-Auth-Token"],
)
def test_sensitive_headers_are_filtered_in_pairs_and_dicts(header):
    as_pairs = request_event(headers=[[header, SECRET], ["User-Agent", "curl/8.5"], ["Content-Type", "text/html"]])
    as_dict = request_event(headers={header: SECRET, "User-Agent": "curl/8.5", "Content-Type": "text/html"})
    for event in (as_pairs, as_dict):
        output = dumped(event)
        assert SECRET not in output
        assert header in output and "curl/8.5" in output and "text/html" in output


@pytest.mark.parametrize(
    "cookies",
    [
        [["sessionid", SECRET], ["theme", SECRET + "2"]],
        {"sentrysid": SECRET, "theme": SECRET + "2"},
        f"sessionid={SECRET}; theme={SECRET}2",
        f"{SECRET}=",  # a bare base64-looking value is not a cookie name
    ],
    ids=["pairs", "dict", "string", "bare-value"],
)
def test_every_cookie_value_is_filtered_and_names_stay(cookies):
    output = dumped(request_event(cookies=cookies))
    assert SECRET not in output
    if not isinstance(cookies, str) or "theme" in cookies:
        assert "theme" in output


@pytest.mark.parametrize(
    "query",
    [
        [["page", "2"], ["api_key", SECRET]],
        {"page": "2", "access_token": SECRET},
        f"page=2&token={SECRET}&sort=asc",
        f"page=2&sig={SECRET}&signature={SECRET}&password={SECRET}",
    ],
    ids=["pairs", "dict", "string", "several"],
)
def test_sensitive_query_values_are_filtered_in_every_shape(query):
    output = dumped(request_event(query=query))
    assert SECRET not in output
    assert "page" in output and "2" in output


@pytest.mark.parametrize(
    "data",
    [
        {"username": "ada", "password": SECRET},
        [["username", "ada"], ["password", SECRET]],
        f"username=ada&password={SECRET}&remember=1",
        json.dumps({"username": "ada", "credentials": {"password": SECRET}}),
        f"<form username='ada' csrf_token='{SECRET}'>",
    ],
    ids=["dict", "pairs", "urlencoded", "json", "markup"],
)
def test_sensitive_form_fields_are_filtered_in_every_shape(data):
    output = dumped(request_event(data=data))
    assert SECRET not in output
    assert "ada" in output


def test_url_userinfo_query_and_fragment_are_filtered_but_the_url_stays():
    event = request_event(
        url=f"https://ada:{SECRET}@app.example.com/login?next=/home&token={SECRET}",
        fragment=f"access_token={SECRET}&state=xyz",
        env={"REMOTE_ADDR": "192.0.2.10", "SERVER_NAME": "web-1", "HTTP_AUTHORIZATION": SECRET},
    )
    data = redact_payload(event)["entries"][0]["data"]
    assert data["url"] == f"https://ada:{FILTERED}@app.example.com/login?next=/home&token={FILTERED}"
    assert data["fragment"] == f"access_token={FILTERED}&state=xyz"
    assert data["env"] == {"REMOTE_ADDR": "192.0.2.10", "SERVER_NAME": "web-1", "HTTP_AUTHORIZATION": FILTERED}


# --- keys anywhere ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame_vars",
    [
        {"password": SECRET, "user_id": 7},
        {"self": f"<User id=7 page=2 username='ada' password='{SECRET}'>"},
        {"kwargs": f"{{'api_key': '{SECRET}', 'page': 2}}"},
        {"kwargs": f"{{'auth': {{'scheme': 'basic', 'value': '{SECRET}'}}, 'page': 2}}"},
        {"payload": json.dumps({"token": SECRET, "page": 2})},
        {"payload": json.dumps({"body": json.dumps({"client_secret": SECRET}), "page": 2})},
        {"payload": f'{{"private_key": "{SECRET}", "page": 2, "cut short by Sentry...'},
        {"escaped": f'body="{{\\"password\\": \\"{SECRET}\\", \\"page\\": 2}}"'},
        {"pairs": f"[('page', 2), ('session_id', '{SECRET}')]"},
        {"bytes": f"{{b'secret': b'{SECRET}', b'page': 2}}"},
        {"call": f"Client(host='db', passwd={SECRET!r}, page=2)"},
        {"code": f"token = load_token({SECRET!r}); page = 2"},
        f"{{'password': '{SECRET}', 'page': 2}}",
    ],
    ids=[
        "plain",
        "object-repr",
        "dict-repr",
        "nested-repr",
        "json",
        "json-in-json",
        "truncated-json",
        "escaped-json",
        "tuple-pairs",
        "bytes-repr",
        "kwargs",
        "code",
        "vars-as-string",
    ],
)
def test_frame_vars_lose_secrets_in_every_shape(frame_vars):
    output = dumped(frame_vars_event(frame_vars))
    assert SECRET not in output
    assert "login" in output
    assert "page" in output or "user_id" in output


def test_a_sensitive_key_hides_a_whole_container_but_keeps_values_that_cannot_be_secret():
    redacted = redact_payload(
        {
            "credentials": {"user": "ada", "key": SECRET},
            "tokens": [SECRET, SECRET],
            "pin_password": 123456,
            "api_key": None,
            "has_token": False,
            "csrf": "",
        }
    )
    assert redacted == {
        "credentials": FILTERED,
        "tokens": FILTERED,
        "pin_password": FILTERED,
        "api_key": None,
        "has_token": False,
        "csrf": "",
    }


@pytest.mark.parametrize(
    "event",
    [
        {"context": {"db_password": SECRET, "release": "1.2.3"}},
        {"extra": {"nested": {"settings": {"SECRET_KEY": SECRET}}, "release": "1.2.3"}},
        {"contexts": {"app": {"type": "app", "app_secret": SECRET}, "runtime": {"release": "1.2.3"}}},
        {"user": {"id": "7", "data": {"session": SECRET}, "release": "1.2.3"}},
        {"tags": [{"key": "auth_token", "value": SECRET}, {"key": "release", "value": "1.2.3"}]},
        {"tags": [["x-csrftoken", SECRET], ["release", "1.2.3"]]},
        {"tags": [{"key": "session", "topValues": [{"value": SECRET}]}, {"key": "release", "value": "1.2.3"}]},
        {"headers": [{"name": "Authorization", "value": SECRET}, {"name": "release", "value": "1.2.3"}]},
        {"breadcrumbs": {"values": [{"data": {"Authorization": SECRET}, "message": "release 1.2.3"}]}},
        {"breadcrumbs": {"values": [{"category": "query", "message": f"UPDATE u SET pwd = '{SECRET}' -- 1.2.3"}]}},
        {"breadcrumbs": {"values": [{"message": f"GET /api?apikey={SECRET} release=1.2.3"}]}},
        {"spans": [{"description": "release 1.2.3", "data": {"http.request.header.x-api-key": SECRET}}]},
        {"spans": [{"description": "release 1.2.3", "tags": {"jwt": SECRET}}]},
        {"message": {"formatted": f"Login failed\nAuthorization: Basic {SECRET}\nrelease: 1.2.3"}},
        {"exception": {"values": [{"type": "KeyError", "value": f"token={SECRET} release=1.2.3"}]}},
        {"metadata": {"value": f"postgres://app:{SECRET}@db/1.2.3"}},
        {"culprit": f"login(dsn='{SECRET}', release='1.2.3')"},
    ],
    ids=[
        "context",
        "extra",
        "contexts",
        "user-data",
        "tag-records",
        "tag-pairs",
        "issue-tag-summary",
        "header-records",
        "breadcrumb-data",
        "breadcrumb-sql",
        "breadcrumb-url",
        "span-data",
        "span-tags",
        "message-header-dump",
        "exception-value",
        "issue-metadata",
        "issue-culprit",
    ],
)
def test_secrets_are_filtered_wherever_sentry_puts_them(event):
    output = dumped(event)
    assert SECRET not in output
    assert "1.2.3" in output


def test_token_counts_and_authors_keep_their_values():
    spans = {"spans": [{"data": {"gen_ai.usage.input_tokens": 1234, "max_tokens": 4096, "author": "Ada"}}]}
    assert redact_payload(spans) == spans


# --- values anywhere --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "card",
    ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "5555555555554444", "378282246310005"],
)
def test_luhn_valid_card_numbers_are_filtered(card):
    assert redact_text(f"paid with {card} today") == f"paid with {FILTERED} today"
    assert redact_payload({"amount": 10, "number": int(card.replace(" ", "").replace("-", ""))})["number"] == FILTERED


@pytest.mark.parametrize(
    "number", ["4111111111111112", "1712345678901", "1712345678901234", "17123456789012345678", "123456789012"]
)
def test_numbers_that_are_not_cards_survive(number):
    assert redact_text(f"id {number}") == f"id {number}"
    assert redact_payload({"id": int(number)}) == {"id": int(number)}


# --- personal data ----------------------------------------------------------------------------------------------


def pii_event() -> dict[str, Any]:
    return {
        "user": {
            "id": "42",
            "email": "ada@example.com",
            "username": "ada_l",
            "name": "Ada Lovelace",
            "ip_address": "192.0.2.10",
            "geo": {"city": "London", "country_code": "GB"},
            "data": {"plan": "team"},
        },
        "message": "mail to ada@example.com from 192.0.2.10 and 2001:db8::7 failed",
        "tags": [{"key": "user", "value": "email:ada@example.com"}, {"key": "os", "value": "Linux"}],
        "entries": [
            {
                "type": "request",
                "data": {"env": {"REMOTE_ADDR": "192.0.2.10"}, "headers": [["X-Real-IP", "192.0.2.10"]]},
            }
        ],
    }


def test_personal_data_is_kept_by_default():
    assert redact_payload(pii_event()) == pii_event()


def test_remove_pii_filters_the_user_and_addresses_in_free_text():
    redacted = redact_payload(pii_event(), remove_pii=True)
    output = json.dumps(redacted)
    for personal in ("ada@example.com", "ada_l", "Ada Lovelace", "192.0.2.10", "2001:db8::7", "London"):
        assert personal not in output
    assert redacted["user"] == {
        "id": "42",
        "email": FILTERED,
        "username": FILTERED,
        "name": FILTERED,
        "ip_address": FILTERED,
        "geo": FILTERED,
        "data": {"plan": "team"},
    }
    assert redacted["message"] == f"mail to {FILTERED} from {FILTERED} and {FILTERED} failed"
    assert {"key": "os", "value": "Linux"} in redacted["tags"]


def test_settings_choose_whether_personal_data_goes():
    keep = redact_payload_for_settings(pii_event(), "event", Settings(output_dir="."))
    remove = redact_payload_for_settings(pii_event(), "event", Settings(output_dir=".", remove_pii=True))
    assert "ada@example.com" in json.dumps(keep)
    assert "ada@example.com" not in json.dumps(remove)


def test_the_builtin_redactor_registers_through_the_hook():
    registered: list[Redactor] = []
    register_redactors(registered.append)
    assert [r.name for r in registered] == ["builtin"]
    payload, secrets = planted_secrets_issue()
    output = json.dumps(registered[0].redact(payload, "issue", Settings(output_dir=".")))
    assert not [s for s in secrets if s in output]


# --- hostile and large payloads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("container", ["dict", "list"])
def test_ten_thousand_levels_of_nesting_are_cut_not_crashed_on(container):
    payload: Any = {"password": SECRET, "note": SECRET}
    for _ in range(10_000):
        payload = {"child": payload} if container == "dict" else [payload, 1]
    output = dumped({"context": payload})
    assert SECRET not in output
    assert TOO_DEEP in output
    assert output.count("[") + output.count("{") <= MAX_DEPTH + 2


def test_a_json_string_too_deep_to_parse_is_scanned_as_text():
    text = "[" * 10_000 + json.dumps({"password": SECRET, "page": 2}) + "]" * 10_000
    redacted = redact_payload({"vars": {"payload": text}})
    assert SECRET not in json.dumps(redacted)
    assert '"page": 2' in redacted["vars"]["payload"]


def test_a_json_string_without_secrets_is_kept_byte_for_byte():
    text = '{"page":2,  "items":[1,2,3]}'
    assert redact_payload({"payload": text}) == {"payload": text}


def large_event() -> tuple[dict[str, Any], str]:
    """About 5 MB: 250 frames with 40 variables each, 1,000 breadcrumbs, 1,000 spans, one secret per frame.

    Redacting it takes about 0.2 s (0.3 s with remove_pii) on a laptop; the test only checks the result, so a
    slow machine cannot make it flaky.
    """
    frames = []
    for index in range(250):
        frame_vars: dict[str, Any] = {"password": f"{SECRET}-{index}"}
        for number in range(39):
            frame_vars[f"var_{number}"] = [
                f"<Order id={index} customer='Customer {number}' created=datetime(2024, 5, 17, 10, {number})>",
                {"id": number, "items": [{"sku": f"SKU-{k}", "qty": k, "price": k * 1.5} for k in range(5)]},
                f"{{'user_id': {number}, 'query': 'select * from orders where id = {number}', 'page': 2}}",
                json.dumps({"event": "checkout", "step": number, "meta": {"ts": 1715941844 + number}}),
                "lorem ipsum dolor sit amet, " * 80,
            ][number % 5]
        context = [[index + k, f"    result = process(order, items[{k}], flag=True)"] for k in range(11)]
        frames.append({"function": f"handler_{index}", "lineNo": index, "context": context, "vars": frame_vars})
    crumbs = [
        {"category": "query", "message": f"SELECT id FROM orders WHERE customer_id = {k}", "data": {"rows": k}}
        for k in range(1000)
    ]
    spans = [
        {"span_id": f"{k:016x}", "op": "db", "description": f"SELECT {k}", "data": {"db.system": "postgresql"}}
        for k in range(1000)
    ]
    event = {
        "entries": [
            {"type": "exception", "data": {"values": [{"stacktrace": {"frames": frames}}]}},
            {"type": "breadcrumbs", "data": {"values": crumbs}},
            {"type": "spans", "data": spans},
        ]
    }
    return event, SECRET


def test_a_five_megabyte_event_is_redacted_completely():
    event, secret = large_event()
    assert len(json.dumps(event)) > 5_000_000
    output = dumped(event)
    assert secret not in output
    assert output.count(FILTERED) == 250
    assert "handler_249" in output and "SELECT 999" in output


# --- property: planted secrets never survive --------------------------------------------------------------------


@given(
    name=sensitive_names,
    secret=secrets,
    planting=st.sampled_from(sorted(PLANTINGS)),
    path=st.lists(st.tuples(st.sampled_from(["dict", "list"]), st.sampled_from(HARMLESS_KEYS)), max_size=25),
    remove_pii=st.booleans(),
)
def test_planted_secrets_never_survive(name, secret, planting, path, remove_pii):
    assert is_sensitive_key(name)
    payload: Any = PLANTINGS[planting](name, secret)
    for kind, key in reversed(path):
        payload = {key: payload, "id": 7} if kind == "dict" else [1, payload]
    pristine = copy.deepcopy(payload)

    redacted = redact_payload({"event": payload}, remove_pii=remove_pii)
    output = json.dumps(redacted)
    assert secret not in output
    assert payload == pristine
    if "Ada Lovelace" in json.dumps(payload):
        assert "Ada Lovelace" in output


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)


@given(payload=json_values, remove_pii=st.booleans())
def test_any_json_payload_is_redacted_without_error_and_redacting_again_changes_nothing(payload, remove_pii):
    once = redact_payload(payload, remove_pii=remove_pii)
    json.dumps(once)
    assert redact_payload(once, remove_pii=remove_pii) == once


def test_the_log_scrubber_keeps_configured_tokens_and_only_the_newest_others() -> None:
    """A long-running server meets a token per call: the scrubber's memory is bounded, the configured ones stay."""
    import logging

    from sentry_issue_export.redaction.log_records import LogScrubber

    scrubber = LogScrubber(logging.LogRecord)
    configured = "configured-token-" + "c" * 20
    scrubber.remember([configured, None, "short"], configured=True)
    calls = [f"call-token-{number:04d}-" + "x" * 12 for number in range(LogScrubber.MAX_RECENT + 36)]
    scrubber.remember(calls)
    assert configured not in scrubber.scrub(f"using {configured}")
    assert calls[-1] not in scrubber.scrub(f"using {calls[-1]}")
    assert calls[0] in scrubber.scrub(f"using {calls[0]}")  # the oldest per-call token was let go
    assert len(scrubber._recent) == LogScrubber.MAX_RECENT
    record = scrubber("name", logging.INFO, __file__, 1, "token %s", (calls[-1],), None)
    assert record.getMessage() == "token [Filtered]"

"""web/responses.py: how a server's responses are judged and worded, without a server.

The same behaviour is proven end to end over loopback in ``test_sentry_client.py``; these tests pin the pieces
that need no HTTP: detail extraction, which status becomes which error, and what the messages promise.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import httpx
import pytest

from sentry_issue_export.errors import (
    AuthError,
    FetchError,
    InvalidResponseError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
)
from sentry_issue_export.web.responses import (
    ISSUE_GONE,
    NO_ORG_READ,
    NOT_FOUND,
    Meaning,
    ResponseJudge,
    ServerResponse,
    after_retries,
    describe_broken_connection,
    sentry_detail,
)

TOKEN = "sntryu_" + "c3" * 32
JUDGE = ResponseJudge("https://sentry.example.com", TOKEN, max_response_bytes=100_000, max_wait=60.0)


def json_body(value: Any) -> bytes:
    return json.dumps(value).encode()


def response(body: bytes, content_type: str = "application/json", status: int = 200) -> ServerResponse:
    return ServerResponse(status, httpx.Headers(), body, content_type, html=False)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (json_body({"detail": "Invalid token"}), "Invalid token"),
        (json_body("Limit is 5 requests in 1 seconds"), "Limit is 5 requests in 1 seconds"),
        (json_body({"detail": {"message": "Nested", "code": "x"}}), "Nested"),
        (json_body({"message": "Only a message"}), "Only a message"),
        (json_body({"detail": "  spread \n over\tlines "}), "spread over lines"),
        (json_body({"detail": ""}), None),
        (json_body({"error": "no detail key"}), None),
        (json_body([1, 2]), None),
        (b"<html>Bad gateway</html>", None),
        (b"[" * 100_000, None),
    ],
)
def test_sentry_detail_reads_objects_strings_and_nothing_else(body: bytes, detail: str | None) -> None:
    assert sentry_detail(body) == detail


def test_a_long_detail_is_cut_to_300_characters() -> None:
    detail = sentry_detail(json_body({"detail": "x" * 400}))
    assert detail is not None and len(detail) == 300 and detail.endswith("...")


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (401, AuthError, ("rejected the token (401)", "event:read", "config init")),
        (403, PermissionDeniedError, ("refused access (403)", "member")),
        (404, NotFoundError, ("could not find issue 1 (404)", NOT_FOUND)),
        (429, RateLimitedError, ("rate-limiting", "(429)", "export fewer issues")),
        (500, ServerError, ("status 500", "try again later")),
        (409, FetchError, ("status 409", "does not know how to handle")),
    ],
)
def test_each_status_becomes_its_error(status: int, kind: type[FetchError], words: tuple[str, ...]) -> None:
    error = JUDGE.status_error(status, "issue 1", None)
    assert type(error) is kind and error.status == status
    assert all(word in str(error) for word in words), str(error)
    assert "Sentry said" not in str(error)


def test_sentrys_detail_is_quoted_and_ends_in_one_full_stop() -> None:
    plain = JUDGE.status_error(403, "issue 1", json_body({"detail": "You do not have permission"}))
    asked = JUDGE.status_error(403, "issue 1", json_body({"detail": "Is this yours?"}))
    assert str(plain).endswith(' Sentry said: "You do not have permission".')
    assert str(asked).endswith(' Sentry said: "Is this yours?"')


def test_a_404_says_what_this_request_most_likely_means() -> None:
    error = JUDGE.status_error(404, "issue 5 in organisation acme", None, Meaning(not_found=ISSUE_GONE))
    assert str(error) == f"Sentry could not find issue 5 in organisation acme (404): {ISSUE_GONE}"


def test_a_403_says_which_scope_this_request_most_likely_lacks() -> None:
    error = JUDGE.status_error(403, "short id WEB-1 in organisation acme", None, Meaning(forbidden=NO_ORG_READ))
    assert isinstance(error, PermissionDeniedError)
    assert str(error) == f"Sentry refused access (403) to short id WEB-1 in organisation acme: {NO_ORG_READ}"
    assert "org:read" in str(error)


def test_the_server_is_named_in_every_message() -> None:
    bugsink = ResponseJudge("https://bugs.example.com", TOKEN, 100, 60.0, server="Bugsink", token_advice="Ask.")
    for status in (401, 403, 404, 429, 500, 409):
        assert str(bugsink.status_error(status, "issue 1", json_body({"detail": "no"}), None)).startswith("Bugsink ")
    assert str(bugsink.status_error(401, "issue 1", None)).endswith("revoked. Ask.")
    assert 'Bugsink said: "no".' in str(bugsink.status_error(404, "issue 1", json_body({"detail": "no"})))


def test_retries_and_long_waits_are_counted_in_the_message() -> None:
    assert after_retries(0) == "" and after_retries(1) == ", even after 1 retry"
    assert "even after 3 retries" in str(JUDGE.status_error(503, "issue 1", None, attempts=3))
    too_long = JUDGE.status_error(429, "issue 1", None, attempts=1, wait=120.0)
    assert "asks to wait 120 s more" in str(too_long) and "retry" not in str(too_long)


def test_a_401_not_sent_again_says_so() -> None:
    error = JUDGE.status_error(401, "issue 2", None, repeated=True)
    assert "(not sent again: it was rejected for an earlier request)" in str(error)


def test_the_token_never_reaches_a_message() -> None:
    echoed = JUDGE.status_error(401, "issue 1", json_body({"detail": f"Bad token {TOKEN}"}))
    unreachable = JUDGE.unreachable("issue 1", f"proxy said {TOKEN}", attempts=2)
    assert isinstance(unreachable, NetworkError) and "even after 2 retries" in str(unreachable)
    for message in (str(echoed), str(unreachable), repr(JUDGE)):
        assert TOKEN not in message
    assert "[Filtered]" in str(echoed) and "[Filtered]" in str(unreachable)


def test_json_of_parses_json_and_refuses_other_content() -> None:
    assert JUDGE.json_of(response(b'{"id": "1"}'), "issue 1") == {"id": "1"}
    assert JUDGE.json_of(response(b"[1]", content_type=""), "issue 1") == [1]
    with pytest.raises(InvalidResponseError, match="text/plain instead of JSON") as wrong_type:
        JUDGE.json_of(response(b'{"id": "1"}', content_type="text/plain"), "issue 1")
    assert wrong_type.value.status == 200
    with pytest.raises(InvalidResponseError, match=r"malformed or truncated JSON \(.* at byte 7 of 7\)"):
        JUDGE.json_of(response(b'{"id": '), "issue 1")


def test_shapes_sizes_and_html_pages_are_named_in_the_message() -> None:
    assert JUDGE.expect_object({"id": "1"}, "issue 1") == {"id": "1"}
    with pytest.raises(InvalidResponseError, match="a list where an object was expected"):
        JUDGE.expect_object([], "issue 1")
    wrong_shape = JUDGE.wrong_shape("the index", "x", "a list of issues")
    assert "a string where a list of issues was expected" in str(wrong_shape)
    assert "larger than the limit of 100,000 bytes" in str(JUDGE.too_large("issue 1"))
    page = JUDGE.html_page(500, "issue 1")
    assert page.status == 500 and "https://sentry.example.com answered with an HTML page" in str(page)


def _connect_error(cause: BaseException) -> httpx.ConnectError:
    error = httpx.ConnectError("All connection attempts failed")
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (httpx.ConnectTimeout("slow"), "connecting took longer than 2.5 s"),
        (httpx.ReadTimeout("slow"), "it did not answer within 2.5 s"),
        (_connect_error(socket.gaierror(-2, "Name or service not known")), "could not be resolved (DNS)"),
        (_connect_error(ConnectionRefusedError(111, "Connection refused")), "the connection was refused"),
        (_connect_error(OSError(113, "No route to host")), "the connection failed ([Errno 113] No route to host)"),
        (httpx.RemoteProtocolError("Server disconnected"), "broke before the answer was complete (Server"),
    ],
)
def test_broken_connections_are_described_by_their_cause(exc: Exception, reason: str) -> None:
    assert reason in describe_broken_connection(exc, 2.5)


@pytest.mark.parametrize("segment", ["..", ".", "", "...."])
def test_an_id_that_would_change_the_path_is_refused_before_any_request(segment: str) -> None:
    from sentry_issue_export.errors import FetchError
    from sentry_issue_export.web.transport import ApiTransport

    transport = ApiTransport("https://sentry.example.com", "token")
    with pytest.raises(FetchError, match="would change the address of the request"):
        transport.url(("organizations", "acme", "issues", segment))
    assert transport.url(("issues", "..x")).path == "/api/0/issues/..x/"

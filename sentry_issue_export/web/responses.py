"""What an API server's responses mean: data to trust, or a ``FetchError`` that tells the user what to do.

The transport (:mod:`.transport`) gets responses: it sends requests, retries and paces. Judging a response is a
separate job, kept here so that every message a failed fetch can end in is worded in one place and can be read
(and tested) without a server:

- a status code becomes the right :class:`~sentry_issue_export.errors.FetchError` subclass (the table
  :data:`STATUS_ERRORS`), quoting the server's own explanation when the body carries one (``{"detail": ...}`` or
  a bare JSON string, as Sentry's 429 sends);
- a body that is an HTML page, not JSON, too large, malformed or of the wrong shape is an ``InvalidResponseError``;
- a connection that broke before any answer is described in words a user can act on;
- the token never appears in a message built from foreign text.

The words name the server (``Sentry``, ``Bugsink``) and what a 403 or 404 most likely means for the request at
hand (:class:`Meaning`), so one judge serves every API this tool reads.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import attrs
import httpx

from ..errors import (
    TOKEN_HELP,
    AuthError,
    FetchError,
    InvalidResponseError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
)
from .origin import Origin

# What a 404 most likely means, by what was asked for.
NOT_FOUND = "check the organisation slug and the issue id."
ISSUE_GONE = (
    "check the organisation slug and the issue id. The issue may have been deleted or merged into another, or it "
    "lives in another region (on sentry.io, set the base URL to the region, e.g. https://de.sentry.io)."
)
NO_EVENT = "the issue has no event left in its retention period."
EVENT_GONE = "the event may be past its retention period, or belong to another issue; check the event id."
ORG_GONE = (
    "check the organisation slug: it is the ORG in https://ORG.sentry.io or in /organizations/ORG/ of your Sentry URLs."
)
PROJECT_GONE = (
    "check the organisation and project slugs: they are in the project's URLs, /organizations/ORG/projects/PROJECT/."
)
# What a 403 most likely means, by what was asked for.
NO_EVENT_READ = (
    "the token lacks the event:read scope, which reading issues and events needs, or its user is not a member of "
    "the issue's project. Use a token with event:read (and org:read for short ids), or ask an organisation owner "
    "for access to the project."
)
NO_ORG_READ = (
    "the token lacks the org:read scope, which looking up short ids and organisations needs. Add org:read to "
    "the token, or use the numeric issue id or the issue's URL instead."
)
SHORT_ID_FORBIDDEN = (
    "looking up a short id needs the org:read scope besides event:read, or the token's user is not a member of "
    "the issue's project. Add org:read to the token, or use the numeric issue id or the issue's URL instead."
)
DEFAULT_TOKEN_ADVICE = (
    "Create a new one with the event:read scope (Sentry: Settings > Auth Tokens) and save it with " + TOKEN_HELP + "."
)


@attrs.frozen
class Meaning:
    """What a failed status most likely means for one request, as the end of its sentence."""

    not_found: str = NOT_FOUND
    forbidden: str = NO_EVENT_READ


@attrs.frozen
class ServerResponse:
    """One response as the client read it. An HTML page's body is never read, so ``body`` is empty when ``html``."""

    status: int
    headers: httpx.Headers
    body: bytes
    content_type: str
    """The media type alone, lower case (``application/json``), or empty when the server sent none."""
    html: bool


def sentry_detail(body: bytes) -> str | None:
    """Sentry's explanation in an error body: ``{"detail": ...}`` or a bare JSON string."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if isinstance(data, dict):
        data = data.get("detail", data.get("message"))
        if isinstance(data, dict):
            data = data.get("message") or data.get("detail")
    if not isinstance(data, str) or not data.strip():
        return None
    text = " ".join(data.split())
    return text if len(text) <= 300 else text[:297] + "..."


def after_retries(attempts: int) -> str:
    """The clause a message gains once requests were retried: empty for none."""
    if attempts == 0:
        return ""
    return f", even after {attempts} {'retry' if attempts == 1 else 'retries'}"


def describe_broken_connection(exc: Exception, timeout: float) -> str:
    """Why no answer arrived, as the end of "Could not reach Sentry ...: <this>"."""
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connecting took longer than {timeout:g} s"
    if isinstance(exc, httpx.TimeoutException):
        return f"it did not answer within {timeout:g} s"
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        cause = _root_os_error(exc)
        if isinstance(cause, socket.gaierror) or "name or service" in text.lower():
            return "its host name could not be resolved (DNS)"
        if isinstance(cause, ConnectionRefusedError) or "refused" in text.lower():
            return "the connection was refused (is the server running, and is the port right?)"
        return f"the connection failed ({cause or text})"
    return f"the connection broke before the answer was complete ({text})"


def _root_os_error(exc: BaseException) -> OSError | None:
    """httpx reports "All connection attempts failed"; the reason is the deepest ``OSError`` in the chain."""
    seen: set[int] = set()
    deepest: OSError | None = None
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            deepest = current
        current = current.__cause__ or current.__context__
    return deepest


@attrs.frozen
class ResponseJudge:
    """Judges the responses one client gets from one server, and words each failure for the user.

    It holds what the wording depends on: the server's origin and name, the token (only to keep it out of
    messages), the size limit, the longest wait the client accepts after a 429, and where to get a new token.
    """

    origin: Origin
    token: str | None = attrs.field(repr=False)
    max_response_bytes: int
    max_wait: float
    server: str = "Sentry"
    token_advice: str = attrs.field(default="", converter=lambda advice: advice or DEFAULT_TOKEN_ADVICE)

    def scrub(self, text: str) -> str:
        """``text`` with the token replaced, for any message built from foreign text."""
        if self.token and len(self.token) >= 4:
            text = text.replace(self.token, "[Filtered]")
        return text

    def json_of(self, response: ServerResponse, what: str) -> Any:
        """The parsed JSON of a successful answer; ``InvalidResponseError`` for another content type or bad JSON."""
        if response.content_type and "json" not in response.content_type:
            raise InvalidResponseError(
                f"{self.origin} answered {what} with {response.content_type} instead of JSON: is the base URL the "
                f"{self.server} root, e.g. https://sentry.io?",
                status=response.status,
            )
        try:
            return json.loads(response.body)
        except json.JSONDecodeError as exc:
            problem = f"{exc.msg} at byte {exc.pos} of {len(response.body)}"
        except (ValueError, RecursionError) as exc:
            problem = type(exc).__name__
        raise InvalidResponseError(
            f"{self.server} answered {what} with malformed or truncated JSON ({problem}). Try again; if it keeps "
            f"happening, a proxy between you and {self.server} may be cutting answers short.",
            status=response.status,
        )

    def expect_object(self, data: Any, what: str) -> dict[str, Any]:
        """``data`` if it is a JSON object, else ``InvalidResponseError``."""
        if not isinstance(data, dict):
            raise self.wrong_shape(what, data, "an object")
        return data

    def wrong_shape(self, what: str, data: Any, expected: str) -> InvalidResponseError:
        """The error for JSON that parsed but is not what the endpoint answers (``expected``: "a list of issues")."""
        names: dict[type, str] = {list: "a list", str: "a string", dict: "an object"}
        got = names.get(type(data), type(data).__name__)
        return InvalidResponseError(
            f"{self.server} answered {what} with {got} where {expected} was expected: is the base URL the server's "
            f"root, and the server a {self.server} version this tool supports?"
        )

    def too_large(self, what: str) -> InvalidResponseError:
        return InvalidResponseError(
            f"{self.server}'s answer for {what} is larger than the limit of {self.max_response_bytes:,} bytes, so "
            "it was not read. Raise max_response_bytes if this issue is really that large."
        )

    def html_page(self, status: int, what: str) -> InvalidResponseError:
        """The error for a web page where the API should have answered: usually a base URL that is not the root."""
        return InvalidResponseError(
            f"{self.origin} answered with an HTML page instead of JSON (status {status}) for {what}: is "
            f"the base URL the {self.server} root, e.g. https://sentry.io?",
            status=status,
        )

    def unreachable(self, what: str, reason: str, attempts: int) -> NetworkError:
        """The error for a request that never got an answer; ``reason`` from :func:`describe_broken_connection`."""
        return NetworkError(
            self.scrub(
                f"Could not reach {self.server} at {self.origin} for {what}: {reason}"
                f"{after_retries(attempts)}. Check the base URL, your network and any proxy or VPN, "
                "then try again."
            )
        )

    def status_error(
        self,
        status: int,
        what: str,
        body: bytes | None,
        meaning: Meaning | None = None,
        *,
        attempts: int = 0,
        wait: float = 0.0,
        repeated: bool = False,
    ) -> FetchError:
        """The error for an answer with a status that is not success, quoting the server's ``detail``.

        ``meaning`` says what a 403 or 404 most likely means for this request; ``attempts`` is how many retries
        were made, ``wait`` how long a 429 asked to wait, and ``repeated`` marks a 401 that was not sent at all
        because the token had already been rejected.
        """
        meaning = meaning or Meaning()
        detail = sentry_detail(body) if body is not None else None
        said = ""
        if detail:
            said = f' {self.server} said: "{detail}"' + ("" if detail.endswith((".", "!", "?")) else ".")
        kind, template = STATUS_ERRORS.get(status, (ServerError, _SERVER_FAILED) if status >= 500 else _UNKNOWN)
        if status == 429 and wait > self.max_wait:
            tail = f" and asks to wait {wait:.0f} s more"
        else:
            tail = after_retries(attempts)
        message = template.format(
            server=self.server,
            what=what,
            status=status,
            again=" (not sent again: it was rejected for an earlier request)" if repeated else "",
            tail=tail,
            not_found=meaning.not_found,
            forbidden=meaning.forbidden,
            token_advice=self.token_advice,
        )
        return kind(self.scrub(message + said), status=status, detail=self.scrub(detail) if detail else None)


STATUS_ERRORS: dict[int, tuple[type[FetchError], str]] = {
    400: (FetchError, "{server} refused {what} (400): it did not accept the request as asked."),
    401: (
        AuthError,
        "{server} rejected the token (401) when fetching {what}{again}: it is invalid, expired or revoked. "
        "{token_advice}",
    ),
    403: (PermissionDeniedError, "{server} refused access (403) to {what}: {forbidden}"),
    404: (NotFoundError, "{server} could not find {what} (404): {not_found}"),
    429: (
        RateLimitedError,
        "{server} kept rate-limiting the requests for {what} (429){tail}. Wait a minute and try again, or export "
        "fewer issues at once.",
    ),
}
"""Status -> (error class, message); the message's fields are filled in by :meth:`ResponseJudge.status_error`."""
_SERVER_FAILED = (
    "{server} failed with status {status} for {what}{tail}. The server is having trouble: try again later, and "
    "check its status page if it persists."
)
_UNKNOWN: tuple[type[FetchError], str] = (
    FetchError,
    "{server} answered status {status} for {what}, which this tool does not know how to handle.",
)

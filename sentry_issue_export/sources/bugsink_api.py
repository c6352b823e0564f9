"""Bugsink's REST API as the Bugsink source reads it: where it lives, how its lists page, what a refusal means.

Shared by the source (``bugsink``) and what it reads of an issue across its events (``bugsink_overview``).
Bugsink's lists are pages of ``{next, previous, results}``, ``next`` a URL with an opaque ``cursor``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from ..web.paging import cursor_pages, with_cursor

if TYPE_CHECKING:
    from ..web.rate_limits import EndpointClass
    from ..web.responses import Meaning
    from ..web.transport import ApiTransport

API_PATH = "/api/canonical/0"
SERVER = "Bugsink"
TOKEN_ADVICE = (
    "Create a token in Bugsink (or with `bugsink-manage create_auth_token`) with the issues:read and events:read "
    "rights, and save it with `export-sentry-issue config init --source bugsink`."
)
NO_ISSUES_READ = "the token lacks the issues:read right, or its user may not see this issue's project."
NO_EVENTS_READ = "the token lacks the events:read right, or its user may not see this issue's project."
ISSUE_GONE = "check the issue's UUID or friendly id (BACKEND-1); the issue may have been deleted."
PAGE_LIMIT = 40
"""Pages read at most of one list (250 items each)."""


def meaning(not_found: str = ISSUE_GONE, forbidden: str = NO_ISSUES_READ) -> Meaning:
    """What a 404 and a 403 mean for one request (the HTTP stack is imported only when a fetch starts)."""
    from ..web.responses import Meaning

    return Meaning(not_found, forbidden)


def next_cursor(page: Any) -> str | None:
    """The cursor of the page after ``page``, or ``None`` at the last one."""
    following = page.get("next") if isinstance(page, dict) else None
    if not isinstance(following, str):
        return None
    return parse_qs(urlsplit(following).query).get("cursor", [""])[0] or None


async def page_of(
    transport: ApiTransport,
    path: tuple[str, ...],
    params: list[tuple[str, str]],
    what: str,
    forbidden: str,
    *,
    kind: EndpointClass = "index",
    not_found: str = ISSUE_GONE,
) -> tuple[list[Any], str | None]:
    """The ``results`` of one page of a Bugsink list, and the cursor of the next page."""
    data, _ = await transport.get_json(path, kind=kind, what=what, params=params, meaning=meaning(not_found, forbidden))
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise transport.responses.wrong_shape(what, data, "a page of results")
    return results, next_cursor(data)


async def every_item(
    transport: ApiTransport,
    path: tuple[str, ...],
    params: list[tuple[str, str]],
    what: str,
    forbidden: str,
    *,
    kind: EndpointClass = "index",
    pages: int = PAGE_LIMIT,
) -> AsyncIterator[dict[str, Any]]:
    """Every item of a Bugsink list once, page after page (``next`` cursors). Items are told apart by their
    ``id`` (one without is skipped); the walk ends at the last page, a cursor seen before, a page with nothing
    new, or after ``pages`` pages."""

    async def read(cursor: str | None) -> tuple[list[Any], str | None]:
        return await page_of(transport, path, with_cursor(params, cursor), what, forbidden, kind=kind)

    seen: set[str] = set()
    async for results in cursor_pages(read, max_pages=pages):
        fresh = [item for item in results if isinstance(item, dict) and _new_id(item, seen)]
        for item in fresh:
            yield item
        if results and not fresh:
            return


def _new_id(item: dict[str, Any], seen: set[str]) -> bool:
    """Whether ``item`` has an id not ``seen`` before (it is then remembered)."""
    item_id = item.get("id")
    if not isinstance(item_id, str | int) or isinstance(item_id, bool) or str(item_id) in seen:
        return False
    seen.add(str(item_id))
    return True

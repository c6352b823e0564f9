"""Walking a list the server hands out a page at a time, for Sentry's ``Link`` cursors and Bugsink's ``next``
links alike: how a page is read and where its cursor is differ, the walk does not."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

Page = TypeVar("Page")


def with_cursor(params: Sequence[tuple[str, str]], cursor: str | None) -> list[tuple[str, str]]:
    """``params`` asking for the page at ``cursor`` (the first page for ``None``)."""
    kept = [(name, value) for name, value in params if name != "cursor"]
    return [*kept, ("cursor", cursor)] if cursor else kept


async def cursor_pages(
    read_page: Callable[[str | None], Awaitable[tuple[Page, str | None]]], *, max_pages: int | None = None
) -> AsyncIterator[Page]:
    """Each page in order: ``read_page(cursor)`` returns a page and the cursor of the next one. The walk ends at
    the last page, at a cursor seen before (a server stuck on one page would otherwise be read forever) or after
    ``max_pages``; a caller that has enough stops iterating."""
    seen: set[str] = set()
    cursor: str | None = None
    for _ in range(max_pages) if max_pages is not None else itertools.count():
        page, following = await read_page(cursor)
        yield page
        if following is None or following in seen:
            return
        seen.add(following)
        cursor = following

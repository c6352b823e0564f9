"""web/paging.py: the cursor walk Sentry's and Bugsink's lists share."""

from __future__ import annotations

import asyncio

from sentry_issue_export.web.paging import cursor_pages, with_cursor


def walk(cursors: dict[str | None, str | None], max_pages: int | None = None) -> tuple[list[str | None], list[str]]:
    """(the cursors asked for, the pages read) for a server whose page at each cursor points to the next."""
    asked: list[str | None] = []

    async def read(cursor: str | None) -> tuple[str, str | None]:
        asked.append(cursor)
        return f"page at {cursor}", cursors[cursor]

    async def run() -> list[str]:
        return [page async for page in cursor_pages(read, max_pages=max_pages)]

    pages = asyncio.run(run())
    return asked, pages


def test_the_walk_follows_cursors_to_the_last_page() -> None:
    asked, pages = walk({None: "b", "b": "c", "c": None})
    assert asked == [None, "b", "c"]
    assert pages == ["page at None", "page at b", "page at c"]


def test_a_server_stuck_on_one_cursor_is_read_once_per_cursor() -> None:
    asked, _ = walk({None: "b", "b": "c", "c": "b"})
    assert asked == [None, "b", "c"]


def test_the_walk_stops_after_max_pages() -> None:
    asked, pages = walk({None: "b", "b": "c", "c": "d", "d": None}, max_pages=2)
    assert asked == [None, "b"] and len(pages) == 2


def test_with_cursor_replaces_an_earlier_cursor() -> None:
    params = [("query", "is:unresolved"), ("cursor", "old")]
    assert with_cursor(params, "new") == [("query", "is:unresolved"), ("cursor", "new")]
    assert with_cursor(params, None) == [("query", "is:unresolved")]

"""What every source that reads a server does around its requests, written once for the built-in sources and for
plugins: refuse the references that cannot be fetched before any request, and yield results as they complete
while never leaving a task running behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any, TypeVar

from ..errors import FetchError
from ..hookspecs import FetchFailure
from ..refs import IssueRef

T = TypeVar("T")


def split_refused(
    refs: Sequence[IssueRef], refusal: Callable[[IssueRef], FetchError | None]
) -> tuple[list[IssueRef], list[FetchFailure]]:
    """(the references to fetch, a failure for each one ``refusal`` refuses), in the order given."""
    ready: list[IssueRef] = []
    refused: list[FetchFailure] = []
    for ref in refs:
        problem = refusal(ref)
        if problem is None:
            ready.append(ref)
        else:
            refused.append(FetchFailure(ref, problem))
    return ready, refused


async def as_completed(
    tasks: Sequence[asyncio.Future[T]], also_cancel: Iterable[asyncio.Future[Any]] = ()
) -> AsyncIterator[T]:
    """Each task's result as it completes; when the caller stops early (or fails), every task still running,
    ``also_cancel`` included (shared lookups), is cancelled and awaited, so nothing outlives the export."""
    try:
        for next_done in asyncio.as_completed(tasks):
            yield await next_done
    finally:
        started: list[asyncio.Future[Any]] = [*tasks, *also_cancel]
        pending = [task for task in started if not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

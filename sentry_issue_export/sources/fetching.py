"""What every source that reads a server does around its requests, written once for the built-in sources and for
plugins: refuse the references that cannot be fetched before any request, and yield results as they complete
while never leaving a task running behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
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


FETCH_WINDOW = 64
"""Fetches started and not yet handed over, at most: more than the requests a transport lets fly at once (32
at most), so the network never waits for the caller, and few enough that a long export does not hold a
coroutine, and soon a payload, for every issue."""


async def as_completed(
    jobs: Iterable[Awaitable[T]], also_cancel: Iterable[asyncio.Future[Any]] = (), *, window: int = FETCH_WINDOW
) -> AsyncIterator[T]:
    """Each job's result as it completes, the jobs started in the order given, at most ``window`` at a time.

    ``jobs`` is read lazily (pass a generator), and a result is dropped once handed over, so memory stays flat
    however many jobs there are. When the caller stops early (or fails), every job still running,
    ``also_cancel`` included (shared lookups), is cancelled and awaited, so nothing outlives the export.
    """
    waiting = iter(jobs)
    running: set[asyncio.Future[T]] = set()
    finished: asyncio.Queue[asyncio.Future[T]] = asyncio.Queue()

    def start_more() -> None:
        while len(running) < window:
            job = next(waiting, None)
            if job is None:
                return
            task = asyncio.ensure_future(job)
            running.add(task)
            task.add_done_callback(finished.put_nowait)

    try:
        start_more()
        while running:
            task = await finished.get()
            running.discard(task)
            start_more()  # before handing the result over, so the next requests fly while the caller works
            yield task.result()
            del task
    finally:
        pending = [task for task in [*running, *also_cancel] if not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for job in waiting:  # never started: close them, so Python does not warn they were never awaited
            close = getattr(job, "close", None)
            if close is not None:
                close()

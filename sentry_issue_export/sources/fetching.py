"""What every source that reads a server does around its requests, written once for the built-in sources and for
plugins: refuse the references that cannot be fetched before any request (an address on another server, no
token), and yield results as they complete while never leaving a task running behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from ..errors import ConfigError, FetchError, HostMismatchError
from ..hookspecs import FetchFailure
from ..refs import IssueRef
from ..settings import Settings
from ..web.origin import Origin, origin_of

T = TypeVar("T")


def split_refused(
    refs: Sequence[IssueRef],
    settings: Settings,
    refusal: Callable[[IssueRef, Origin | None], FetchError | None],
    *,
    default_base_url: str | None = None,
) -> tuple[list[IssueRef], list[FetchFailure]]:
    """(the references to fetch, a failure for each one ``refusal`` refuses), in the order given. ``refusal`` is
    given the configured server (``None`` when none is set and there is no default); when the base URL is not
    an http(s) address, every reference fails with the reason."""
    base_url = settings.base_url or default_base_url
    try:
        configured = origin_of(base_url) if base_url else None
    except ConfigError as exc:
        return [], [FetchFailure(ref, FetchError(str(exc))) for ref in refs]
    ready: list[IssueRef] = []
    refused: list[FetchFailure] = []
    for ref in refs:
        problem = refusal(ref, configured)
        if problem is None:
            ready.append(ref)
        else:
            refused.append(FetchFailure(ref, problem))
    return ready, refused


def server_refusal(
    ref: IssueRef, settings: Settings, configured: Origin | None, *, server: str, configure: str, no_token: str
) -> FetchError | None:
    """What every server source refuses before any request: an address on a server other than ``configured``
    (the token is only ever sent there), and having no token. ``server`` names the kind of server ("Sentry"),
    ``configure`` completes "To export it, ...", ``no_token`` is the whole message for a missing token."""
    if ref.origin and configured and not ref.origin.same_server_any_scheme(configured):
        default = "" if settings.base_url else " (the default)"
        return HostMismatchError(
            f"This issue is on {ref.origin}, but the configured {server} is {configured}{default}, and the token "
            f"is only ever sent there; nothing was requested. To export it, {configure}."
        )
    if not settings.token:
        return FetchError(no_token)
    return None


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

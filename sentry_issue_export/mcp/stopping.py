"""How the server ends when it is told to: SIGTERM (``docker stop``, a process manager) and SIGINT (Ctrl-C) alike,
over every transport, and as a container's PID 1.

Python leaves SIGTERM to the system's default, which kills the process on the spot, with no word in the log and
no cleanup; and the kernel gives PID 1 no default at all, so in a container SIGTERM used to be ignored and
``docker stop`` waited ten seconds before it killed the server. Here:

- while a stdio server runs (:func:`serve`), either signal cancels it, as a task of its event loop: the tool
  calls under way unwind at their next ``await`` (their temporary files are removed) and the transport closes;
- in HTTP and SSE mode uvicorn takes both signals while it serves: it stops accepting, closes its connections
  within :data:`GRACE_SECONDS`, and then raises the signal again for the handler below;
- otherwise (while the server is built, before uvicorn starts, after it ends, while the process exits;
  :func:`stop_on_signals`), either signal raises ``KeyboardInterrupt``, as Ctrl-C does.

One wait cannot be cancelled: over stdio, standard input is read by a worker thread that blocks until the client
writes or hangs up, and both the event loop and the interpreter's exit wait for that thread. So the first signal
also starts a clock: whatever still holds the process :data:`GRACE_SECONDS` later is left behind, the log is
flushed, and the process exits with status 0, as a stop that was asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
from types import FrameType
from typing import Any

GRACE_SECONDS = 0.5
"""How long a stop may take: cancelled work unwinds, HTTP connections close, then the process ends regardless."""

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT") if hasattr(signal, name))

_deadline_lock = threading.Lock()
_deadline: list[threading.Timer] = []


def serve(run: Callable[[], Coroutine[Any, Any, object]], *, cancel_on_signals: bool = True) -> None:
    """Run the coroutine ``run`` makes (the server) in a new event loop until it returns, or until SIGTERM or
    SIGINT cancels it. ``cancel_on_signals=False`` leaves the signals to a server that takes them itself (uvicorn):
    a signal cancelling it too would cut its own graceful shutdown short."""
    asyncio.run(_until_stopped(run, cancel_on_signals))


async def _until_stopped(run: Callable[[], Coroutine[Any, Any, object]], cancel_on_signals: bool) -> None:
    loop = asyncio.get_running_loop()
    server = asyncio.ensure_future(run())
    stopped = False

    def stop() -> None:
        nonlocal stopped
        stopped = True
        start_deadline()
        server.cancel()

    handled = []
    for number in STOP_SIGNALS if cancel_on_signals else ():
        try:
            loop.add_signal_handler(number, stop)
        except (NotImplementedError, RuntimeError):  # Windows, or not the main thread: stop_on_signals still holds
            continue
        handled.append(number)
    try:
        await server
    except asyncio.CancelledError:
        if not stopped:
            raise
    finally:
        for number in handled:
            loop.remove_signal_handler(number)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """While this holds, SIGTERM and SIGINT raise ``KeyboardInterrupt`` and end the process within
    :data:`GRACE_SECONDS`; the previous handlers come back afterwards. Only the main thread can set handlers, so
    elsewhere (a server embedded in a thread) this changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        start_deadline()
        raise KeyboardInterrupt

    previous = {number: signal.signal(number, interrupt) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def start_deadline() -> None:
    """End the process :data:`GRACE_SECONDS` from now unless it has ended by then; only the first call counts."""
    with _deadline_lock:
        if _deadline:
            return
        timer = threading.Timer(GRACE_SECONDS, _end_process)
        timer.daemon = True  # not one more thread for the interpreter's exit to wait for
        timer.start()
        _deadline.append(timer)


def _end_process() -> None:
    """Flush the log and the standard streams, then leave without waiting for any thread."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can reach its reader
            stream.flush()
    os._exit(0)

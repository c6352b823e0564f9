"""No secret in any log line: every record's message is scrubbed when it is made, before any handler sees it.

The MCP server's own logs, fastmcp's ("Handler called: call_tool ... {'token': ...}" at DEBUG) and uvicorn's
access lines ("GET /mcp?access_token=..." for a refused client) all pass through one record factory, so no
handler, formatter or third-party logger can write a token. The scrubbing is the payload redactor's text rule
plus the tokens the process knows (the configured ones), whatever their shape.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from .patterns import FILTERED, redact_text

MIN_KNOWN = 8
"""Shorter tokens are not hidden by value: they would hide ordinary words."""


class LogScrubber:
    """A log record factory that makes records with the previous factory, then scrubs their message of every
    secret shape and of the tokens it was told about: the configured ones for the process's life, and the
    :data:`MAX_RECENT` newest of those a tool call brought (a long-running server meets many)."""

    MAX_RECENT = 64

    def __init__(self, previous: Callable[..., logging.LogRecord]) -> None:
        self.previous = previous
        self._configured: set[str] = set()
        self._recent: dict[str, None] = {}
        self._lock = threading.Lock()

    def remember(self, secrets: Iterable[str | None], *, configured: bool = False) -> None:
        with self._lock:
            for secret in secrets:
                if not secret or len(secret) < MIN_KNOWN:
                    continue
                if configured:
                    self._configured.add(secret)
                    continue
                self._recent.pop(secret, None)
                self._recent[secret] = None
                while len(self._recent) > self.MAX_RECENT:
                    del self._recent[next(iter(self._recent))]

    def scrub(self, text: str) -> str:
        with self._lock:
            known = (*self._configured, *self._recent)
        for secret in known:
            if secret in text:
                text = text.replace(secret, FILTERED)
        return redact_text(text)

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: leave it to the handler
            return record
        scrubbed = self.scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return record


def install_log_scrubbing() -> LogScrubber:
    """Make every log record of this process scrub its message; the scrubber installed (once: installing again
    returns the one there is)."""
    previous = logging.getLogRecordFactory()
    if isinstance(previous, LogScrubber):
        return previous
    scrubber = LogScrubber(previous)
    logging.setLogRecordFactory(scrubber)
    return scrubber


def remember_secrets(secrets: Iterable[str | None], *, configured: bool = False) -> None:
    """Hide these tokens from every later log line, when log scrubbing is installed (the MCP server installs it
    as it starts). ``configured`` ones are kept for good; the others are the newest few."""
    factory = logging.getLogRecordFactory()
    if isinstance(factory, LogScrubber):
        factory.remember(secrets, configured=configured)

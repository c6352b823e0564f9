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

_known: set[str] = set()
_lock = threading.Lock()
MIN_KNOWN = 8


def remember_secrets(secrets: Iterable[str | None]) -> None:
    """Add tokens to hide from every later log line (short strings would hide ordinary words)."""
    with _lock:
        _known.update(secret for secret in secrets if secret and len(secret) >= MIN_KNOWN)


def scrub_log_text(text: str) -> str:
    for secret in tuple(_known):
        if secret in text:
            text = text.replace(secret, FILTERED)
    return redact_text(text)


class _ScrubbingFactory:
    """A log record factory that makes records with the previous factory, then scrubs their message."""

    def __init__(self, previous: Callable[..., logging.LogRecord]) -> None:
        self.previous = previous

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: leave it to the handler
            return record
        scrubbed = scrub_log_text(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return record


def install_log_scrubbing() -> None:
    """Make every log record of this process scrub its message (once; installing twice changes nothing)."""
    previous = logging.getLogRecordFactory()
    if not isinstance(previous, _ScrubbingFactory):
        logging.setLogRecordFactory(_ScrubbingFactory(previous))

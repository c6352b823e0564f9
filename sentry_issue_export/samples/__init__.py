"""Bundled sample payloads: the issue and event JSON of realistic Sentry issues, for the demo and for tests.

Each sample is ``{"issue": ..., "event": ...}`` exactly as ``GET /api/0/organizations/acme/issues/{id}/`` and
``GET .../issues/{id}/events/latest/`` return them, quirks included (a string ``count``, nulls, ``_meta``, frames
oldest first, unknown entry types); some also hold ``tags`` and ``events``, the answers of ``.../tags/`` and
``.../events/`` (the issue's tags across all its events, and its recent events). Users can pin their own
templates against them. Most ship as JSON files next to this module; ``huge_event`` and ``deep_recursion`` are
expanded when loaded, because stored whole they would weigh megabytes.

Every call returns a fresh copy, so a caller may mutate what it gets.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from .huge import HUGE_ISSUE_ID, HUGE_SHORT_ID, huge_event_sample, huge_issue
from .recursion import deep_recursion_sample, recursion_issue

__all__ = [
    "SAMPLE_NAMES",
    "SAMPLE_ORG",
    "find_sample",
    "huge_event_sample",
    "load_sample",
    "sample_issue",
    "sample_names",
]

SAMPLE_ORG = "acme"
"""The organisation slug every sample belongs to."""

_HUGE = "huge_event"
_RECURSION = "deep_recursion"
_FILE_SAMPLES: tuple[str, ...] = (
    "python_chained_exception",
    "javascript_sourcemapped",
    "message_with_threads",
    "transaction_spans",
    "csp_report",
    "future_event_type",
)
SAMPLE_NAMES: tuple[str, ...] = (*_FILE_SAMPLES, _RECURSION, _HUGE)
"""Every sample, in a stable order: the JSON files first, then the expanded ``deep_recursion`` and ``huge_event``."""


def sample_names() -> tuple[str, ...]:
    return SAMPLE_NAMES


def load_sample(name: str) -> dict[str, Any]:
    """``{"issue": ..., "event": ..., "tags"?: ..., "events"?: ...}`` for the sample called ``name``; a fresh copy
    on every call."""
    _check_name(name)
    if name == _HUGE:
        return huge_event_sample()
    if name == _RECURSION:
        return deep_recursion_sample()
    return json.loads(_sample_text(name))  # parsing again is the cheapest deep copy


def sample_issue(name: str) -> dict[str, Any]:
    """Only the issue half of a sample: cheap even for ``huge_event``, whose event is generated."""
    _check_name(name)
    if name == _HUGE:
        return huge_issue()
    if name == _RECURSION:
        return recursion_issue()
    issue: dict[str, Any] = load_sample(name)["issue"]
    return issue


def find_sample(key: str) -> str | None:
    """The name of the sample whose name, issue id or short id is ``key`` (any case), or ``None``."""
    return _lookup_table().get(key.strip().lower())


def _check_name(name: str) -> None:
    if name not in SAMPLE_NAMES:
        raise ValueError(f"There is no sample called {name!r}. Valid sample names: {', '.join(SAMPLE_NAMES)}.")


@functools.cache
def _sample_text(name: str) -> str:
    return resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")


@functools.cache
def _lookup_table() -> dict[str, str]:
    table = {_HUGE: _HUGE, HUGE_ISSUE_ID: _HUGE, HUGE_SHORT_ID.lower(): _HUGE}
    for name in (*_FILE_SAMPLES, _RECURSION):
        issue = sample_issue(name)
        table.update({name: name, str(issue["id"]): name, str(issue["shortId"]).lower(): name})
    return table

"""The deep-recursion sample: a Python event of one function calling itself 180 times.

Captured from sentry-sdk 2.75 (``include_local_variables=True``) on a real ``RecursionError`` and written in the
shape Sentry's API returns it (``entries[]``, camelCase frames, context as line pairs). Every ``recurse`` frame
carries the same code context and the same 5,000-character string local, which is what makes such issues hard
to read. ``deep_recursion.json`` holds the event with one ``recurse`` frame; this module repeats that frame
with the ``depth`` local counting up, as the SDK sent it. Every call returns an equal, freshly built dict.
"""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any

RECURSION_FRAMES = 180
"""``recurse`` frames in the stack trace, besides the three frames that called it."""


@functools.cache
def _template_text() -> str:
    return resources.files(__package__).joinpath("deep_recursion.json").read_text(encoding="utf-8")


def recursion_issue() -> dict[str, Any]:
    issue: dict[str, Any] = json.loads(_template_text())["issue"]
    return issue


def deep_recursion_sample() -> dict[str, Any]:
    """``{"issue": ..., "event": ...}`` with the ``recurse`` frame repeated :data:`RECURSION_FRAMES` times."""
    sample: dict[str, Any] = json.loads(_template_text())
    (exception,) = [entry for entry in sample["event"]["entries"] if entry["type"] == "exception"]
    frames = exception["data"]["values"][-1]["stacktrace"]["frames"]
    template = frames.pop()
    for depth in range(RECURSION_FRAMES):
        frame = copy.deepcopy(template)
        frame["vars"]["depth"] = str(depth)
        frames.append(frame)
    return sample

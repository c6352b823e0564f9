"""Reading the text report in tests: its section headings, which an answer must keep however it is shortened."""

from __future__ import annotations

import itertools
import re

RULE = re.compile(r"-{20,}")
"""The rule under a heading: 80 dashes in the file, 20 at an answer's tightest step."""


def section_headings(report: str) -> list[str]:
    """Every section heading of a text report: a line of text over a rule of dashes, in order."""
    lines = report.splitlines()
    return [line for line, below in itertools.pairwise(lines) if RULE.fullmatch(below) and line.strip()]

"""Reading the text report in tests: its section headings, which an answer must keep however it is shortened."""

from __future__ import annotations

import itertools

RULE = "-" * 80


def section_headings(report: str) -> list[str]:
    """Every section heading of a text report: a line of text over an 80-character rule, in order."""
    lines = report.splitlines()
    return [line for line, below in itertools.pairwise(lines) if below == RULE and line.strip()]

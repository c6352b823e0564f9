"""Reading the text report in tests: its section headings, which an answer must keep however it is shortened."""

from __future__ import annotations

RULE = "-" * 80


def section_headings(report: str) -> list[str]:
    """Every section heading of a text report: a line of text over an 80-character rule, in order."""
    lines = report.splitlines()
    return [line for line, below in zip(lines, lines[1:], strict=False) if below == RULE and line.strip()]

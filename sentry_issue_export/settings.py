"""The one settings object every part of the exporter reads.

``config.py`` builds it from call arguments, the environment and the saved config file; tests and the Python API
may build it directly. It is frozen: derive a changed copy with ``attrs.evolve``.
"""

from __future__ import annotations

from pathlib import Path

import attrs

TIMEOUT_VARIABLE = "EXPORT_SENTRY_ISSUE_TIMEOUT"
DEFAULT_TIMEOUT = 30.0
MAX_TIMEOUT = 3600.0


def parse_timeout(text: str, where: str) -> float:
    """Seconds from ``text`` (``--timeout``, the environment), or ``ValueError`` with a sentence naming ``where``."""
    try:
        seconds = float(text.strip())
    except ValueError:
        raise ValueError(
            f"{where} must be a number of seconds, such as 30 or 2.5, not {text.strip()[:40]!r}."
        ) from None
    _check_timeout(seconds, where)
    return seconds


def _check_timeout(seconds: float, where: str = "The timeout") -> None:
    if not 0 < seconds <= MAX_TIMEOUT:  # also refuses NaN
        raise ValueError(f"{where} must be more than 0 and at most {MAX_TIMEOUT:g} seconds, not {seconds:g}.")


@attrs.frozen
class RenderLimits:
    """Caps that keep a report readable and bounded; every cut is announced in the report.

    The defaults are the saved file's. An answer to an assistant tightens them step by step
    (``answers.ANSWER_LADDER``) until it fits its budget.
    """

    max_frames: int = 100
    """Frames shown per stack trace; the newest (closest to the error) and the oldest are kept."""
    max_breadcrumbs: int = 200
    """Breadcrumbs shown; the newest are kept."""
    max_spans: int = 300
    """Spans shown; the earliest are kept (or the slowest, see ``spans_kept``)."""
    max_threads: int = 20
    """Threads shown; the crashed and the current one first."""
    max_images: int = 100
    """Debug images shown that the stack traces point into, in the order the frames reach them (the crashing
    frame's image first)."""
    max_other_images: int = 300
    """Debug images shown that no stack frame points into; the rest are counted."""
    max_value_chars: int = 2000
    """Longest single value (a variable, a header, a message) before it is cut."""
    max_vars: int = 25
    """Variables shown per frame."""
    max_depth: int = 6
    """Deepest nesting shown inside a value."""
    collapse_runs_of: int = 3
    """A run of at least this many identical frames (same file, module, function and line: recursion) shows
    only its first and last frame and a line counting the rest."""
    max_detail_frames: int = 30
    """Frames per stack trace that keep their code context and variables: the frame closest to the error
    first, then in-app frames from the newest, then the others; the rest are one line each."""
    max_context_lines: int = 20
    """Lines of code context shown on each side of a frame's executing line."""
    max_fields: int = 1000
    """Items shown per list of name-value pairs: tags, extra data, each context, headers, packages."""
    max_tag_keys: int = 100
    """Tag keys shown across all events (release, environment and browser first)."""
    max_tag_values: int = 10
    """Values shown per tag key across all events, the most frequent first (the rest are counted as others)."""
    max_activity: int = 30
    """Entries shown of the issue's activity (notes, regressions, assignments ...), newest kept."""
    max_recent_events: int = 100
    """Recent events listed, newest kept."""
    library_frame_details: bool = True
    """False shows frames outside the application (``in_app`` false) on one line, except the one closest to
    the error."""
    spans_kept: str = "earliest"
    """Which spans ``max_spans`` keeps: ``earliest``, or ``slowest`` (plus every top-level span)."""
    rule_width: int = 80
    """Width of the rules under the text format's headings; tight answers draw them shorter."""


@attrs.frozen
class Settings:
    """Everything an export needs. The token never appears in ``repr``."""

    base_url: str | None = None
    """Origin of the configured Sentry, e.g. ``https://sentry.io`` or ``https://sentry.example.com``."""
    org: str | None = None
    project: str | None = None
    token: str | None = attrs.field(default=None, repr=False)
    output_dir: Path = attrs.field(factory=Path.cwd, converter=Path)
    format: str = "text"
    templates_dir: Path | None = None
    source: str = "sentry"
    """Name of the registered source that fetches references: ``sentry``, ``bugsink``, ``samples``, ``file``."""
    detect_source: bool = False
    """True when nothing chose the source (no argument, variable or saved config): the exporter then asks the
    server what it is, once per process, and uses the source that knows it (a Bugsink, say)."""
    server: str | None = None
    """The server's kind when it is forced (``EXPORT_SENTRY_ISSUE_SERVER``): ``sentry``, ``glitchtip`` (the
    legacy routes from the first request) or ``bugsink``."""
    from_file: Path | None = None
    """For the ``file`` source: a saved debug dump to re-render."""
    debug: bool = False
    """Also write the redacted raw payloads beside the report as ``debug_issue_{id}.json``."""
    remove_pii: bool = False
    """Also remove personal data (email, IP address, username) from payloads."""
    max_concurrency: int | None = None
    """Requests in flight at once. ``None``: 8, raised to the limit a server advertises in
    ``X-Sentry-Rate-Limit-ConcurrentLimit`` (at most 32); a number is used as it is (``--concurrency N``)."""
    timeout: float = attrs.field(default=DEFAULT_TIMEOUT, validator=lambda _s, _a, value: _check_timeout(value))
    """Seconds one HTTP request may take, from connecting to its last byte (``--timeout``,
    ``EXPORT_SENTRY_ISSUE_TIMEOUT``); a retry gets as long again."""
    retries: int = 4
    """Extra attempts after a 429, 5xx, timeout or connection error."""
    max_response_bytes: int = 50 * 1024 * 1024
    tag_values: int = attrs.field(default=5, validator=attrs.validators.in_(range(0, 101)))
    """Top values asked for per tag key across all the issue's events; 0 asks for no tags at all."""
    recent_events: int = attrs.field(default=5, validator=attrs.validators.in_(range(0, 101)))
    """Recent events listed per issue (newest first); 0 asks for none."""
    limits: RenderLimits = attrs.field(factory=RenderLimits)

    @property
    def issue_wide(self) -> bool:
        """Whether an export asks for more than each issue and its event: its tags and recent events, and for an
        issue read from Sentry's issue index (which leaves them out) its activity and daily counts. Both sizes
        at 0 ask for none of it: an export then makes the requests it made before reports showed the whole
        issue, and shows what the issue's own answer holds."""
        return bool(self.tag_values or self.recent_events)

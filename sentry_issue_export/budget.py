"""Reports that fit a character budget: what an assistant reads, while the file keeps everything.

An assistant reads the tool's answer, not the file, and its client bounds that answer (Claude Code warns past
10,000 tokens). So the answer must fit a budget, by default 32,000 characters (about 10,000 tokens), and still
show every issue's header and every non-empty section. Cutting the text at a count would drop whole sections;
instead each issue is rendered with ever tighter limits, one step of :data:`ANSWER_LADDER` at a time, until it
fits: library frames on one line, code and variables for the frames nearest the error only, shorter values,
the newest breadcrumbs, the slowest spans, the crashed thread. Every cut is announced where it happens.

In a batch, each issue gets a fair share (max-min fairness): issues that need less than an equal share keep
their whole rendering, and what they leave goes to the larger ones. When even the tightest step cannot fit
every issue (hundreds of them), the first issues in the order given are shown and the rest are only listed.
Everything here is deterministic: the same reports and budget give the same answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from .hookspecs import Renderer
from .models import IssueReport, IssueSummary, apply_limits
from .settings import RenderLimits, Settings

DEFAULT_BUDGET = 32_000
"""Characters of report an answer may hold by default: about 10,000 tokens."""

ANSWER_LADDER: tuple[dict[str, Any], ...] = (
    {},
    {"library_frame_details": False},
    {"max_detail_frames": 10, "max_context_lines": 3},
    {"max_breadcrumbs": 50, "max_spans": 50, "spans_kept": "slowest", "max_threads": 3},
    {"max_value_chars": 500, "max_depth": 4, "max_vars": 20},
    {"max_frames": 30, "max_detail_frames": 5},
    {"max_breadcrumbs": 20, "max_spans": 20, "max_threads": 1},
    {"max_value_chars": 300},
    {"max_frames": 16, "max_detail_frames": 3, "max_context_lines": 2, "max_vars": 10},
    {"max_breadcrumbs": 10, "max_spans": 10},
    {"max_value_chars": 200, "max_depth": 3},
    {"max_fields": 50},
    {"max_frames": 8, "max_detail_frames": 1, "max_context_lines": 1, "max_vars": 5},
    {"max_value_chars": 120},
    {"max_breadcrumbs": 5, "max_spans": 5, "max_fields": 20},
    {"max_value_chars": 80, "max_depth": 2, "max_fields": 10},
    {
        "rule_width": 20,
        "max_frames": 5,
        "max_context_lines": 0,
        "max_vars": 3,
        "max_value_chars": 60,
        "max_breadcrumbs": 3,
        "max_spans": 3,
        "max_fields": 5,
        "max_depth": 1,
    },
    {"max_frames": 3, "max_vars": 2, "max_value_chars": 40, "max_breadcrumbs": 2, "max_spans": 2, "max_fields": 2},
)
"""The steps, each tightening the one before (and never looser than the file's limits). Step 0 is the file's
own rendering. The bulk goes first (library frames, code and variables of distant frames, old breadcrumbs,
fast spans, long values); the short lists that say most per character (tags, contexts, user) are cut last.
The last step still shows, for every non-empty section, its first items: the frame closest to the error with
its line and a few variables, the newest breadcrumbs, two of every list."""

FILE_OVERHEAD = 200
"""Characters reserved for what the file template adds around several issues (contents, banners)."""
PER_ISSUE_OVERHEAD = 150


def answer_ladder(file_limits: RenderLimits) -> tuple[RenderLimits, ...]:
    """The ladder's steps as limits, starting from (and never looser than) ``file_limits``."""
    steps = [file_limits]
    for step in ANSWER_LADDER[1:]:
        previous = steps[-1]
        changes: dict[str, Any] = {}
        for name, value in step.items():
            current = getattr(previous, name)
            if isinstance(value, bool):
                changes[name] = current and value
            elif isinstance(value, int):
                changes[name] = min(current, value)
            else:
                changes[name] = value
        steps.append(attrs.evolve(previous, **changes))
    return tuple(steps)


@attrs.frozen
class FittedAnswer:
    """The reports as they fit the budget.

    ``content`` is the rendered text; ``shortened`` has one line per issue that was shortened, saying what was
    cut; ``omitted`` are the issues left out of ``content`` entirely (only listed), for a budget that cannot
    hold them all.
    """

    content: str
    shortened: tuple[str, ...] = ()
    omitted: tuple[IssueSummary, ...] = ()


def fit_reports(
    reports: Sequence[IssueReport],
    renderer: Renderer,
    settings: Settings,
    budget: int = DEFAULT_BUDGET,
    *,
    unheld: Sequence[IssueSummary] = (),
) -> FittedAnswer:
    """Render ``reports`` in ``renderer``'s format within ``budget`` characters, shrinking by the ladder.

    ``unheld`` are the issues after ``reports`` whose reports were not kept (see :class:`AnswerKeeper`): they
    are listed as omitted."""
    from .exporter import render_capped

    ladder = answer_ladder(settings.limits)
    render = lambda capped: render_capped(capped, renderer, settings)  # noqa: E731
    fitter = _Fitter(list(reports), ladder, render, several=len(reports) + len(unheld) > 1)
    fitted = fitter.fit(max(budget, 0))
    return attrs.evolve(fitted, omitted=fitted.omitted + tuple(unheld)) if unheld else fitted


class AnswerKeeper:
    """The reports an answer of ``budget`` characters could show, chosen as they arrive, in any order.

    An answer shows the leading issues in the order given, as many as fit at the ladder's tightest step, and
    lists the rest. A report is kept while the kept reports before it leave room in the budget; the others
    are dropped at once. So an export of thousands of issues holds a bounded number of reports for its
    answer, and the answer is the same as if every report had been kept.
    """

    def __init__(self, renderer: Renderer, settings: Settings, budget: int) -> None:
        from .exporter import render_capped

        tightest = answer_ladder(settings.limits)[-1]
        self._size = lambda report: len(render_capped([apply_limits(report, tightest)], renderer, settings))
        self._budget = max(budget, 0)
        self._kept: dict[int, tuple[IssueReport, int]] = {}
        self._cutoff: int | None = None
        """No report after this position can be shown."""

    def offer(self, position: int, report: IssueReport) -> None:
        if self._cutoff is not None and position > self._cutoff:
            return
        self._kept[position] = (report, self._size(report))
        used = 0
        for kept in sorted(self._kept):
            if used >= self._budget and kept != min(self._kept):
                self._cutoff = kept - 1
                for dropped in [p for p in self._kept if p >= kept]:
                    del self._kept[dropped]
                break
            used += self._kept[kept][1]

    def kept(self) -> tuple[IssueReport, ...]:
        return tuple(self._kept[position][0] for position in sorted(self._kept))


class _Fitter:
    """One fitting: renders each issue at each step at most once."""

    def __init__(
        self, reports: list[IssueReport], ladder: tuple[RenderLimits, ...], render: Any, *, several: bool
    ) -> None:
        self.several = several
        """Whether the export holds more than one issue (the file template then adds contents and banners)."""
        self.reports = reports
        self.ladder = ladder
        self.render = render
        self._sizes: dict[tuple[int, int], int] = {}
        self._capped: dict[tuple[int, int], IssueReport] = {}

    def capped(self, issue: int, step: int) -> IssueReport:
        key = (issue, step)
        if key not in self._capped:
            self._capped[key] = apply_limits(self.reports[issue], self.ladder[step])
        return self._capped[key]

    def size(self, issue: int, step: int) -> int:
        key = (issue, step)
        if key not in self._sizes:
            self._sizes[key] = len(self.render([self.capped(issue, step)]))
        return self._sizes[key]

    def fit(self, budget: int) -> FittedAnswer:
        last = len(self.ladder) - 1
        # What the file template adds: a heading, then a line of contents and a banner per issue shown.
        per_issue = PER_ISSUE_OVERHEAD if self.several else 0
        room = budget - (FILE_OVERHEAD if self.several else 0)
        # The issues that fit at all: in the order given, while even their tightest renderings fit.
        shown: list[int] = []
        for issue in range(len(self.reports)):
            need = self.size(issue, last) + per_issue
            if shown and need > room:
                break
            shown.append(issue)
            room -= need
        overhead = (FILE_OVERHEAD + per_issue * len(shown)) if self.several else 0
        steps = self._steps(shown, budget - overhead)
        text = self.render([self.capped(issue, steps[issue]) for issue in shown])
        # The template's own overhead was estimated; tighten the largest issue until the whole fits.
        while len(text) > budget:
            loosest = [issue for issue in shown if steps[issue] < last]
            if loosest:
                largest = max(loosest, key=lambda issue: (self.size(issue, steps[issue]), -issue))
                steps[largest] += 1
            elif len(shown) > 1:
                shown.pop()
            else:
                break  # one issue at the tightest step: it is as small as an answer that keeps every section gets
            text = self.render([self.capped(issue, steps[issue]) for issue in shown])
        omitted = tuple(IssueSummary.of(self.reports[issue]) for issue in range(len(shown), len(self.reports)))
        shortened = tuple(note for issue in shown if steps[issue] and (note := self._shortened(issue, steps[issue])))
        return FittedAnswer(text, shortened, omitted)

    def _steps(self, shown: list[int], room: int) -> dict[int, int]:
        """The loosest step of each shown issue that fits its fair share of ``room``."""
        shares = fair_shares({issue: self.size(issue, 0) for issue in shown}, room)
        return {issue: self._loosest_within(issue, shares[issue]) for issue in shown}

    def _loosest_within(self, issue: int, share: float) -> int:
        """The first step whose rendering fits ``share``; the last step when none does.

        The steps are tried in order: a step usually shrinks the rendering, but not always (the line that
        announces a cut can be longer than what it cut), so halving could skip a step that fits.
        """
        last = len(self.ladder) - 1
        return next((step for step in range(last) if self.size(issue, step) <= share), last)

    def _shortened(self, issue: int, step: int) -> str:
        """What the answer leaves out of one issue, compared with the file."""
        full, short = self.capped(issue, 0), self.capped(issue, step)
        name = full.issue.short_id or full.issue.id or full.ref_text or "?"
        cuts = describe_cuts(full, short)
        return f"{name}: {'; '.join(cuts)}" if cuts else ""


def fair_shares(sizes: dict[int, int], room: float) -> dict[int, float]:
    """Max-min fair shares of ``room``: an issue needing less than an equal share gets what it needs, and the
    rest is shared out again among the others."""
    shares: dict[int, float] = {}
    waiting = dict(sizes)
    while waiting:
        share = room / len(waiting)
        modest = {issue: size for issue, size in waiting.items() if size <= share}
        if not modest:
            shares.update(dict.fromkeys(waiting, share))
            break
        for issue, size in modest.items():
            shares[issue] = size
            room -= size
            del waiting[issue]
    return shares


def describe_cuts(full: IssueReport, short: IssueReport) -> list[str]:
    """Each kind of content ``short`` shows less of than ``full``, as ``"breadcrumbs: 10 of 1,000"``."""
    cuts: list[str] = []
    if full.event is None or short.event is None:
        return cuts
    limits = short.limits or RenderLimits()
    full_limits = full.limits or RenderLimits()

    def counted(label: str, shown: int, total: int) -> None:
        if shown < total:
            cuts.append(f"{label} {shown:,} of {total:,}")

    full_frames = [_frames(exc.stacktrace) for exc in full.event.exceptions]
    short_frames = [_frames(exc.stacktrace) for exc in short.event.exceptions]
    counted("stack frames", sum(shown for shown, _, _ in short_frames), sum(shown for shown, _, _ in full_frames))
    detailed = sum(with_details for _, with_details, _ in short_frames)
    if any(left_out for _, _, left_out in short_frames) and detailed < sum(n for _, n, _ in full_frames):
        cuts.append(f"code and variables for {detailed:,} frames only")
    counted("breadcrumbs (newest kept)", len(short.event.breadcrumbs), len(full.event.breadcrumbs))
    spans_label = "spans (top level and slowest kept)" if limits.spans_kept == "slowest" else "spans"
    counted(spans_label, len(short.event.spans), len(full.event.spans))
    counted("threads (crashed first)", len(short.event.threads), len(full.event.threads))
    if limits.max_value_chars < full_limits.max_value_chars:
        cuts.append(f"values cut at {limits.max_value_chars:,} characters")
    if limits.max_fields < full_limits.max_fields and _has_long_lists(full, limits.max_fields):
        cuts.append(f"at most {limits.max_fields:,} tags, extra fields, headers or packages per list")
    return cuts


def _frames(stacktrace: Any) -> tuple[int, int, int]:
    """(frames shown, frames with details, frames whose details were left out) of one stack trace."""
    if stacktrace is None:
        return (0, 0, 0)
    shown = len(stacktrace.frames) + sum(frame.repeats_omitted for frame in stacktrace.frames)
    detailed = sum(1 for frame in stacktrace.frames if frame.context or frame.vars)
    return (shown, detailed, stacktrace.details_omitted)


def _has_long_lists(report: IssueReport, max_fields: int) -> bool:
    event = report.event
    if event is None:
        return False
    lists = [event.tags, event.extra, event.packages, *(context.fields for context in event.contexts)]
    if event.request is not None:
        lists += [event.request.headers, event.request.query, event.request.cookies, event.request.env]
    return any(len(items) > max_fields for items in lists)

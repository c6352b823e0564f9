"""Answers that fit a character budget: what an assistant reads, while the file keeps everything.

An assistant reads the tool's answer, not the file, and its client bounds that answer (Claude Code warns past
10,000 tokens). So an answer must fit a budget, by default 32,000 characters (about 10,000 tokens), and still
say what matters most. It is built in this order, each part only when the ones before it fit:

1. the caller's head (what was exported, failures, where the file is);
2. one headline line per issue (id, level, events, users, last seen, the last day's trend, title), so a
   search for 30 issues shows all 30 before any detail; when even these do not fit, as many as fit and a
   count of the rest;
3. the issues in detail, in the order given, each with every non-empty section. Cutting the text at a count
   would drop whole sections; instead each issue is rendered with ever tighter limits, one step of
   :data:`ANSWER_LADDER` at a time: library frames on one line, code and variables for the frames nearest
   the error only, shorter values, the newest breadcrumbs, the slowest spans. What an issue says across all
   its events (trend, tag shares, releases, activity) is cut last. Every cut is announced where it happens.

When not even the head and the headlines' heading fit, the answer is one line of bounded size saying how many
issues went to which file (:func:`no_room`); a front end keeps its head within half the budget, and refuses a
budget under :data:`MIN_BUDGET`, so that line is a last resort.

Sizes are counted in UTF-16 code units, as the JavaScript clients that enforce these limits count them (an
emoji is two). Every rendering is measured once; the answer is put together from those measurements, so it
fits by construction rather than by trying and trimming. In a batch each issue gets a fair share (max-min
fairness) of the room its tightest rendering leaves. Everything here is deterministic.

The exporter knows nothing of this: a front end passes :meth:`AnswerKeeper.offer` as the export's
``on_report``, so only the reports an answer could show are kept while thousands stream past.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from .hookspecs import Renderer
from .models import IssueReport, IssueSummary, apply_limits
from .renderers.formatting import plural
from .renderers.overview import headline
from .rendering import render_part
from .settings import RenderLimits, Settings

DEFAULT_BUDGET = 32_000
"""Characters (UTF-16 units) an answer may hold by default: about 10,000 tokens."""

MIN_BUDGET = 1_000
"""The smallest budget a front end accepts (0 aside, which means none): room for a head that says what was
exported and where the file is, or else for the one line that says the answer holds no more."""

WHERE_CHARS = 240
"""The most units the name of the file (``where``) takes in any line of an answer; a longer path is cut in its
middle, keeping its start and its file name."""

HEADLINE_CHARS = 400
"""The most units one headline line takes, whatever the server sent."""

ELLIPSIS = "…"

ANSWER_LADDER: tuple[dict[str, Any], ...] = (
    {},
    {"library_frame_details": False},
    {"max_detail_frames": 10, "max_context_lines": 3},
    {"max_breadcrumbs": 50, "max_spans": 50, "spans_kept": "slowest", "max_threads": 3},
    {"max_value_chars": 500, "max_depth": 4, "max_vars": 20},
    {"max_frames": 30, "max_detail_frames": 5},
    {"max_breadcrumbs": 20, "max_spans": 20, "max_threads": 1},
    {"max_value_chars": 300, "max_activity": 10, "max_recent_events": 5},
    {"max_frames": 16, "max_detail_frames": 3, "max_context_lines": 2, "max_vars": 10},
    {"max_breadcrumbs": 10, "max_spans": 10},
    {"max_value_chars": 200, "max_depth": 3, "max_tag_values": 5},
    {"max_fields": 50},
    {"max_frames": 8, "max_detail_frames": 1, "max_context_lines": 1, "max_vars": 5},
    {"max_value_chars": 120, "max_activity": 5, "max_recent_events": 3},
    {"max_breadcrumbs": 5, "max_spans": 5, "max_fields": 20, "max_tag_values": 3},
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
        "max_activity": 3,
        "max_tag_keys": 8,
    },
    {
        "max_frames": 3,
        "max_vars": 2,
        "max_value_chars": 40,
        "max_breadcrumbs": 2,
        "max_spans": 2,
        "max_fields": 2,
        "max_tag_values": 2,
        "max_recent_events": 2,
    },
)
"""The steps, each tightening the one before (and never looser than the file's limits). Step 0 is the file's
own rendering. The bulk goes first (library frames, code and variables of distant frames, old breadcrumbs,
fast spans, long values); what the issue says across all its events (trend, tag shares, releases, activity,
recent events) and the short lists that say most per character (tags, contexts, user) are cut last. The last
step still shows, for every non-empty section, its first items: the frame closest to the error with its line
and a few variables, the newest breadcrumbs, two of every list."""

DEBUG_IMAGE_CUTS: dict[int, dict[str, int]] = {
    1: {"max_other_images": 20},
    3: {"max_other_images": 0},
    12: {"max_images": 30},
    16: {"max_images": 10},
    17: {"max_images": 5},
}
"""Where the ladder cuts a native event's debug images, by step: the images no frame points into go early (a
line counts them), the ones the frames point into stay until the tightest steps, ranked as the crashing frames
reach them, so an answer keeps the image of every frame it still shows."""
ANSWER_LADDER = tuple({**step, **DEBUG_IMAGE_CUTS.get(number, {})} for number, step in enumerate(ANSWER_LADDER))

CONTENT_HEADING = "=== Issue Content ==="
PART_SEPARATOR = "\n"
"""Between two issues' parts, each of which ends its last line: a blank line."""


def size(text: str) -> int:
    """How long ``text`` is for a client that counts UTF-16 code units (JavaScript's ``length``)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def shorten(text: str, limit: int) -> str:
    """``text`` when it fits ``limit`` units, else its start and an ellipsis, ``limit`` units in all."""
    if size(text) <= limit:
        return text
    return _prefix(text, limit - size(ELLIPSIS)) + ELLIPSIS if limit >= size(ELLIPSIS) else ""


def shorten_middle(text: str, limit: int) -> str:
    """``text`` when it fits ``limit`` units, else its start, an ellipsis and its end (a third and two thirds of
    the room): a path keeps its first folders and its file name."""
    if size(text) <= limit:
        return text
    room = limit - size(ELLIPSIS)
    if room < 2:
        return shorten(text, limit)
    start = _prefix(text, room // 3)
    end = _prefix(text[::-1], room - size(start))[::-1]
    return start + ELLIPSIS + end


def _prefix(text: str, limit: int) -> str:
    """The longest start of ``text`` within ``limit`` units; never half a surrogate pair, since it cuts between
    code points."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


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
    """An answer and how much of the export it shows.

    ``text`` holds the head, then ``listed`` headline lines (of ``total`` issues), then ``detailed`` issues
    in detail; ``shortened`` has one line per detailed issue that the answer shows less of than the file.
    """

    text: str
    total: int
    listed: int
    detailed: int
    shortened: tuple[str, ...] = ()


def no_room(total: int, where: str, budget: int) -> str:
    """The whole answer when the budget holds no more than one line: how many issues went where. Its size is
    bounded (``where`` is cut at :data:`WHERE_CHARS`), well within :data:`MIN_BUDGET`."""
    issues = f"{total:,} issue{'' if total == 1 else 's'}"
    line = (
        f"{issues} exported to {shorten_middle(where, WHERE_CHARS)}; the answer budget ({budget:,} characters) "
        "holds no more: read the file."
    )
    return shorten(line, budget)


def fit_answer(
    head: str,
    summaries: Sequence[IssueSummary],
    reports: Sequence[IssueReport],
    renderer: Renderer,
    settings: Settings,
    budget: int = DEFAULT_BUDGET,
    *,
    where: str = "the saved report",
) -> FittedAnswer:
    """The answer to an export of ``summaries`` (every exported issue, in order) within ``budget`` units.

    ``reports`` are the full reports of the first issues (a prefix of ``summaries``: the ones an
    :class:`AnswerKeeper` kept, or all of them); only those can be shown in detail. ``where`` names the file
    that has everything, for the lines that say what the answer leaves out.

    The answer never passes ``budget``: when the head and the headlines' heading leave no room, it is the one
    line of :func:`no_room` instead.
    """
    budget = max(budget, 0)
    where = shorten_middle(where, WHERE_CHARS)
    fitted = _fit(head, summaries, reports, renderer, settings, budget, where)
    if size(fitted.text) <= budget:
        return fitted
    return FittedAnswer(no_room(len(summaries), where, budget), len(summaries), 0, 0)


def _fit(
    head: str,
    summaries: Sequence[IssueSummary],
    reports: Sequence[IssueReport],
    renderer: Renderer,
    settings: Settings,
    budget: int,
    where: str,
) -> FittedAnswer:
    """The answer as :func:`fit_answer` puts it together, which may pass ``budget`` only when the head (and the
    headlines' heading) alone do."""
    pieces = [head] if head else []
    used = size(head)
    several = len(summaries) > 1
    listed = len(summaries)
    if several:
        listed, lines = _headlines(summaries, budget - used - 2 * len(pieces))
        pieces.append("\n".join(lines))
        used += size(pieces[-1]) + (2 if len(pieces) > 1 else 0)
    if listed < len(summaries) or not reports:
        return FittedAnswer("\n\n".join(pieces), len(summaries), listed, 0)

    fitter = _Fitter(list(reports[: len(summaries)]), answer_ladder(settings.limits), renderer, settings)
    fixed = used + 2 * bool(pieces) + size(CONTENT_HEADING) + 1
    # The lines about what is left out: at most an intro and a heading (notes are counted in each issue's cost).
    notes_room = size(_intro(len(summaries), len(summaries) + 1, True)) + size(_shortened_heading(where)) + 3
    shown, steps = fitter.choose(budget - fixed - notes_room)
    if not shown:
        nothing = _no_details(where)
        if used + 2 + size(nothing) <= budget:
            pieces.append(nothing)
        return FittedAnswer("\n\n".join(pieces), len(summaries), listed, 0)
    notes = [note for issue in shown if (note := fitter.note(issue, steps[issue]))]
    lines = [_intro(len(shown), len(summaries), several)] if len(shown) < len(summaries) else []
    if notes:
        lines += [_shortened_heading(where), *(f"- {note}" for note in notes)]
    if lines:
        pieces.append("\n".join(lines))
    parts = [fitter.part(issue, steps[issue]) for issue in shown]
    pieces.append(CONTENT_HEADING + "\n" + PART_SEPARATOR.join(parts))
    return FittedAnswer("\n\n".join(pieces), len(summaries), listed, len(shown), tuple(notes))


def _headlines(summaries: Sequence[IssueSummary], room: int) -> tuple[int, list[str]]:
    """The heading and as many headline lines as fit in ``room``, and how many that is; when not all fit, the
    last line counts the rest."""
    heading = f"Issues ({len(summaries):,}), one line each: id, level, events, users, last seen, trend, title:"
    lines = [heading]
    used = size(heading)
    for number, summary in enumerate(summaries, 1):
        line = shorten(headline(summary, number), HEADLINE_CHARS)
        rest = len(summaries) - number
        reserve = size(_rest_line(rest)) + 1 if rest else 0
        if used + 1 + size(line) + reserve > room:
            lines.append(_rest_line(len(summaries) - number + 1))
            return number - 1, lines
        lines.append(line)
        used += 1 + size(line)
    return len(summaries), lines


def _rest_line(rest: int) -> str:
    return f"… and {rest:,} more issue{'' if rest == 1 else 's'}, listed only in the file."


def _intro(shown: int, total: int, several: bool) -> str:
    if not several or shown >= total:
        return ""
    first = "issue 1" if shown == 1 else f"issues 1–{shown:,}"
    return f"Details below for {first} of {total:,}; the others are in the headlines above and in the file."


def _no_details(where: str) -> str:
    return f"No issue fits this answer in detail, even shortened; {where} has every one."


def _shortened_heading(where: str) -> str:
    return f"Shortened to fit this answer; {where} has everything:"


class AnswerKeeper:
    """The reports an answer of ``budget`` units could show in detail, kept as they arrive, in any order.

    An answer shows the leading issues in the order given, as many as fit at the ladder's tightest step. A
    report is kept while the kept reports before it leave room in the budget; the others are dropped at once.
    So an export of thousands of issues holds a bounded number of reports for its answer, and the answer is
    the same as if every report had been kept. Pass :meth:`offer` as the export's ``on_report``.
    """

    def __init__(self, renderer: Renderer, settings: Settings, budget: int = DEFAULT_BUDGET) -> None:
        tightest = answer_ladder(settings.limits)[-1]
        self._size = lambda report: size(render_part(apply_limits(report, tightest), renderer, settings))
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
    """One fitting: renders each issue at each step at most once, and measures it."""

    def __init__(
        self, reports: list[IssueReport], ladder: tuple[RenderLimits, ...], renderer: Renderer, settings: Settings
    ) -> None:
        self.reports = reports
        self.ladder = ladder
        self.renderer = renderer
        self.settings = settings
        self._capped: dict[tuple[int, int], IssueReport] = {}
        self._parts: dict[tuple[int, int], str] = {}
        self._notes: dict[tuple[int, int], str] = {}

    @property
    def last(self) -> int:
        return len(self.ladder) - 1

    def capped(self, issue: int, step: int) -> IssueReport:
        key = (issue, step)
        if key not in self._capped:
            self._capped[key] = apply_limits(self.reports[issue], self.ladder[step])
        return self._capped[key]

    def part(self, issue: int, step: int) -> str:
        key = (issue, step)
        if key not in self._parts:
            text = render_part(self.capped(issue, step), self.renderer, self.settings)
            self._parts[key] = text if text.endswith("\n") else text + "\n"
        return self._parts[key]

    def note(self, issue: int, step: int) -> str:
        """What the answer leaves out of one issue at ``step``, compared with the file; ``""`` for nothing."""
        key = (issue, step)
        if key not in self._notes:
            full, short = self.capped(issue, 0), self.capped(issue, step)
            cuts = describe_cuts(full, short) if step else []
            self._notes[key] = f"{full.name}: {'; '.join(cuts)}" if cuts else ""
        return self._notes[key]

    def cost(self, issue: int, step: int) -> int:
        """What showing ``issue`` at ``step`` adds to the answer: its part, the separator, its note line."""
        note = self.note(issue, step)
        return size(self.part(issue, step)) + size(PART_SEPARATOR) + (size(note) + 3 if note else 0)

    def choose(self, room: int) -> tuple[list[int], dict[int, int]]:
        """The issues shown (the leading ones whose tightest renderings fit) and each one's step: the loosest
        that fits its tightest cost plus a max-min fair share of what the tightest renderings leave."""
        shown: list[int] = []
        floor: dict[int, int] = {}
        left = room
        for issue in range(len(self.reports)):
            need = self.cost(issue, self.last)
            if need > left:
                break
            shown.append(issue)
            floor[issue] = need
            left -= need
        extra = fair_shares({issue: max(self.cost(issue, 0) - floor[issue], 0) for issue in shown}, left)
        steps = {issue: self._loosest_within(issue, floor[issue] + extra[issue]) for issue in shown}
        self._spend_rest(steps, room - sum(self.cost(issue, step) for issue, step in steps.items()))
        return shown, steps

    def _spend_rest(self, steps: dict[int, int], rest: int) -> None:
        """Loosen issues one step at a time, the smallest first, while what the shares left over allows: the
        shares are cut at step boundaries, so some room is always left."""
        while True:
            candidates = [
                (self.cost(issue, step), issue, looser)
                for issue, step in steps.items()
                for looser in [self._loosest_within(issue, self.cost(issue, step) + rest)]
                if looser < step
            ]
            if not candidates:
                return
            _, issue, looser = min(candidates)
            rest -= self.cost(issue, looser) - self.cost(issue, steps[issue])
            steps[issue] = looser

    def _loosest_within(self, issue: int, room: float) -> int:
        """The first step whose cost fits ``room``; the last step when none does.

        The steps are tried in order: a step usually shrinks the rendering, but not always (the line that
        announces a cut can be longer than what it cut), so halving could skip a step that fits.
        """
        return next((step for step in range(self.last) if self.cost(issue, step) <= room), self.last)


def fair_shares(sizes: dict[int, int], room: float) -> dict[int, float]:
    """Max-min fair shares of ``room``: an issue needing less than an equal share gets what it needs, and the
    rest is shared out again among the others."""
    shares: dict[int, float] = {}
    waiting = dict(sizes)
    while waiting:
        share = room / len(waiting)
        modest = {issue: need for issue, need in waiting.items() if need <= share}
        if not modest:
            shares.update(dict.fromkeys(waiting, share))
            break
        for issue, need in modest.items():
            shares[issue] = need
            room -= need
            del waiting[issue]
    return shares


def describe_cuts(full: IssueReport, short: IssueReport) -> list[str]:
    """Each kind of content ``short`` shows less of than ``full``, as ``"breadcrumbs: 10 of 1,000"``."""
    cuts: list[str] = []
    limits = short.limits or RenderLimits()
    full_limits = full.limits or RenderLimits()

    def counted(label: str, shown: int, total: int) -> None:
        if shown < total:
            cuts.append(f"{label} {shown:,} of {total:,}")

    overview, full_overview = short.overview, full.overview
    counted("tag keys", len(overview.tags), len(full_overview.tags))
    shown_values = sum(len(tag.values) for tag in overview.tags)
    counted("tag values", shown_values, sum(len(tag.values) for tag in full_overview.tags[: len(overview.tags)]))
    counted("activity entries", len(overview.activity), len(full_overview.activity))
    counted("recent events", len(overview.recent_events), len(full_overview.recent_events))
    if full.event is not None and short.event is not None:
        full_frames = [_frames(exc.stacktrace) for exc in full.event.exceptions]
        short_frames = [_frames(exc.stacktrace) for exc in short.event.exceptions]
        counted("stack frames", sum(shown for shown, _, _ in short_frames), sum(shown for shown, _, _ in full_frames))
        detailed = sum(with_details for _, with_details, _ in short_frames)
        if any(left_out for _, _, left_out in short_frames) and detailed < sum(n for _, n, _ in full_frames):
            cuts.append(f"code and variables for {plural(detailed, 'frame')} only")
        counted("breadcrumbs (newest kept)", len(short.event.breadcrumbs), len(full.event.breadcrumbs))
        spans_label = "spans (top level and slowest kept)" if limits.spans_kept == "slowest" else "spans"
        counted(spans_label, len(short.event.spans), len(full.event.spans))
        counted("threads (crashed first)", len(short.event.threads), len(full.event.threads))
        counted("debug images (those the frames point into first)", len(short.event.images), len(full.event.images))
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

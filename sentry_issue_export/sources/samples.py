"""The ``samples`` source: serves the bundled sample issues, so the demo needs no Sentry account or network.

A reference matches a sample by its issue id, its short id or its sample name, in any case. Samples only have
their latest event; a reference naming another event id fails like Sentry's 404 would.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Sequence

from ..errors import NotFoundError
from ..hookspecs import BaseSource, FetchFailure, RawIssue, Source, hookimpl
from ..refs import EVENT_KEYWORDS, IssueRef
from ..samples import SAMPLE_NAMES, SAMPLE_ORG, find_sample, load_sample, sample_issue
from ..settings import Settings


class SamplesSource(BaseSource):
    name = "samples"
    description = "Bundled sample issues (the demo): no account, token or network needed."
    needs_credentials = False

    def default_refs(self, settings: Settings) -> Sequence[IssueRef]:
        """Every sample but the stress-test one, which is exported only when named (``huge_event``)."""
        return [
            IssueRef(issue_id=str(sample_issue(name)["id"]), org=SAMPLE_ORG, text=name)
            for name in SAMPLE_NAMES
            if name != "huge_event"
        ]

    def ref_from_word(self, word: str) -> IssueRef | None:
        """A sample name typed where a reference goes (``csp_report``), which the reference parser would refuse."""
        name = find_sample(word)
        return None if name is None else IssueRef(issue_id=str(sample_issue(name)["id"]), org=SAMPLE_ORG, text=word)

    async def fetch(self, refs: Sequence[IssueRef], settings: Settings) -> AsyncIterator[RawIssue | FetchFailure]:
        for ref in refs:
            yield fetch_sample(ref, settings)


def fetch_sample(ref: IssueRef, settings: Settings | None = None) -> RawIssue | FetchFailure:
    """The sample ``ref`` names, or a ``FetchFailure`` that lists the samples there are.

    Its tags and recent events are cut to what ``settings`` asks for, as a server would answer."""
    name = find_sample(ref.issue_id)
    if name is None:
        return FetchFailure(ref, NotFoundError(f"No bundled sample matches {str(ref)!r}. {_available()}"))
    sample = load_sample(name)
    event = sample["event"]
    if ref.event_id and ref.event_id.lower() not in EVENT_KEYWORDS and ref.event_id.lower() != event["id"]:
        return FetchFailure(
            ref,
            NotFoundError(
                f"Sample {name} has no event {ref.event_id}; its only event is {event['id']}. "
                "Leave the event id out to get it."
            ),
        )
    settings = settings or Settings()
    tags = sample.get("tags") if settings.tag_values else None
    if tags is not None:
        tags = [{**tag, "topValues": tag.get("topValues", [])[: settings.tag_values]} for tag in tags]
    listed = sample.get("events")
    events = listed[: settings.recent_events] if isinstance(listed, list) and settings.recent_events else None
    return RawIssue(ref, sample["issue"], event, tags, events)


@functools.cache
def _available() -> str:
    listed = ", ".join(f"{name} ({sample_issue(name)['shortId']})" for name in SAMPLE_NAMES)
    return f"Use a sample name, issue id or short id; the samples are: {listed}."


@hookimpl
def register_sources(register: Callable[[Source], None]) -> None:
    register(SamplesSource())

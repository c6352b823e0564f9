"""No planted secret reaches any output: report files of every renderer, returned content, or debug dumps.

The payloads travel the real way: served by the fake Sentry over a socket, fetched, redacted, modelled,
rendered and written. A fuzz test plants random secrets in random places of a real sample and checks every
renderer's output.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentry_issue_export import BaseSource, RawIssue, Settings, export_issues_sync, hookimpl
from sentry_issue_export.plugins import build_registry, make_plugin_manager
from sentry_issue_export.samples import load_sample
from tests.fake_sentry import ORG, TOKEN, FakeSentry
from tests.secrets_fixture import planted_secrets_event, planted_secrets_issue
from tests.strategies import PLANTINGS, secrets, sensitive_names

FORMATS = ["text", "markdown", "json"]


@pytest.mark.parametrize("remove_pii", [False, True])
@pytest.mark.parametrize("fmt", FORMATS)
def test_planted_secrets_never_reach_a_report_or_a_debug_dump(fmt: str, remove_pii: bool, registry, tmp_path):
    event, event_secrets = planted_secrets_event()
    issue, issue_secrets = planted_secrets_issue()
    with FakeSentry() as fake:
        issue_id = fake.add_issue(issue, event)
        settings = Settings(
            base_url=fake.url, org=ORG, token=TOKEN, output_dir=tmp_path, format=fmt, debug=True, remove_pii=remove_pii
        )
        result = export_issues_sync(issue_id, settings, registry=registry)

    assert result.failures == ()
    assert result.path is not None and len(result.debug_paths) == 1
    outputs = {
        "content": result.content,
        "report": result.path.read_text(encoding="utf-8"),
        "debug dump": result.debug_paths[0].read_text(encoding="utf-8"),
    }
    for where, text in outputs.items():
        leaked = [secret for secret in event_secrets + issue_secrets if secret in text]
        assert leaked == [], f"{where} leaks {leaked}"
        assert TOKEN not in text
    assert "[Filtered]" in outputs["report"]


class OneIssueSource(BaseSource):
    """Serves exactly one payload pair: the fuzz test's planted event."""

    name = "planted"
    description = "test payload"
    needs_credentials = False

    def __init__(self) -> None:
        self.issue: dict[str, Any] = {}
        self.event: dict[str, Any] = {}

    async def fetch(self, refs, settings):
        for ref in refs:
            yield RawIssue(ref, self.issue, self.event)


PLANTED = OneIssueSource()


class PlantedPlugin:
    @hookimpl
    def register_sources(self, register):
        register(PLANTED)


FUZZ_REGISTRY = build_registry(*make_plugin_manager(load_entrypoints=False, extra_plugins=[PlantedPlugin()]))
BASE = load_sample("python_chained_exception")


def plant(event: dict[str, Any], where: str, value: Any) -> None:
    """Put ``value`` in one of the places Sentry keeps free-form data."""
    entries = {entry["type"]: entry["data"] for entry in event["entries"]}
    if where == "frame vars":
        entries["exception"]["values"][-1]["stacktrace"]["frames"][-1]["vars"]["planted"] = value
    elif where == "extra":
        event["context"]["planted"] = value
    elif where == "contexts":
        event["contexts"]["planted"] = {"type": "default", "value": value}
    elif where == "breadcrumb data":
        entries["breadcrumbs"]["values"][-1]["data"] = {"planted": value}
    elif where == "request body":
        entries["request"]["data"] = {"planted": value}
    elif where == "tag":
        event["tags"].append({"key": "planted", "value": value if isinstance(value, str) else repr(value)})
    elif where == "user data":
        event["user"] = {**(event.get("user") or {}), "data": {"planted": value}}


@given(
    name=sensitive_names,
    secret=secrets,
    planting=st.sampled_from(sorted(PLANTINGS)),
    where=st.sampled_from(["frame vars", "extra", "contexts", "breadcrumb data", "request body", "tag", "user data"]),
    fmt=st.sampled_from(FORMATS),
)
def test_fuzz_planted_secrets_never_reach_any_renderer(name, secret, planting, where, fmt):
    event = copy.deepcopy(BASE["event"])
    plant(event, where, PLANTINGS[planting](name, secret))
    PLANTED.issue, PLANTED.event = BASE["issue"], event
    settings = Settings(source="planted", format=fmt)
    result = export_issues_sync(BASE["issue"]["id"], settings, write=False, registry=FUZZ_REGISTRY)
    assert result.failures == ()
    assert secret not in result.content

"""The plugin host: built-ins through the same hooks, entry points, broken and clashing plugins."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from sentry_issue_export import Renderer, Settings, export_issues_sync, hookimpl
from sentry_issue_export.plugins import BUILTIN_PLUGINS, build_registry, make_plugin_manager


def install_fake_distribution(root: Path, name: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    """Write a minimal installed distribution (a dist-info folder plus modules) under ``root``."""
    dist_info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = ["[sentry_issue_export]", *(f"{ep} = {target}" for ep, target in entry_points.items())]
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))


SHOUT_PLUGIN = """
    from sentry_issue_export import Renderer, hookimpl

    def render(reports, options):
        return "".join(f"SHOUT {report.issue.title.upper()}\\n" for report in reports)

    @hookimpl
    def register_renderers(register):
        register(Renderer("shout", "shout", render, "Titles in capitals"))
"""


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    yield root
    for module in [m for m in sys.modules if m.startswith(("shout_plugin", "clash_"))]:
        del sys.modules[module]


def test_builtins_are_registered_through_the_hooks(registry):
    assert {"text", "markdown", "json"} <= set(registry.renderers)
    assert {"sentry", "samples", "file"} <= set(registry.sources)
    assert [r.name for r in registry.redactors] == ["builtin"]
    assert all(owner in BUILTIN_PLUGINS for owner in registry.owners.values())
    assert registry.problems == []


def test_entry_point_plugin_renders_by_name(plugin_dir: Path, tmp_path: Path):
    install_fake_distribution(plugin_dir, "shout-plugin", {"shout": "shout_plugin"}, {"shout_plugin": SHOUT_PLUGIN})
    registry = build_registry(*make_plugin_manager())
    assert registry.problems == []
    assert registry.owners[("renderer", "shout")] == "shout (shout-plugin)"

    settings = Settings(source="samples", format="shout", output_dir=tmp_path / "out")
    result = export_issues_sync(["python_chained_exception"], settings, registry=registry)

    assert result.failures == ()
    assert result.path is not None and result.path.suffix == ".shout"
    assert result.path.read_text().startswith("SHOUT ")
    assert result.content == result.path.read_text()


def test_broken_plugin_is_named_and_others_keep_working(plugin_dir: Path):
    install_fake_distribution(
        plugin_dir,
        "shout-plugin",
        {"shout": "shout_plugin", "broken": "shout_plugin_missing_module"},
        {"shout_plugin": SHOUT_PLUGIN},
    )
    registry = build_registry(*make_plugin_manager())
    messages = [str(p) for p in registry.problems]
    assert len(messages) == 1
    assert "broken (shout-plugin)" in messages[0] and "failed to load" in messages[0]
    assert "shout" in registry.renderers and "text" in registry.renderers


def test_duplicate_names_between_plugins_are_an_error_naming_both():
    class First:
        @hookimpl
        def register_renderers(self, register):
            register(Renderer("twin", "a", lambda reports, options: "first"))

    class Second:
        @hookimpl
        def register_renderers(self, register):
            register(Renderer("twin", "b", lambda reports, options: "second"))

    pm, problems = make_plugin_manager(load_entrypoints=False, extra_plugins=[First(), Second()])
    registry = build_registry(pm, problems)
    assert registry.renderers["twin"].extension == "a"
    [problem] = registry.problems
    first, second = (pm.get_name(p) for p in pm.get_plugins() if type(p).__name__ in {"First", "Second"})
    assert "'twin'" in str(problem)
    assert {first, second} <= set(str(problem).replace(",", " ").replace(";", " ").split())


def test_third_party_plugin_may_replace_a_builtin_renderer_on_purpose():
    class Override:
        @hookimpl
        def register_renderers(self, register):
            register(Renderer("text", "txt", lambda reports, options: "overridden"))

    registry = build_registry(*make_plugin_manager(load_entrypoints=False, extra_plugins=[Override()]))
    assert registry.problems == []
    assert registry.renderers["text"].render([], None) == "overridden"


def test_plugin_whose_hook_raises_is_reported_and_isolated():
    class Exploding:
        @hookimpl
        def register_renderers(self, register):
            raise RuntimeError("boom")

    registry = build_registry(*make_plugin_manager(load_entrypoints=False, extra_plugins=[Exploding()]))
    [problem] = registry.problems
    assert "register_renderers" in str(problem) and "boom" in str(problem)
    assert {"text", "markdown", "json"} <= set(registry.renderers)


def test_unknown_renderer_lists_the_available_ones(registry):
    with pytest.raises(Exception, match=r"No renderer named 'nope'.*json.*markdown.*text"):
        registry.renderer("nope")


# --- sources --------------------------------------------------------------------------------------------------

TICKET_SOURCE = """
    from sentry_issue_export import BaseSource, FetchFailure, IssueRef, NotFoundError, RawIssue, hookimpl

    SDK_EVENT = {
        "event_id": "7" * 32,
        "platform": "python",
        "level": "error",
        "timestamp": 1733000000.25,
        "exception": {"values": [{"type": "ValueError", "value": "ticket broke", "stacktrace": {"frames": [
            {"filename": "tickets/app.py", "function": "handle", "lineno": 3, "in_app": True,
             "pre_context": ["def handle(ticket):"], "context_line": "    raise ValueError('ticket broke')",
             "post_context": [], "vars": {"ticket": "7"}}]}}]},
        "breadcrumbs": {"values": [{"timestamp": 1733000000.1, "category": "query", "message": "SELECT 1"}]},
        "request": {"method": "GET", "url": "https://tickets.example/7", "headers": {"Accept": "text/html"}},
        "tags": {"queue": "urgent"},
        "extra": {"attempt": 2},
        "modules": {"tickets": "1.0"},
    }

    class TicketSource(BaseSource):
        name = "tickets"
        description = "Tickets from a tracker that keeps raw SDK events."
        needs_credentials = False

        def ref_from_word(self, word):
            if word.startswith("ticket:") and word[7:].isdigit():
                return IssueRef(issue_id=word[7:], text=word)
            return None

        async def fetch(self, refs, settings):
            for ref in refs:
                if ref.issue_id == "7":
                    yield RawIssue(ref, {"id": "7", "shortId": "TICKET-7", "title": "ValueError: ticket broke"},
                                   SDK_EVENT)
                else:
                    yield FetchFailure(ref, NotFoundError(f"There is no ticket {ref.issue_id}."))

    @hookimpl
    def register_sources(register):
        register(TicketSource())
"""


def test_a_source_plugin_adds_a_server_without_touching_the_core(plugin_dir: Path, tmp_path: Path, capsys):
    from sentry_issue_export import cli
    from sentry_issue_export.plugins import get_registry

    install_fake_distribution(
        plugin_dir, "ticket-source", {"tickets": "ticket_source"}, {"ticket_source": TICKET_SOURCE}
    )
    get_registry(refresh=True)
    try:
        code = cli.main(["--source", "tickets", "Please look at ticket:7 and ticket:8", "--output", "-"])
        listed = capsys.readouterr()
        assert code == 1  # one exported, one failed
        report = listed.out
        for expected in (
            "Short ID:      TICKET-7",
            "ValueError: ticket broke",
            "tickets/app.py:3 in handle",
            "SELECT 1",
            "queue = urgent",
            "attempt = 2",
            "Accept: text/html",
            "tickets  1.0",
        ):
            assert expected in report, expected
        assert "failed: ticket:8: There is no ticket 8." in listed.err
        assert cli.main(["--list-sources"]) == 0
        assert (
            "tickets      Tickets from a tracker that keeps raw SDK events. (offline)  [tickets (ticket-source)]"
            in (capsys.readouterr().out)
        )
    finally:
        sys.modules.pop("ticket_source", None)
        get_registry(refresh=True)


def test_a_source_that_lacks_part_of_the_protocol_is_refused_by_name():
    class HalfSource:
        name = "half"
        description = "no fetch, no claims"

    class Plugin:
        @hookimpl
        def register_sources(self, register):
            register(HalfSource())

    registry = build_registry(*make_plugin_manager(load_entrypoints=False, extra_plugins=[Plugin()]))
    [problem] = registry.problems
    assert "'half'" in str(problem) and "needs_credentials" in str(problem) and "fetch" in str(problem)
    assert "BaseSource" in str(problem) and "half" not in registry.sources


def test_the_hooks_are_called_through_pluggys_hook_callers():
    pm, problems = make_plugin_manager(load_entrypoints=False)
    calls: list[str] = []
    pm.add_hookcall_monitoring(lambda name, impls, kwargs: calls.append(name), lambda *args: None)
    build_registry(pm, problems)
    assert calls.count("register_renderers") == 3 and calls.count("register_sources") == 4
    assert calls.count("register_redactors") == 1  # one call per plugin that implements the hook


def test_a_hook_wrapper_sees_every_registration():
    seen: list[str] = []

    class Wrapper:
        @hookimpl(wrapper=True)
        def register_renderers(self, register):
            seen.append("before")
            return (yield)

    build_registry(*make_plugin_manager(load_entrypoints=False, extra_plugins=[Wrapper()]))
    assert seen == ["before"] * 3


BRIEF_PLUGIN = """
    from pathlib import Path

    from sentry_issue_export import Flavor, hookimpl, template_renderer
    from sentry_issue_export.renderers.text import FILTERS, GLOBALS, TEXT

    BRIEF = Flavor("brief", "txt", TEXT.finalize, FILTERS, GLOBALS)

    @hookimpl
    def register_renderers(register):
        register(template_renderer(BRIEF, "The text report without tags", Path(__file__).parent / "brief_templates"))
"""


def test_a_renderer_plugin_ships_templates_that_extend_the_builtins(plugin_dir: Path, tmp_path: Path):
    templates = plugin_dir / "brief_templates"
    templates.mkdir()
    (templates / "issue.txt.j2").write_text(
        '{% extends "default:issue.txt.j2" %}\n{% block tags %}\nTAGS LEFT OUT BY THE BRIEF PLUGIN\n{% endblock %}\n'
    )
    install_fake_distribution(plugin_dir, "brief-plugin", {"brief": "brief_plugin"}, {"brief_plugin": BRIEF_PLUGIN})
    registry = build_registry(*make_plugin_manager())
    try:
        settings = Settings(source="samples", format="brief")
        brief = export_issues_sync("python_chained_exception", settings, write=False, registry=registry).content
        text = export_issues_sync("python_chained_exception", Settings(source="samples"), write=False).content
        assert "TAGS LEFT OUT BY THE BRIEF PLUGIN" in brief and "\nTAGS\n" not in brief
        assert "\nTAGS\n" in text and "BRIEF" not in text  # the built-in text format is untouched
        # A user's templates directory still comes first.
        user = tmp_path / "mine"
        user.mkdir()
        (user / "issue.txt.j2").write_text("USER TEMPLATE {{ issue.short_id }}\n")
        mine = export_issues_sync(
            "python_chained_exception",
            Settings(source="samples", format="brief", templates_dir=user),
            write=False,
            registry=registry,
        ).content
        assert mine == "USER TEMPLATE STOREFRONT-API-3K\n"
    finally:
        sys.modules.pop("brief_plugin", None)


def test_the_source_reading_a_server_is_the_first_other_server_source_that_recognises_it():
    """One rule for `config init` and exports: other sources that read a server are asked in name order, and the
    source the settings name reads it when none recognises it. Sources without a server are never asked."""
    import asyncio

    from sentry_issue_export import BaseSource

    asked: list[str] = []

    class Probe(BaseSource):
        def __init__(self, name: str, *, credentials: bool, says: bool) -> None:
            self.name, self.description, self.needs_credentials, self.says = name, name, credentials, says

        async def recognises(self, settings: Settings) -> bool:
            asked.append(self.name)
            return self.says

    class Plugin:
        @hookimpl
        def register_sources(self, register):
            register(Probe("zz-yes", credentials=True, says=True))
            register(Probe("mm-no", credentials=True, says=False))
            register(Probe("aa-offline", credentials=False, says=True))

    registry = build_registry(*make_plugin_manager(load_entrypoints=False, extra_plugins=[Plugin()]))
    settings = Settings(base_url="http://127.0.0.1:9", token="t")
    assert asyncio.run(registry.source_reading(settings)) == "zz-yes"
    assert asked == ["mm-no", "zz-yes"]  # (the built-in bugsink is asked too, and finds nothing there)

    asked.clear()
    named = Settings(base_url="http://127.0.0.1:9", token="t", source="zz-yes")
    assert asyncio.run(registry.source_reading(named)) == "zz-yes"
    assert asked == ["mm-no"]


def test_bugsink_never_asks_sentry_io_whether_it_is_a_bugsink():
    import asyncio

    from sentry_issue_export.sources.bugsink import BugsinkSource

    prepared: list[str | None] = []

    def no_request(settings: Settings):
        prepared.append(settings.base_url)
        raise ConnectionError("no network in this test")

    source = BugsinkSource(transport_factory=no_request)
    for url in ("https://sentry.io", "https://acme.sentry.io", "https://de.sentry.io"):
        assert asyncio.run(source.recognises(Settings(base_url=url, token="t"))) is False
    assert prepared == []
    assert asyncio.run(source.recognises(Settings(base_url="https://bugsink.example.com", token="t"))) is False
    assert prepared == ["https://bugsink.example.com"]

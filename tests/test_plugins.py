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

"""Shared fixtures: an isolated home and config directory, a clean plugin registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentry_issue_export.plugins import Registry, build_registry, make_plugin_manager


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the real home, config or Sentry credentials."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for name in (
        "SENTRY_AUTH_TOKEN",
        "SENTRY_TOKEN",
        "SENTRY_URL",
        "SENTRY_ORG",
        "SENTRY_PROJECT",
        "EXPORT_SENTRY_ISSUE_OUTPUT_DIR",
        "EXPORT_SENTRY_ISSUE_SOURCE",
        "EXPORT_SENTRY_ISSUE_MAX_INLINE_CHARS",
        "EXPORT_SENTRY_ISSUE_MCP_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def registry() -> Registry:
    """The built-in plugins only: installed third-party plugins cannot change what the tests see."""
    pm, problems = make_plugin_manager(load_entrypoints=False)
    return build_registry(pm, problems)

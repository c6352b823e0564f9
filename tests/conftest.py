"""Shared fixtures: an isolated home and config directory, a clean plugin registry, fuzzing budgets.

Fuzz tests (hypothesis) run on a fixed, repeatable budget by default, which CI uses. For a deeper local run:
``HYPOTHESIS_PROFILE=deep python -m pytest tests/test_refs.py tests/test_redaction.py tests/test_models.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from sentry_issue_export.config.file import config_path
from sentry_issue_export.plugins import Registry, build_registry, make_plugin_manager
from tests.bugsink_server import Bugsink, running_bugsink

_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large]
hypothesis_settings.register_profile(
    "ci", max_examples=150, deadline=None, derandomize=True, suppress_health_check=_SLOW_IS_FINE, print_blob=True
)
hypothesis_settings.register_profile(
    "deep", max_examples=5000, deadline=None, suppress_health_check=_SLOW_IS_FINE, print_blob=True
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the real home, config or Sentry credentials."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
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
        "EXPORT_SENTRY_ISSUE_NO_TEMPLATE_CACHE",
    ):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment for the config functions whose config and home directories are in the test's tmp_path."""
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}


@pytest.fixture
def path(env: dict[str, str]) -> Path:
    """Where the config file lives in ``env``."""
    return config_path(env)


@pytest.fixture(scope="session")
def bugsink(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bugsink]:
    """One real Bugsink server for the whole session, with the shop app's events in it (``bugsink_server.py``)."""
    with running_bugsink(tmp_path_factory.mktemp("bugsink")) as server:
        yield server


@pytest.fixture
def registry() -> Registry:
    """The built-in plugins only: installed third-party plugins cannot change what the tests see."""
    pm, problems = make_plugin_manager(load_entrypoints=False)
    return build_registry(pm, problems)

"""What the project says about itself in several places, checked against one another: pyproject.toml's metadata,
the MCP registry's server.json (validated against the registry's published schema, vendored in tests/fixtures),
and the README's ``mcp-name`` line that the registry looks for in the description PyPI shows.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft7Validator

from sentry_issue_export import __version__
from sentry_issue_export.mcp.server import TOOL_NAMES

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
SERVER = json.loads((ROOT / "server.json").read_text(encoding="utf-8"))
SCHEMA = json.loads((ROOT / "tests" / "fixtures" / "server.schema.json").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")


def registry_errors(document: dict[str, Any]) -> list[str]:
    validator = Draft7Validator(SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)
    return sorted(f"{'/'.join(map(str, error.path))}: {error.message}" for error in validator.iter_errors(document))


def test_server_json_is_valid_for_the_registry():
    assert SCHEMA["$id"] == "https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json"
    assert SERVER["$schema"] == SCHEMA["$id"]
    assert registry_errors(SERVER) == []


def test_the_vendored_schema_refuses_what_the_registry_refuses():
    """So a passing check means something: the limits the registry enforces are in the copy."""
    long_description = {**SERVER, "description": "x" * 101}
    assert registry_errors(long_description)
    unpinned = copy.deepcopy(SERVER)
    unpinned["packages"][0]["version"] = "latest"
    assert registry_errors(unpinned)
    unknown_field = copy.deepcopy(SERVER)
    unknown_field["packages"][0]["command"] = "export-sentry-issue-mcp"
    assert registry_errors(unknown_field)


def test_server_json_names_this_package_at_this_version():
    [package] = SERVER["packages"]
    assert SERVER["version"] == package["version"] == PROJECT["version"]
    assert package["registryType"] == "pypi"
    assert package["identifier"] == PROJECT["name"] == "sentry-issue-export"
    assert package["transport"] == {"type": "stdio"}


def test_what_registry_clients_run_is_the_server():
    """They run ``uvx <identifier>==<version>``: the command named like the package must be the MCP server."""
    scripts = PROJECT["scripts"]
    assert scripts[SERVER["packages"][0]["identifier"]] == scripts["export-sentry-issue-mcp"]


def test_the_installed_package_is_the_version_pyproject_names():
    assert __version__ == PROJECT["version"], "the installed metadata is stale: pip install -e '.[dev]' again"


def test_the_variables_a_user_sets_are_documented_and_only_the_token_is_secret():
    [package] = SERVER["packages"]
    variables = {variable["name"]: variable for variable in package["environmentVariables"]}
    assert {"SENTRY_AUTH_TOKEN", "SENTRY_URL", "SENTRY_ORG", "EXPORT_SENTRY_ISSUE_OUTPUT_DIR"} <= set(variables)
    assert [name for name, variable in variables.items() if variable.get("isSecret")] == ["SENTRY_AUTH_TOKEN"]
    environment_table = (ROOT / "docs" / "mcp.md").read_text(encoding="utf-8").split("## Environment variables")[1]
    for name in variables:
        assert f"`{name}`" in environment_table, f"{name} is not in docs/mcp.md's table of environment variables"


def test_the_readme_carries_the_registry_name():
    assert re.findall(r"mcp-name:\s*([^\s<>]+)", README) == [SERVER["name"]]


def test_one_repository_address_everywhere():
    """pyproject.toml writes the address on one line; every link, and the registry's namespace, follow it."""
    links = PROJECT["urls"]
    home = links["Homepage"]
    assert all(link.startswith(home) for link in links.values()), links
    assert set(links) >= {"Homepage", "Documentation", "Issues", "Changelog"}
    assert SERVER["repository"] == {"url": home, "source": "github"}
    host, (owner, _) = urlsplit(home).netloc, urlsplit(home).path.strip("/").split("/")
    assert host == "github.com" and SERVER["name"].split("/")[0] == f"io.github.{owner}"
    assert (ROOT / "CHANGELOG.md").read_text(encoding="utf-8").count(f"## {PROJECT['version']}") == 1


def test_the_classifiers_name_the_pythons_ci_tests():
    workflow = ROOT / ".github" / "workflows" / "ci.yml"
    if not workflow.exists():
        pytest.skip("the CI workflows are not part of the sdist")
    [listed] = re.findall(r"python-version:\s*\[([^\]]*)\]", workflow.read_text(encoding="utf-8"))
    tested = {version.strip().strip("\"'") for version in listed.split(",")}
    prefix = "Programming Language :: Python :: 3."
    classified = {f"3.{c.removeprefix(prefix)}" for c in PROJECT["classifiers"] if c.startswith(prefix)}
    assert tested == classified
    assert PROJECT["requires-python"] == f">={min(tested, key=lambda version: int(version.split('.')[1]))}"


INSTALL = re.compile(r"\b(?:pip install|pipx install|uv tool install|uvx)[ \t]+(\S.*)")
FROM_SOURCE = {".", "'.[dev]'", "/path/to/checkout", "dist/sentry_issue_export-*.whl"}
"""What the docs may install besides the distribution: a checkout, a wheel built from it, a plugin example."""


def test_every_install_line_names_the_distribution():
    lines = 0
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for found in INSTALL.finditer(path.read_text(encoding="utf-8")):
            words = [word for word in found.group(1).split() if not word.startswith("-")]
            target = re.sub(r"[`,;:()]", "", words[0])
            lines += 1
            assert target == PROJECT["name"] or target in FROM_SOURCE or target == "my-format", (path.name, found[0])
    assert lines >= 10


# --- the Claude Desktop bundle ---------------------------------------------------------------------------------

MANIFEST = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))


def test_the_bundle_is_this_package_at_this_version_with_its_five_tools():
    assert MANIFEST["name"] == PROJECT["name"] and MANIFEST["version"] == PROJECT["version"]
    names = [tool["name"] for tool in MANIFEST["tools"]]
    assert sorted(names) == sorted(TOOL_NAMES) and len(names) == 5
    assert MANIFEST["compatibility"]["runtimes"]["python"] == PROJECT["requires-python"]
    assert MANIFEST["license"] == PROJECT["license"]


def test_the_bundle_runs_its_entry_point_with_uv():
    """uv makes the environment from pyproject.toml on the user's machine: compiled dependencies (pydantic-core)
    need no wheel per platform in the bundle, which a ``python`` bundle would."""
    server = MANIFEST["server"]
    assert MANIFEST["manifest_version"] == "0.4" and server["type"] == "uv"
    assert (ROOT / server["entry_point"]).is_file()
    assert server["mcp_config"]["command"] == "uv"
    assert server["mcp_config"]["args"][-1] == server["entry_point"]


def test_what_the_user_configures_reaches_the_server_as_its_variables():
    settings = MANIFEST["user_config"]
    env = MANIFEST["server"]["mcp_config"]["env"]
    assert env == {
        "SENTRY_URL": "${user_config.sentry_url}",
        "SENTRY_AUTH_TOKEN": "${user_config.sentry_auth_token}",
        "EXPORT_SENTRY_ISSUE_OUTPUT_DIR": "${user_config.output_dir}",
    }
    assert settings["sentry_auth_token"]["sensitive"] is True
    assert [name for name, setting in settings.items() if setting.get("sensitive")] == ["sentry_auth_token"]
    assert settings["output_dir"]["type"] == "directory"
    assert set(settings) == {value.removeprefix("${user_config.").removesuffix("}") for value in env.values()}

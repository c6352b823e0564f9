"""config.py: precedence, the token's origin rule, init and show, and the names it re-exports."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sentry_issue_export import config
from sentry_issue_export.config import (
    SavedConfig,
    init_config,
    load_saved,
    mask_token,
    resolve_settings,
    save_config,
    show_config,
)
from sentry_issue_export.config import file as config_file
from sentry_issue_export.errors import (
    AuthError,
    ConfigError,
    FetchError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    PluginError,
)
from sentry_issue_export.sentry import urls as sentry_urls
from sentry_issue_export.settings import Settings
from tests.config_helpers import (
    ARG_TOKEN,
    ENV_TOKEN,
    FILE_TOKEN,
    LEGACY_TOKEN,
    ORG_TOKEN_SECRET,
    USER_TOKEN,
    mode_of,
    org_token,
    saved,
)

# --- the public names -----------------------------------------------------------------------------------------


def test_every_public_name_is_importable_from_config() -> None:
    namespace: dict[str, Any] = {}
    exec("from sentry_issue_export.config import *", namespace)
    assert set(config.__all__) <= set(namespace)


@pytest.mark.parametrize(
    ("name", "home"),
    [
        ("SavedConfig", config_file),
        ("config_path", config_file),
        ("load_saved", config_file),
        ("save_config", config_file),
        ("revoke_config", config_file),
        ("TokenInfo", sentry_urls),
        ("inspect_token", sentry_urls),
        ("mask_token", sentry_urls),
        ("normalise_base_url", sentry_urls),
    ],
)
def test_config_re_exports_the_same_objects(name: str, home: Any) -> None:
    assert name in config.__all__
    assert getattr(config, name) is getattr(home, name)


# --- reading the file from XDG_CONFIG_HOME --------------------------------------------------------------------


def test_resolve_reads_the_file_under_xdg_config_home(env: dict[str, str], path: Path) -> None:
    save_config(saved("https://sentry.example.com", org="acme"), path)
    settings = resolve_settings(env=env)
    assert (settings.base_url, settings.org, settings.token) == ("https://sentry.example.com", "acme", FILE_TOKEN)


# --- precedence -----------------------------------------------------------------------------------------------

# field -> (environment variable or None, values for the argument, environment and file layers)
PRECEDENCE_FIELDS: dict[str, tuple[str | None, tuple[str, str, str]]] = {
    "base_url": ("SENTRY_URL", ("https://arg.example.com", "https://env.example.com", "https://file.example.com")),
    "org": ("SENTRY_ORG", ("arg-org", "env-org", "file-org")),
    "project": ("SENTRY_PROJECT", ("arg-project", "env-project", "file-project")),
    "token": ("SENTRY_AUTH_TOKEN", (ARG_TOKEN, ENV_TOKEN, FILE_TOKEN)),
    "output_dir": ("EXPORT_SENTRY_ISSUE_OUTPUT_DIR", ("/arg/out", "/env/out", "/file/out")),
    "format": (None, ("markdown", "", "json")),
    "templates_dir": (None, ("/arg/templates", "", "/file/templates")),
}
LAYERS = ("argument", "env", "file")
PRECEDENCE_ROWS = [
    (field, layers)
    for field, (variable, _) in PRECEDENCE_FIELDS.items()
    for size in (1, 2, 3)
    for layers in itertools.combinations(LAYERS, size)
    if variable or "env" not in layers
]


@pytest.mark.parametrize(
    ("field", "layers"), PRECEDENCE_ROWS, ids=[f"{field}-{'+'.join(layers)}" for field, layers in PRECEDENCE_ROWS]
)
def test_arguments_beat_environment_beat_file(field: str, layers: tuple[str, ...], path: Path) -> None:
    variable, (arg_value, env_value, file_value) = PRECEDENCE_FIELDS[field]
    arguments: dict[str, Any] = {field: arg_value} if "argument" in layers else {}
    if field == "base_url":
        arguments["token"] = ARG_TOKEN  # an overriding URL needs its own token; that rule is tested below
    env = {variable: env_value} if variable and "env" in layers else {}
    if "file" in layers:
        file_fields: dict[str, Any] = {"base_url": "https://sentry.io", "token": FILE_TOKEN, field: file_value}
        save_config(SavedConfig(**file_fields), path)

    settings = resolve_settings(env=env, path=path, **arguments)

    expected = next(
        value for layer, value in zip(LAYERS, (arg_value, env_value, file_value), strict=True) if layer in layers
    )
    actual = getattr(settings, field)
    assert (str(actual) if isinstance(actual, Path) else actual) == expected


def test_defaults_when_nothing_is_configured(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = resolve_settings(env={}, path=path)
    assert (settings.base_url, settings.org, settings.project, settings.token) == (
        "https://sentry.io",
        None,
        None,
        None,
    )
    assert (settings.format, settings.templates_dir, settings.output_dir) == ("text", None, tmp_path)
    assert not path.exists()


def test_url_names_org_and_project_for_its_layer(path: Path) -> None:
    save_config(saved(org="file-org", project="file-project"), path)
    settings = resolve_settings(base_url="https://sentry.io/api/0/projects/acme/web/issues/", env={}, path=path)
    assert (settings.base_url, settings.org, settings.project) == ("https://sentry.io", "acme", "web")
    explicit = resolve_settings(base_url="https://acme.sentry.io/", org="other", env={}, path=path)
    assert (explicit.org, explicit.project) == ("other", "file-project")


def test_sentry_token_is_read_when_sentry_auth_token_is_absent(path: Path) -> None:
    assert resolve_settings(env={"SENTRY_TOKEN": ENV_TOKEN}, path=path).token == ENV_TOKEN
    both = {"SENTRY_TOKEN": ENV_TOKEN, "SENTRY_AUTH_TOKEN": ARG_TOKEN}
    assert resolve_settings(env=both, path=path).token == ARG_TOKEN


def test_empty_values_count_as_unset(path: Path) -> None:
    save_config(saved(org="file-org"), path)
    settings = resolve_settings(org="", env={"SENTRY_ORG": "  ", "SENTRY_AUTH_TOKEN": ""}, path=path)
    assert (settings.org, settings.token) == ("file-org", FILE_TOKEN)


def test_other_settings_pass_through_and_unknown_ones_are_refused(path: Path) -> None:
    settings = resolve_settings(env={}, path=path, debug=True, remove_pii=True, max_concurrency=3, source="samples")
    assert (settings.debug, settings.remove_pii, settings.max_concurrency, settings.source) == (
        True,
        True,
        3,
        "samples",
    )
    with pytest.raises(TypeError, match="max_concurency"):
        resolve_settings(env={}, path=path, max_concurency=3)


def test_output_dir_expands_the_home_directory(path: Path) -> None:
    settings = resolve_settings(output_dir="~/reports", env={}, path=path)
    assert settings.output_dir == Path("~/reports").expanduser()


def test_bad_sentry_url_in_the_environment_is_named(path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^SENTRY_URL is not usable: 'ftp://x' is not an http\(s\) address"):
        resolve_settings(env={"SENTRY_URL": "ftp://x"}, path=path)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("abc", "EXPORT_SENTRY_ISSUE_TIMEOUT must be a number of seconds, such as 30 or 2.5, not 'abc'."),
        ("0", "EXPORT_SENTRY_ISSUE_TIMEOUT must be more than 0 and at most 3600 seconds, not 0."),
        ("nan", "EXPORT_SENTRY_ISSUE_TIMEOUT must be more than 0 and at most 3600 seconds, not nan."),
        ("1e9", "EXPORT_SENTRY_ISSUE_TIMEOUT must be more than 0 and at most 3600 seconds, not 1e+09."),
    ],
)
def test_a_bad_timeout_in_the_environment_is_named(path: Path, value: str, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_settings(env={"EXPORT_SENTRY_ISSUE_TIMEOUT": value}, path=path)
    assert str(caught.value) == said


def test_the_timeout_comes_from_the_environment_unless_the_call_gives_one(path: Path) -> None:
    env = {"EXPORT_SENTRY_ISSUE_TIMEOUT": " 2.5 "}
    assert resolve_settings(env=env, path=path).timeout == 2.5
    assert resolve_settings(env=env, path=path, timeout=7).timeout == 7
    assert resolve_settings(env={}, path=path).timeout == 30


# --- the source decides what is loaded ------------------------------------------------------------------------


def test_an_offline_source_from_the_environment_loads_no_credentials(path: Path, tmp_path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_text("not json at all")  # a broken saved config cannot stop an offline source
    env = {
        "EXPORT_SENTRY_ISSUE_SOURCE": "samples",
        "EXPORT_SENTRY_ISSUE_OUTPUT_DIR": str(tmp_path),
        "SENTRY_AUTH_TOKEN": ENV_TOKEN,
        "SENTRY_URL": "ftp://not-even-valid",
    }
    settings = resolve_settings(env=env, path=path, base_url=SELF_HOSTED, token=ARG_TOKEN)
    assert (settings.source, settings.output_dir, settings.token, settings.base_url) == (
        "samples",
        tmp_path,
        None,
        None,
    )


def test_the_source_argument_beats_the_environment_and_the_saved_source(path: Path) -> None:
    save_config(saved(source="samples"), path)
    assert resolve_settings(env={}, path=path).source == "samples"
    assert resolve_settings(env={"EXPORT_SENTRY_ISSUE_SOURCE": "sentry"}, path=path).source == "sentry"
    assert resolve_settings(source="file", env={"EXPORT_SENTRY_ISSUE_SOURCE": "sentry"}, path=path).source == "file"
    assert resolve_settings(env={}, path=path.with_name("none.json")).source == "sentry"


def test_an_unknown_source_is_named_with_the_ones_there_are(path: Path) -> None:
    with pytest.raises(PluginError, match=r"No source named .nope.\. Available sources: bugsink, file, samples"):
        resolve_settings(source="nope", env={}, path=path)


# --- the token's origin rule ----------------------------------------------------------------------------------

SAAS, SELF_HOSTED = "https://sentry.io", "https://sentry.example.com"

# (id, saved base_url or None, env, arguments, expected (base_url, token) or the hosts named in the refusal)
TOKEN_RULE_ROWS: list[tuple[str, str | None, dict[str, str], dict[str, Any], tuple[str, str]]] = [
    ("override-refuses-saved", SAAS, {}, {"base_url": SELF_HOSTED}, ("sentry.io", "sentry.example.com")),
    ("override-own-token", SAAS, {}, {"base_url": SELF_HOSTED, "token": ARG_TOKEN}, (SELF_HOSTED, ARG_TOKEN)),
    ("same-server-other-form", SAAS, {}, {"base_url": "https://acme.sentry.io/issues/1/"}, (SAAS, FILE_TOKEN)),
    ("region-host-same-server", SAAS, {}, {"base_url": "https://de.sentry.io"}, ("https://de.sentry.io", FILE_TOKEN)),
    ("same-origin-other-prefix", SELF_HOSTED, {}, {"base_url": f"{SELF_HOSTED}/x/"}, (f"{SELF_HOSTED}/x", FILE_TOKEN)),
    ("http-is-another-server", SELF_HOSTED, {}, {"base_url": "http://sentry.example.com"}, ("sentry.example.com",) * 2),
    ("port-is-another-server", SELF_HOSTED, {}, {"base_url": SELF_HOSTED + ":8443"}, ("sentry.example.com",) * 2),
    ("env-url-refuses-saved", SAAS, {"SENTRY_URL": SELF_HOSTED}, {}, ("sentry.io", "sentry.example.com")),
    (
        "env-url-with-env-token",
        SAAS,
        {"SENTRY_URL": SELF_HOSTED, "SENTRY_AUTH_TOKEN": ENV_TOKEN},
        {},
        (SELF_HOSTED, ENV_TOKEN),
    ),
    ("env-token-belongs-to-saved", SAAS, {"SENTRY_AUTH_TOKEN": ENV_TOKEN}, {"base_url": SELF_HOSTED}, ("", "")),
    ("env-token-alone-is-saas", None, {"SENTRY_AUTH_TOKEN": ENV_TOKEN}, {"base_url": SELF_HOSTED}, ("", "")),
    (
        "saved-token-for-requested-server",
        SELF_HOSTED,
        {"SENTRY_URL": SAAS, "SENTRY_AUTH_TOKEN": ENV_TOKEN},
        {"base_url": SELF_HOSTED},
        (SELF_HOSTED, FILE_TOKEN),
    ),
    (
        "argument-token-goes-to-env-url",
        SAAS,
        {"SENTRY_URL": SELF_HOSTED},
        {"token": ARG_TOKEN},
        (SELF_HOSTED, ARG_TOKEN),
    ),
    ("env-token-follows-saved-url", SELF_HOSTED, {"SENTRY_AUTH_TOKEN": ENV_TOKEN}, {}, (SELF_HOSTED, ENV_TOKEN)),
]


@pytest.mark.parametrize(
    ("saved_url", "env", "arguments", "expected"),
    [row[1:] for row in TOKEN_RULE_ROWS],
    ids=[row[0] for row in TOKEN_RULE_ROWS],
)
def test_a_token_only_travels_to_its_own_server(
    saved_url: str | None, env: dict[str, str], arguments: dict[str, Any], expected: tuple[str, str], path: Path
) -> None:
    if saved_url:
        save_config(saved(saved_url), path)
    if expected[0].startswith("http"):
        settings = resolve_settings(env=env, path=path, **arguments)
        assert (settings.base_url, settings.token) == expected
        return
    with pytest.raises(ConfigError) as caught:
        resolve_settings(env=env, path=path, **arguments)
    message = str(caught.value)
    assert "will not be sent to" in message
    assert "pass a token for" in message
    if expected[0]:
        assert message.startswith(f"The saved token is for {expected[0]} and will not be sent to {expected[1]}")
    else:
        assert message.startswith("The token in SENTRY_AUTH_TOKEN is for sentry.io")
    for token in (FILE_TOKEN, ENV_TOKEN, ARG_TOKEN):
        assert token not in message


def test_org_token_brings_its_own_server(path: Path) -> None:
    save_config(saved(SAAS, org="file-org"), path)
    token = org_token(SELF_HOSTED, "acme")
    settings = resolve_settings(env={"SENTRY_AUTH_TOKEN": token}, path=path)
    assert (settings.base_url, settings.org, settings.token) == (SELF_HOSTED, "acme", token)


# --- show_config ----------------------------------------------------------------------------------------------


def test_show_config_names_each_source_and_masks_the_token(path: Path, env: dict[str, str]) -> None:
    save_config(saved("https://sentry.io", token=USER_TOKEN, org="file-org", format="markdown"), path)
    shown = show_config(env={**env, "SENTRY_ORG": "env-org", "SENTRY_PROJECT": "env-project"})
    settings = shown["settings"]
    assert shown["path"] == str(path) and shown["saved"] is True
    assert settings["base_url"] == {"value": "https://sentry.io", "source": "file", "detail": "base_url"}
    assert settings["org"] == {"value": "env-org", "source": "env", "detail": "SENTRY_ORG"}
    assert settings["project"]["source"] == "env"
    assert settings["format"] == {"value": "markdown", "source": "file", "detail": "format"}
    assert settings["token"] == {"value": "sntryu_a… (71 chars)", "source": "file", "detail": "token"}
    assert settings["templates_dir"] == {"value": None, "source": None, "detail": None}
    assert shown["token_kind"] == "user token"
    assert shown["warnings"] == []
    assert USER_TOKEN[8:] not in json.dumps(shown)


def test_show_config_without_a_file(env: dict[str, str]) -> None:
    shown = show_config(env=env)
    assert shown["saved"] is False
    assert shown["settings"]["base_url"]["source"] == "default"
    assert shown["settings"]["token"] == {"value": None, "source": None, "detail": None}
    assert shown["token_kind"] is None


@pytest.mark.parametrize(
    ("changes", "source", "note"),
    [
        ({}, {"value": "sentry", "source": "default", "detail": "or the kind the server turns out to be"}, None),
        (
            {"EXPORT_SENTRY_ISSUE_SOURCE": "samples"},
            {"value": "samples", "source": "env", "detail": "EXPORT_SENTRY_ISSUE_SOURCE"},
            "Exports come from the samples source (EXPORT_SENTRY_ISSUE_SOURCE), which reads no server",
        ),
        (
            {"EXPORT_SENTRY_ISSUE_SERVER": "glitchtip"},
            {"value": "sentry", "source": "env", "detail": "EXPORT_SENTRY_ISSUE_SERVER=glitchtip"},
            None,
        ),
        (
            {"EXPORT_SENTRY_ISSUE_SOURCE": "nope"},
            {"value": "nope", "source": "env", "detail": "EXPORT_SENTRY_ISSUE_SOURCE"},
            "No source named 'nope'.",
        ),
    ],
    ids=["default", "samples", "server-kind", "unknown"],
)
def test_show_config_names_the_source_an_export_would_use(
    env: dict[str, str], changes: dict[str, str], source: dict[str, str], note: str | None
) -> None:
    shown = show_config(env={**env, **changes})
    assert shown["settings"]["source"] == source
    assert [n for n in shown["notes"] if note and note in n] if note else shown["notes"] == []


def test_show_config_reports_a_refused_token_instead_of_failing(path: Path, env: dict[str, str]) -> None:
    save_config(saved(SAAS), path)
    shown = show_config(env={**env, "SENTRY_URL": SELF_HOSTED})
    assert shown["settings"]["token"]["value"] is None
    assert shown["warnings"] == [
        "The saved token is for sentry.io and will not be sent to sentry.example.com; "
        "pass a token for sentry.example.com along with that URL."
    ]


def test_show_config_describes_an_org_token_without_its_secret(env: dict[str, str]) -> None:
    token = org_token(SELF_HOSTED, "acme")
    shown = show_config(env={**env, "SENTRY_AUTH_TOKEN": token})
    assert shown["token_kind"] == f"organization token for acme at {SELF_HOSTED}"
    assert shown["settings"]["base_url"]["detail"] == "from the organization token in SENTRY_AUTH_TOKEN"
    assert ORG_TOKEN_SECRET[:4] not in json.dumps(shown)


# --- init_config ----------------------------------------------------------------------------------------------


class FakeVerifier:
    """Stands in for the source's access check: records calls, raises what it is told to."""

    def __init__(self, error: FetchError | None = None) -> None:
        self.error = error
        self.calls: list[tuple[str | None, str | None, str | None]] = []

    async def __call__(self, settings: Settings) -> str:
        self.calls.append((settings.base_url, settings.token, settings.org))
        if self.error:
            raise self.error
        return "reached the fake"


def test_init_checks_the_token_then_saves_it(path: Path) -> None:
    verifier = FakeVerifier()
    result = asyncio.run(
        init_config("https://acme.sentry.io/issues/12/", f" {USER_TOKEN}\n", path=path, verifier=verifier)
    )
    assert verifier.calls == [("https://sentry.io", USER_TOKEN, "acme")]
    assert result == SavedConfig(base_url="https://sentry.io", org="acme", token=USER_TOKEN)
    assert load_saved(path) == result
    assert (mode_of(path), mode_of(path.parent)) == (0o600, 0o700)


def test_init_with_self_hosted_root_and_separate_org(path: Path) -> None:
    verifier = FakeVerifier()
    result = asyncio.run(
        init_config(
            "https://example.com/sentry/", LEGACY_TOKEN, org="acme", project="web", path=path, verifier=verifier
        )
    )
    assert verifier.calls == [("https://example.com/sentry", LEGACY_TOKEN, "acme")]
    assert (result.base_url, result.org, result.project) == ("https://example.com/sentry", "acme", "web")


def test_init_takes_server_and_org_from_an_org_token(path: Path) -> None:
    token = org_token("https://sentry.example.com/", "acme")
    verifier = FakeVerifier()
    result = asyncio.run(init_config(None, token, path=path, verifier=verifier))
    assert verifier.calls == [(SELF_HOSTED, token, "acme")]
    assert (result.base_url, result.org) == (SELF_HOSTED, "acme")


def test_init_without_verification_saves_without_asking(path: Path) -> None:
    verifier = FakeVerifier(AuthError("would fail"))
    asyncio.run(init_config(SAAS, USER_TOKEN, org="acme", path=path, verify=False, verifier=verifier))
    assert verifier.calls == []
    assert load_saved(path) is not None


def test_the_sentry_source_refuses_a_config_without_an_organisation_before_any_request(path: Path) -> None:
    # The real check of the sentry source, against a host that would not answer: it must not be asked.
    with pytest.raises(ConfigError, match=r"No organisation was given for https://sentry\.invalid"):
        asyncio.run(init_config("https://sentry.invalid", USER_TOKEN, path=path))
    assert not path.exists()


def test_an_offline_source_has_no_token_to_save(path: Path) -> None:
    with pytest.raises(ConfigError, match="The samples source reads no server"):
        asyncio.run(init_config(SAAS, USER_TOKEN, org="acme", source="samples", path=path))
    assert not path.exists()


def test_init_remembers_a_source_other_than_sentry_and_what_the_check_reached(path: Path) -> None:
    result = asyncio.run(init_config(SAAS, USER_TOKEN, org="acme", source="other", path=path, verifier=FakeVerifier()))
    assert result.access == "reached the fake"
    assert load_saved(path) == result and result.source == "other"


@pytest.mark.parametrize(
    ("base_url", "token", "org", "message"),
    [
        ("https://sentry.example.com", USER_TOKEN, "bad slug!", "'bad slug!' is not an organisation slug"),
        ("https://sentry.example.com", "  ", "acme", "No token was given"),
        (None, USER_TOKEN, "acme", "No Sentry URL was given"),
        ("ftp://sentry.example.com", USER_TOKEN, "acme", "not an http(s) address"),
    ],
)
def test_init_refuses_incomplete_input_before_asking_the_server(
    path: Path, base_url: str | None, token: str, org: str | None, message: str
) -> None:
    verifier = FakeVerifier()
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        asyncio.run(init_config(base_url, token, org=org, path=path, verifier=verifier))
    assert verifier.calls == []
    assert not path.exists()


INIT_FAILURES = [
    (AuthError("Invalid token header. No credentials provided."), "https://sentry.example.com rejected the token"),
    (PermissionDeniedError("You do not have permission"), "refused access to organisation acme"),
    (NetworkError("connection refused"), "Could not reach https://sentry.example.com: connection refused"),
    (NotFoundError("organisation acme not found"), "did not confirm access to organisation acme"),
]


@pytest.mark.parametrize(("error", "message"), INIT_FAILURES, ids=[type(row[0]).__name__ for row in INIT_FAILURES])
def test_init_saves_nothing_when_the_check_fails(path: Path, error: FetchError, message: str) -> None:
    save_config(saved(org="previous"), path)
    before = path.read_bytes()
    with pytest.raises(ConfigError) as caught:
        asyncio.run(init_config(SELF_HOSTED, USER_TOKEN, org="acme", path=path, verifier=FakeVerifier(error)))
    text = str(caught.value)
    assert message in text
    assert str(error) in text
    assert "nothing was saved" in text.lower()
    assert USER_TOKEN not in text
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == ["config.json"]


@pytest.mark.parametrize("error_type", [AuthError, PermissionDeniedError])
def test_init_names_the_scopes_a_token_needs(path: Path, error_type: type[FetchError]) -> None:
    with pytest.raises(ConfigError, match=r"event:read scope \(and org:read for short ids\)"):
        asyncio.run(init_config(SAAS, USER_TOKEN, org="acme", path=path, verifier=FakeVerifier(error_type("no"))))


def test_init_never_repeats_a_token_found_in_a_server_message(path: Path) -> None:
    leaky = AuthError(f"token {USER_TOKEN} is not valid")
    with pytest.raises(ConfigError) as caught:
        asyncio.run(init_config(SAAS, USER_TOKEN, org="acme", path=path, verifier=FakeVerifier(leaky)))
    assert USER_TOKEN not in str(caught.value)
    assert mask_token(USER_TOKEN) in str(caught.value)


# --- init against a real HTTP server, through the exporter's Sentry client -----------------------------------


class _SentryStub(BaseHTTPRequestHandler):
    """Answers every GET with the status the server was given, in Sentry's JSON shapes."""

    server: _StubServer

    def do_GET(self) -> None:
        status = self.server.status
        origin = f"http://127.0.0.1:{self.server.server_port}"
        bodies: dict[int, Any] = {
            200: {"id": "1", "slug": "acme", "name": "Acme", "links": {"organizationUrl": origin, "regionUrl": origin}},
            401: {"detail": "Invalid token"},
            403: {"detail": "You do not have permission to perform this action."},
        }
        if status == 200 and self.path.split("?")[0].endswith("/issues/"):
            bodies[200] = []  # an issue list, one page of at most one issue
        data = json.dumps(bodies[status]).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _StubServer(ThreadingHTTPServer):
    status = 200


@contextlib.contextmanager
def stub_sentry(status: int) -> Iterator[str]:
    server = _StubServer(("127.0.0.1", 0), _SentryStub)
    server.status = status
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    ("status", "message"),
    [(200, None), (401, "rejected the token"), (403, "refused access to organisation acme"), (None, "Could not reach")],
    ids=["ok", "unauthorized", "forbidden", "unreachable"],
)
def test_init_against_a_local_server_with_the_real_client(path: Path, status: int | None, message: str | None) -> None:
    with contextlib.ExitStack() as stack:
        base_url = stack.enter_context(stub_sentry(status)) if status else closed_port_url()
        if message is None:
            result = asyncio.run(init_config(base_url, USER_TOKEN, org="acme", path=path))
            assert (result.base_url, load_saved(path)) == (base_url, result)
            assert result.access.startswith("The token can read the issues of organisation acme (event:read)")
            return
        with pytest.raises(ConfigError, match=message) as caught:
            asyncio.run(init_config(base_url, USER_TOKEN, org="acme", path=path))
    assert base_url in str(caught.value)
    assert USER_TOKEN not in str(caught.value)
    assert not path.exists()


# --- init against the fake Sentry: the check proves what exports need ------------------------------------------

EVENTS_ONLY = "sntryu_" + "1e" * 32
NO_EVENT_READ = "sntryu_" + "0e" * 32


@pytest.mark.parametrize("glitchtip", [False, True], ids=["sentry", "glitchtip"])
def test_init_saves_an_event_read_token_and_says_short_ids_need_org_read(path: Path, glitchtip: bool) -> None:
    from tests.fake_sentry import FakeSentry

    with FakeSentry(tokens={EVENTS_ONLY: {"event:read"}}, glitchtip=glitchtip) as server:
        saved = asyncio.run(init_config(f"{server.url}/organizations/acme/", EVENTS_ONLY, path=path))
    assert load_saved(path) == saved
    assert "(event:read)" in saved.access and "short ids such as PROJ-1A will not resolve" in saved.access


@pytest.mark.parametrize("glitchtip", [False, True], ids=["sentry", "glitchtip"])
def test_init_refuses_a_token_that_cannot_read_events_and_saves_nothing(path: Path, glitchtip: bool) -> None:
    from tests.fake_sentry import FakeSentry

    with (
        FakeSentry(tokens={NO_EVENT_READ: {"org:read", "project:read"}}, glitchtip=glitchtip) as server,
        pytest.raises(ConfigError) as caught,
    ):
        asyncio.run(init_config(f"{server.url}/organizations/acme/", NO_EVENT_READ, path=path))
    message = str(caught.value)
    assert "nothing was saved" in message and "lacks the event:read scope" in message
    assert NO_EVENT_READ not in message and not path.exists()

"""Saved config + environment + per-call overrides -> one :class:`~sentry_issue_export.settings.Settings`.

Precedence, highest first: call arguments, the environment (``SENTRY_AUTH_TOKEN`` or ``SENTRY_TOKEN``,
``SENTRY_URL``, ``SENTRY_ORG``, ``SENTRY_PROJECT``, ``EXPORT_SENTRY_ISSUE_OUTPUT_DIR``,
``EXPORT_SENTRY_ISSUE_SOURCE``, ``EXPORT_SENTRY_ISSUE_SERVER``), the saved file
``$XDG_CONFIG_HOME/export-sentry-issue/config.json``, then built-in defaults. This is the one place that reads
those variables.

The source decides what is loaded at all: a source that reads a server (``needs_credentials``: sentry, bugsink)
gets the base URL, token and organisation; an offline one (samples, file) gets none of them, and a broken saved
config cannot stop it. When nothing names the source (``SENTRY_URL`` and a token in the environment, say),
``Settings.detect_source`` is set and the exporter asks the server what it is.

One rule outranks precedence: a token travels only to the server it was given for. A token belongs to the
base URL of its own layer (or, when its layer names none, of the nearest lower layer); it may be paired with a
base URL from a lower layer, or from a higher one on the same server, and otherwise it is refused. So a per-call
``base_url`` for another host never receives the saved token. ``sentry.io`` and its ``*.sentry.io`` region and
organisation hosts count as one server, as they do for the Sentry client.

This module decides which value wins and has the source check a new token before it is saved. Reading pasted
URLs and tokens lives in :mod:`~sentry_issue_export.sentry.urls`, the private, atomic file in :mod:`.file`; the
names callers need (``load_saved``, ``mask_token``, ``normalise_base_url``, ...) are re-exported, so ``config``
stays the one entry point. The token never appears in a message, a log line or a ``repr``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import AuthError, ConfigError, FetchError, NetworkError, PermissionDeniedError, PluginError
from ..sentry.urls import (
    DEFAULT_BASE_URL,
    URL_EXAMPLES,
    TokenInfo,
    inspect_token,
    is_slug,
    mask_token,
    normalise_base_url,
    without_token,
)
from ..settings import TIMEOUT_VARIABLE, Settings, parse_timeout
from ..web.origin import Origin
from .file import SAVED_FIELDS, SavedConfig, config_path, load_saved, revoke_config, save_config

if TYPE_CHECKING:
    from ..plugins import Registry

__all__ = [
    "ENV_OUTPUT_DIR",
    "ENV_SOURCE",
    "SavedConfig",
    "TokenInfo",
    "config_path",
    "init_config",
    "inspect_token",
    "load_saved",
    "mask_token",
    "normalise_base_url",
    "resolve_settings",
    "revoke_config",
    "save_config",
    "show_config",
]

log = logging.getLogger(__name__)

REQUIRED_SCOPES = "event:read scope (and org:read for short ids)"
TOKEN_ENV_VARS = ("SENTRY_AUTH_TOKEN", "SENTRY_TOKEN")
ENV_OUTPUT_DIR = "EXPORT_SENTRY_ISSUE_OUTPUT_DIR"
ENV_SOURCE = "EXPORT_SENTRY_ISSUE_SOURCE"
ENV_SERVER = "EXPORT_SENTRY_ISSUE_SERVER"
DEFAULT_SOURCE = "sentry"
SERVER_SOURCES = {"sentry": "sentry", "glitchtip": "sentry", "bugsink": "bugsink"}
"""``EXPORT_SENTRY_ISSUE_SERVER`` forces the server's kind; GlitchTip is read by the sentry source (legacy routes)."""


# --- layers and resolution ------------------------------------------------------------------------------------


@attrs.frozen
class _Value:
    value: Any = attrs.field(repr=False)
    source: str
    """``argument``, ``env``, ``file`` or ``default``."""
    detail: str | None = None
    """The argument, variable or key that gave it, e.g. ``SENTRY_URL`` or ``from base_url``."""


_Layer = dict[str, _Value]


def _build_layer(source: str, given: Mapping[str, tuple[Any, str]]) -> _Layer:
    """One precedence layer; its URL and org token fill in what the layer does not say itself."""
    layer: _Layer = {}
    for name, (raw, detail) in given.items():
        value = raw.strip() if isinstance(raw, str) else raw
        if value is not None and value != "":
            layer[name] = _Value(value, source, detail)
    if url := layer.get("base_url"):
        try:
            base_url, org, project = normalise_base_url(url.value)
        except ConfigError as exc:
            if source == "env":
                raise ConfigError(f"{url.detail} is not usable: {exc}") from None
            raise
        layer["base_url"] = attrs.evolve(url, value=base_url)
        for name, derived in (("org", org), ("project", project)):
            if derived and name not in layer:
                layer[name] = _Value(derived, source, f"from {url.detail}")
    if token := layer.get("token"):
        info = inspect_token(token.value)
        for name, derived in (("base_url", info.url), ("org", info.org)):
            if derived and name not in layer:
                layer[name] = _Value(derived, source, f"from the organization token in {token.detail}")
    return layer


def _env_layer(env: Mapping[str, str], *, credentials: bool = True) -> _Layer:
    """The environment's layer; without ``credentials`` only what an offline source may use."""
    variables = {"output_dir": ENV_OUTPUT_DIR}
    if credentials:
        token_var = next((name for name in TOKEN_ENV_VARS if env.get(name, "").strip()), TOKEN_ENV_VARS[0])
        variables |= {"base_url": "SENTRY_URL", "org": "SENTRY_ORG", "project": "SENTRY_PROJECT", "token": token_var}
    return _build_layer("env", {name: (env.get(var), var) for name, var in variables.items()})


def _file_layer(saved: SavedConfig | None) -> _Layer:
    if saved is None:
        return {}
    return _build_layer("file", {name: (getattr(saved, name), name) for name in SAVED_FIELDS})


_DEFAULT_LAYER: _Layer = {
    "base_url": _Value(DEFAULT_BASE_URL, "default"),
    "format": _Value("text", "default"),
}


def _resolve(layers: list[_Layer]) -> tuple[dict[str, _Value], str | None]:
    """Pick each value by precedence, and the token by the origin rule; returns (values, token problem)."""
    chosen: dict[str, _Value] = {}
    for layer in layers:
        for name, value in layer.items():
            if name != "token":
                chosen.setdefault(name, value)
    base_index = next(i for i, layer in enumerate(layers) if "base_url" in layer)
    target = chosen["base_url"].value
    problem = None
    for i, layer in enumerate(layers):
        if (token := layer.get("token")) is None:
            continue
        home = next(lower["base_url"].value for lower in layers[i:] if "base_url" in lower)
        if i <= base_index or Origin.parse(home).same_server(Origin.parse(target)):
            chosen["token"] = token
            return chosen, None
        problem = problem or _refused_token_message(token, home, target)
    return chosen, problem


def _refused_token_message(token: _Value, home: str, target: str) -> str:
    owner = "saved token" if token.source == "file" else f"token in {token.detail}"
    if token.source == "argument":
        owner = "token"
    home_server, target_server = Origin.parse(home).netloc, Origin.parse(target).netloc
    return (
        f"The {owner} is for {home_server} and will not be sent to {target_server}; "
        f"pass a token for {target_server} along with that URL."
    )


def _layers_for(
    arguments: Mapping[str, tuple[Any, str]], env: Mapping[str, str], saved: SavedConfig | None
) -> list[_Layer]:
    return [_build_layer("argument", arguments), _env_layer(env), _file_layer(saved), _DEFAULT_LAYER]


def resolve_settings(
    *,
    base_url: str | None = None,
    token: str | None = None,
    org: str | None = None,
    project: str | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    format: str | None = None,
    templates_dir: str | os.PathLike[str] | None = None,
    debug: bool | None = None,
    source: str | None = None,
    env: Mapping[str, str] | None = None,
    path: Path | None = None,
    registry: Registry | None = None,
    **other_settings_fields: Any,
) -> Settings:
    """Build the Settings for one export: arguments over environment over saved file over defaults.

    ``source`` (else ``EXPORT_SENTRY_ISSUE_SOURCE``, else the saved config's, else ``sentry``) decides whether
    credentials are loaded: an offline source gets only the output directory, format and templates, and its
    ``base_url``, ``token`` and ``org`` arguments are ignored. ``other_settings_fields`` (``remove_pii``,
    ``from_file``, ``max_concurrency``, ...) pass straight through. Raises ConfigError for an unusable file or
    URL, and when the only token available belongs to another server; PluginError for an unknown source.
    """
    settable = {field.name for field in attrs.fields(Settings)} - set(SAVED_FIELDS) - {"debug"}
    if unknown := sorted(set(other_settings_fields) - settable):
        raise TypeError(f"resolve_settings() got unknown settings: {', '.join(unknown)}")
    env = os.environ if env is None else env
    path = config_path(env) if path is None else Path(path)
    if "timeout" not in other_settings_fields and (raw_timeout := env.get(TIMEOUT_VARIABLE, "").strip()):
        try:
            other_settings_fields["timeout"] = parse_timeout(raw_timeout, TIMEOUT_VARIABLE)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    server = env.get(ENV_SERVER, "").strip().lower() or None
    if server is not None and server not in SERVER_SOURCES:
        raise ConfigError(f"{ENV_SERVER} must be one of {', '.join(SERVER_SOURCES)}, not {server!r}.")
    name = (source or "").strip() or env.get(ENV_SOURCE, "").strip() or SERVER_SOURCES.get(server or "") or None
    saved = None
    if name is None:
        saved = load_saved(path)
        name = saved.source if saved else None
    detect = name is None  # nothing says which server this is: the exporter asks it
    name = name or DEFAULT_SOURCE
    credentials = _needs_credentials(name, registry)
    arguments = {
        "output_dir": (output_dir, "output_dir"),
        "format": (format, "format"),
        "templates_dir": (templates_dir, "templates_dir"),
    }
    if credentials:
        saved = saved or load_saved(path)
        arguments |= {
            "base_url": (base_url, "base_url"),
            "token": (token, "token"),
            "org": (org, "org"),
            "project": (project, "project"),
        }
        layers = _layers_for(arguments, env, saved)
    else:
        layers = [_build_layer("argument", arguments), _env_layer(env, credentials=False), _DEFAULT_LAYER]
    values, problem = _resolve(layers)
    if problem:
        raise ConfigError(problem)
    for warning in saved.warnings if saved and credentials else ():
        log.warning("%s", warning)
    fields: dict[str, Any] = {n: value.value for n, value in values.items() if n != "source"}
    if not credentials:
        fields.pop("base_url", None)
    for field_name in ("output_dir", "templates_dir"):
        if field_name in fields:
            fields[field_name] = Path(fields[field_name]).expanduser()
    if debug is not None:
        fields["debug"] = debug
    if credentials:
        fields.update(detect_source=detect, server=server)
    return Settings(**fields, source=name, **other_settings_fields)


def _needs_credentials(source: str, registry: Registry | None) -> bool:
    if registry is None:
        from ..plugins import get_registry

        registry = get_registry()
    return bool(registry.source(source).needs_credentials)


def show_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The effective configuration without call arguments: each value with its source, the token masked.

    A problem that would stop an export (a token refused for another server) is listed in ``warnings``.
    """
    env = os.environ if env is None else env
    path = config_path(env) if path is None else Path(path)
    saved = load_saved(path)
    values, problem = _resolve(_layers_for({}, env, saved))
    shown: dict[str, Any] = {}
    for name in SAVED_FIELDS:
        value = values.get(name)
        if value is None:
            shown[name] = {"value": None, "source": None, "detail": None}
            continue
        text = mask_token(value.value) if name == "token" else str(value.value)
        shown[name] = {"value": text, "source": value.source, "detail": value.detail}
    shown["source"] = _shown_source(env, saved)
    token = values.get("token")
    notes = []
    source, because = shown["source"]["value"], shown["source"]["detail"]
    try:
        offline = not _needs_credentials(source, None)
    except PluginError as exc:
        notes.append(f"{exc} ({because})")
    else:
        if offline:
            notes.append(
                f"Exports come from the {source} source ({because}), which reads no server: the URL, organisation "
                "and token above are not used."
            )
    return {
        "path": str(path),
        "saved": saved is not None,
        "settings": shown,
        "token_kind": inspect_token(token.value).description if token else None,
        "warnings": [*(saved.warnings if saved else ()), *([problem] if problem else [])],
        "notes": notes,
    }


def _shown_source(env: Mapping[str, str], saved: SavedConfig | None) -> dict[str, Any]:
    """Which source an export would use, and what says so, in the order ``resolve_settings`` decides it."""
    if name := env.get(ENV_SOURCE, "").strip():
        return {"value": name, "source": "env", "detail": ENV_SOURCE}
    server = env.get(ENV_SERVER, "").strip().lower()
    if server in SERVER_SOURCES:
        return {"value": SERVER_SOURCES[server], "source": "env", "detail": f"{ENV_SERVER}={server}"}
    if saved is not None and saved.source:
        return {"value": saved.source, "source": "file", "detail": "source"}
    return {"value": DEFAULT_SOURCE, "source": "default", "detail": "or the kind the server turns out to be"}


# --- init -----------------------------------------------------------------------------------------------------

Verifier = Callable[[Settings], Awaitable[str]]
"""``await verifier(settings)`` returns what it reached when the token works, else raises a FetchError."""


async def init_config(
    base_url: str | None,
    token: str,
    *,
    org: str | None = None,
    project: str | None = None,
    output_dir: str | None = None,
    format: str | None = None,
    templates_dir: str | None = None,
    source: str | None = None,
    path: Path | None = None,
    verify: bool = True,
    verifier: Verifier | None = None,
    registry: Registry | None = None,
) -> SavedConfig:
    """Have the source check the token against the server, then save it. Nothing is saved when the check fails.

    An ``sntrys_`` organisation token names its server and organisation, so ``base_url`` and ``org`` may be
    left out for one. Without a ``source``, the server's kind is found out: Sentry (and GlitchTip) first, and
    when the server is no Sentry API, each other source that reads a server (Bugsink) in turn; the one whose
    check passes is saved with the config. ``verifier`` replaces the sources' own ``check_access`` (tests). The
    saved config's ``access`` says what the check reached.
    """
    token = (token or "").strip()
    if not token:
        raise ConfigError(
            f"No token was given; create one with the {REQUIRED_SCOPES} under Settings → Account → API → "
            "Auth Tokens in Sentry."
        )
    if source is not None and verifier is None and not _needs_credentials(source, registry):
        raise ConfigError(f"The {source} source reads no server, so there is no token to check or save.")
    info = inspect_token(token)
    if base_url and base_url.strip():
        origin, url_org, url_project = normalise_base_url(base_url)
    elif info.url:
        origin, url_org, url_project = info.url, None, None
    else:
        raise ConfigError(f"No Sentry URL was given; {URL_EXAMPLES}.")
    org = (org or "").strip() or url_org or info.org
    if org and not is_slug(org):
        raise ConfigError(
            f"{org!r} is not an organisation slug for {origin}; pass the slug seen in "
            "https://sentry.io/organizations/<slug>/, or a URL that names it."
        )
    config = SavedConfig(
        base_url=origin,
        org=org,
        project=(project or "").strip() or url_project,
        token=token,
        output_dir=output_dir,
        format=format,
        templates_dir=templates_dir,
        source=None if source in (None, DEFAULT_SOURCE) else source,
    )
    access = ""
    if verify:
        settings = Settings(base_url=config.base_url, token=token, org=config.org, project=config.project)
        if verifier is not None:
            access = await _verify(config, settings, verifier)
        else:
            found, access = await _check_with_sources(config, settings, source, registry)
            config = attrs.evolve(config, source=None if found == DEFAULT_SOURCE else found)
    save_config(config, path)
    return attrs.evolve(config, access=access)


async def _check_with_sources(
    config: SavedConfig, settings: Settings, source: str | None, registry: Registry | None
) -> tuple[str, str]:
    """(the source that checked the token, what it reached): the one named, else the one that reads this server,
    found as an export finds it (:meth:`~sentry_issue_export.plugins.Registry.source_reading`)."""
    from ..plugins import get_registry

    registry = registry or get_registry()
    if source is None:
        source = await registry.source_reading(attrs.evolve(settings, source=DEFAULT_SOURCE))
    checked = registry.source(source).check_access
    return source, await _verify(config, attrs.evolve(settings, source=source), checked)


async def _verify(config: SavedConfig, settings: Settings, verifier: Verifier) -> str:
    try:
        return await verifier(settings)
    except FetchError as exc:
        raise ConfigError(_verification_failure(exc, config)) from exc


def _verification_failure(error: FetchError, config: SavedConfig) -> str:
    """Lead with what happened to the config, then the server's own reason, then what the reason lacks."""
    origin, org = config.base_url, config.org
    reason = without_token(str(error), config.token).strip()
    if reason and reason.rstrip('"')[-1:] not in (".", "!", "?"):
        reason += "."
    if isinstance(error, NetworkError):
        lead = "" if reason.lower().startswith("could not reach") else f"Could not reach {origin}: "
        return f"{lead}{reason} Nothing was saved."
    scopes_hint = "" if "event:read" in reason else f" The token needs the {REQUIRED_SCOPES}."
    if isinstance(error, AuthError):
        return f"{origin} rejected the token; nothing was saved. {reason}{scopes_hint}"
    if isinstance(error, PermissionDeniedError):
        membership = f" Its user must also be a member of {org}." if scopes_hint else ""
        return f"{origin} refused access to organisation {org}; nothing was saved. {reason}{scopes_hint}{membership}"
    return (
        f"{origin} did not confirm access to organisation {org}; nothing was saved. {reason} Check the URL (and "
        "the path prefix of a self-hosted install) and the organisation slug."
    )

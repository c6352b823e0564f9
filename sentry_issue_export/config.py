"""Saved config + environment + per-call overrides -> one :class:`~sentry_issue_export.settings.Settings`.

Precedence, highest first: call arguments, the environment (``SENTRY_AUTH_TOKEN`` or ``SENTRY_TOKEN``,
``SENTRY_URL``, ``SENTRY_ORG``, ``SENTRY_PROJECT``, ``EXPORT_SENTRY_ISSUE_OUTPUT_DIR``), the saved file
``$XDG_CONFIG_HOME/export-sentry-issue/config.json``, then built-in defaults.

One rule outranks precedence: a token travels only to the server it was given for. A token belongs to the
base URL of its own layer (or, when its layer names none, of the nearest lower layer); it may be paired with a
base URL from a lower layer, or from a higher one on the same server, and otherwise it is refused. So a per-call
``base_url`` for another host never receives the saved token. ``sentry.io`` and its ``*.sentry.io`` region and
organisation hosts count as one server, as they do for the Sentry client.

The file holds a token, so it is private from its first byte: created with mode 600 inside a 700 directory,
written to a unique temporary file and renamed over the old one, so readers and concurrent writers only ever
see a whole file. The token never appears in a message, a log line or a ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import os
import re
import secrets
import stat
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs

from .errors import AuthError, ConfigError, FetchError, NetworkError, PermissionDeniedError
from .settings import Settings

__all__ = [
    "SavedConfig",
    "TokenInfo",
    "check_access_with_sentry_client",
    "config_path",
    "init_config",
    "inspect_token",
    "load_saved",
    "mask_token",
    "normalize_base_url",
    "resolve_settings",
    "revoke_config",
    "same_server",
    "save_config",
    "show_config",
]

log = logging.getLogger(__name__)

APP_DIR_NAME = "export-sentry-issue"
CONFIG_FILE_NAME = "config.json"
DEFAULT_BASE_URL = "https://sentry.io"
REQUIRED_SCOPES = "event:read, project:read and org:read"
FIX_HINT = "run `export-sentry-issue config init` again to replace it, or delete it"
URL_EXAMPLES = (
    "e.g. https://sentry.io/organizations/acme/, https://acme.sentry.io/ "
    "or, for self-hosted Sentry, https://sentry.example.com with the organisation given separately"
)
TOKEN_ENV_VARS = ("SENTRY_AUTH_TOKEN", "SENTRY_TOKEN")

_SAAS_HOST = "sentry.io"
_NOT_ORG_LABELS = frozenset({"us", "de", "eu", "www"})
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_HOSTNAME = re.compile(r"^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$|^[0-9a-f:.]+$")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SAVED_FIELDS = ("base_url", "org", "project", "token", "output_dir", "format", "templates_dir")


# --- base URLs ------------------------------------------------------------------------------------------------


def normalize_base_url(url: str) -> tuple[str, str | None, str | None]:
    """Read a pasted Sentry address as ``(base_url, org, project)``.

    ``base_url`` is ``scheme://host[:port]`` plus a self-hosted path prefix if there is one. An organisation
    host (``https://acme.sentry.io``) becomes ``https://sentry.io`` with org ``acme``; region hosts
    (``https://de.sentry.io``) stay. Pages under the web app or the API (``/organizations/{org}/...``,
    ``/api/0/projects/{org}/{project}/...``, ``/{org}/issues/{id}/``) contribute their org and project.
    """
    text = url.strip()
    if not text:
        raise ConfigError(f"No Sentry URL was given; {URL_EXAMPLES}.")
    if inspect_token(text).kind != "unknown":
        raise ConfigError(f"The value given as the Sentry URL looks like a token; give the URL, {URL_EXAMPLES}.")
    if not _SCHEME.match(text):
        text = "https:" + text if text.startswith("//") else "https://" + text
    shown = _describe_input(url)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{shown} is not a valid URL; {URL_EXAMPLES}.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ConfigError(f"{shown} is not an http(s) URL; {URL_EXAMPLES}.")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            "The Sentry URL must not contain a user name or password (a DSN is not the address of Sentry); "
            f"pass the token separately and use the web address, {URL_EXAMPLES}."
        )
    host = (parts.hostname or "").rstrip(".")
    if not host or not _HOSTNAME.match(host):
        raise ConfigError(f"{shown} names no valid host; {URL_EXAMPLES}.")

    segments = [segment for segment in parts.path.split("/") if segment]
    prefix, org, project, recognised = _read_path(segments)
    if host == _SAAS_HOST or host.endswith("." + _SAAS_HOST):
        label = host.removesuffix(_SAAS_HOST).rstrip(".")
        if label and "." not in label and label not in _NOT_ORG_LABELS:
            host, org = _SAAS_HOST, org or label
        elif label == "www":
            host = _SAAS_HOST
        prefix = []  # sentry.io serves from the root: any path is a page of the web app, not a prefix
    elif not recognised:
        prefix = segments  # a self-hosted install under a path, e.g. https://example.com/sentry/
    for name, slug in (("organisation", org), ("project", project)):
        if slug is not None and not _SLUG.match(slug):
            raise ConfigError(f"{slug!r} in {shown} is not a valid {name} slug; {URL_EXAMPLES}.")

    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _default_port(scheme):
        netloc += f":{port}"
    path = "".join("/" + segment for segment in prefix)
    return f"{scheme}://{netloc}{path}", org, project


def _read_path(segments: list[str]) -> tuple[list[str], str | None, str | None, bool]:
    """Split a URL path into (prefix, org, project, recognised) at the first Sentry route it contains."""
    lowered = [segment.lower() for segment in segments]
    for i, segment in enumerate(lowered):
        after, after_lowered = segments[i + 1 :], lowered[i + 1 :]
        if segment == "api" and after_lowered[:1] == ["0"]:
            scope = after_lowered[1] if len(after) > 2 else None
            org = after[2] if scope in ("projects", "organizations") else None
            project = after[3] if scope == "projects" and len(after) > 3 else None
            return segments[:i], org, project, True
        if segment == "organizations":
            has_project = len(after) > 2 and after_lowered[1] == "projects"
            return segments[:i], after[0] if after else None, after[2] if has_project else None, True
        if segment == "issues":
            return (segments[: i - 1], segments[i - 1], None, True) if i else ([], None, None, True)
        if i == 0 and segment in ("settings", "auth", "account"):
            return [], None, None, True
    return segments, None, None, False


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _describe_input(text: str) -> str:
    """Quote a user's input for a message, unless it looks like a token pasted into the wrong place."""
    stripped = text.strip()
    if inspect_token(stripped).kind != "unknown" or len(stripped) > 200:
        return "The value given"
    return repr(stripped)


def _server_key(base_url: str) -> tuple[str, str, int]:
    parts = urlsplit(base_url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port or _default_port(scheme)
    if scheme == "https" and port == 443 and (host == _SAAS_HOST or host.endswith("." + _SAAS_HOST)):
        host = _SAAS_HOST
    return scheme, host, port


def same_server(first: str, second: str) -> bool:
    """Whether a token for ``first`` may be sent to ``second``: same scheme, host and port (sentry.io hosts are one)."""
    return _server_key(first) == _server_key(second)


def _host(base_url: str) -> str:
    return urlsplit(base_url).netloc


# --- tokens ---------------------------------------------------------------------------------------------------


@attrs.frozen
class TokenInfo:
    """What a token's shape says about it. Nothing here is secret; ``url`` and ``org`` come from org tokens."""

    kind: str
    """``user``, ``organization``, ``user app``, ``integration``, ``legacy`` or ``unknown``."""
    url: str | None = None
    org: str | None = None

    @property
    def description(self) -> str:
        if self.kind == "unknown":
            return "unrecognised token format"
        where = f" for {self.org} at {self.url}" if self.org and self.url else ""
        return f"{self.kind} token{where}"


_TOKEN_PREFIXES = {"sntryu_": "user", "sntrys_": "organization", "sntrya_": "user app", "sntryi_": "integration"}


def inspect_token(token: str) -> TokenInfo:
    """Recognise a token by its prefix; an ``sntrys_`` token also names its server and organisation."""
    for prefix, kind in _TOKEN_PREFIXES.items():
        if token.startswith(prefix):
            if kind == "organization":
                return _org_token_info(token[len(prefix) :])
            return TokenInfo(kind)
    if re.fullmatch(r"[0-9a-fA-F]{32,128}", token):
        return TokenInfo("legacy")
    return TokenInfo("unknown")


def _org_token_info(body: str) -> TokenInfo:
    """Decode the public part of ``sntrys_<base64 JSON>_<secret>``; the secret is never looked at."""
    if "_" not in body:
        return TokenInfo("organization")
    encoded = body[: body.rindex("_")]
    try:
        payload = json.loads(base64.b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8"))
    except (binascii.Error, ValueError):
        return TokenInfo("organization")
    if not isinstance(payload, dict):
        return TokenInfo("organization")
    org = payload.get("org") if isinstance(payload.get("org"), str) else None
    url = None
    for key in ("url", "region_url"):
        value = payload.get(key)
        if isinstance(value, str) and value and url is None:
            with contextlib.suppress(ConfigError):
                url = normalize_base_url(value)[0]
    return TokenInfo("organization", url=url, org=org if org and _SLUG.match(org) else None)


def mask_token(token: str | None) -> str:
    """Show at most 8 leading characters (and never more than a third of the token) plus its length."""
    if not token:
        return "(not set)"
    shown = min(8, len(token) // 3)
    return f"{token[:shown]}… ({len(token)} char{'' if len(token) == 1 else 's'})"


def _without_token(message: str, token: str) -> str:
    """Defence in depth: a message from elsewhere must not carry the token into ours."""
    return message.replace(token, mask_token(token)) if token else message


# --- the saved file -------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SavedConfig:
    """The saved config file. ``warnings`` are found on load (e.g. loose permissions) and are not saved."""

    base_url: str
    org: str | None = None
    project: str | None = None
    token: str = attrs.field(repr=False)
    output_dir: str | None = None
    format: str | None = None
    templates_dir: str | None = None
    warnings: tuple[str, ...] = attrs.field(default=(), eq=False)


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/export-sentry-issue/config.json``, else ``~/.config/...`` (a relative XDG path is ignored)."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_CONFIG_HOME", "")
    if xdg and os.path.isabs(xdg):
        base = Path(xdg)
    else:
        home = env.get("HOME")
        base = (Path(home) if home else Path.home()) / ".config"
    return base / APP_DIR_NAME / CONFIG_FILE_NAME


def load_saved(path: Path | None = None) -> SavedConfig | None:
    """Read the saved config; ``None`` when there is none. A file that cannot be used raises ConfigError."""
    path = config_path() if path is None else Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(
            f"The saved config {path} cannot be read ({exc.strerror or exc}). "
            f"Make it readable by your user (chmod 600 {path}), or {FIX_HINT}."
        ) from None
    try:
        with os.fdopen(fd, "rb") as file:
            mode = stat.S_IMODE(os.fstat(file.fileno()).st_mode)
            raw = file.read()
    except OSError as exc:
        raise ConfigError(f"The saved config {path} cannot be read ({exc.strerror or exc}); {FIX_HINT}.") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _unusable(path, "it is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _unusable(path, f"it is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    return SavedConfig(**_checked_fields(path, data), warnings=tuple(_permission_warnings(path, mode)))


def _checked_fields(path: Path, data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _unusable(path, f"it holds a JSON {type(data).__name__}, not an object")
    problems = [f"{name} is missing or empty" for name in ("base_url", "token") if not data.get(name)]
    problems += [
        f"{name} should be a string, not {type(data[name]).__name__}"
        for name in _SAVED_FIELDS
        if data.get(name) is not None and not isinstance(data[name], str)
    ]
    if problems:
        raise _unusable(path, "; ".join(problems))
    fields = {name: data.get(name) or None for name in _SAVED_FIELDS}
    try:
        fields["base_url"] = normalize_base_url(data["base_url"])[0]
    except ConfigError as exc:
        raise _unusable(path, f"its base_url is not usable ({exc})") from None
    return fields


def _unusable(path: Path, reason: str) -> ConfigError:
    return ConfigError(f"The saved config {path} is unusable: {reason}. To fix it, {FIX_HINT}.")


def _permission_warnings(path: Path, mode: int) -> list[str]:
    if os.name != "posix":
        return []
    warnings = []
    if mode & 0o077:
        warnings.append(
            f"{path} holds a token but other users may read it (mode {mode:o}); it gets mode 600 on the next "
            f"save, or run `chmod 600 {path}` now."
        )
    with contextlib.suppress(OSError):
        directory_mode = stat.S_IMODE(path.parent.stat().st_mode)
        if path.parent.name == APP_DIR_NAME and directory_mode & 0o077:
            warnings.append(
                f"{path.parent} is open to other users (mode {directory_mode:o}); it gets mode 700 on the next "
                f"save, or run `chmod 700 {path.parent}` now."
            )
    return warnings


def save_config(config: SavedConfig, path: Path | None = None) -> Path:
    """Write the config atomically, mode 600 from its first byte; the last of concurrent writers wins."""
    path = config_path() if path is None else Path(path)
    data = {name: getattr(config, name) for name in _SAVED_FIELDS if getattr(config, name) is not None}
    try:
        _make_private_directory(path.parent)
        _write_private_file(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"Could not save the config to {path} ({exc.strerror or exc}); check that {path.parent} is yours "
            "and writable."
        ) from None
    return path


def _make_private_directory(directory: Path) -> None:
    directory.parent.mkdir(parents=True, exist_ok=True)
    try:
        directory.mkdir(mode=0o700)
    except FileExistsError:
        if not _is_own_loose_directory(directory):
            return
    os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask; pin it


def _is_own_loose_directory(directory: Path) -> bool:
    """Only our own directory is tightened: a custom path may live in a shared one such as /tmp."""
    if os.name != "posix" or directory.name != APP_DIR_NAME:
        return False
    info = directory.stat()
    return info.st_uid == os.geteuid() and bool(info.st_mode & 0o077)


def _write_private_file(path: Path, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(temporary, flags, 0o600)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"no free temporary name next to {path}")
    try:
        with os.fdopen(fd, "wb") as file:
            if hasattr(os, "fchmod"):
                os.fchmod(file.fileno(), 0o600)  # the umask may have removed owner bits; others had none
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; some platforms cannot open a directory, and that is not an error."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def revoke_config(path: Path | None = None) -> bool:
    """Delete the saved config (and any temporary file a crashed save left); True if a config existed.

    The token itself stays valid in Sentry until it is revoked there too.
    """
    path = config_path() if path is None else Path(path)
    with contextlib.suppress(OSError):
        for leftover in path.parent.glob(f".{path.name}.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ConfigError(f"Could not delete the saved config {path} ({exc.strerror or exc}).") from None
    return True


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
            base_url, org, project = normalize_base_url(url.value)
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


def _env_layer(env: Mapping[str, str]) -> _Layer:
    token_var = next((name for name in TOKEN_ENV_VARS if env.get(name, "").strip()), TOKEN_ENV_VARS[0])
    variables = {
        "base_url": "SENTRY_URL",
        "org": "SENTRY_ORG",
        "project": "SENTRY_PROJECT",
        "token": token_var,
        "output_dir": "EXPORT_SENTRY_ISSUE_OUTPUT_DIR",
    }
    return _build_layer("env", {name: (env.get(var), var) for name, var in variables.items()})


def _file_layer(saved: SavedConfig | None) -> _Layer:
    if saved is None:
        return {}
    return _build_layer("file", {name: (getattr(saved, name), name) for name in _SAVED_FIELDS})


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
        if i <= base_index or same_server(home, target):
            chosen["token"] = token
            return chosen, None
        problem = problem or _refused_token_message(token, home, target)
    return chosen, problem


def _refused_token_message(token: _Value, home: str, target: str) -> str:
    owner = "saved token" if token.source == "file" else f"token in {token.detail}"
    if token.source == "argument":
        owner = "token"
    return (
        f"The {owner} is for {_host(home)} and will not be sent to {_host(target)}; "
        f"pass a token for {_host(target)} along with that URL."
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
    env: Mapping[str, str] | None = None,
    path: Path | None = None,
    **other_settings_fields: Any,
) -> Settings:
    """Build the Settings for one export: arguments over environment over saved file over defaults.

    ``other_settings_fields`` (``source``, ``remove_pii``, ``max_concurrency``, ...) pass straight through.
    Raises ConfigError for an unusable file or URL, and when the only token available belongs to another server.
    """
    settable = {field.name for field in attrs.fields(Settings)} - set(_SAVED_FIELDS) - {"debug"}
    if unknown := sorted(set(other_settings_fields) - settable):
        raise TypeError(f"resolve_settings() got unknown settings: {', '.join(unknown)}")
    env = os.environ if env is None else env
    saved = load_saved(config_path(env) if path is None else Path(path))
    arguments = {
        "base_url": (base_url, "base_url"),
        "token": (token, "token"),
        "org": (org, "org"),
        "project": (project, "project"),
        "output_dir": (output_dir, "output_dir"),
        "format": (format, "format"),
        "templates_dir": (templates_dir, "templates_dir"),
    }
    values, problem = _resolve(_layers_for(arguments, env, saved))
    if problem:
        raise ConfigError(problem)
    for warning in saved.warnings if saved else ():
        log.warning("%s", warning)
    fields: dict[str, Any] = {name: value.value for name, value in values.items()}
    for name in ("output_dir", "templates_dir"):
        if name in fields:
            fields[name] = Path(fields[name]).expanduser()
    if debug is not None:
        fields["debug"] = debug
    return Settings(**fields, **other_settings_fields)


def show_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The effective configuration without call arguments: each value with its source, the token masked.

    A problem that would stop an export (a token refused for another server) is listed in ``warnings``.
    """
    env = os.environ if env is None else env
    path = config_path(env) if path is None else Path(path)
    saved = load_saved(path)
    values, problem = _resolve(_layers_for({}, env, saved))
    shown: dict[str, Any] = {}
    for name in _SAVED_FIELDS:
        value = values.get(name)
        if value is None:
            shown[name] = {"value": None, "source": None, "detail": None}
            continue
        text = mask_token(value.value) if name == "token" else str(value.value)
        shown[name] = {"value": text, "source": value.source, "detail": value.detail}
    token = values.get("token")
    return {
        "path": str(path),
        "saved": saved is not None,
        "settings": shown,
        "token_kind": inspect_token(token.value).description if token else None,
        "warnings": [*(saved.warnings if saved else ()), *([problem] if problem else [])],
    }


# --- init -----------------------------------------------------------------------------------------------------

Verifier = Callable[[str, str, str | None], Awaitable[None]]
"""``await verifier(base_url, token, org)`` returns when the token works, else raises a FetchError subclass."""


async def check_access_with_sentry_client(base_url: str, token: str, org: str | None) -> None:
    """Ask the server whether the token may read the organisation, through the exporter's own client."""
    from .sentry_api import SentryClient  # imported here so config works without the HTTP stack loaded

    # One retry: a person is waiting at the prompt, and an unreachable server should be reported quickly.
    async with SentryClient(base_url, token, org=org, retries=1) as client:
        await client.check_access()


async def init_config(
    base_url: str | None,
    token: str,
    *,
    org: str | None = None,
    project: str | None = None,
    output_dir: str | None = None,
    format: str | None = None,
    templates_dir: str | None = None,
    path: Path | None = None,
    verify: bool = True,
    verifier: Verifier | None = None,
) -> SavedConfig:
    """Check the token against the server, then save it. Nothing is saved when the check fails.

    An ``sntrys_`` organisation token names its server and organisation, so ``base_url`` and ``org`` may be
    left out for one.
    """
    token = (token or "").strip()
    if not token:
        raise ConfigError(
            f"No token was given; create one with the {REQUIRED_SCOPES} scopes under Settings → Account → API → "
            "Auth Tokens in Sentry."
        )
    info = inspect_token(token)
    if base_url and base_url.strip():
        origin, url_org, url_project = normalize_base_url(base_url)
    elif info.url:
        origin, url_org, url_project = info.url, None, None
    else:
        raise ConfigError(f"No Sentry URL was given; {URL_EXAMPLES}.")
    org = (org or "").strip() or url_org or info.org
    if not org or not _SLUG.match(org):
        problem = f"{org!r} is not an organisation slug" if org else "No organisation was given"
        raise ConfigError(
            f"{problem} for {origin}; pass the slug seen in https://sentry.io/organizations/<slug>/, "
            "or a URL that names it."
        )
    config = SavedConfig(
        base_url=origin,
        org=org,
        project=(project or "").strip() or url_project,
        token=token,
        output_dir=output_dir,
        format=format,
        templates_dir=templates_dir,
    )
    if verify:
        await _verify(config, verifier or check_access_with_sentry_client)
    save_config(config, path)
    return config


async def _verify(config: SavedConfig, verifier: Verifier) -> None:
    try:
        await verifier(config.base_url, config.token, config.org)
    except FetchError as exc:
        raise ConfigError(_verification_failure(exc, config)) from exc


def _verification_failure(error: FetchError, config: SavedConfig) -> str:
    """Lead with what happened to the config, then the server's own reason, then what the reason lacks."""
    origin, org = config.base_url, config.org
    reason = _without_token(str(error), config.token).strip()
    if reason and reason[-1] not in ".!?":
        reason += "."
    if isinstance(error, NetworkError):
        lead = "" if reason.lower().startswith("could not reach") else f"Could not reach {origin}: "
        return f"{lead}{reason} Nothing was saved."
    scopes_hint = "" if "event:read" in reason else f" The token needs the {REQUIRED_SCOPES} scopes."
    if isinstance(error, AuthError):
        return f"{origin} rejected the token; nothing was saved. {reason}{scopes_hint}"
    if isinstance(error, PermissionDeniedError):
        membership = f" Its user must also be a member of {org}." if scopes_hint else ""
        return f"{origin} refused access to organisation {org}; nothing was saved. {reason}{scopes_hint}{membership}"
    return (
        f"{origin} did not confirm access to organisation {org}; nothing was saved. {reason} Check the URL (and "
        "the path prefix of a self-hosted install) and the organisation slug."
    )

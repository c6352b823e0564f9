"""What a pasted Sentry address or token says: its server, organisation and project, and how to show it safely.

People paste what they have at hand: an issue page, an ``https://acme.sentry.io`` link, an API URL, a
self-hosted root under a path, or a token in the wrong field. Everything that decides whether a token may go to
a server starts from one normal form, ``scheme://host[:port]`` plus any self-hosted path prefix, so the reading
of those forms lives here, apart from where settings come from and where they are stored.

Which addresses name the same server is :class:`~sentry_issue_export.web.origin.Origin`'s question, asked the
same way by settings, pasted references and the transport. A token is only ever inspected by its public shape,
and shown masked: no function here puts a token into a message or a ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
from urllib.parse import urlsplit

import attrs

from ..errors import ConfigError
from ..web.origin import SENTRY_IO, Origin, OriginError

__all__ = [
    "DEFAULT_BASE_URL",
    "URL_EXAMPLES",
    "TokenInfo",
    "inspect_token",
    "is_slug",
    "mask_token",
    "normalise_base_url",
    "short_id_needs_org",
    "without_token",
]

DEFAULT_BASE_URL = "https://sentry.io"
"""The Sentry used when none is configured."""


def short_id_needs_org(short_id: str) -> str:
    """The message for a short id that no organisation was given for."""
    return (
        f"{short_id} is a short id, and short ids can only be looked up inside an organisation: set the "
        "organisation (`export-sentry-issue config init`, or SENTRY_ORG) or paste the issue's URL instead."
    )


URL_EXAMPLES = (
    "e.g. https://sentry.io/organizations/acme/, https://acme.sentry.io/ "
    "or, for self-hosted Sentry, https://sentry.example.com with the organisation given separately"
)

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# --- base URLs ------------------------------------------------------------------------------------------------


def normalise_base_url(url: str) -> tuple[str, str | None, str | None]:
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
        origin = Origin.parse(text)
    except OriginError as error:
        raise ConfigError(f"{shown} {error}; {URL_EXAMPLES}.") from None
    parts = urlsplit(text)
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            "The Sentry URL must not contain a user name or password (a DSN is not the address of Sentry); "
            f"pass the token separately and use the web address, {URL_EXAMPLES}."
        )

    segments = [segment for segment in parts.path.split("/") if segment]
    prefix, org, project, recognised = _read_path(segments)
    if origin.is_sentry_io:
        if origin.sentry_organisation or origin.host == "www." + SENTRY_IO:
            org = org or origin.sentry_organisation
            origin = Origin(origin.scheme, SENTRY_IO)
        prefix = []  # sentry.io serves from the root: any path is a page of the web app, not a prefix
    elif not recognised:
        prefix = segments  # a self-hosted install under a path, e.g. https://example.com/sentry/
    for name, slug in (("organisation", org), ("project", project)):
        if slug is not None and not is_slug(slug):
            raise ConfigError(f"{slug!r} in {shown} is not a valid {name} slug; {URL_EXAMPLES}.")

    return str(origin) + "".join("/" + segment for segment in prefix), org, project


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


def _describe_input(text: str) -> str:
    """Quote a user's input for a message, unless it looks like a token pasted into the wrong place."""
    stripped = text.strip()
    if inspect_token(stripped).kind != "unknown" or len(stripped) > 200:
        return "The value given"
    return repr(stripped)


def is_slug(text: str) -> bool:
    """Whether ``text`` can be an organisation or project slug as Sentry writes them in URLs."""
    return _SLUG.match(text) is not None


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
                url = normalise_base_url(value)[0]
    return TokenInfo("organization", url=url, org=org if org and is_slug(org) else None)


def mask_token(token: str | None) -> str:
    """Show at most 8 leading characters (and never more than a third of the token) plus its length."""
    if not token:
        return "(not set)"
    shown = min(8, len(token) // 3)
    return f"{token[:shown]}… ({len(token)} char{'' if len(token) == 1 else 's'})"


def without_token(message: str, token: str) -> str:
    """Defence in depth: a message from elsewhere must not carry the token into ours."""
    return message.replace(token, mask_token(token)) if token else message

"""Where a server is: one :class:`Origin` (scheme, host, port), read once and compared everywhere.

Every rule about hosts lives here and nowhere else; references, base URLs, the transport's token pin, the
Bugsink source and the config all go through it:

- A host is compared lower-case, without a trailing dot. An international name is in its ASCII (punycode) form,
  the very form the HTTP client connects to (httpx's IDNA, loaded only for a name that needs it). An IPv6
  literal is kept without its brackets.
- A port equal to the scheme's default is no port.
- ``sentry.io`` and every ``*.sentry.io`` host (regions such as ``de.sentry.io``, organisation hosts such as
  ``acme.sentry.io``) are one Sentry, on the default port only.
- The first label of a three-label ``*.sentry.io`` host names the organisation, unless it is one of
  :data:`NOT_ORGANISATION_LABELS` (``us``, ``de``, ``eu``, ``www``). Sentry's own organisation is called
  ``sentry``, so ``sentry.sentry.io`` is an organisation host like any other.

Nothing here imports the HTTP stack, so the reference parser and the config can use it at no cost.
"""

from __future__ import annotations

import re
from typing import Self
from urllib.parse import urlsplit

import attrs

from ..errors import ConfigError

SENTRY_IO = "sentry.io"
NOT_ORGANISATION_LABELS = frozenset({"us", "de", "eu", "www"})
"""Labels of ``*.sentry.io`` hosts that are regions or the web site, never an organisation."""
DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$|^[0-9a-f:.]+$")
"""A host name (letters, digits, dots, dashes, underscores) or an IP address, once in ASCII."""


class OriginError(ValueError):
    """Text that names no http(s) server; the message completes "<the text> ..." with why."""


@attrs.frozen
class Origin:
    """A server's address: ``scheme`` (``http`` or ``https``), ``host`` (normal form, see the module) and ``port``
    (``None`` for the scheme's default). Equal origins are the same server; ``str()`` writes it as a URL's
    origin (``https://sentry.example.com:8443``)."""

    scheme: str
    host: str
    port: int | None = None

    @classmethod
    def parse(cls, url: str) -> Self:
        """The origin of an absolute http(s) URL; ``OriginError`` saying why for anything else."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise OriginError("is not a valid URL (check the host and port)") from None
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise OriginError("is not an http(s) address")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise OriginError("has no host name")
        host = ascii_host(host)
        if not _HOST.match(host):
            raise OriginError("has a host name that is not valid")
        return cls(scheme, host, None if port == DEFAULT_PORTS[scheme] else port)

    def __str__(self) -> str:
        return f"{self.scheme}://{self.netloc}"

    @property
    def netloc(self) -> str:
        """``host[:port]`` as a URL writes it (an IPv6 host in brackets): how messages name a server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host + (f":{self.port}" if self.port is not None else "")

    @property
    def is_sentry_io(self) -> bool:
        """Whether this is ``sentry.io`` or one of its hosts, on the default port."""
        return self.port is None and is_sentry_io_host(self.host)

    @property
    def sentry_organisation(self) -> str | None:
        """The organisation an organisation host of sentry.io names (``acme`` of ``acme.sentry.io``)."""
        if not self.is_sentry_io:
            return None
        labels = self.host.split(".")
        return labels[0] if len(labels) == 3 and labels[0] not in NOT_ORGANISATION_LABELS else None

    def same_server(self, other: Origin) -> bool:
        """Whether a token for this server may be sent to ``other``: the same scheme, host and port, sentry.io's
        hosts counting as one (over https)."""
        return self._key(scheme_counts=True) == other._key(scheme_counts=True)

    def same_server_any_scheme(self, other: Origin) -> bool:
        """Whether ``other`` names the same server, whatever its scheme: a pasted address only says where an
        issue lives, and requests always go to the configured origin. Ports must match."""
        return self._key(scheme_counts=False) == other._key(scheme_counts=False)

    def _key(self, *, scheme_counts: bool) -> tuple[str, str, int | None]:
        host = SENTRY_IO if self.is_sentry_io and (self.scheme == "https" or not scheme_counts) else self.host
        return (self.scheme if scheme_counts else "", host, self.port)


def as_origin(value: Origin | str | None) -> Origin | None:
    """``value`` as an origin: an ``Origin`` as it is, a URL parsed, ``None`` (or nothing) as ``None``; what a
    field holding an optional origin converts its value with."""
    if value is None or value == "":
        return None
    return value if isinstance(value, Origin) else Origin.parse(value)


def origin_of(url: str) -> Origin:
    """The origin of a configured base URL; ``ConfigError`` with what to give instead."""
    try:
        return Origin.parse(url)
    except OriginError:
        raise ConfigError(
            f"The base URL {url!r} is not an http(s) address: use the server's root, e.g. https://sentry.io "
            "or https://sentry.example.com."
        ) from None


def is_sentry_io_host(host: str) -> bool:
    """Whether a host name is ``sentry.io`` or one of its hosts (``evilsentry.io`` and ``sentry.io.example.com``
    are not), in any case and with or without a trailing dot."""
    host = host.lower().rstrip(".")
    return host == SENTRY_IO or host.endswith("." + SENTRY_IO)


def ascii_host(host: str) -> str:
    """A host name in the form the HTTP client connects to: lower case, an international name in punycode;
    ``OriginError`` for a name IDNA refuses."""
    host = host.lower().rstrip(".")
    if host.isascii():
        return host
    import httpx  # only for an international name: its IDNA is the one requests are sent with

    try:
        return httpx.URL(f"http://{host}/").raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError, ValueError):
        raise OriginError("has a host name that is not valid") from None

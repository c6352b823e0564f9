"""Every failure the exporter reports, in one place.

::

    ExportError                      base: a message a user can act on
    ├── InvalidReferenceError        input text holds no usable issue reference
    ├── ConfigError                  missing, corrupt or invalid configuration
    ├── PluginError                  a plugin failed to load or registered a clashing name
    ├── OutputError                  a report file could not be written (bad name, path escape, disk)
    ├── RenderError                  a renderer or template failed
    └── FetchError                   one issue could not be fetched; the batch goes on
        ├── HostMismatchError        a pasted URL names a host other than the configured Sentry (no request made)
        ├── AuthError                401: token invalid or expired
        ├── PermissionDeniedError    403: token lacks a scope, or the user is not a project member
        ├── NotFoundError            404: wrong organisation or issue, deleted, merged, or wrong region
        ├── RateLimitedError         429 still answered after every retry
        ├── ServerError              5xx still answered after every retry
        ├── NetworkError             connection refused, reset, timed out, DNS
        └── InvalidResponseError     HTML, truncated or malformed JSON, oversized or wrongly shaped answer

Messages say what failed, for which issue, and what to do next. They never contain a token.
"""

from __future__ import annotations

TOKEN_HELP = "`export-sentry-issue config init` or the SENTRY_AUTH_TOKEN environment variable"
"""Where a missing or rejected token is set, as messages say it."""


class ExportError(Exception):
    """Base class: ``str(error)`` is a complete, user-facing sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidReferenceError(ExportError):
    """The input holds no issue reference, or a piece of it cannot be one."""


class ConfigError(ExportError):
    """Configuration is missing, unreadable, corrupt or rejected by the server."""


class PluginError(ExportError):
    """A plugin failed to import, or registered a name that another plugin already has."""


class OutputError(ExportError):
    """A report could not be written where it was asked to go."""


class RenderError(ExportError):
    """A renderer or one of its templates failed."""


class FetchError(ExportError):
    """One issue could not be fetched. ``status`` is the HTTP status when there was one, ``detail`` the server's
    own words for it (the ``detail`` of its JSON answer) when it gave some."""

    status: int | None = None
    detail: str | None = None

    def __init__(self, message: str, *, status: int | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.detail = detail


class HostMismatchError(FetchError):
    """A pasted URL points at a host other than the configured Sentry; nothing was sent."""


class AuthError(FetchError):
    status = 401


class PermissionDeniedError(FetchError):
    status = 403


class NotFoundError(FetchError):
    status = 404


class RateLimitedError(FetchError):
    status = 429


class ServerError(FetchError):
    """The server kept answering 5xx."""


class NetworkError(FetchError):
    """The server could not be reached, or the connection broke."""


class InvalidResponseError(FetchError):
    """The server answered with something that is not the JSON we expect."""

"""Export Sentry issues as complete, readable, secret-free reports.

The public Python API::

    from sentry_issue_export import Settings, export_issues_sync

    result = export_issues_sync("https://acme.sentry.io/issues/123/", Settings(token=..., base_url="https://sentry.io"))
    print(result.path, result.failures)

Plugins import ``hookimpl`` and the records they register (``Renderer``, ``Redactor``, ``Source`` ...) from here.
"""

from __future__ import annotations

from .errors import (
    AuthError,
    ConfigError,
    ExportError,
    FetchError,
    HostMismatchError,
    InvalidReferenceError,
    InvalidResponseError,
    NetworkError,
    NotFoundError,
    OutputError,
    PermissionDeniedError,
    PluginError,
    RateLimitedError,
    RenderError,
    ServerError,
)
from .exporter import ExportResult, IssueFailure, export_issues, export_issues_sync
from .hookspecs import FetchFailure, RawIssue, Redactor, Renderer, RenderOptions, Source, hookimpl
from .refs import IssueRef, ParsedRefs, parse_refs
from .settings import RenderLimits, Settings

__all__ = [
    "AuthError",
    "ConfigError",
    "ExportError",
    "ExportResult",
    "FetchError",
    "FetchFailure",
    "HostMismatchError",
    "InvalidReferenceError",
    "InvalidResponseError",
    "IssueFailure",
    "IssueRef",
    "NetworkError",
    "NotFoundError",
    "OutputError",
    "ParsedRefs",
    "PermissionDeniedError",
    "PluginError",
    "RateLimitedError",
    "RawIssue",
    "Redactor",
    "RenderError",
    "RenderLimits",
    "RenderOptions",
    "Renderer",
    "ServerError",
    "Settings",
    "Source",
    "export_issues",
    "export_issues_sync",
    "hookimpl",
    "parse_refs",
]

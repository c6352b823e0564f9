"""Export Sentry issues as complete, readable, secret-free reports.

The public Python API::

    from sentry_issue_export import export_issues_sync, resolve_settings

    result = export_issues_sync("https://acme.sentry.io/issues/123/", resolve_settings())
    print(result.path, result.failures)

``resolve_settings`` reads the saved config and the environment; ``Settings(...)`` builds one directly. Plugins
import ``hookimpl`` and the records they register (``Renderer``, ``Redactor``, ``BaseSource`` ...) from here.
"""

from __future__ import annotations

from .config import resolve_settings
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
from .hookspecs import (
    BaseSource,
    FetchFailure,
    RawIssue,
    Redactor,
    Renderer,
    RenderOptions,
    SearchResult,
    Source,
    hookimpl,
)
from .refs import IssueRef, IssueSearch, ParsedRefs, parse_refs
from .settings import RenderLimits, Settings
from .version import __version__

__all__ = [
    "AuthError",
    "BaseSource",
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
    "IssueSearch",
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
    "SearchResult",
    "ServerError",
    "Settings",
    "Source",
    "__version__",
    "export_issues",
    "export_issues_sync",
    "hookimpl",
    "parse_refs",
    "resolve_settings",
]

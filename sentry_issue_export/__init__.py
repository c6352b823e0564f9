"""Export Sentry issues as complete, readable, secret-free reports.

The public Python API::

    from sentry_issue_export import export_issues_sync, resolve_settings

    result = export_issues_sync("https://acme.sentry.io/issues/123/", resolve_settings())
    print(result.path, result.failures)

``resolve_settings`` reads the saved config and the environment; ``Settings(...)`` builds one directly;
``list_issues_sync`` gives the triage list. Plugins import ``hookimpl`` and the records they register
(``Renderer``, ``Redactor``, ``BaseSource`` ...) from here, and a template-based renderer its parts
(``template_renderer``, ``Flavor``, ``SafeText``, ``IssuePart``). The names below are the whole public API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    IssuePart,
    RawIssue,
    Redactor,
    Renderer,
    RenderOptions,
    SearchResult,
    Source,
    hookimpl,
)
from .listing import IssueList, list_issues, list_issues_sync
from .refs import IssueRef, IssueSearch, ParsedRefs, parse_refs
from .settings import RenderLimits, Settings
from .version import __version__

if TYPE_CHECKING:
    from .renderers.templating import Flavor, SafeText, template_renderer

_TEMPLATING = frozenset({"Flavor", "SafeText", "template_renderer"})
"""The template-renderer API, read on first use: it loads Jinja2, which a command's start need not pay for."""


def __getattr__(name: str) -> Any:
    if name in _TEMPLATING:
        from .renderers import templating

        return getattr(templating, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AuthError",
    "BaseSource",
    "ConfigError",
    "ExportError",
    "ExportResult",
    "FetchError",
    "FetchFailure",
    "Flavor",
    "HostMismatchError",
    "InvalidReferenceError",
    "InvalidResponseError",
    "IssueFailure",
    "IssueList",
    "IssuePart",
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
    "SafeText",
    "SearchResult",
    "ServerError",
    "Settings",
    "Source",
    "__version__",
    "export_issues",
    "export_issues_sync",
    "hookimpl",
    "list_issues",
    "list_issues_sync",
    "parse_refs",
    "resolve_settings",
    "template_renderer",
]

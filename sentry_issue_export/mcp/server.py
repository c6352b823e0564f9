"""The ``export-sentry-issue-mcp`` command: the exporter as an MCP server with five tools, nothing more.

Each tool turns its arguments into ``Settings``, calls the library, and words the result (``wording``).
Whole-call problems (``ExportError``) become tool errors with the library's own sentence; any other exception is
masked, so a client never sees a traceback. fastmcp and the exporter are imported only when a server is built or
a tool runs, which keeps ``--help`` instant; for the same reason this module does not use postponed annotations:
the tools' annotations name classes imported inside ``make_server``.
"""

import argparse
import asyncio
import contextlib
import hmac
import ipaddress
import logging
import os
import stat
import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import attrs

from ..errors import ConfigError, ExportError
from . import wording
from .stopping import GRACE_SECONDS, serve, stop_on_signals

if TYPE_CHECKING:
    from fastmcp import FastMCP

SERVER_NAME = "export-sentry-issue"
TOOL_NAMES = ("view_sentry_issue", "initialize_config", "export_issues_tool", "list_config", "revoke_config")
ENV_MAX_INLINE_CHARS = "EXPORT_SENTRY_ISSUE_MAX_INLINE_CHARS"
ENV_HTTP_TOKEN = "EXPORT_SENTRY_ISSUE_MCP_TOKEN"
EXPECTED = logging.DEBUG
"""The log level of a tool error the user can act on (a wrong id, a server that said no): the caller is told, the
server's log is not for it; only what no one expected is logged as an error."""

Transport = Literal["stdio", "http", "sse"]


@attrs.frozen
class ServerOptions:
    """What one server decides for every tool call. ``source`` and ``output_dir`` override the configuration
    (which reads ``EXPORT_SENTRY_ISSUE_SOURCE`` and ``EXPORT_SENTRY_ISSUE_OUTPUT_DIR`` itself); ``None`` leaves
    them to it."""

    source: str | None = None
    output_dir: Path | None = None
    max_inline_chars: int = attrs.field(default=wording.DEFAULT_MAX_INLINE_CHARS)
    """The answer budget in UTF-16 units: 0 for none, else at least ``MIN_INLINE_CHARS``."""

    @max_inline_chars.validator
    def _check_budget(self, _: Any, value: int) -> None:
        if problem := wording.budget_problem(value):
            raise ConfigError(f"{ENV_MAX_INLINE_CHARS} {problem}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "ServerOptions":
        env = os.environ if env is None else env
        raw_cap = env.get(ENV_MAX_INLINE_CHARS, "").strip()
        try:
            max_inline_chars = int(raw_cap) if raw_cap else wording.DEFAULT_MAX_INLINE_CHARS
        except ValueError:
            raise ConfigError(
                f"{ENV_MAX_INLINE_CHARS} must be a whole number of characters, not {raw_cap!r}."
            ) from None
        return cls(max_inline_chars=max_inline_chars)


def make_server(options: ServerOptions | None = None) -> "FastMCP":
    """A new server with the five tools; ``options`` default to the environment. One server per run or test."""
    from fastmcp import Context, FastMCP
    from fastmcp.dependencies import CurrentContext
    from fastmcp.tools.base import ToolResult
    from mcp_types import ToolAnnotations
    from pydantic import Field, StrictInt

    from ..selection import ServerKinds
    from ..version import __version__

    # What the reference arguments take: text, a number (MCP Inspector and assistants send 5001 as a JSON
    # number; true is not one), or a list of either.
    References = str | StrictInt | list[str | StrictInt]
    # How many recent events, or top values per tag, to show: 0 (none, and nothing is asked) to 100.
    PartSize = Annotated[StrictInt, Field(ge=0, le=100)]

    opts = options if options is not None else ServerOptions.from_env()
    server = FastMCP(
        SERVER_NAME,
        version=__version__,
        instructions=wording.SERVER_INSTRUCTIONS,
        mask_error_details=True,
        middleware=[plain_argument_errors()],
    )
    shelf = ReportShelf(server)
    kinds = ServerKinds()  # each server's kind, asked once for this server's life
    # The fetching tools talk to Sentry and write a new report file each call, never replacing one.
    fetching = {"read_only_hint": False, "destructive_hint": False, "idempotent_hint": False, "open_world_hint": True}

    @server.tool(
        description=wording.VIEW_SENTRY_ISSUE,
        annotations=ToolAnnotations(title="View Sentry issue", **fetching),
        output_schema=None,
    )
    async def view_sentry_issue(
        issue_url_or_id: References,
        output_file: str | None = None,
        debug: bool = False,
        format: str = "text",
        events: PartSize | None = None,
        tag_values: PartSize | None = None,
        ctx: Context = CurrentContext(),  # noqa: B008 - fastmcp's way to inject the request context
    ) -> ToolResult:
        refs = _references("issue_url_or_id", issue_url_or_id)
        whole = _whole_issue(events, tag_values)
        return await _export_answer(
            opts, shelf, refs, output_file, debug, format, ctx.report_progress, whole=whole, kinds=kinds
        )

    @server.tool(
        description=wording.EXPORT_ISSUES_TOOL,
        annotations=ToolAnnotations(title="Export Sentry issues", **fetching),
        output_schema=None,
    )
    async def export_issues_tool(
        issue_ids: References = "",
        base_url: str | None = None,
        token: str | None = None,
        output_file: str | None = None,
        debug: bool = False,
        format: str = "text",
        query: str | None = None,
        limit: int | None = None,
        events: PartSize | None = None,
        tag_values: PartSize | None = None,
        ctx: Context = CurrentContext(),  # noqa: B008
    ) -> ToolResult:
        from fastmcp.exceptions import ToolError

        from ..refs import IssueSearch

        refs = _references("issue_ids", issue_ids)
        if not any(ref.strip() for ref in refs) and query is None:
            raise ToolError(wording.argument_problem("issue_ids", "missing"), log_level=EXPECTED)
        search = IssueSearch(query=" ".join(query.split())) if query is not None else None
        return await _export_answer(
            opts,
            shelf,
            refs,
            output_file,
            debug,
            format,
            ctx.report_progress,
            base_url=base_url,
            token=token,
            search=search,
            limit=limit,
            whole=_whole_issue(events, tag_values),
            kinds=kinds,
        )

    @server.tool(
        description=wording.INITIALIZE_CONFIG,
        # Replaces any saved config, hence destructive; saving the same token twice changes nothing more.
        annotations=ToolAnnotations(
            title="Save Sentry token",
            read_only_hint=False,
            destructive_hint=True,
            idempotent_hint=True,
            open_world_hint=True,
        ),
        output_schema=None,
    )
    async def initialize_config(base_url: str, token: str) -> str:
        from .. import config
        from ..redaction.log_records import remember_secrets

        remember_secrets([token], configured=True)  # the token this server is about to use from now on
        with _as_tool_error():
            saved = await config.init_config(base_url, token)
            return wording.config_saved_answer(saved.base_url, saved.org, config.config_path(), saved.access)

    @server.tool(
        description=wording.LIST_CONFIG,
        annotations=ToolAnnotations(
            title="Show configuration", read_only_hint=True, idempotent_hint=True, open_world_hint=False
        ),
        output_schema=None,
    )
    def list_config() -> str:
        from .. import config

        with _as_tool_error():
            return wording.config_listing(config.show_config())

    @server.tool(
        description=wording.REVOKE_CONFIG,
        annotations=ToolAnnotations(
            title="Delete saved configuration",
            read_only_hint=False,
            destructive_hint=True,
            idempotent_hint=True,
            open_world_hint=False,
        ),
        output_schema=None,
    )
    def revoke_config() -> str:
        from .. import config

        with _as_tool_error():
            path = config.config_path()
            return wording.revoke_answer(config.revoke_config(), path)

    @server.resource(
        wording.REPORT_URI_PREFIX + "{name}",
        name="report",
        description="A report this server saved in this session, by file name: the complete export.",
    )
    async def read_report(name: str) -> str:
        return await shelf.read(name)

    return server


def _whole_issue(events: int | None, tag_values: int | None) -> dict[str, int]:
    """The settings for what the issue says across its events, as the tool's arguments give them."""
    asked = {"recent_events": events, "tag_values": tag_values}
    return {name: value for name, value in asked.items() if value is not None}


def _references(name: str, value: Any) -> list[str]:
    """The reference argument as strings for the exporter; a value of another type gets one plain sentence."""
    items = value if isinstance(value, list) else [value]
    refs: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int):
            from fastmcp.exceptions import ToolError

            raise ToolError(wording.argument_problem(name, "wrong_type"), log_level=EXPECTED)
        refs.append(str(item))
    return refs


class ReportShelf:
    """The report files this server wrote, served as MCP resources; no other file can be read through it."""

    _MIME_TYPES: Mapping[str, str] = {".txt": "text/plain", ".md": "text/markdown", ".json": "application/json"}

    MAX_BYTES = 8 * 1024 * 1024
    """The largest report served as a resource: larger ones are read from the file (the answer names it)."""

    def __init__(self, server: "FastMCP") -> None:
        self._server = server
        self._paths: dict[str, Path] = {}
        self._identity: dict[str, tuple[int, int]] = {}
        """The device and inode of each file as written: a file put in its place later is not the report."""

    def add(self, path: Path) -> str:
        """Shelve a file the exporter just wrote; returns its resource URI."""
        from fastmcp.resources import Resource

        uri = wording.report_uri(path)
        try:
            written = path.stat(follow_symlinks=False)
        except OSError:
            written = None
        if written is not None:
            self._identity[path.name] = (written.st_dev, written.st_ino)
        if path.name not in self._paths:

            async def read_this(name: str = path.name) -> str:
                return await self.read(name)

            self._server.add_resource(
                Resource.from_function(
                    read_this,
                    uri=uri,
                    name=path.name,
                    description="A report this server saved: the complete export.",
                    mime_type=self.mime_type(path),
                )
            )
        self._paths[path.name] = path
        return uri

    def mime_type(self, path: Path) -> str:
        return self._MIME_TYPES.get(path.suffix, "text/plain")

    async def read(self, name: str) -> str:
        """The report's text, read in a worker thread so a large file never holds up the session's other calls;
        only the very file written (same device and inode), only a regular file, at most :attr:`MAX_BYTES`."""
        from fastmcp.exceptions import ResourceError

        path = self._paths.get(name)
        identity = self._identity.get(name)
        if path is None:
            raise ResourceError(wording.unknown_report(name), log_level=EXPECTED)
        if identity is None:
            raise ResourceError(wording.report_gone(path), log_level=EXPECTED)
        problem, text = await asyncio.to_thread(_read_report_file, path, identity, self.MAX_BYTES)
        if problem is not None:
            raise ResourceError(problem, log_level=EXPECTED)
        return text


def _read_report_file(path: Path, identity: tuple[int, int], limit: int) -> tuple[str | None, str]:
    """(why it cannot be served, or ``None``; the text). Opened without following a link and without blocking
    on a FIFO, then checked on the open file, so nothing can be swapped in between the check and the read."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return wording.report_gone(path), ""
    with os.fdopen(descriptor, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode) or (info.st_dev, info.st_ino) != identity:
            return wording.report_gone(path), ""
        if info.st_size > limit:
            return wording.report_too_large(path, info.st_size, limit), ""
        data = file.read(limit + 1)
    if len(data) > limit:
        return wording.report_too_large(path, len(data), limit), ""
    return None, data.decode("utf-8", "replace")


def plain_argument_errors() -> Any:
    """fastmcp middleware: a tool argument of the wrong type, or a missing one, is answered with one plain
    sentence, never the validator's internals or links. (Built on demand: fastmcp loads with the server.)"""
    from fastmcp.exceptions import ToolError, ValidationError
    from fastmcp.server.middleware import Middleware

    class PlainArgumentErrors(Middleware):
        async def on_call_tool(self, context: Any, call_next: Any) -> Any:
            try:
                return await call_next(context)
            except ValidationError as exc:
                raise ToolError(wording.validation_message(exc.__cause__), log_level=EXPECTED) from None

    return PlainArgumentErrors()


async def _export_answer(
    opts: ServerOptions,
    shelf: ReportShelf,
    refs: list[str],
    output_file: str | None,
    debug: bool,
    format: str,
    on_progress: Callable[[int, int, str], Awaitable[None]],
    *,
    base_url: str | None = None,
    token: str | None = None,
    search: Any = None,
    limit: int | None = None,
    whole: Mapping[str, int] | None = None,
    kinds: Any = None,
) -> Any:
    """Run one export for a tool and word the outcome, with a link to the saved report; every failure leaves
    as a ``ToolError``. ``whole`` holds the settings for the issue across its events (``recent_events``,
    ``tag_values``)."""
    from fastmcp.exceptions import ToolError
    from fastmcp.tools.base import ToolResult
    from mcp_types import ResourceLink, TextContent

    from ..budget import AnswerKeeper
    from ..config import resolve_settings
    from ..exporter import export_issues
    from ..plugins import get_registry

    if token:
        from ..redaction.log_records import remember_secrets

        remember_secrets([token])
    with _as_tool_error(opts.max_inline_chars):
        registry = get_registry()
        settings = resolve_settings(
            source=opts.source,
            base_url=base_url,
            token=token,
            format=format,
            debug=debug,
            output_dir=opts.output_dir,
            registry=registry,
            **dict[str, Any](whole or {}),
        )
        from ..refs import DEFAULT_SEARCH_LIMIT

        renderer = registry.renderer(settings.format)
        keeper = AnswerKeeper(renderer, settings, opts.max_inline_chars) if opts.max_inline_chars > 0 else None
        result = await export_issues(
            refs,
            settings,
            output_file=output_file or None,
            on_progress=on_progress,
            registry=registry,
            search=search,
            limit=DEFAULT_SEARCH_LIMIT if limit is None else limit,
            keep_reports=False,
            on_report=keeper.offer if keeper is not None else None,
            server_kinds=kinds,
        )
        if result.path is not None:
            shelf.add(result.path)
        if not result.issues:
            raise ToolError(wording.all_failed_message(result, opts.max_inline_chars), log_level=EXPECTED)
        offline = not registry.source(settings.source).needs_credentials
        notes = [wording.offline_source_note(settings.source)] if offline and (base_url or token) else []
        answer = wording.export_answer(
            result,
            renderer,
            settings,
            reports=keeper.kept() if keeper is not None else (),
            max_inline_chars=opts.max_inline_chars,
            notes=notes,
        )
    content: list[Any] = [TextContent(type="text", text=answer)]
    if result.path is not None:
        content.append(
            ResourceLink(
                type="resource_link",
                uri=wording.report_uri(result.path),
                name=result.path.name,
                description=wording.REPORT_LINK_DESCRIPTION,
                mime_type=shelf.mime_type(result.path),
            )
        )
    return ToolResult(content=content)


@contextlib.contextmanager
def _as_tool_error(budget: int = 0) -> Iterator[None]:
    """An ``ExportError`` leaves as a ``ToolError`` carrying the library's user-facing sentence, nothing more,
    cut to ``budget`` UTF-16 units (0: not cut), since an error is an answer too."""
    try:
        yield
    except ExportError as exc:
        from fastmcp.exceptions import ToolError

        raise ToolError(wording.error_answer(str(exc), budget), log_level=EXPECTED) from None


class BearerTokenMiddleware:
    """ASGI middleware: answer 401 to every HTTP request without ``Authorization: Bearer <token>``.

    The comparison takes the same time whatever the supplied value, so the token cannot be guessed by timing.
    """

    def __init__(self, app: Callable[..., Awaitable[None]], token: str) -> None:
        self.app = app
        self.expected = token.encode()

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not self._authorized(scope):
            body = b'{"error": "unauthorized", "error_description": "Send Authorization: Bearer <token>."}'
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="export-sentry-issue-mcp"'),
            ]
            await send({"type": "http.response.start", "status": 401, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    def _authorized(self, scope: MutableMapping[str, Any]) -> bool:
        supplied = next((value for name, value in scope.get("headers", ()) if name == b"authorization"), b"")
        scheme, _, credentials = supplied.partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(credentials.strip(), self.expected)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses, the only binds that are private without auth."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="export-sentry-issue-mcp",
        description="Serve the Sentry issue exporter to MCP clients (stdio by default).",
        epilog=wording.SERVER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from ..version import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument("--http", action="store_true", help="serve streamable HTTP (same as --transport http)")
    transport.add_argument("--transport", choices=("stdio", "http", "sse"), help="stdio (default), http or sse")
    network = parser.add_argument_group("HTTP and SSE")
    network.add_argument("--host", help="address to bind (default 127.0.0.1)")
    network.add_argument("--port", type=int, help="port to bind (default 3001)")
    network.add_argument("--path", help="endpoint path (default /mcp for http, /sse for sse)")
    network.add_argument(
        "--auth-token-env",
        metavar="NAME",
        help=f"require 'Authorization: Bearer <token>' with the token held in the environment variable NAME "
        f"(default: {ENV_HTTP_TOKEN}, when set)",
    )
    network.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="HOST",
        help="also accept this Host header (repeatable; loopback names are always accepted). Needed when "
        "clients reach the server by another name, e.g. behind a proxy",
    )
    network.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="also accept requests from this browser Origin, e.g. https://app.example.com (repeatable)",
    )
    network.add_argument(
        "--allow-unauthenticated-remote",
        action="store_true",
        help="allow binding a non-loopback address without a bearer token (anyone who can reach it can use it)",
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"), help="server log level"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    transport: Transport = "http" if args.http else (args.transport or "stdio")
    _scrub_logs()
    try:
        options = ServerOptions.from_env()
        run_kwargs = _run_kwargs(parser, args, transport)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # SIGTERM and SIGINT end the server cleanly within half a second, also as a container's PID 1 (stopping.py).
    with contextlib.suppress(KeyboardInterrupt), stop_on_signals():
        server = make_server(options)
        serve(
            lambda: server.run_async(transport, show_banner=False, **run_kwargs),
            cancel_on_signals=transport == "stdio",  # uvicorn takes them itself over HTTP and SSE
        )
    return 0


def _scrub_logs() -> None:
    """No token in any log line of this process: the configured ones by value, every other by its shape."""
    from ..redaction.log_records import install_log_scrubbing

    scrubber = install_log_scrubbing()
    scrubber.remember(
        (os.environ.get(name) for name in ("SENTRY_AUTH_TOKEN", "SENTRY_TOKEN", ENV_HTTP_TOKEN)), configured=True
    )
    try:
        from ..config import load_saved

        saved = load_saved()
    except ExportError:
        saved = None
    scrubber.remember([saved.token if saved else None], configured=True)


def _run_kwargs(parser: argparse.ArgumentParser, args: argparse.Namespace, transport: Transport) -> dict[str, Any]:
    """The network options for ``FastMCP.run``; refuses combinations that would expose the server."""
    network_flags = [args.host, args.port, args.path, args.auth_token_env, *args.allowed_host, *args.allowed_origin]
    if transport == "stdio":
        if any(flag is not None for flag in network_flags) or args.allow_unauthenticated_remote:
            parser.error("--host, --port, --path and the other HTTP options need --http or --transport sse")
        return {"log_level": args.log_level}
    token = _http_token(args.auth_token_env)
    host = (args.host or "127.0.0.1").strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]  # an IPv6 literal as written in a URL; the socket wants it bare
    if not is_loopback(host) and token is None and not args.allow_unauthenticated_remote:
        raise ConfigError(
            f"Refusing to serve on {host} without authentication: anyone who can reach it could read your Sentry "
            f"issues. Set {ENV_HTTP_TOKEN} (or use --auth-token-env NAME), bind 127.0.0.1, or pass "
            "--allow-unauthenticated-remote if another layer protects it."
        )
    from starlette.middleware import Middleware

    middleware = [Middleware(BearerTokenMiddleware, token=token)] if token is not None else []
    return {
        "host": host,
        "port": args.port or 3001,
        "path": args.path or ("/mcp" if transport == "http" else "/sse"),
        "middleware": middleware,
        # Host and Origin checks against DNS rebinding: loopback names, the bound address, and --allowed-host.
        "host_origin_protection": True,
        "allowed_hosts": list(args.allowed_host),
        "allowed_origins": list(args.allowed_origin),
        "log_level": args.log_level,
        "uvicorn_config": {
            "log_config": _uvicorn_logging_to_stderr(),
            "log_level": args.log_level.lower(),
            # On SIGTERM or SIGINT uvicorn closes its connections first; a client that keeps one open (an event
            # stream) must not hold the stop up.
            "timeout_graceful_shutdown": GRACE_SECONDS,
        },
    }


def _uvicorn_logging_to_stderr() -> dict[str, Any]:
    """Uvicorn's own logging setup, except that access lines go to standard error like every other log."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    return log_config


def _http_token(env_name: str | None) -> str | None:
    if env_name is not None:
        token = os.environ.get(env_name, "").strip()
        if not token:
            raise ConfigError(f"--auth-token-env names {env_name}, but that environment variable is not set or empty.")
        return token
    return os.environ.get(ENV_HTTP_TOKEN, "").strip() or None


if __name__ == "__main__":
    sys.exit(main())

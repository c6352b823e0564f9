"""The plugin manager: built-in plugins first, then third-party ones from entry points.

Everything the exporter can fetch with, redact with and render to is gathered here into one ``Registry``. The
built-ins are registered through the very hooks third-party plugins use. A plugin that fails to import, raises
in a hook or registers a clashing name is reported in ``Registry.problems`` (a ``PluginError`` naming it), and
the others keep working.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from importlib import metadata
from typing import TYPE_CHECKING, Any

import attrs
import pluggy

from . import hookspecs
from .errors import PluginError
from .hookspecs import Redactor, Renderer, Source

if TYPE_CHECKING:
    from .settings import Settings

ENTRY_POINT_GROUP = "sentry_issue_export"

BUILTIN_PLUGINS: tuple[str, ...] = (
    "sentry_issue_export.sources.sentry",
    "sentry_issue_export.sources.bugsink",
    "sentry_issue_export.sources.samples",
    "sentry_issue_export.sources.file",
    "sentry_issue_export.redaction",
    "sentry_issue_export.renderers.text",
    "sentry_issue_export.renderers.markdown",
    "sentry_issue_export.renderers.json",
)


@attrs.define
class Registry:
    """What every loaded plugin provides, by name, plus what went wrong while loading."""

    sources: dict[str, Source] = attrs.field(factory=dict)
    renderers: dict[str, Renderer] = attrs.field(factory=dict)
    redactors: list[Redactor] = attrs.field(factory=list)
    problems: list[PluginError] = attrs.field(factory=list)
    owners: dict[tuple[str, str], str] = attrs.field(factory=dict)
    """(kind, name) -> the plugin that registered it, for messages."""

    def renderer(self, name: str) -> Renderer:
        try:
            return self.renderers[name]
        except KeyError:
            raise PluginError(
                f"No renderer named {name!r}. Available formats: {', '.join(sorted(self.renderers))}."
            ) from None

    def source(self, name: str) -> Source:
        try:
            return self.sources[name]
        except KeyError:
            raise PluginError(
                f"No source named {name!r}. Available sources: {', '.join(sorted(self.sources))}."
            ) from None

    async def source_reading(self, settings: Settings) -> str:
        """The source that reads the server of ``settings`` when nothing chose one: the first other source that
        reads a server and recognises this one (Bugsink), else the one the settings name (Sentry, which also
        reads GlitchTip). ``config init`` and an export decide the same way, with one cheap request per other
        source."""
        for name, candidate in sorted(self.sources.items()):
            if name != settings.source and candidate.needs_credentials and await candidate.recognises(settings):
                return name
        return settings.source


def make_plugin_manager(
    *, load_entrypoints: bool = True, extra_plugins: Iterable[Any] = ()
) -> tuple[pluggy.PluginManager, list[PluginError]]:
    """A fresh manager with the built-ins, then ``extra_plugins``, then entry points (unless switched off)."""
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for module_name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    for plugin in extra_plugins:
        pm.register(plugin)
    problems: list[PluginError] = []
    if load_entrypoints:
        problems.extend(_load_entrypoints(pm))
    return pm, problems


def _load_entrypoints(pm: pluggy.PluginManager) -> list[PluginError]:
    problems = []
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        label = _entry_point_label(entry_point)
        if pm.get_plugin(label) is not None or pm.is_blocked(label):
            continue
        try:
            plugin = entry_point.load()
        except Exception as exc:  # a broken plugin must not take the others down
            problems.append(PluginError(f"Plugin {label} failed to load: {type(exc).__name__}: {exc}"))
            continue
        try:
            pm.register(plugin, name=label)
        except Exception as exc:
            problems.append(PluginError(f"Plugin {label} could not be registered: {exc}"))
    return problems


def _entry_point_label(entry_point: metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    dist_name = getattr(dist, "name", None)
    return f"{entry_point.name} ({dist_name})" if dist_name else entry_point.name


def build_registry(pm: pluggy.PluginManager, problems: Iterable[PluginError] = ()) -> Registry:
    """Call the ``register_*`` hooks through pluggy, one plugin at a time, so every name is traced to its plugin.

    Each call goes through the hook caller (a subset of it that holds one plugin's implementation beside every
    hook wrapper), so tracing, monitoring and wrappers see it as they see any hook call.
    """
    registry = Registry(problems=list(problems))
    builtin = set(BUILTIN_PLUGINS)

    def collect(hook_name: str, add: Callable[[str, Any], None]) -> None:
        impls = getattr(pm.hook, hook_name).get_hookimpls()  # registration order: built-ins first
        providers = [impl for impl in impls if not (impl.hookwrapper or impl.wrapper)]
        for impl in providers:
            plugin_name = pm.get_name(impl.plugin) or repr(impl.plugin)
            others = [other.plugin for other in providers if other.plugin is not impl.plugin]
            caller = pm.subset_hook_caller(hook_name, others)
            try:
                caller(register=lambda thing, _p=plugin_name: add(_p, thing))
            except PluginError as exc:
                registry.problems.append(exc)
            except Exception as exc:
                registry.problems.append(
                    PluginError(f"Plugin {plugin_name} failed in {hook_name}: {type(exc).__name__}: {exc}")
                )

    def add_named(kind: str, table: dict[str, Any], check: Callable[[Any], str | None]) -> Callable[[str, Any], None]:
        def add(plugin_name: str, thing: Any) -> None:
            name = getattr(thing, "name", None)
            if not isinstance(name, str) or not name:
                raise PluginError(f"Plugin {plugin_name} registered a {kind} without a name: {thing!r}")
            if (problem := check(thing)) is not None:
                raise PluginError(f"Plugin {plugin_name} registered the {kind} {name!r}, which {problem}.")
            owner = registry.owners.get((kind, name))
            if owner is not None and not (owner in builtin and plugin_name not in builtin):
                raise PluginError(
                    f"Plugin {plugin_name} registered the {kind} {name!r}, which plugin {owner} already "
                    f"registered; keeping the one from {owner}. Uninstall one of them or rename the {kind}."
                )
            table[name] = thing
            registry.owners[(kind, name)] = plugin_name

        return add

    def add_redactor(plugin_name: str, redactor: Any) -> None:
        if not callable(getattr(redactor, "redact", None)):
            raise PluginError(f"Plugin {plugin_name} registered a redactor without a redact function.")
        registry.redactors.append(redactor)
        registry.owners[("redactor", redactor.name)] = plugin_name

    collect("register_sources", add_named("source", registry.sources, _source_problem))
    collect("register_redactors", add_redactor)
    collect("register_renderers", add_named("renderer", registry.renderers, _renderer_problem))
    return registry


_SOURCE_MEMBERS = (
    "description",
    "needs_credentials",
    "default_refs",
    "ref_from_word",
    "fetch",
    "check_access",
    "recognises",
    "search",
)


def _source_problem(source: Any) -> str | None:
    """What a registered source lacks of the ``Source`` protocol, or ``None``."""
    missing = [member for member in _SOURCE_MEMBERS if not hasattr(source, member)]
    if missing:
        return f"lacks {', '.join(missing)} (subclass sentry_issue_export.BaseSource to get the defaults)"
    return None


def _renderer_problem(renderer: Any) -> str | None:
    if not callable(getattr(renderer, "render", None)) or not isinstance(getattr(renderer, "extension", None), str):
        return "needs a render function and an extension"
    return None


_default_registry: Registry | None = None


def get_registry(*, refresh: bool = False) -> Registry:
    """The process-wide registry of built-in and installed plugins, built on first use."""
    global _default_registry
    if _default_registry is None or refresh:
        pm, problems = make_plugin_manager()
        _default_registry = build_registry(pm, problems)
    return _default_registry

"""Exception chains: each exception, how the SDK caught it, and how the members of a chain relate.

Linking a chain is the one step that reasons across entries rather than within one: ``link_chain`` reads the
mechanism ids when the SDK sent them and infers the links from the oldest-first order when it did not.
"""

from __future__ import annotations

from typing import Any, Self

import attrs

from .coerce import Field, as_bool, as_fields, as_int, as_mapping, as_text, parse_address, pick
from .stacktrace import Stacktrace, optional_stacktrace


@attrs.frozen
class PosixSignal:
    """The POSIX signal that ended a native process: its number, name, and (on Apple systems) its code."""

    number: int | None = None
    code: int | None = None
    name: str | None = None
    code_name: str | None = None


@attrs.frozen
class MachException:
    """A Mach exception on Apple systems: its type (``exception``), code and subcode (often an address)."""

    exception: int | None = None
    code: int | None = None
    subcode: int | None = None
    name: str | None = None


@attrs.frozen
class CError:
    """An ``errno`` value."""

    number: int | None = None
    name: str | None = None


@attrs.frozen
class NsError:
    """An Apple ``NSError``: its domain and code."""

    code: int | None = None
    domain: str | None = None


@attrs.frozen
class MechanismMeta:
    """What the operating system or runtime said about an error (``mechanism.meta``); ``other`` holds keys this
    version does not know."""

    signal: PosixSignal | None = None
    mach_exception: MachException | None = None
    errno: CError | None = None
    ns_error: NsError | None = None
    other: tuple[Field, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> Self | None:
        if not isinstance(data, dict):
            return None if data in (None, "", [], {}) else cls(other=(("meta", data),))
        signal, mach = as_mapping(data.get("signal")), as_mapping(data.get("mach_exception"))
        errno, ns_error = as_mapping(data.get("errno")), as_mapping(data.get("ns_error"))
        known = {"signal", "mach_exception", "errno", "ns_error"}
        meta = cls(
            signal=_nonempty(
                PosixSignal(
                    number=_number(signal.get("number")),
                    code=_number(signal.get("code")),
                    name=as_text(signal.get("name")),
                    code_name=as_text(signal.get("code_name")),
                )
            ),
            mach_exception=_nonempty(
                MachException(
                    exception=_number(mach.get("exception")),
                    code=_number(mach.get("code")),
                    subcode=_number(mach.get("subcode")),
                    name=as_text(mach.get("name")),
                )
            ),
            errno=_nonempty(CError(number=_number(errno.get("number")), name=as_text(errno.get("name")))),
            ns_error=_nonempty(NsError(code=_number(ns_error.get("code")), domain=as_text(ns_error.get("domain")))),
            other=tuple((name, value) for name, value in as_fields(data, skip=known) if value is not None),
        )
        return None if meta == cls() else meta


def _number(value: Any) -> int | None:
    """An integer sent as a number, a decimal string or a ``0x`` hex string."""
    return parse_address(value) if isinstance(value, str) else as_int(value)


def _nonempty(value: Any) -> Any:
    return None if value == type(value)() else value


def _legacy_meta(data: dict[str, Any]) -> dict[str, Any]:
    """The ``meta`` of a mechanism sent before mechanisms had a ``type``: ``posix_signal`` and ``mach_exception``
    at the top, with the old field names, read as Relay reads them."""
    signal, mach = as_mapping(data.get("posix_signal")), as_mapping(data.get("mach_exception"))
    meta: dict[str, Any] = {}
    if signal:
        meta["signal"] = {
            "number": signal.get("signal"),
            "code": signal.get("code"),
            "name": signal.get("name"),
            "code_name": signal.get("code_name"),
        }
    if mach:
        meta["mach_exception"] = {
            "exception": mach.get("exception"),
            "code": mach.get("code"),
            "subcode": mach.get("subcode"),
            "name": mach.get("exception_name"),
        }
    return meta


@attrs.frozen
class Mechanism:
    """How the SDK caught an exception and, in a chain, which exception it belongs to."""

    type: str | None = None
    handled: bool | None = None
    synthetic: bool | None = None
    description: str | None = None
    help_link: str | None = None
    source: str | None = None
    """The attribute of the parent that leads here: ``__cause__``, ``__context__``, ``exceptions[0]``, ``cause``."""
    exception_id: int | None = None
    parent_id: int | None = None
    is_exception_group: bool = False
    data: tuple[Field, ...] = ()
    meta: MechanismMeta | None = None
    """The signal, Mach exception, ``errno`` or ``NSError`` the operating system reported."""

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = as_mapping(data)
        if data and "type" not in data and ("posix_signal" in data or "mach_exception" in data):
            legacy = {k: v for k, v in data.items() if k not in ("posix_signal", "mach_exception")}
            return cls(type="generic", data=as_fields(legacy), meta=MechanismMeta.from_api(_legacy_meta(data)))
        return cls(
            type=as_text(data.get("type")),
            handled=as_bool(data.get("handled")),
            synthetic=as_bool(data.get("synthetic")),
            description=as_text(data.get("description")),
            help_link=as_text(pick(data, "help_link", "helpLink")),
            source=as_text(data.get("source")),
            exception_id=as_int(pick(data, "exception_id", "exceptionId")),
            parent_id=as_int(pick(data, "parent_id", "parentId")),
            is_exception_group=bool(as_bool(pick(data, "is_exception_group", "isExceptionGroup"))),
            data=as_fields(data.get("data")),
            meta=MechanismMeta.from_api(data.get("meta")),
        )


RELATIONS = ("cause", "context", "group")
"""How an exception relates to its ``parent`` (the newer one it led to): it is the parent's direct cause, the
parent was raised while handling it, or it is a member of the parent exception group."""


@attrs.frozen
class ExceptionInfo:
    """One exception of a chain. ``parent`` is the index (in the event's oldest-first list) of the newer
    exception this one led to, and ``relation`` one of ``RELATIONS``; ``relation_inferred`` is true when the
    payload had no mechanism ids and the relation was read from the order alone."""

    type: str | None = None
    value: str | None = None
    module: str | None = None
    mechanism: Mechanism | None = None
    stacktrace: Stacktrace | None = None
    raw_stacktrace: Stacktrace | None = None
    thread_id: str | None = None
    parent: int | None = None
    relation: str | None = None
    relation_inferred: bool = False

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = as_mapping(data)
        mechanism = data.get("mechanism")
        return cls(
            type=as_text(data.get("type")),
            value=as_text(data.get("value")),
            module=as_text(data.get("module")),
            mechanism=Mechanism.from_api(mechanism) if isinstance(mechanism, dict) else None,
            stacktrace=optional_stacktrace(data.get("stacktrace")),
            raw_stacktrace=optional_stacktrace(pick(data, "rawStacktrace", "raw_stacktrace")),
            thread_id=as_text(pick(data, "threadId", "thread_id")),
        )

    @property
    def title(self) -> str:
        """``Type: value`` as Python prints it, or whichever half exists."""
        if self.type and self.value:
            return f"{self.type}: {self.value}"
        return self.type or self.value or "(exception without type or value)"


def exception_values(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    data = as_mapping(data)
    for key in ("values", "value"):
        found = data.get(key)
        if isinstance(found, list):
            return found
        if isinstance(found, dict):
            return [found]
    if "type" in data or "stacktrace" in data:
        return [data]  # the entry's data is itself one exception
    return []


_CAUSE_PLATFORMS = frozenset({"java", "kotlin", "android", "csharp", "dotnet", "javascript", "node", "go"})


def link_chain(exceptions: list[ExceptionInfo], platform: str | None) -> tuple[ExceptionInfo, ...]:
    """Fill ``parent`` and ``relation`` from mechanism ids, or infer them from the oldest-first order."""
    index_by_id = {
        exc.mechanism.exception_id: index
        for index, exc in enumerate(exceptions)
        if exc.mechanism is not None and exc.mechanism.exception_id is not None
    }
    linked_by_ids = any(exc.mechanism is not None and exc.mechanism.parent_id is not None for exc in exceptions)
    inferred_relation = "cause" if (platform or "").lower() in _CAUSE_PLATFORMS else "context"
    result = []
    for index, exc in enumerate(exceptions):
        parent: int | None = None
        relation: str | None = None
        if linked_by_ids:
            parent_id = exc.mechanism.parent_id if exc.mechanism is not None else None
            parent = index_by_id.get(parent_id) if parent_id is not None else None
            if parent == index:
                parent = None
            if parent is not None:
                relation = _relation_from_source(exc.mechanism, exceptions[parent], inferred_relation)
            result.append(attrs.evolve(exc, parent=parent, relation=relation))
        elif index + 1 < len(exceptions):
            result.append(attrs.evolve(exc, parent=index + 1, relation=inferred_relation, relation_inferred=True))
        else:
            result.append(exc)
    return tuple(result)


def _relation_from_source(mechanism: Mechanism | None, parent: ExceptionInfo, fallback: str) -> str:
    source = ((mechanism.source if mechanism else None) or "").lower()
    if "cause" in source:
        return "cause"
    if "context" in source:
        return "context"
    if "[" in source or (parent.mechanism is not None and parent.mechanism.is_exception_group):
        return "group"
    return fallback

"""Built-in redaction: secrets never get past the fetch step.

The exporter runs this on the raw issue and event JSON right after fetching, so models, templates, debug dumps
and every renderer only ever see the redacted copy. This module walks the payload and knows where Sentry puts
things; :mod:`.patterns` knows what a secret looks like. Three layers, each catching what the one before
cannot:

1. **Names.** A value stored under a sensitive name (:func:`is_sensitive_key`) becomes ``[Filtered]`` wherever
   it sits: a dict key, a ``[name, value]`` pair (headers, query, tags), a ``{key|name, value}`` record (tags).
   A container is replaced whole. ``None``, booleans and ``""`` stay, because "the token was missing" is often
   the very bug being debugged. Cookies keep their names and lose every value.
2. **Values.** Every string is scanned (:func:`redact_text`) for secrets that give themselves away, and integers
   that are card numbers are filtered. A string that holds JSON is parsed, redacted as data and serialised again.
3. **Personal data**, only with ``remove_pii``: the user's email, IP address, username, name and geo, any
   value under an email, IP-address, username or client-address name (``REMOTE_ADDR``, ``X-Real-IP``), and
   emails and IP addresses in free text.

Nesting deeper than :data:`MAX_DEPTH` containers is replaced by :data:`TOO_DEEP` instead of being walked, so a
hostile payload cannot exhaust the stack. A 5 MB event takes a fraction of a second (``tests/test_redaction.py``
builds one). :func:`is_sensitive_key` and :func:`redact_text` live in :mod:`.patterns` and are exported
here too, so callers need one import for all of redaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..hookspecs import Redactor, hookimpl
from .patterns import FILTERED, is_card_number, is_pii_name, is_sensitive_key, normalise_name, redact_text

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = [
    "FILTERED",
    "MAX_DEPTH",
    "TOO_DEEP",
    "is_sensitive_key",
    "redact_payload",
    "redact_payload_for_settings",
    "redact_text",
]

TOO_DEEP = "[Filtered: nested too deep]"
MIN_KNOWN_SECRET = 8
"""Known secrets shorter than this are not searched for: they would match ordinary text."""
MAX_DEPTH = 100
"""Containers nested deeper than this are replaced by :data:`TOO_DEEP`."""
MAX_JSON_CHARS = 1_000_000
"""Longer strings are scanned as text and never parsed as JSON."""

# Names the walk treats specially; whether a name is sensitive at all is decided in patterns.py.
_USER_PII_FIELDS = frozenset({"email", "ip_address", "username", "name", "geo"})
_COOKIE_NAMES = frozenset({"cookie", "cookies", "set_cookie", "http_cookie"})
_RECORD_VALUE_FIELDS = ("value", "topValues")
_COOKIE_FLAGS = frozenset({"httponly", "secure", "partitioned"})
_COOKIE_NAME = re.compile(r"[\w.$\-]{1,64}")
_RECORD_LABEL_FIELDS = frozenset({"key", "name"})
_LOCAL_ONLY_NAMES = frozenset({"key", "secret_value", "credentials"})
"""Names that hold a secret when they name a local variable (``key = load_key()``), but elsewhere label data:
cache keys in breadcrumbs, the ``key`` half of a tag record."""
_CODE_CONTEXT_FIELDS = frozenset(
    {"context", "context_line", "contextLine", "pre_context", "preContext", "post_context", "postContext"}
)
_CODE_SUFFIXES = frozenset(
    {
        *("py", "pyw", "pyx", "js", "mjs", "cjs", "jsx", "ts", "tsx", "vue", "svelte", "rb", "go", "java", "kt"),
        *("kts", "scala", "groovy", "php", "cs", "fs", "vb", "c", "h", "cc", "cpp", "cxx", "hpp", "m", "mm"),
        *("rs", "swift", "dart", "lua", "pl", "pm", "ex", "exs", "erl", "clj", "cljs", "elm", "hs", "ml", "r", "jl"),
    }
)


# --- the payload walk -----------------------------------------------------------------------------------------


def redact_payload(payload: Any, *, remove_pii: bool = False, secrets: tuple[str, ...] = ()) -> Any:
    """A deep copy of a JSON-like ``payload`` with every secret replaced; ``payload`` itself is not touched.

    ``secrets`` are known secrets (the configured token) hidden wherever they appear, whatever their shape:
    self-hosted tokens often have no prefix a pattern could recognise.
    """
    known = tuple(secret for secret in secrets if secret and len(secret) >= MIN_KNOWN_SECRET)
    return _Redaction(remove_pii, known).value(payload, 0)


def redact_payload_for_settings(payload: dict[str, Any], kind: str, settings: Settings) -> dict[str, Any]:
    """The built-in :class:`Redactor`. Issue, event and overview payloads get the same rules, so ``kind`` is not
    needed;
    the settings' token is one of the secrets hidden wherever it appears."""
    secrets = (settings.token,) if settings.token else ()
    redacted: dict[str, Any] = redact_payload(payload, remove_pii=settings.remove_pii, secrets=secrets)
    return redacted


@hookimpl
def register_redactors(register: Callable[[Redactor], None]) -> None:
    register(Redactor("builtin", redact_payload_for_settings))


def _filtered(value: Any) -> Any:
    """What a value under a sensitive name becomes. Values that cannot hold a secret stay."""
    if value is None or isinstance(value, bool) or value == "":
        return value
    return FILTERED


class _Redaction:
    """One walk over a payload. Recursion is bounded by :data:`MAX_DEPTH`, a few frames per level."""

    def __init__(self, remove_pii: bool, secrets: tuple[str, ...] = ()) -> None:
        self.remove_pii = remove_pii
        self.secrets = secrets

    def value(self, value: Any, depth: int, *, of_user: bool = False) -> Any:
        if isinstance(value, str):
            return self.string(value, depth)
        if isinstance(value, dict | list | tuple) and depth >= MAX_DEPTH:
            return TOO_DEEP
        if isinstance(value, dict):
            return self.mapping(value, depth, of_user=of_user)
        if isinstance(value, list | tuple):
            return self.sequence(value, depth)
        if isinstance(value, int) and not isinstance(value, bool) and 10**12 <= value < 10**19:
            return FILTERED if is_card_number(str(value)) else value
        return value

    def mapping(
        self, mapping: dict[Any, Any], depth: int, *, of_user: bool = False, of_vars: bool = False
    ) -> dict[Any, Any]:
        label = _record_label(mapping)
        code = _is_code_file(mapping)
        redacted: dict[Any, Any] = {}
        for key, item in mapping.items():
            if not isinstance(key, str):
                redacted[key] = self.value(item, depth + 1)
            elif code is not None and key in _CODE_CONTEXT_FIELDS:
                redacted[key] = self.source(item, depth + 1, code)
            elif label is not None and key in _RECORD_LABEL_FIELDS:
                redacted[key] = self.value(item, depth + 1)  # the name half of a record is a label, not a value
            elif of_vars and normalise_name(key) in _LOCAL_ONLY_NAMES and not _harmless(item):
                redacted[self.text(key)] = FILTERED
            else:
                name = label if key in _RECORD_VALUE_FIELDS and label is not None else key
                redacted[self.text(key)] = self.named(name, item, depth + 1, of_user=of_user)
        return redacted

    def source(self, lines: Any, depth: int, code: bool) -> Any:
        """A frame's source lines (``context_line``, ``pre_context``, or ``context`` as ``[lineno, line]``
        pairs): program code keeps its expressions; configuration files (YAML, INI, .env) are text."""
        if isinstance(lines, str):
            return self.text(lines, code=code)
        if isinstance(lines, list | tuple) and depth < MAX_DEPTH:
            redacted: list[Any] = []
            for line in lines:
                if isinstance(line, str):
                    redacted.append(self.text(line, code=code))
                elif isinstance(line, list | tuple) and len(line) == 2 and isinstance(line[1], str):
                    redacted.append([line[0], self.text(line[1], code=code)])
                else:
                    redacted.append(self.value(line, depth + 1))
            return redacted
        return self.value(lines, depth)

    def sequence(self, items: list[Any] | tuple[Any, ...], depth: int) -> list[Any] | tuple[Any, ...]:
        if len(items) == 2 and isinstance(items[0], str):  # a [name, value] pair: header, query, cookie, tag
            redacted = [self.text(items[0]), self.named(items[0], items[1], depth + 1)]
        else:
            redacted = [self.value(item, depth + 1) for item in items]
        return tuple(redacted) if isinstance(items, tuple) else redacted

    def named(self, name: str, value: Any, depth: int, *, of_user: bool = False) -> Any:
        """A value under a name: filtered, filtered as a cookie jar, or walked."""
        if value is None or isinstance(value, bool):
            return value
        if normalise_name(name) in _COOKIE_NAMES:
            return _cookie_jar(value, self.text)
        if name == "vars" and isinstance(value, dict) and depth < MAX_DEPTH:
            return self.mapping(value, depth, of_vars=True)
        if is_sensitive_key(name):
            return _filtered(value)
        if self.remove_pii:
            normal = normalise_name(name)
            if normal == "user" and isinstance(value, dict):
                return self.value(value, depth, of_user=True)
            if is_pii_name(name) or (of_user and normal in _USER_PII_FIELDS):
                return _filtered(value)
        return self.value(value, depth)

    def string(self, value: str, depth: int) -> str:
        """Scan text; parse a string holding a JSON object or array and redact it as data."""
        if _may_be_json(value):
            try:
                parsed = json.loads(value)
            except (ValueError, RecursionError):
                parsed = None
            if isinstance(parsed, dict | list):
                redacted = self.value(parsed, depth + 1)
                try:
                    unchanged = redacted == parsed
                    return value if unchanged else json.dumps(redacted, ensure_ascii=False)
                except (ValueError, RecursionError):
                    return FILTERED
        return self.text(value)

    def text(self, value: str, *, code: bool = False) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, FILTERED)
        return redact_text(value, remove_pii=self.remove_pii, code=code)


def _is_code_file(mapping: dict[Any, Any]) -> bool | None:
    """For a stack frame (it has a file name and source lines): whether its file is program code, whose lines
    keep their expressions, rather than configuration (YAML, INI, .env, templates), whose values are text.
    ``None`` for anything that is not a frame."""
    if not any(field in mapping for field in _CODE_CONTEXT_FIELDS):
        return None
    name = mapping.get("filename") or mapping.get("abs_path") or mapping.get("absPath") or mapping.get("module")
    if not isinstance(name, str) or not name:
        return None
    suffix = name.rsplit("/", 1)[-1].rpartition(".")[2].lower() if "." in name.rsplit("/", 1)[-1] else ""
    if not suffix and "filename" not in mapping and "abs_path" not in mapping and "absPath" not in mapping:
        return True  # a frame known by its module alone (Python, Java) runs program code
    return suffix in _CODE_SUFFIXES


def _harmless(value: Any) -> bool:
    return value is None or isinstance(value, bool) or value == ""


def _record_label(mapping: dict[Any, Any]) -> str | None:
    """The name a ``{"key"|"name": ..., "value": ...}`` record (a tag, a header) gives its value.

    An issue's tag summary ``{"key": ..., "topValues": [...]}`` names its values the same way.
    """
    if not any(field in mapping for field in _RECORD_VALUE_FIELDS):
        return None
    for field in ("key", "name"):
        if isinstance(mapping.get(field), str):
            return str(mapping[field])
    return None


def _may_be_json(value: str) -> bool:
    """Cheap test before ``json.loads``: a JSON object or array, not too long to parse."""
    if not value or value[0] not in "{[ \t\r\n" or len(value) > MAX_JSON_CHARS or value == FILTERED:
        return False
    stripped = value.strip()
    return stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]")


def _cookie_jar(value: Any, text: Callable[[str], str]) -> Any:
    """Cookies keep their names, so a reader can see which were sent, and lose every value."""
    if isinstance(value, str):
        return _cookie_header(value)
    if isinstance(value, dict):
        return {text(name) if isinstance(name, str) else name: _filtered(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [
            [text(item[0]), _filtered(item[1])]
            if isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], str)
            else _filtered(item)
            for item in value
        ]
    return _filtered(value)


def _cookie_header(header: str) -> str:
    """``"a=1; b=2; HttpOnly"`` becomes ``"a=[Filtered]; b=[Filtered]; HttpOnly"``.

    Anything that is not ``name=value`` with a plausible cookie name, or a known flag, is filtered whole: a bare
    base64 value ending in ``=`` must not pass for a cookie name.
    """
    parts = []
    for part in header.split(";"):
        name, equals, content = part.strip().partition("=")
        if equals and content and _COOKIE_NAME.fullmatch(name):
            parts.append(f"{name}={FILTERED}")
        elif not part.strip() or name.lower() in _COOKIE_FLAGS:
            parts.append(name)
        else:
            parts.append(FILTERED)
    return "; ".join(parts)

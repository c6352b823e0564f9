"""Built-in redaction: secrets never get past the fetch step.

The exporter runs this on the raw issue and event JSON right after fetching, so models, templates, debug dumps
and every renderer only ever see the redacted copy. Three layers, each catching what the one before cannot:

1. **Names.** A value stored under a sensitive name (:func:`is_sensitive_key`) becomes ``[Filtered]`` wherever
   it sits: a dict key, a ``[name, value]`` pair (headers, query, tags), a ``{key|name, value}`` record (tags).
   A container is replaced whole. ``None``, booleans and ``""`` stay, because "the token was missing" is often
   the very bug being debugged. Cookies keep their names and lose every value.
2. **Values.** Every string is scanned (:func:`redact_text`) for secrets that give themselves away: PEM private
   keys, ``Bearer``/``Basic``/``Token`` credentials, Sentry, GitHub, GitLab, Slack, AWS, Stripe, Google, npm
   and OpenAI-style keys, JWTs, passwords in URLs, card numbers, and ``key=value`` / ``'key': value`` /
   ``Header: value`` pairs with a sensitive key inside free text, query strings, code and Python reprs. A
   string that holds JSON is parsed, redacted as data and serialised again.
3. **Personal data**, only with ``remove_pii``: the user's email, IP address, username, name and geo, any
   value under an email, IP-address, username or client-address name (``REMOTE_ADDR``, ``X-Real-IP``), and
   emails and IP addresses in free text.

A card number is 13 to 19 digits (single spaces or dashes allowed between them) that starts with 2 to 6, where
every major card network's numbers start, and passes the Luhn check, so millisecond timestamps and ordinary ids
survive. Nesting deeper than :data:`MAX_DEPTH` containers is replaced by :data:`TOO_DEEP` instead of being
walked, so a hostile payload cannot exhaust the stack. Every pattern is linear in its input: a 5 MB event
takes a fraction of a second (``tests/test_redact.py`` builds one).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .hookspecs import Redactor, hookimpl

if TYPE_CHECKING:
    from .settings import Settings

__all__ = [
    "FILTERED",
    "MAX_DEPTH",
    "TOO_DEEP",
    "is_sensitive_key",
    "redact_payload",
    "redact_payload_for_settings",
    "redact_text",
]

FILTERED = "[Filtered]"
TOO_DEEP = "[Filtered: nested too deep]"
MAX_DEPTH = 100
"""Containers nested deeper than this are replaced by :data:`TOO_DEEP`."""
MAX_JSON_CHARS = 1_000_000
"""Longer strings are scanned as text and never parsed as JSON."""

# --- names ----------------------------------------------------------------------------------------------------

# Matched against the normalised name: camelCase split, lower case, "-", "." and spaces turned into "_".
# Substrings: password passwd passphrase secret api_key apikey credential private_key access_key token bearer
# auth (authorization, auth_token, oauth...) session sessid sentrysid csrf xsrf cookie forwarded_for jwt
# signature dsn. Whole words only, because they are too short to search inside other words: pwd (mysql_pwd,
# db_pwd), pass, sid (connect.sid), sig (signed URLs), cvv, cvc. PWD also names the working directory in a CGI
# environment; it is filtered anyway, since a variable called pwd far more often holds a password.
_SENSITIVE_NAME = re.compile(
    r"password|passwd|passphrase|secret|api_?key|credential|private_?key|access_?key|token|bearer|auth"
    r"|session|sessid|sentrysid|csrf|xsrf|cookie|forwarded_for|jwt|signature|dsn"
    r"|(?:^|_)(?:pwd|pass|sid|sig|cvv|cvc)(?:_|$)"
)
# Names that contain a sensitive word but hold useful, harmless data: who wrote something ("author", but not
# "authorization" or "authorized"), the HTTP/2 ":authority" pseudo-header (the host), and token counts that
# LLM SDKs report ("max_tokens", "gen_ai.usage.input_tokens", "token_count"). They are blanked out before the
# search above, so "author_token" is still sensitive.
_HARMLESS_NAME = re.compile(
    r"author(?!i[sz])"
    r"|(?:^|_)(?:max|min|input|output|prompt|completion|total|cached|reasoning|num|n)_tokens(?=_|$)"
    r"|(?:^|_)tokens?_(?:count|used|usage|limit|total|remaining)(?=_|$)"
)
# Cheap substring tests that a text may contain a sensitive name at all: every name is_sensitive_key accepts
# contains one of these (in lower case), so a text with none of them is never scanned for key/value pairs.
_NAME_HINTS = (
    *("pass", "pwd", "secret", "key", "cred", "token", "bearer", "auth", "sess", "sid", "csrf", "xsrf"),
    *("cookie", "forwarded", "jwt", "sig", "dsn", "cvv", "cvc"),
)
_PII_NAME = re.compile(
    r"e_?mail|ip_?addr|remote_addr|real_ip|client_ip|connecting_ip|user_?name|(?:^|_)(?:ip|forwarded|user)$"
)
_PII_NAME_HINTS = ("mail", "ip", "addr", "user", "forwarded")
_USER_PII_FIELDS = frozenset({"email", "ip_address", "username", "name", "geo"})
_COOKIE_NAMES = frozenset({"cookie", "cookies", "set_cookie", "http_cookie"})
_RECORD_VALUE_FIELDS = ("value", "topValues")
_COOKIE_FLAGS = frozenset({"httponly", "secure", "partitioned"})
_COOKIE_NAME = re.compile(r"[\w.$\-]{1,64}")

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NAME_SEPARATORS = re.compile(r"[-.\s]+")


@lru_cache(maxsize=8192)
def _normalise_name(name: str) -> str:
    return _NAME_SEPARATORS.sub("_", _CAMEL_BOUNDARY.sub("_", name)).lower()


@lru_cache(maxsize=8192)
def is_sensitive_key(name: str) -> bool:
    """Whether a value stored under ``name`` is a secret (case-insensitive; see the module's list)."""
    return _SENSITIVE_NAME.search(_HARMLESS_NAME.sub("#", _normalise_name(name))) is not None


@lru_cache(maxsize=8192)
def _is_pii_name(name: str) -> bool:
    return _PII_NAME.search(_normalise_name(name)) is not None


# --- values inside text ---------------------------------------------------------------------------------------

_CREDENTIAL = r"[A-Za-z0-9\-._~+/]"
# A PEM private key, also one cut short by Sentry's string trimming (no END line). The body never runs past the
# next BEGIN line, so text full of BEGIN lines without an END is still scanned in linear time.
_PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
    r"(?:(?:(?!-----BEGIN).)*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|(?:[A-Za-z0-9+/=\s]|\\[nr])*+)",
    re.DOTALL,
)
# scheme://user:password@host. "@" and "/" may occur in the password; a port followed by a path may not.
# Bounded lengths and an atomic group keep the scan linear on text full of "://a:".
_URL_PASSWORD = re.compile(
    r"(://[^\s:/?#@'\"<>]{0,128}+:)(?!\d{1,5}/)"
    r"(?>[^\s?#@'\"<>]{1,128}+(?:@(?=[^\s/?#'\"<>]{0,128}@)[^\s?#@'\"<>]{0,128}+){0,8})@"
)
_AUTH_SCHEME_WORDS = ("bearer", "basic", "token")
_AUTH_CREDENTIAL = re.compile(
    rf"(?P<bearer>\b(?i:bearer)\s+){_CREDENTIAL}+=*"
    r"|(?P<basic>\b(?i:basic)\s+)(?P<basic_value>[A-Za-z0-9+/]{8,}+={0,2})(?![A-Za-z0-9+/=])"
    rf"|(?P<token>\b(?i:token)\s+)(?={_CREDENTIAL}*\d)(?={_CREDENTIAL}*[A-Za-z]){_CREDENTIAL}{{16,}}=*"
)
_TOKEN_PREFIXES = (
    *("sntry", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xox", "AKIA", "ASIA"),
    *("npm_", "k_live_", "sk-", "AIza", "eyJ"),
)
_PREFIXED_TOKEN = re.compile(
    r"\b(?:sntry[usai]_[A-Za-z0-9+/=_\-]{8,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|glpat-[\w\-]{20,}"
    r"|xox[abeprs]-[A-Za-z0-9\-]{8,}|(?:AKIA|ASIA)[0-9A-Z]{16}|npm_[A-Za-z0-9]{36}|[sr]k_live_[A-Za-z0-9]{16,}"
    r"|sk-(?:proj-|ant-)?[\w\-]{20,}|AIza[\w\-]{35}|eyJ[\w\-]{8,}+\.eyJ[\w\-]{8,}+\.[\w\-]*)"
)
# Candidates only; the digit before the match and the Luhn check are tested in Python, which keeps the
# scan fast (no look-behind at the start of the pattern).
_CARD_CANDIDATE = re.compile(r"[2-6](?:[ \-]?\d){12,18}(?!\d)")
_EMAIL = re.compile(r"(?<![\w.%+\-])[\w.%+\-]++@[A-Za-z0-9\-]++(?:\.[A-Za-z0-9\-]++)+")
_IPV4_CANDIDATE = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?!\w|\.\d)")
_IPV6_CANDIDATE = re.compile(r"(?<![\w:.])(?=[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f:.]{2,45}+(?!\w)")
# A name followed by "=", ":" or ",": the start of a key/value pair in a query string, a log line, a repr, JSON
# text or a header dump ("," only right after a quoted name: a ('name', value) pair). The possessive name and
# the look-behind keep the scan linear.
_KEY_BEFORE_VALUE = re.compile(
    r"(?<![\w.\-])(?P<key>[A-Za-z_][\w.\-]{0,80}+)(?P<quote>\\*[\"'])?"
    r"[ \t]*(?P<sep>=(?!=)|:(?![:/])|,(?<=[\"'],))[ \t]*"
)
_SCHEME_AND_CREDENTIAL = re.compile(r"(?i:bearer|basic|token|digest|negotiate)[ \t]+(?=\S)")
_STRING_OPENING = re.compile(r"[bBuUrRfF]{0,2}(\\*[\"'])")
_STRING_CLOSING = {q: re.compile(rf"(?:[^{q}\\]++|\\.)*+{q}", re.DOTALL) for q in "\"'"}
_BRACKET_OR_QUOTE = re.compile(r"[\[\]{}()\"']")
_UNQUOTED_VALUE_END = {
    "=": re.compile(r"[\s&;,()\[\]{}'\"]"),  # query strings, log lines, keyword arguments, code
    ",": re.compile(r"[\s,()\]'\"]"),  # ('name', value) pairs in a repr
    ":": re.compile(r"[\n\r,;&()\[\]{}'\"]"),  # "name": value in JSON-like text
    "line": re.compile(r"[\n\r]"),  # Header: value at the start of a line
}


def redact_text(value: str, *, remove_pii: bool = False) -> str:
    """``value`` with every secret-looking substring replaced by ``[Filtered]``; the rest is kept as it was."""
    if len(value) < 5:
        return value
    if len(value) <= 300:
        return _redact_short_text(value, remove_pii)
    return _redact_text(value, remove_pii)


def _redact_text(value: str, remove_pii: bool) -> str:
    # Each pattern runs only when a plain substring test says it could match: most text has no secret at all,
    # and substring tests are much faster than a regular expression scan.
    lowered = value.lower()
    text = value
    if "private key" in lowered:
        text = _PEM_PRIVATE_KEY.sub(FILTERED, text)
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda match: f"{match[1]}{FILTERED}@", text)
    if any(word in lowered for word in _AUTH_SCHEME_WORDS):
        text = _AUTH_CREDENTIAL.sub(_hide_auth_credential, text)
    if any(prefix in text for prefix in _TOKEN_PREFIXES):
        text = _PREFIXED_TOKEN.sub(FILTERED, text)
    text = _CARD_CANDIDATE.sub(_hide_card_number, text)
    is_secret_name: Callable[[str], bool] = is_sensitive_key
    if remove_pii:
        text = _redact_pii_text(text)
        is_secret_name = _is_secret_or_pii_name
    hints = (*_NAME_HINTS, *_PII_NAME_HINTS) if remove_pii else _NAME_HINTS
    if any(hint in lowered for hint in hints):
        text = _scrub_key_values(text, is_secret_name)
    return text


_redact_short_text = lru_cache(maxsize=16384)(_redact_text)


def _redact_pii_text(text: str) -> str:
    if "@" in text:
        text = _EMAIL.sub(FILTERED, text)
    if "." in text:
        text = _IPV4_CANDIDATE.sub(_hide_ipv4, text)
    if text.count(":") >= 2:
        text = _IPV6_CANDIDATE.sub(_hide_ipv6, text)
    return text


def _is_secret_or_pii_name(name: str) -> bool:
    return is_sensitive_key(name) or _is_pii_name(name)


def _hide_auth_credential(match: re.Match[str]) -> str:
    if match["basic"] is not None:
        return match["basic"] + FILTERED if _is_basic_credential(match["basic_value"]) else match[0]
    return (match["bearer"] or match["token"]) + FILTERED


def _hide_card_number(match: re.Match[str]) -> str:
    preceded_by_digit = match.start() > 0 and match.string[match.start() - 1].isdigit()
    if preceded_by_digit or not _is_card_number(re.sub(r"\D", "", match[0])):
        return match[0]
    return FILTERED


def _is_basic_credential(encoded: str) -> bool:
    """HTTP Basic credentials are base64 of "user:password"; "Basic authentication failed" is not."""
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return ":" in decoded and decoded.isprintable()


def _is_card_number(digits: str) -> bool:
    if not 13 <= len(digits) <= 19 or digits[0] not in "23456":
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _hide_ipv4(match: re.Match[str]) -> str:
    text = match.string
    start = match.start()
    if start > 0 and (text[start - 1].isalnum() or text[start - 1] in "._"):  # part of a longer word or version
        return match[0]
    return match[0] if any(int(octet) > 255 for octet in match[0].split(".")) else FILTERED


def _hide_ipv6(match: re.Match[str]) -> str:
    address = match[0].rstrip(".")  # a sentence may end right after the address
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return match[0]
    return FILTERED + match[0][len(address) :] if address.strip(":") else match[0]


def _scrub_key_values(text: str, is_secret_name: Callable[[str], bool]) -> str:
    """Replace the value after every sensitive name in ``key=value``, ``'key': value`` and similar pairs."""
    pieces: list[str] = []
    done = position = 0
    while (match := _KEY_BEFORE_VALUE.search(text, position)) is not None:
        position = match.end()
        if not is_secret_name(match["key"]):
            continue
        mode = _pair_mode(text, match)
        if mode is None:
            continue
        span = _value_span(text, match.end(), mode, _key_quote(text, match))
        if span is None:
            continue
        end, replacement = span
        pieces += [text[done : match.end()], replacement]
        done = position = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def _key_quote(text: str, match: re.Match[str]) -> str:
    """The quote around the key (``'``, ``"`` or an escaped ``\\"``), or ``""`` when it stands bare."""
    quote = match["quote"]
    if quote is None or text[match.start() - 1 : match.start()] != quote[-1]:
        return ""
    return quote


def _pair_mode(text: str, match: re.Match[str]) -> str | None:
    """How far an unquoted value runs, or ``None`` when the name is not the key of a pair (plain prose)."""
    separator = match["sep"]
    if separator == "=":
        return "="
    quote = _key_quote(text, match)
    before = _char_before(text, match.start() - len(quote))
    if separator == ",":
        return "," if quote and before in ("(", "[") else None
    if quote or before in ("{", ",", "[", "("):
        return ":"
    if before in ("", "\n", "\r"):
        return "line"
    # "Invalid token: 'abc'" still gives the value away; "Invalid token: expired" is prose.
    return ":" if _STRING_OPENING.match(text, match.end()) else None


def _char_before(text: str, index: int) -> str:
    """The last character before ``index`` that is not a space or tab; ``""`` at the start of the text."""
    while index > 0 and text[index - 1] in " \t":
        index -= 1
    return text[index - 1] if index > 0 else ""


def _value_span(text: str, start: int, mode: str, key_quote: str) -> tuple[int, str] | None:
    """Where the value starting at ``start`` ends, and what replaces it; ``None`` if there is nothing to hide."""
    if text.startswith(FILTERED, start) or start >= len(text):
        return None
    literal = _STRING_OPENING.match(text, start)
    if literal is not None:
        opener = literal.group(1)
        return _string_end(text, literal.end(), opener), text[start : literal.end()] + FILTERED + opener
    if text[start] in "{[(":
        return _bracket_end(text, start), f"{key_quote}{FILTERED}{key_quote}"
    cursor = start
    if scheme := _SCHEME_AND_CREDENTIAL.match(text, start):  # "auth=Bearer abc": the credential belongs to it
        cursor = scheme.end() + (len(FILTERED) if text.startswith(FILTERED, scheme.end()) else 0)
    stop = _UNQUOTED_VALUE_END[mode].search(text, cursor)
    end = len(text) if stop is None else stop.start()
    if mode == "line":
        end = start + len(text[start:end].rstrip())
    elif text[end : end + 1] == "(":  # a call, "token = read_token(path)": hide its arguments too
        end = _bracket_end(text, end)
    return (end, FILTERED) if end > start else None


def _string_end(text: str, body_start: int, opener: str) -> int:
    """Index just past the closing quote; the end of the text when the string was cut short."""
    if len(opener) > 1:  # an escaped quote inside JSON text closes with the same escape
        found = text.find(opener, body_start)
        return len(text) if found < 0 else found + len(opener)
    closing = _STRING_CLOSING[opener].match(text, body_start)
    return len(text) if closing is None else closing.end()


def _bracket_end(text: str, start: int) -> int:
    """Index just past the bracket that closes the one at ``start``, skipping quoted strings."""
    depth = 0
    position = start
    while (token := _BRACKET_OR_QUOTE.search(text, position)) is not None:
        char = token[0]
        position = token.end()
        if char in "\"'":
            position = _string_end(text, position, char)
        elif char in "[{(":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return position
    return len(text)


# --- the payload walk -----------------------------------------------------------------------------------------


def redact_payload(payload: Any, *, remove_pii: bool = False) -> Any:
    """A deep copy of a JSON-like ``payload`` with every secret replaced; ``payload`` itself is not touched."""
    return _Redaction(remove_pii).value(payload, 0)


def redact_payload_for_settings(payload: dict[str, Any], kind: str, settings: Settings) -> dict[str, Any]:
    """The built-in :class:`Redactor`. Issue and event payloads get the same rules, so ``kind`` is not needed."""
    redacted: dict[str, Any] = redact_payload(payload, remove_pii=settings.remove_pii)
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

    def __init__(self, remove_pii: bool) -> None:
        self.remove_pii = remove_pii

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
            return FILTERED if _is_card_number(str(value)) else value
        return value

    def mapping(self, mapping: dict[Any, Any], depth: int, *, of_user: bool = False) -> dict[Any, Any]:
        label = _record_label(mapping)
        redacted: dict[Any, Any] = {}
        for key, item in mapping.items():
            if not isinstance(key, str):
                redacted[key] = self.value(item, depth + 1)
                continue
            name = label if key in _RECORD_VALUE_FIELDS and label is not None else key
            redacted[self.text(key)] = self.named(name, item, depth + 1, of_user=of_user)
        return redacted

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
        if _normalise_name(name) in _COOKIE_NAMES:
            return _cookie_jar(value, self.text)
        if is_sensitive_key(name):
            return _filtered(value)
        if self.remove_pii:
            normal = _normalise_name(name)
            if normal == "user" and isinstance(value, dict):
                return self.value(value, depth, of_user=True)
            if _is_pii_name(name) or (of_user and normal in _USER_PII_FIELDS):
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

    def text(self, value: str) -> str:
        return redact_text(value, remove_pii=self.remove_pii)


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

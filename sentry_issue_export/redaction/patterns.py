"""What a secret looks like: sensitive names, and secrets that give themselves away inside free text.

Redaction has two jobs that change for different reasons. Walking a payload (``redaction/__init__.py``) follows the
shape of Sentry's JSON: pairs, records, cookies, JSON inside strings. Recognising a secret in a string follows the
shape of credentials, which changes whenever a new kind of token appears. This module is the second job, so a new
token pattern is added here without reading the walk, and the walk can be read without a page of regular
expressions.

- **Names.** :func:`is_sensitive_key` says whether a value stored under a name is a secret; :func:`is_pii_name`
  whether it is personal data. The walk asks them about dict keys and pairs; :func:`redact_text` asks them about
  the keys of ``key=value`` pairs inside text, so both apply the same rule.
- **Text.** :func:`redact_text` replaces with :data:`FILTERED` PEM private keys, ``Bearer``/``Basic``/``Token``
  credentials, the keys of Sentry, GitHub, GitLab, Slack (tokens and webhooks), AWS, Stripe (secret, restricted,
  webhook; live and test), OpenAI, Anthropic, Google, SendGrid, npm, PyPI, Twilio, Mailgun, Discord and Telegram,
  JWTs, passwords in URLs of any scheme, card numbers, and ``key=value`` / ``'key': value`` / ``Header: value``
  pairs with a sensitive key inside free text, query strings, code and Python reprs. In a line of program code
  (``code=True``) only literal values after a sensitive name are hidden, so expressions stay readable. With
  ``remove_pii`` it also hides emails and IP addresses.

A card number is 13 to 19 digits (single spaces or dashes allowed between them) that starts with 2 to 6, where
every major card network's numbers start, and passes the Luhn check, so millisecond timestamps and ordinary ids
survive. Every pattern is linear in its input, so hostile text cannot stall an export
(``tests/test_secret_patterns.py`` feeds it some).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from functools import lru_cache

__all__ = [
    "FILTERED",
    "is_card_number",
    "is_pii_name",
    "is_sensitive_key",
    "normalise_name",
    "redact_text",
]

FILTERED = "[Filtered]"

# --- names ----------------------------------------------------------------------------------------------------

# Matched against the normalised name: camelCase split, lower case, "-", "." and spaces turned into "_".
# Substrings: password passwd passphrase secret api_key apikey credential private_key access_key token bearer
# auth (authorization, auth_token, oauth...) session sessid sentrysid csrf xsrf cookie forwarded_for jwt
# signature dsn passcode, and the keys of connection strings and cloud SDKs (account_key, shared_access_key,
# client_key, signing_key, encryption_key, master_key, license_key). Whole words only, because they are too short
# to search inside other words: pwd (mysql_pwd, db_pwd), pw, pass, sid (connect.sid), sig (signed URLs), cvv, cvc,
# otp, private (a private key passed as "private"). PWD also names the working directory in a CGI environment;
# it is filtered anyway, since a variable called pwd far more often holds a password. A bare "key" is a secret
# only as a local variable (see the walk): elsewhere it names cache keys and the halves of tag records.
_SENSITIVE_NAME = re.compile(
    r"password|passwd|passphrase|passcode|secret|api_?key|credential|private_?key|access_?key|token|bearer|auth"
    r"|session|sessid|sentrysid|csrf|xsrf|cookie|forwarded_for|jwt|signature|dsn"
    r"|(?:account|shared_?access|client|signing|encryption|master|license|storage|app|consumer)_?key"
    r"|(?:^|_)(?:pwd|pw|pass|sid|sig|cvv|cvc|otp|private)(?:_|$)"
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
    *("pass", "pwd", "pw", "secret", "key", "cred", "token", "bearer", "auth", "sess", "sid", "csrf", "xsrf"),
    *("cookie", "forwarded", "jwt", "sig", "dsn", "cvv", "cvc", "otp", "private"),
)
_PII_NAME = re.compile(
    r"e_?mail|ip_?addr|remote_addr|real_ip|client_ip|connecting_ip|user_?name|(?:^|_)(?:ip|forwarded|user)$"
)
_PII_NAME_HINTS = ("mail", "ip", "addr", "user", "forwarded")

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NAME_SEPARATORS = re.compile(r"[-.\s]+")


@lru_cache(maxsize=8192)
def normalise_name(name: str) -> str:
    """``name`` as the name rules see it: camelCase split, lower case, ``-``, ``.`` and spaces turned into ``_``."""
    return _NAME_SEPARATORS.sub("_", _CAMEL_BOUNDARY.sub("_", name)).lower()


@lru_cache(maxsize=8192)
def is_sensitive_key(name: str) -> bool:
    """Whether a value stored under ``name`` is a secret (case-insensitive; see the module's list)."""
    return _SENSITIVE_NAME.search(_HARMLESS_NAME.sub("#", normalise_name(name))) is not None


@lru_cache(maxsize=8192)
def is_pii_name(name: str) -> bool:
    """Whether a value stored under ``name`` is personal data: an email, IP address, username or client address."""
    return _PII_NAME.search(normalise_name(name)) is not None


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
# Prefixed keys of the common services: JWTs, Sentry, GitHub, GitLab, Slack, AWS, npm, Stripe (secret,
# restricted and webhook signing keys, live and test), OpenAI and Anthropic, Google, SendGrid, PyPI, Twilio API
# keys, Mailgun. Each is (its literal start, the rest): a pattern that starts with a literal is found by a fast
# substring search, and one runs only on text holding its start. A JWT comes first, since its parts may hold
# what looks like another key.
_PREFIXED_KEYS = (
    ("eyJ", r"[\w\-]{8,}+\.eyJ[\w\-]{8,}+\.[\w\-]*"),
    ("sntry", r"[usai]_[A-Za-z0-9+/=_\-]{8,}"),
    ("gh", r"[pousr]_[A-Za-z0-9]{20,}"),
    ("github_pat_", r"\w{20,}"),
    ("glpat-", r"[\w\-]{20,}"),
    ("xox", r"[abeprs]-[A-Za-z0-9\-]{8,}"),
    ("AKIA", r"[0-9A-Z]{16}"),
    ("ASIA", r"[0-9A-Z]{16}"),
    ("npm_", r"[A-Za-z0-9]{36,}"),
    ("sk_", r"(?:live|test)_[A-Za-z0-9]{16,}"),
    ("rk_", r"(?:live|test)_[A-Za-z0-9]{16,}"),
    ("whsec_", r"[A-Za-z0-9+/=]{20,}"),
    ("sk-", r"(?:proj-|ant-)?[\w\-]{20,}"),
    ("AIza", r"[\w\-]{35}"),
    ("SG.", r"[\w\-]{16,32}\.[\w\-]{32,64}"),
    ("pypi-", r"AgE[\w\-]{40,}"),
    ("SK", r"[0-9a-fA-F]{32}"),
    ("key-", r"[0-9a-f]{32}"),
)
_PREFIXED_TOKENS = tuple(
    # The look-behind after the literal asks what \b before it would: no word character just before the key.
    (start, re.compile(rf"{re.escape(start)}(?<!\w{re.escape(start)}){rest}(?![\w\-])"))
    for start, rest in _PREFIXED_KEYS
)
# Tokens without a fixed prefix, tested separately because they need a wider scan: Discord bot tokens (three
# dot-separated base64url parts) and Telegram bot tokens ("<bot id>:<35 characters>").
_DISCORD_TOKEN = re.compile(r"(?<![\w\-.])[MNO][\w\-]{23,27}\.[\w\-]{6}\.[\w\-]{27,40}(?![\w\-])")
_TELEGRAM_TOKEN = re.compile(r"(?<![\w:])\d{8,10}:[A-Za-z0-9_\-]{35}(?![\w\-])")
# What every Telegram token has, found twenty times faster (it starts with a literal): only text holding it
# is searched with the whole pattern, whose leading digits make it scan slowly.
_TELEGRAM_TAIL = re.compile(r":[A-Za-z0-9_\-]{35}")
# Slack's incoming-webhook and workflow URLs: the path after the host is the credential.
_SLACK_WEBHOOK = re.compile(r"(hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9/_\-]{16,}")
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
# Values that cannot be secrets: boolean and null literals, and SQL parameter placeholders.
_NOT_A_SECRET = re.compile(r"\s*(?i:true|false|none|null|nil|undefined|%s|\?|\$\d{1,3}|%\(\w{1,80}\)s)\s*")
# The name half of a {"key": "password", "value": ...} record, up to where its value starts.
_RECORD_BEFORE_VALUE = re.compile(
    r"(?P<kq>\\*[\"']?)(?:key|name)(?P=kq)[ \t]*[:=][ \t]*(?P<q>\\*[\"'])(?P<name>[^\"'\\\n]{1,80}+)(?P=q)"
    r"[ \t]*,[ \t]*(?P<vq>\\*[\"']?)value(?P=vq)[ \t]*[:=][ \t]*"
)
_SCHEME_AND_CREDENTIAL = re.compile(r"(?i:bearer|basic|token|digest|negotiate)[ \t]+(?=\S)")
_STRING_OPENING = re.compile(r"[bBuUrRfF]{0,2}(\\*[\"'])")
# Another string literal joined to the one before: by "+", "." or ".." (Lua), or by juxtaposition (Python, C).
_JOINED_LITERAL = re.compile(r"[ \t]*(?:\+|\.\.?)?[ \t]*[bBuUrRfF]{0,2}([\"'])")
_STRING_CLOSING = {q: re.compile(rf"(?:[^{q}\\]++|\\.)*+{q}", re.DOTALL) for q in "\"'"}
_BRACKET_OR_QUOTE = re.compile(r"[\[\]{}()\"']")
_UNQUOTED_VALUE_END = {
    "=": re.compile(r"[\s&;,()\[\]{}'\"]"),  # query strings, log lines, keyword arguments, code
    ",": re.compile(r"[\s,()\]'\"]"),  # ('name', value) pairs in a repr
    ":": re.compile(r"[\n\r,;&()\[\]{}'\"]"),  # "name": value in JSON-like text
    "line": re.compile(r"[\n\r]"),  # Header: value at the start of a line
    "word": re.compile(r"[\s,;'\"]"),  # X-Header: value inside a sentence
}


def redact_text(value: str, *, remove_pii: bool = False, code: bool = False) -> str:
    """``value`` with every secret-looking substring replaced by ``[Filtered]``; the rest is kept as it was.

    ``code`` says the text is a line of program source (a frame's code context): there only *literal* values
    after a sensitive name are secrets (``api_key = "sk_..."``, ``pin = 1234``), while expressions, attribute
    and subscript reads, calls and f-string placeholders stay (``token = get_token(user)``), since they show the
    reader where a value came from. Secrets that give themselves away (prefixed keys, URL passwords, PEM keys)
    are filtered in code as anywhere.
    """
    if len(value) < 5:
        return value
    if len(value) <= 300:
        return _redact_short_text(value, remove_pii, code)
    return _redact_text(value, remove_pii, code)


def _redact_text(value: str, remove_pii: bool, code: bool = False) -> str:
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
    for start, pattern in _PREFIXED_TOKENS:
        if start in text:
            text = pattern.sub(FILTERED, text)
    if "hooks.slack.com/" in text:
        text = _SLACK_WEBHOOK.sub(lambda match: match[1] + FILTERED, text)
    if "." in text and len(text) >= 59:
        text = _DISCORD_TOKEN.sub(FILTERED, text)
    if ":" in text and _TELEGRAM_TAIL.search(text):
        text = _TELEGRAM_TOKEN.sub(FILTERED, text)
    text = _CARD_CANDIDATE.sub(_hide_card_number, text)
    is_secret_name: Callable[[str], bool] = is_sensitive_key
    if remove_pii:
        text = _redact_pii_text(text)
        is_secret_name = _is_secret_or_pii_name
    hints = (*_NAME_HINTS, *_PII_NAME_HINTS) if remove_pii else _NAME_HINTS
    if any(hint in lowered for hint in hints):
        text = _scrub_key_values(text, is_secret_name, _code_value_span if code else _value_span)
        if code:
            text = _scrub_string_bodies(text, is_secret_name)
        elif "value" in lowered:
            text = _scrub_records(text, is_secret_name)
    return text


def _scrub_string_bodies(text: str, is_secret_name: Callable[[str], bool]) -> str:
    """In a line of code, what a string literal holds is text: "AccountKey=...;" inside quotes is hidden."""
    pieces: list[str] = []
    done = position = 0
    while (opening := _QUOTE.search(text, position)) is not None:
        body_start = opening.end()
        end = _string_end(text, body_start, opening[0])
        body_end = end - 1 if end <= len(text) and text[end - 1 : end] == opening[0] else end
        body = text[body_start:body_end]
        scrubbed = _scrub_key_values(body, is_secret_name) if body else body
        if scrubbed != body:
            pieces += [text[done:body_start], scrubbed]
            done = body_end
        position = max(end, body_start + 1)
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


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
    return is_sensitive_key(name) or is_pii_name(name)


def _hide_auth_credential(match: re.Match[str]) -> str:
    if match["basic"] is not None:
        return match["basic"] + FILTERED if _is_basic_credential(match["basic_value"]) else match[0]
    return (match["bearer"] or match["token"]) + FILTERED


def _hide_card_number(match: re.Match[str]) -> str:
    preceded_by_digit = match.start() > 0 and match.string[match.start() - 1].isdigit()
    if preceded_by_digit or not is_card_number(re.sub(r"\D", "", match[0])):
        return match[0]
    return FILTERED


def _is_basic_credential(encoded: str) -> bool:
    """HTTP Basic credentials are base64 of "user:password"; "Basic authentication failed" is not."""
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return ":" in decoded and decoded.isprintable()


def is_card_number(digits: str) -> bool:
    """Whether a string of digits is a card number: 13 to 19 digits, a first digit of 2 to 6, the Luhn check."""
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


ValueSpan = Callable[[str, int, str, str], "tuple[int, str] | None"]


def _scrub_key_values(text: str, is_secret_name: Callable[[str], bool], value_span: ValueSpan | None = None) -> str:
    """Replace the value after every sensitive name in ``key=value``, ``'key': value`` and similar pairs."""

    def locate(match: re.Match[str]) -> tuple[str, str] | None:
        if not is_secret_name(match["key"]):
            return None
        mode = _pair_mode(text, match)
        return None if mode is None else (mode, _key_quote(text, match))

    return _replace_values(text, _KEY_BEFORE_VALUE, locate, value_span or _value_span)


def _scrub_records(text: str, is_secret_name: Callable[[str], bool]) -> str:
    """Hide the value of ``{'key': 'password', 'value': ...}`` records (tags, headers) written out as text."""

    def locate(match: re.Match[str]) -> tuple[str, str] | None:
        return (":", match["vq"] or "") if is_secret_name(match["name"]) else None

    return _replace_values(text, _RECORD_BEFORE_VALUE, locate)


def _replace_values(
    text: str,
    pattern: re.Pattern[str],
    locate: Callable[[re.Match[str]], tuple[str, str] | None],
    value_span: ValueSpan | None = None,
) -> str:
    """Hide the value that follows each match of ``pattern``; ``locate`` gives its (mode, quote), or ``None``."""
    value_span = value_span or _value_span
    pieces: list[str] = []
    done = position = 0
    while (match := pattern.search(text, position)) is not None:
        position = match.end()
        how = locate(match)
        span = None if how is None else value_span(text, match.end(), *how)
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
    if before in ("", "\n", "\r", ":"):
        return "line"  # at the start of a line, or of a title's value ("ValueError: password: ...")
    if separator == ":" and "-" in match["key"]:
        return "word"  # a header written into prose, "... sent X-Api-Key: abc123 and ...": the next word
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
        end = _string_end(text, literal.end(), opener)
        # "sk_live_" + "4eC39..." (or "a" . "b", "a" "b"): a secret split into literals is hidden whole.
        while (joined := _JOINED_LITERAL.match(text, end)) is not None:
            end = _string_end(text, joined.end(), joined.group(1))
        return end, text[start : literal.end()] + FILTERED + opener
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
    if cursor == start and _NOT_A_SECRET.fullmatch(text, start, end):
        return None  # "csrf_exempt = True", "session_key = %s": a literal or a placeholder hides nothing
    return (end, FILTERED) if end > start else None


_ANNOTATION = re.compile(r"[A-Za-z_][\w.]{0,80}+(?:\[[\w., |\[\]]{0,80}+\])?(?:[ \t]*\|[ \t]*None)?[ \t]*=[ \t]*")
_QUOTE = re.compile(r"[\"']")
_NUMBER_LITERAL = re.compile(r"[+-]?(?:0[xXoObB][0-9a-fA-F_]+|\d[\d_]*(?:\.\d+)?)(?![\w.(\[])")


def _code_value_span(text: str, start: int, mode: str, key_quote: str) -> tuple[int, str] | None:
    """In a line of code, a literal string or number after a sensitive name is hidden; an expression is kept.

    An f-string with placeholders is kept too (``f"Bearer {token}"`` names where the secret comes from); a
    secret written into it is still caught by the value patterns.
    """
    if text.startswith(FILTERED, start) or start >= len(text):
        return None
    if mode == "word":  # "X-Api-Key: abc" written into a string or a comment is prose, not code
        return _value_span(text, start, mode, key_quote)
    literal = _STRING_OPENING.match(text, start)
    if literal is not None:
        prefix = text[start : literal.start(1)].lower()
        end = _string_end(text, literal.end(), literal.group(1))
        if "f" in prefix and "{" in text[literal.end() : end]:
            return None
        return _value_span(text, start, mode, key_quote)
    number = _NUMBER_LITERAL.match(text, start)
    if number is not None:
        return number.end(), FILTERED
    annotation = _ANNOTATION.match(text, start)  # "password: str = 'default'": the literal after the type
    if annotation is not None and mode in (":", "line"):
        span = _code_value_span(text, annotation.end(), "=", key_quote)
        return None if span is None else (span[0], text[start : annotation.end()] + span[1])
    return None


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

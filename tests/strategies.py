"""Hypothesis strategies shared by the fuzz tests: sensitive names, secrets, and ways to plant a secret."""

from __future__ import annotations

import json
import string

from hypothesis import strategies as st

SENSITIVE_WORDS = [
    *("password", "passwd", "pwd", "secret", "api_key", "apikey", "api-key", "auth", "authorization"),
    *("credentials", "private_key", "privatekey", "token", "access_token", "bearer", "session", "sessionid"),
    *("csrf", "xsrf-token", "cookie", "set-cookie", "x-forwarded-for", "jwt", "access_key", "signature", "dsn"),
    *("mysql_pwd", "client_secret", "phpsessid", "sentrysid"),
]
HARMLESS_KEYS = ["data", "frames", "vars", "extra", "items", "context", "payload", "values", "0", "level", "meta"]


def styled(word: str, prefix: str, suffix: str, style: str) -> str:
    name = f"{prefix}{word}{suffix}"
    if style == "upper":
        return name.upper()
    if style == "title":
        return name.title()
    if style == "camel":
        head, *rest = [part for part in name.replace("-", "_").replace(".", "_").split("_") if part]
        return head.lower() + "".join(part.capitalize() for part in rest)
    return name


sensitive_names = st.builds(
    styled,
    st.sampled_from(SENSITIVE_WORDS),
    st.sampled_from(["", "x_", "db-", "my.", "HTTP_"]),
    st.sampled_from(["", "_value", "-id", ".v2"]),
    st.sampled_from(["lower", "upper", "title", "camel"]),
)
secrets = st.text(string.ascii_letters + string.digits, min_size=6, max_size=16).map(lambda s: f"S3CR3T-{s}")

PLANTINGS = {
    "dict": lambda name, secret: {name: secret, "author": "Ada Lovelace"},
    "container": lambda name, secret: {name: {"inner": [secret]}, "author": "Ada Lovelace"},
    "pair": lambda name, secret: [name, secret],
    "pair-list": lambda name, secret: [["author", "Ada Lovelace"], [name, secret]],
    "tag": lambda name, secret: {"key": name, "value": secret},
    "repr": lambda name, secret: repr({"author": "Ada Lovelace", name: secret, "page": 2}),
    "nested-repr": lambda name, secret: repr({name: {"a": [secret]}, "author": "Ada Lovelace"}),
    "tuple-repr": lambda name, secret: repr([("author", "Ada Lovelace"), (name, secret)]),
    "json": lambda name, secret: json.dumps({"outer": {name: secret}, "author": "Ada Lovelace"}),
    "json-in-json": lambda name, secret: json.dumps({"body": json.dumps({name: secret})}),
    "query": lambda name, secret: f"https://example.com/x?page=2&{name}={secret}&sort=asc",
    "kwargs": lambda name, secret: f"Login(user='ada', {name}={secret!r})",
    "header-line": lambda name, secret: f"GET / HTTP/1.1\n{name}: {secret}\nAccept: */*",
}


# --- hostile text, for the answer budget -------------------------------------------------------------------------

HOSTILE_PIECES = [
    *("a", "Z", "0", " ", "\n", "\r\n", "\t", "'", '"', "\\", "%", "/", ":", "…"),
    *("é", "e\u0301", "a\u0308\u0323", "日本語", "한국어", "Ω"),  # precomposed, combining marks, CJK
    *("😀", "👩\u200d👩\u200d👧", "🇯🇵", "\U0001f4a9"),  # outside the BMP: two UTF-16 units each
    *("\u202e", "\x1b[31m", "\x00", "\u2028"),  # overrides, escapes, NUL, a line separator
]
hostile_text = st.builds(
    lambda parts, times: "".join(parts) * times,
    st.lists(st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=6)), max_size=6),
    st.one_of(st.integers(1, 3), st.integers(1, 4_000)),
)
"""Text a user or a server might send: empty to tens of thousands of characters, unicode of every width (emoji,
CJK, combining marks), new lines and control characters."""

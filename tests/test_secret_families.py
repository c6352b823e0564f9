"""Every family of secret, planted in every place a payload carries text, stays out of every output.

Each family is written the way it shows up in real payloads. Each is planted in nine places (a local
variable, extra data, a breadcrumb, a request header, the query string, the body, the code context, the logged
message and the title) and looked for in every renderer's report, in the answer an assistant gets, and in the
debug file. A corpus of things that look a little like secrets but are the data a reader needs must come
through untouched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sentry_issue_export import BaseSource, RawIssue, Settings, export_issues_sync, hookimpl
from sentry_issue_export.mcp import wording
from sentry_issue_export.plugins import build_registry, make_plugin_manager
from sentry_issue_export.redaction import redact_payload
from sentry_issue_export.redaction.patterns import redact_text

# (family, the text as it appears, the secret part that must never be seen, a file the text may sit in)
FAMILIES: list[tuple[str, str, str, str]] = [
    ("stripe-live", "charge failed for sk_live_51H8xYzAbCdEfGhIjKlMnOp", "51H8xYzAbCdEfGhIjKlMnOp", "py"),
    ("stripe-test", "using sk_test_4eC39HqLyjWDarjtT1zdp7dc here", "4eC39HqLyjWDarjtT1zdp7dc", "py"),
    ("stripe-restricted-live", "rk_live_51RestrictedKeyAbCdEfGh", "51RestrictedKeyAbCdEfGh", "py"),
    ("stripe-restricted-test", "rk_test_51RestrictedTestAbCdEf", "51RestrictedTestAbCdEf", "py"),
    ("stripe-webhook", "signing secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2", "py"),
    ("slack-token", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "AbCdEfGhIjKlMnOpQrStUvWx", "py"),
    ("slack-webhook", "post to https://hooks.slack.com/services/T0SLK/B0SLK/XyZsLaCkHoOk1234567", "XyZsLaCkHoOk", "py"),
    (
        "azure-account-key",
        "AccountName=acme;AccountKey=QXp1cmVTdG9yYWdlS2V5U2VjcmV0==;EndpointSuffix=x",
        "QXp1cmVTdG9y",
        "py",
    ),
    ("azure-sas", "SharedAccessKeyName=root;SharedAccessKey=U2hhcmVkQWNjZXNzS2V5PQ==", "U2hhcmVkQWNjZXNz", "py"),
    ("sendgrid", "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", "TwL2iGABf9DHoTf", "py"),
    ("google", "key AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe", "DaGmWKa4JsXZ", "py"),
    ("openai", "sk-proj-OpenAiSecretKeyAbcdefghijklmnop0123", "OpenAiSecretKey", "py"),
    ("anthropic", "sk-ant-api03-AnthropicSecretAbcdefghijklmn", "AnthropicSecret", "py"),
    ("github-pat-classic", "ghp_GithubClassicToken0123456789abcdef", "GithubClassicToken", "py"),
    ("github-oauth", "gho_GithubOauthToken0123456789abcdefgh", "GithubOauthToken", "py"),
    ("github-fine-grained", "github_pat_11FineGrained0123456789_abcdefghijklmnop", "11FineGrained", "py"),
    ("gitlab", "glpat-GitlabToken0123456789ab", "GitlabToken0123", "py"),
    ("npm", "npm_NpmTokenAbcdefghijklmnopqrstuvwxyz0123", "NpmTokenAbcdef", "py"),
    ("pypi", "pypi-AgEIcHlwaS5vcmcCJGE4ZjYxMjM0LTU2NzgtOTBhYi1jZGVmLTEyMzQ1Njc4", "AgEIcHlwaS5vcmcCJGE4", "py"),
    ("twilio", "SK0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef", "py"),
    ("mailgun", "key-0fedcba9876543210fedcba987654321", "0fedcba9876543210fedcba", "py"),
    ("discord", "MTA0NTY3ODkwMTIzNDU2Nzg5MA.GhIjKl.DiscordBotTokenSecretPart0123456", "DiscordBotTokenSecret", "py"),
    ("telegram", "bot 1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawE", "AAHdqTcvCH1vGWJxfSeofSAs0K5", "py"),
    ("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYW1pbHkifQ.JwtSignatureSecretPart", "JwtSignatureSecret", "py"),
    ("basic-auth", "Authorization: Basic dXNlcjpCYXNpY1NlY3JldA==", "dXNlcjpCYXNpY1NlY3JldA", "py"),
    ("header-in-prose", "request with X-Api-Key: HeaderProseSecret1 failed", "HeaderProseSecret1", "py"),
    ("code-literal", 'api_key = "CodeLiteralSecret42"', "CodeLiteralSecret42", "py"),
    ("yaml", "password: YamlPasswordSecret", "YamlPasswordSecret", "yaml"),
    ("ini", "secret_key = IniSecretValue99", "IniSecretValue99", "ini"),
    ("dotenv", "DATABASE_PASSWORD=DotenvSecret77", "DotenvSecret77", "env"),
    ("url-mysql", "mysql://root:MysqlUrlSecret@db:3306/app", "MysqlUrlSecret", "py"),
    ("url-redis", "redis://:RedisUrlSecret@cache:6379/0", "RedisUrlSecret", "py"),
    ("url-amqp", "amqp://guest:AmqpUrlSecret@mq:5672/", "AmqpUrlSecret", "py"),
    ("url-mongodb", "mongodb+srv://app:MongoUrlSecret@cluster0.example.net/db", "MongoUrlSecret", "py"),
]

# Things a reader needs that only look a little like secrets: they must come through unchanged.
KEPT = [
    "verbose_csrf_middleware 5.2.0",
    "django-csrf-protect==1.0.4",
    "shop@3.1.0+9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6",
    "c0ffee9c39834cbab9f00bf6cff11cc5",
    "trace 4c79f60c11214eb38604f4ae0781bfb2 span a2f1c3d4e5b60718",
    "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b",
    "https://shop.example.com/catalog/products/?page=2&sort=price",
    "mysql://db.internal:3306/app",
    "SELECT * FROM users WHERE id = %s AND token_count > ?",
    "UPDATE sessions SET last_seen = $1 WHERE id = $2",
    "Invalid token: expired",
    "max_tokens=4096 prompt_tokens=120",
    "author: Ada Lovelace",
    "Pinned sentry-sdk 2.75.0 (pin: 2.75.0)",
    "SKU-4471-BLK not on order ord_7Hc2LmQ9",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
    "1733000000.25",
    "sk_live is the prefix of Stripe keys",
]

SAFE_CODE = [
    "api_key = settings.PAYMENT_API_KEY",
    'password = request.form["password"]',
    "token = get_token(user)",
    'value = SECRETS["api_key"]',
    'headers = {"Authorization": f"Bearer {token}"}',
]


def planted_event(text: str, suffix: str) -> dict[str, Any]:
    """A REST API event with ``text`` in nine places."""
    code_line = text if suffix != "py" else f"    note = {json.dumps(text)}"
    frame = {
        "filename": f"app/settings.{suffix}" if suffix != "py" else "app/handlers.py",
        "function": "handle",
        "lineNo": 3,
        "inApp": True,
        "context": [[2, "def handle(request):"], [3, code_line]],
        "vars": {"note": text, "request": "<Request GET /x>"},
    }
    return {
        "eventID": "f" * 32,
        "title": f"ValueError: {text}",
        "platform": "python",
        "entries": [
            {
                "type": "exception",
                "data": {"values": [{"type": "ValueError", "value": text, "stacktrace": {"frames": [frame]}}]},
            },
            {"type": "message", "data": {"formatted": f"failed: {text}"}},
            {"type": "breadcrumbs", "data": {"values": [{"category": "log", "message": text}]}},
            {
                "type": "request",
                "data": {
                    "url": "https://app.example.com/x",
                    "method": "POST",
                    "headers": [["X-Note", text], ["Accept", "text/html"]],
                    "query": [["note", text]],
                    "data": {"note": text},
                },
            },
        ],
        "context": {"note": text},
        "tags": [{"key": "level", "value": "error"}],
    }


class PlantedSource(BaseSource):
    name = "planted-family"
    description = "one event with a planted family"
    needs_credentials = False

    def __init__(self) -> None:
        self.payload: dict[str, Any] = {}

    async def fetch(self, refs, settings):
        for ref in refs:
            yield RawIssue(ref, {"id": "1", "shortId": "PLANT-1", "title": self.payload["title"]}, self.payload)


SOURCE = PlantedSource()


class Plugin:
    @hookimpl
    def register_sources(self, register):
        register(SOURCE)


REGISTRY = build_registry(*make_plugin_manager(load_entrypoints=False, extra_plugins=[Plugin()]))


def every_output(event: dict[str, Any], directory: Path) -> dict[str, str]:
    """Each renderer's report file, the answer an assistant gets, and the debug file, for one event."""
    SOURCE.payload = event
    outputs: dict[str, str] = {}
    for fmt in ("text", "markdown", "json"):
        settings = Settings(source=SOURCE.name, format=fmt, debug=True, output_dir=directory / fmt)
        result = export_issues_sync("1", settings, registry=REGISTRY)
        assert result.failures == () and result.path is not None
        outputs[fmt] = result.path.read_text(encoding="utf-8")
        [debug] = result.debug_paths
        outputs[f"{fmt} debug file"] = debug.read_text(encoding="utf-8")
        outputs[f"{fmt} answer"] = wording.export_answer(
            result, REGISTRY.renderer(fmt), settings, max_inline_chars=6000
        )
    return outputs


@pytest.mark.parametrize(("family", "text", "secret", "suffix"), FAMILIES, ids=[row[0] for row in FAMILIES])
def test_a_family_planted_everywhere_reaches_no_output(
    family: str, text: str, secret: str, suffix: str, tmp_path: Path
):
    assert secret in text  # the row is honest
    outputs = every_output(planted_event(text, suffix), tmp_path)
    flagged = oracle_findings(text)  # what the independent scanner sees in the input
    for where, output in outputs.items():
        assert secret not in output, f"{family} leaked into the {where}"
        assert all(value not in output for _, value in flagged), f"{family}: the oracle's find is in the {where}"
        assert oracle_findings(output) == set(), f"{family}: the oracle finds a secret in the {where}"
    assert "Accept: text/html" in outputs["text"]  # redaction hides, it does not delete


# --- an independent oracle: Yelp's detect-secrets -------------------------------------------------------------

ENTROPY_ONLY = {"Base64HighEntropyString", "HexHighEntropyString"}
"""Its pure entropy detectors flag ids, hashes and base64 of every kind: not an oracle for secrets."""


def oracle_findings(text: str) -> set[tuple[str, str]]:
    """(kind, value) of every secret detect-secrets' non-entropy plugins find in ``text``, line by line."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import transient_settings

    names = {cls.__name__ for cls in get_mapping_from_secret_type_to_class().values()} - ENTROPY_ONLY
    found: set[tuple[str, str]] = set()
    with transient_settings({"plugins_used": [{"name": name} for name in sorted(names)]}):
        for line in text.splitlines():
            found.update((secret.type, secret.secret_value or "") for secret in scan_line(line))
    return found


def test_the_oracle_recognises_a_third_of_the_families_on_its_own() -> None:
    assert sum(bool(oracle_findings(text)) for _, text, _, _ in FAMILIES) >= 12  # the check above is not empty


def test_the_oracle_finds_no_secret_in_the_outputs_of_the_classic_planted_event(tmp_path: Path) -> None:
    from tests.secrets_fixture import planted_secrets_event

    event = planted_secrets_event()[0]
    assert oracle_findings(json.dumps(event, indent=1))  # the input is full of what it looks for
    for where, output in every_output(event, tmp_path).items():
        assert oracle_findings(output) == set(), where


def test_each_family_is_found_in_free_text() -> None:
    for family, text, secret, _ in FAMILIES:
        assert secret not in redact_text(text), family


@pytest.mark.parametrize("text", KEPT)
def test_what_only_looks_like_a_secret_comes_through_unchanged(text: str) -> None:
    assert redact_text(text) == text
    assert redact_payload({"message": text, "extra": {"note": text}}) == {"message": text, "extra": {"note": text}}


@pytest.mark.parametrize("line", SAFE_CODE)
def test_code_context_keeps_the_code_that_shows_where_a_value_came_from(line: str) -> None:
    frame = {"filename": "app/pay.py", "context": [[1, line]], "context_line": line, "vars": {}}
    redacted = redact_payload(frame)
    assert redacted["context"] == [[1, line]] and redacted["context_line"] == line


def test_a_config_file_shown_as_code_context_is_scanned_as_text() -> None:
    frame = {"filename": "deploy/app.yaml", "context": [[4, "  password: hunter2-in-yaml"]]}
    assert redact_payload(frame)["context"] == [[4, "  password: [Filtered]"]]


def test_a_local_named_key_is_a_secret_but_a_cache_key_and_a_tag_key_are_not() -> None:
    payload = {
        "frames": [{"filename": "a.py", "vars": {"key": "local-key-secret", "pw": "pw-secret", "otp": "123456"}}],
        "breadcrumbs": [{"category": "cache", "data": {"key": "user:42:profile"}}],
        "tags": [{"key": "browser", "value": "Chrome"}],
    }
    redacted = redact_payload(payload)
    assert redacted["frames"][0]["vars"] == {"key": "[Filtered]", "pw": "[Filtered]", "otp": "[Filtered]"}
    assert redacted["breadcrumbs"][0]["data"] == {"key": "user:42:profile"}
    assert redacted["tags"] == [{"key": "browser", "value": "Chrome"}]


def test_the_configured_token_is_hidden_in_a_successful_payload_whatever_its_shape(tmp_path: Path) -> None:
    token = "selfhosted0token0without0any0prefix"
    SOURCE.payload = planted_event("nothing secret here", "py")
    SOURCE.payload["culprit"] = f"auth with {token}"
    SOURCE.payload["context"] = {"raw": token}
    settings = Settings(source=SOURCE.name, token=token, debug=True, output_dir=tmp_path)
    result = export_issues_sync("1", settings, registry=REGISTRY)
    [debug] = result.debug_paths
    for output in (result.content, debug.read_text(encoding="utf-8")):
        assert token not in output and "[Filtered]" in output

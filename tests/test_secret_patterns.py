"""Recognising secrets by name and inside free text: tokens, keys and pairs go; ordinary text stays as it was."""

from __future__ import annotations

import pytest

from sentry_issue_export import redaction as redact
from sentry_issue_export.redaction.patterns import (
    FILTERED,
    is_card_number,
    is_pii_name,
    is_sensitive_key,
    normalise_name,
    redact_text,
)

# --- names ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        *("password", "PASSWD", "db_pwd", "mysql_pwd", "pwd", "client_secret", "SECRET_KEY", "api_key", "apiKey"),
        *("API-KEY", "x-api-key", "auth", "Authorization", "Proxy-Authorization", "oauth_state", "auth_token"),
        *("credentials", "privateKey", "private.key", "access_token", "aws_access_key_id", "bearer", "session"),
        *("sessionid", "JSESSIONID", "PHPSESSID", "sentrysid", "connect.sid", "csrftoken", "XSRF-TOKEN"),
        *("_vercel_jwt", "cookie", "Set-Cookie", "HTTP_COOKIE", "X-Forwarded-For", "HTTP_X_FORWARDED_FOR"),
        *("signature", "sig", "X-Amz-Signature", "SENTRY_DSN", "author_token", "passphrase", "db_pass", "card_cvv"),
    ],
)
def test_sensitive_names(name):
    assert is_sensitive_key(name)


@pytest.mark.parametrize(
    "name",
    [
        *("author", "Author", "authors", "co_author", "author_email", "authored_by", ":authority", "authority"),
        *("max_tokens", "gen_ai.usage.input_tokens", "completion_tokens", "token_count", "user", "username"),
        *("User-Agent", "Content-Type", "key", "value", "name", "id", "keyboard", "compass", "passed", "bypass"),
        *("description", "release", "monkey", "considered", "message", "tags", "signal", "design"),
    ],
)
def test_harmless_names(name):
    assert not is_sensitive_key(name)


@pytest.mark.parametrize(
    ("name", "normal"),
    [("apiKey", "api_key"), ("X-Real-IP", "x_real_ip"), ("connect.sid", "connect_sid"), ("Set Cookie", "set_cookie")],
)
def test_names_are_normalised_before_they_are_matched(name, normal):
    assert normalise_name(name) == normal


@pytest.mark.parametrize("name", ["email", "userEmail", "ip_address", "REMOTE_ADDR", "X-Real-IP", "username", "user"])
def test_personal_data_names(name):
    assert is_pii_name(name)


@pytest.mark.parametrize("name", ["user_agent", "description", "zip", "address_line", "users_count"])
def test_names_that_are_not_personal_data(name):
    assert not is_pii_name(name)


# --- values anywhere --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        ("calling API with Bearer eyJhbG.S3CR3T_part-1/2+3=", "S3CR3T_part", "calling API with Bearer"),
        ("header was 'Basic dXNlcjpTM0NSM1Q=' (user)", "dXNlcjpTM0NSM1Q", "(user)"),
        ("Authorization: Token 9f3aS3CR3Tb7c1d2e3f4a5 sent", "9f3aS3CR3T", "Authorization"),
        ("sntrys_eyJpYXQiOjE3MDB9_S3CR3Tsecretpart in config", "S3CR3Tsecretpart", "in config"),
        (f"user token sntryu_{'ab12' * 16} expired", "ab12ab12", "expired"),
        ("app token sntrya_S3CR3Tappx and sntryi_S3CR3Tintx", "S3CR3T", "app token"),
        ("key AKIAIOSFODNN7S3CR3TX rotated", "AKIAIOSFODNN7S3CR3TX", "rotated"),
        ("push with ghp_S3CR3TghTokenAbcdefghijklmnop12 failed", "ghp_S3CR3T", "failed"),
        ("slack xoxb-1234-S3CR3T-abcdef failed", "xoxb-1234", "failed"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.S3CR3Tsig here", "S3CR3Tsig", "here"),
        ("dial redis://:S3CR3T-pw@cache:6379/0 now", "S3CR3T", "redis://:"),
        ("login(https://ada:S3CR3T@host.example/path)", "S3CR3T", "ada:"),
        ("GET /x?auth=Bearer S3CR3Tabc&page=2", "S3CR3T", "&page=2"),
        ("password = 'S3CR3T' if debug else None", "S3CR3T", "if debug else None"),
    ],
)
def test_secret_values_are_recognised_inside_free_text(text, secret, kept):
    output = redact_text(text)
    assert secret not in output
    assert kept in output
    assert FILTERED in output


@pytest.mark.parametrize(
    "text",
    [
        "Basic authentication failed for user ada",
        "Token expired, please log in again",
        "Invalid token: expected 3 segments",
        "the author: Ada Lovelace",
        "if token == other_token:",
        "See https://sentry.io/organizations/acme/issues/123/?project=4",
        "listening on http://localhost:8000/users/bob@example.com",
        "event 0f1e2d3c4b5a69788796a5b4c3d2e1f0 at 1712345678901 (id 4512345678)",
        "std::vector<int> at 12:30:45 on 2024-05-17 10:30:45.123",
        "order 4111111111111112 is not a card",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert redact_text(text) == text


@pytest.mark.parametrize(
    "pem",
    [
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpS3CR3TBody\nmore==\n-----END RSA PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----\\nMIIEpS3CR3TBody\\nmore==\\n-----END PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nMIIEpS3CR3TBody\nmore...",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nMIIEpS3CR3TBody\n-----END PGP PRIVATE KEY BLOCK-----",
    ],
    ids=["multi-line", "escaped-newlines", "cut-short", "pgp"],
)
def test_pem_private_keys_are_filtered_whole(pem):
    output = redact_text(f"loaded key {pem} from disk")
    assert "S3CR3T" not in output and "MIIE" not in output
    assert output.startswith("loaded key [Filtered]")


@pytest.mark.parametrize(
    ("digits", "is_card"),
    [
        *(("4111111111111111", True), ("5555555555554444", True), ("378282246310005", True)),
        *(("4111111111111112", False), ("1712345678901", False), ("11111111111111111111", False)),
    ],
)
def test_card_numbers_need_a_network_prefix_a_card_length_and_the_luhn_check(digits, is_card):
    assert is_card_number(digits) is is_card


# --- hostile text -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "://a:b" * 20_000,
        "-----BEGIN PRIVATE KEY-----" * 5_000,
        "token=(" * 20_000,
        "'token': " * 20_000,
        "a@" * 50_000,
        "{" * 100_000,
        "1 " * 50_000,
    ],
    ids=["urls", "pem-begins", "open-calls", "repr-keys", "ats", "braces", "digits"],
)
def test_hostile_text_is_handled_in_linear_time(text):
    # Each case would take minutes with a backtracking pattern; linear scans finish in milliseconds.
    redact_text(text, remove_pii=True)


def test_the_redaction_module_still_exports_the_scanner():
    assert redact.redact_text is redact_text
    assert redact.is_sensitive_key is is_sensitive_key
    assert redact.FILTERED == FILTERED


@pytest.mark.parametrize(
    "text",
    [
        "_view_wrapper.csrf_exempt = True",
        'SELECT 1 FROM django_session WHERE "session_key" = %s AND "expire_date" > %s',
        "UPDATE users SET password = ? WHERE id = ?",
        "UPDATE users SET password = $1 WHERE id = $2",
        "INSERT INTO t (token) VALUES (%(token)s)",
        "auth_token=None",
        "secret: null",
    ],
)
def test_literals_and_sql_placeholders_under_sensitive_names_are_kept(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize("text", ["password=truely-secret", "token = Nonesuch123", "api_key=%s3cr3t"])
def test_values_that_merely_start_like_literals_are_still_hidden(text: str) -> None:
    assert FILTERED in redact_text(text)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("{'key': 'password', 'value': 'S3CR3T-1'}", "'key': 'password'"),
        ('[{"name": "Authorization", "value": "Bearer S3CR3T-2"}]', '"name": "Authorization"'),
        ("[{'key': 'x_api_key', 'value': {'nested': 'S3CR3T-3'}}]", "'key': 'x_api_key'"),
    ],
)
def test_key_value_records_written_as_text_hide_their_value(text: str, kept: str) -> None:
    redacted = redact_text(text)
    assert "S3CR3T" not in redacted and kept in redacted


def test_key_value_records_with_harmless_names_are_kept() -> None:
    text = "{'key': 'browser', 'value': 'Firefox 131'}"
    assert redact_text(text) == text


@pytest.mark.parametrize(
    "line",
    [
        '    api_key = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"',
        "$password = 'hunter' . '2-and-more';",
        'local token = "abc" .. "def-ghi-jkl"',
        'SECRET = ("part-one-" "part-two")',
    ],
)
def test_a_secret_split_into_joined_literals_is_hidden_whole(line: str) -> None:
    redacted = redact_text(line)
    assert "[Filtered]" in redacted
    for piece in ("4eC39", "2-and-more", "def-ghi", "part-two"):
        assert piece not in redacted

"""sentry/urls.py: the forms of a pasted Sentry URL and what a token's shape says."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentry_issue_export.errors import ConfigError
from sentry_issue_export.sentry.urls import (
    inspect_token,
    is_slug,
    mask_token,
    normalise_base_url,
    without_token,
)
from tests.config_helpers import LEGACY_TOKEN, ORG_TOKEN_SECRET, USER_TOKEN, org_token

# --- normalise_base_url ---------------------------------------------------------------------------------------

URL_FORMS = [
    ("https://sentry.io/api/0/projects/acme/backend/issues/", "https://sentry.io", "acme", "backend"),
    ("https://sentry.io/organizations/acme/", "https://sentry.io", "acme", None),
    ("https://sentry.io/organizations/acme/issues/", "https://sentry.io", "acme", None),
    ("https://sentry.io/organizations/acme/issues/123/?project=4&query=a", "https://sentry.io", "acme", None),
    ("https://sentry.io/organizations/acme/projects/backend/", "https://sentry.io", "acme", "backend"),
    ("https://acme.sentry.io/", "https://sentry.io", "acme", None),
    ("https://acme.sentry.io/issues/123/events/latest/", "https://sentry.io", "acme", None),
    ("acme.sentry.io", "https://sentry.io", "acme", None),
    ("https://de.sentry.io", "https://de.sentry.io", None, None),
    ("https://us.sentry.io/acme/issues/1/", "https://us.sentry.io", "acme", None),
    ("https://eu.sentry.io/", "https://eu.sentry.io", None, None),
    ("https://www.sentry.io/", "https://sentry.io", None, None),
    ("https://sentry.io/acme/issues/1/", "https://sentry.io", "acme", None),
    ("https://sentry.io/settings/account/api/auth-tokens/", "https://sentry.io", None, None),
    ("https://sentry.example.com", "https://sentry.example.com", None, None),
    ("https://Sentry.Example.COM:443/", "https://sentry.example.com", None, None),
    ("sentry.example.com", "https://sentry.example.com", None, None),
    ("  https://sentry.example.com/  ", "https://sentry.example.com", None, None),
    ("https://sentry.example.com/organizations/acme/issues/123/", "https://sentry.example.com", "acme", None),
    ("https://sentry.example.com/acme/issues/5/", "https://sentry.example.com", "acme", None),
    ("https://example.com/sentry/", "https://example.com/sentry", None, None),
    ("https://example.com/sentry/organizations/acme/issues/7/", "https://example.com/sentry", "acme", None),
    ("https://example.com/sentry/api/0/projects/acme/web/issues/", "https://example.com/sentry", "acme", "web"),
    ("http://localhost:9000", "http://localhost:9000", None, None),
    ("http://localhost:9000/organizations/sentry/", "http://localhost:9000", "sentry", None),
    ("localhost:9000", "https://localhost:9000", None, None),
    ("http://127.0.0.1:80/", "http://127.0.0.1", None, None),
    ("https://[::1]:8443/", "https://[::1]:8443", None, None),
    ("https://sentry.sentry.io/issues/", "https://sentry.io", "sentry", None),
    ("https://acme.sentry.io:8443/", "https://acme.sentry.io:8443", None, None),
    ("https://sentry.bücher.example/", "https://sentry.xn--bcher-kva.example", None, None),
]


@pytest.mark.parametrize(("url", "origin", "org", "project"), URL_FORMS, ids=[row[0].strip() for row in URL_FORMS])
def test_normalise_base_url_accepts(url: str, origin: str, org: str | None, project: str | None) -> None:
    assert normalise_base_url(url) == (origin, org, project)


URL_ERRORS = [
    ("", "No Sentry URL"),
    ("   ", "No Sentry URL"),
    ("ftp://sentry.example.com", "is not an http(s) address"),
    ("https://", "has no host name"),
    ("https://bad_host!.example/", "has a host name that is not valid"),
    ("https://sentry.example.com:notaport/", "not a valid URL"),
    ("https://user:hunter2@sentry.example.com/", "user name or password"),
    ("https://0123abcd@o1.ingest.sentry.io/2", "user name or password"),
    ("https://sentry.io/organizations/ac%20me!/", "not a valid organisation slug"),
    (USER_TOKEN, "looks like a token"),
    (LEGACY_TOKEN, "looks like a token"),
]


@pytest.mark.parametrize(("url", "message"), URL_ERRORS, ids=[row[1] + ":" + row[0][:20] for row in URL_ERRORS])
def test_normalise_base_url_rejects_with_an_example(url: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        normalise_base_url(url)
    text = str(caught.value)
    assert message in text
    assert "e.g. https://sentry.io/organizations/acme/" in text
    for secret in ("hunter2", "0123abcd", USER_TOKEN, LEGACY_TOKEN):
        assert secret not in text


_hosts = st.sampled_from(
    ["sentry.io", "acme.sentry.io", "de.sentry.io", "www.sentry.io", "sentry.example.com", "localhost", "10.0.0.7"]
)
_segments = st.lists(st.sampled_from(["organizations", "acme", "issues", "123", "api", "0", "projects", "sentry"]))


@given(
    scheme=st.sampled_from(["http://", "https://", ""]),
    host=_hosts,
    port=st.sampled_from(["", ":443", ":80", ":9000"]),
    segments=_segments,
)
def test_normalized_base_url_is_a_fixed_point(scheme: str, host: str, port: str, segments: list[str]) -> None:
    url = f"{scheme}{host}{port}/" + "/".join(segments)
    origin, _, _ = normalise_base_url(url)
    assert normalise_base_url(origin)[0] == origin
    assert not origin.endswith("/")


@pytest.mark.parametrize(
    ("text", "expected"), [("acme", True), ("my-org.v2_x", True), ("-acme", False), ("ac me", False), ("", False)]
)
def test_is_slug(text: str, expected: bool) -> None:
    assert is_slug(text) is expected


def test_without_token_masks_every_copy_of_the_token() -> None:
    message = f"token {USER_TOKEN} is not valid; got {USER_TOKEN}"
    cleaned = without_token(message, USER_TOKEN)
    assert USER_TOKEN not in cleaned
    assert cleaned.count(mask_token(USER_TOKEN)) == 2
    assert without_token(message, "") == message


# --- tokens ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "masked"),
    [
        (USER_TOKEN, "sntryu_a… (71 chars)"),
        ("abcdefghijkl", "abcd… (12 chars)"),
        ("abc", "a… (3 chars)"),
        ("ab", "… (2 chars)"),
        ("x", "… (1 char)"),
        ("", "(not set)"),
        (None, "(not set)"),
    ],
)
def test_mask_token(token: str | None, masked: str) -> None:
    assert mask_token(token) == masked


@given(st.text(min_size=1, max_size=200))
def test_mask_token_reveals_at_most_a_third_and_eight_characters(token: str) -> None:
    revealed = mask_token(token).split("…")[0]
    assert token.startswith(revealed)
    assert len(revealed) <= min(8, len(token) // 3)
    assert f"({len(token)} char" in mask_token(token)


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        (USER_TOKEN, "user"),
        ("sntrya_" + "1" * 64, "user app"),
        ("sntryi_" + "1" * 64, "integration"),
        (LEGACY_TOKEN, "legacy"),
        ("not-a-sentry-token", "unknown"),
        ("sntrys_%%%notbase64_secret", "organization"),
    ],
)
def test_inspect_token_kind(token: str, kind: str) -> None:
    assert inspect_token(token).kind == kind


def test_org_token_names_its_server_and_organisation() -> None:
    info = inspect_token(org_token("https://sentry.example.com/", "acme"))
    assert (info.kind, info.url, info.org) == ("organization", "https://sentry.example.com", "acme")
    assert info.description == "organization token for acme at https://sentry.example.com"
    assert ORG_TOKEN_SECRET not in repr(info)

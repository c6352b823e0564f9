"""web/origin.py: one reading of where a server is, shared by pasted references, base URLs, the Bugsink source,
the config and the transport's token pin. The table at the end feeds the same addresses to every reader."""

from __future__ import annotations

import re

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentry_issue_export.errors import ConfigError
from sentry_issue_export.refs import IssueRef, IssueSearch, parse_refs
from sentry_issue_export.sentry.urls import normalise_base_url
from sentry_issue_export.sources.bugsink import ref_from_web_url
from sentry_issue_export.web.origin import Origin, OriginError, as_origin, is_sentry_io_host, origin_of


def same_server(first: str, second: str) -> bool:
    return Origin.parse(first).same_server(Origin.parse(second))


def same_server_any_scheme(first: str, second: str) -> bool:
    return Origin.parse(first).same_server_any_scheme(Origin.parse(second))


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port", "shown"),
    [
        ("https://sentry.io", "https", "sentry.io", None, "https://sentry.io"),
        ("HTTPS://Sentry.Example.COM.:443/x", "https", "sentry.example.com", None, "https://sentry.example.com"),
        ("http://localhost:80", "http", "localhost", None, "http://localhost"),
        ("http://localhost:443", "http", "localhost", 443, "http://localhost:443"),
        ("https://[::1]:8443/", "https", "::1", 8443, "https://[::1]:8443"),
        ("https://user:pw@sentry.example.com/", "https", "sentry.example.com", None, "https://sentry.example.com"),
        ("https://sentry.bücher.example", "https", "sentry.xn--bcher-kva.example", None, None),
    ],
)
def test_parse_normal_form(url: str, scheme: str, host: str, port: int | None, shown: str | None) -> None:
    origin = Origin.parse(url)
    assert (origin.scheme, origin.host, origin.port) == (scheme, host, port)
    assert str(origin) == (shown or f"{scheme}://{host}")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://sentry.example.com", "is not an http(s) address"),
        ("sentry.example.com", "is not an http(s) address"),
        ("https://", "has no host name"),
        ("https://sentry.example.com:notaport/", "is not a valid URL"),
        ("https://bad host.example/", "has a host name that is not valid"),
        ("https://a..bü/", "has a host name that is not valid"),
    ],
)
def test_parse_refuses_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(OriginError, match=re.escape(reason)):
        Origin.parse(url)


def test_the_host_is_the_one_the_http_client_connects_to() -> None:
    """The transport pins the token to the host httpx sends requests to; both readings must agree."""
    for url in ("https://sentry.bücher.example:8443/", "https://Sentry.Example.com./", "http://[::1]:9000/"):
        parsed = httpx.URL(url)
        assert Origin.parse(url).host == parsed.raw_host.decode("ascii").lower().rstrip(".")


def test_as_origin_and_origin_of() -> None:
    assert as_origin(None) is None and as_origin("") is None
    origin = Origin.parse("https://sentry.io")
    assert as_origin(origin) is origin
    assert as_origin("https://sentry.io/organizations/acme/") == origin
    assert IssueRef("1", origin="https://acme.sentry.io").origin == Origin("https", "acme.sentry.io")
    with pytest.raises(ConfigError, match="not an http"):
        origin_of("sentry.example.com")


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("https://sentry.io", "https://de.sentry.io", True),
        ("https://sentry.io", "https://sentry.io:443", True),
        ("https://sentry.example.com", "https://sentry.example.com/prefix", True),
        ("https://sentry.example.com", "http://sentry.example.com", False),
        ("https://sentry.example.com", "https://sentry.example.com:8443", False),
        ("https://sentry.io", "https://sentry.example.com", False),
        ("https://sentry.io", "https://evilsentry.io", False),
        ("http://sentry.io", "https://sentry.io", False),
    ],
)
def test_same_server(first: str, second: str, same: bool) -> None:
    assert same_server(first, second) is same
    assert same_server(second, first) is same


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        pytest.param("https://sentry.io", "https://acme.sentry.io", True, id="org-host"),
        pytest.param("https://us.sentry.io", "https://de.sentry.io", True, id="regions"),
        pytest.param("https://sentry.io", "http://acme.sentry.io", True, id="scheme-ignored-sentry-io"),
        pytest.param("https://sentry.example.com", "http://sentry.example.com", True, id="scheme-ignored"),
        pytest.param("https://sentry.example.com", "https://sentry.example.com:443", True, id="https-default-port"),
        pytest.param("https://sentry.example.com", "http://sentry.example.com:80", True, id="http-default-port"),
        pytest.param("https://sentry.io", "https://acme.sentry.io:443", True, id="sentry-io-default-port"),
        pytest.param("https://Sentry.Example.com.", "https://sentry.example.com", True, id="case-and-trailing-dot"),
        pytest.param("https://acme.sentry.io:8443", "https://acme.sentry.io:8443", True, id="same-host-same-port"),
        pytest.param("https://sentry.example.com", "https://sentry.example.com:8443", False, id="other-port"),
        pytest.param("https://sentry.io", "https://acme.sentry.io:8443", False, id="sentry-io-other-port"),
        pytest.param("https://sentry.io", "https://sentry.io:8443", False, id="sentry-io-apex-other-port"),
        pytest.param("https://de.sentry.io:8443", "https://acme.sentry.io:8443", False, id="one-only-on-443"),
        pytest.param("https://sentry.example.com", "http://sentry.example.com:443", False, id="443-not-http-default"),
        pytest.param("https://sentry.io", "https://sentry.io.evil.example", False, id="look-alike"),
        pytest.param("https://notsentry.io", "https://sentry.io", False, id="suffix-without-dot"),
    ],
)
def test_same_server_any_scheme(first: str, second: str, same: bool) -> None:
    assert same_server_any_scheme(first, second) is same
    assert same_server_any_scheme(second, first) is same


_origins = st.builds(
    "{}://{}{}".format,
    st.sampled_from(["http", "https"]),
    st.sampled_from(["sentry.io", "acme.sentry.io", "de.sentry.io", "sentry.example.com", "127.0.0.1"]),
    st.sampled_from(["", ":443", ":80", ":8443", ":9000"]),
)


@given(first=_origins, second=_origins)
def test_same_server_any_scheme_never_joins_two_ports(first: str, second: str) -> None:
    def port(origin: str) -> int:
        explicit = origin.rpartition(":")[2]
        return int(explicit) if explicit.isdigit() else (443 if origin.startswith("https") else 80)

    def standard(origin: str) -> bool:
        return port(origin) == (443 if origin.startswith("https") else 80)

    if same_server_any_scheme(first, second):
        assert port(first) == port(second) or (standard(first) and standard(second))


@given(first=_origins, second=_origins)
def test_same_server_any_scheme_is_same_server_without_the_scheme(first: str, second: str) -> None:
    """Between https origins the two checks agree: ``same_server_any_scheme`` is looser only in ignoring the scheme."""
    if first.startswith("https") and second.startswith("https"):
        assert same_server_any_scheme(first, second) is same_server(first, second)
    if same_server(first, second):
        assert same_server_any_scheme(first, second)


@given(origin=_origins)
def test_an_origin_reads_back_as_itself(origin: str) -> None:
    parsed = Origin.parse(origin)
    assert Origin.parse(str(parsed)) == parsed


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("sentry.io", True),
        ("de.sentry.io", True),
        ("acme.sentry.io", True),
        ("ACME.Sentry.IO", True),
        ("acme.sentry.io.", True),
        ("evilsentry.io", False),
        ("acme.sentry.io:8443", False),
        ("sentry.io.example.com", False),
        ("sentry.example.com", False),
    ],
)
def test_is_sentry_io_host(host: str, expected: bool) -> None:
    assert is_sentry_io_host(host) is expected


@pytest.mark.parametrize(
    ("url", "netloc"),
    [
        ("https://sentry.io", "sentry.io"),
        ("https://sentry.example.com:8443/prefix", "sentry.example.com:8443"),
        ("https://[::1]:8443", "[::1]:8443"),
    ],
)
def test_netloc_names_the_server_without_the_path(url: str, netloc: str) -> None:
    assert Origin.parse(url).netloc == netloc


# --- every reader, one answer ---------------------------------------------------------------------------------

# (pasted address, the server it names, the organisation it names). Each is read as an issue reference (or an
# issue-list search) and as a base URL; both readings must name this Sentry and organisation, compared as the
# sources compare a reference with the configured server (``same_server_any_scheme``: the scheme of a pasted
# address does not matter, requests go to the configured one).
ADDRESSES = [
    ("https://sentry.io/organizations/acme/issues/1/", "https://sentry.io", "acme"),
    ("https://sentry.io/organizations/acme/issues/", "https://sentry.io", "acme"),
    ("https://sentry.io/api/0/organizations/acme/issues/1/", "https://sentry.io", "acme"),
    ("https://sentry.io/acme/issues/1/", "https://sentry.io", "acme"),
    ("https://acme.sentry.io/issues/1/", "https://sentry.io", "acme"),
    ("https://acme.sentry.io/issues/1/events/latest/", "https://sentry.io", "acme"),
    ("https://acme.sentry.io/issues/?query=is%3Aunresolved", "https://sentry.io", "acme"),
    ("https://ACME.Sentry.IO./issues/1/", "https://sentry.io", "acme"),
    ("https://acme.sentry.io:443/issues/1/", "https://sentry.io", "acme"),
    ("https://sentry.sentry.io/issues/1/", "https://sentry.io", "sentry"),
    ("https://my-org.sentry.io/issues/PROJ-1A/", "https://sentry.io", "my-org"),
    ("https://www.sentry.io/organizations/acme/issues/1/", "https://sentry.io", "acme"),
    ("https://de.sentry.io/organizations/acme/issues/1/", "https://de.sentry.io", "acme"),
    ("https://us.sentry.io/organizations/acme/issues/1/", "https://us.sentry.io", "acme"),
    ("https://eu.sentry.io/acme/issues/1/", "https://eu.sentry.io", "acme"),
    ("https://o1.de.sentry.io/organizations/acme/issues/1/", "https://o1.de.sentry.io", "acme"),
    ("https://de.sentry.io/issues/1/", "https://de.sentry.io", None),
    ("https://sentry.io/issues/1/", "https://sentry.io", None),
    ("https://acme.sentry.io:8443/issues/1/", "https://acme.sentry.io:8443", None),
    ("http://acme.sentry.io/issues/1/", "http://sentry.io", "acme"),
    ("https://sentry.example.com/organizations/acme/issues/1/", "https://sentry.example.com", "acme"),
    ("https://sentry.example.com:443/organizations/acme/issues/1/", "https://sentry.example.com", "acme"),
    ("https://sentry.example.com:8443/organizations/acme/issues/1/", "https://sentry.example.com:8443", "acme"),
    ("http://sentry.example.com:80/organizations/acme/issues/1/", "http://sentry.example.com", "acme"),
    ("https://Sentry.Example.COM/acme/issues/1/", "https://sentry.example.com", "acme"),
    ("https://sentry.example.com./organizations/acme/issues/1/", "https://sentry.example.com", "acme"),
    ("https://sentry.example.com/issues/1/", "https://sentry.example.com", None),
    ("https://sentry.example.com/api/0/issues/1/", "https://sentry.example.com", None),
    ("https://admin:pw@sentry.example.com/organizations/acme/issues/1/", "https://sentry.example.com", "acme"),
    ("https://sentry.bücher.example/organizations/acme/issues/1/", "https://sentry.xn--bcher-kva.example", "acme"),
    (
        "https://sentry.xn--bcher-kva.example/organizations/acme/issues/1/",
        "https://sentry.xn--bcher-kva.example",
        "acme",
    ),
    ("http://localhost:9000/organizations/sentry/issues/1/", "http://localhost:9000", "sentry"),
    ("http://127.0.0.1:9000/organizations/sentry/issues/1/", "http://127.0.0.1:9000", "sentry"),
    ("https://[::1]:8443/organizations/acme/issues/1/", "https://[::1]:8443", "acme"),
    ("http://[2001:db8::1]/acme/issues/1/", "http://[2001:db8::1]", "acme"),
    ("https://glitchtip.example.com/acme/issues/1", "https://glitchtip.example.com", "acme"),
    ("https://app.glitchtip.com/acme/issues/1?project=2", "https://app.glitchtip.com", "acme"),
]


@pytest.mark.parametrize(("url", "server", "org"), ADDRESSES, ids=[row[0] for row in ADDRESSES])
def test_a_reference_and_a_base_url_name_the_same_server(url: str, server: str, org: str | None) -> None:
    parsed = parse_refs(url)
    [read] = [*parsed.refs, *parsed.searches]
    assert isinstance(read, IssueRef | IssueSearch)
    assert read.origin is not None and read.origin.same_server_any_scheme(Origin.parse(server)), read.origin
    assert read.org == org
    if "@" in url:  # an address with user information is a DSN's shape, never taken as the server to use
        with pytest.raises(ConfigError, match="user name or password"):
            normalise_base_url(url)
        return
    base_url, base_org, _ = normalise_base_url(url)
    assert base_url == server, "a pasted issue address gives the server's root"
    assert base_org == org
    assert Origin.parse(base_url).same_server_any_scheme(read.origin)


BUGSINK_ADDRESSES = [
    ("https://bugsink.example.com/issues/issue/4f6a3c0e-1a2b-4c3d-8e9f-001122334455/", "https://bugsink.example.com"),
    ("http://localhost:8000/issues/issue/4f6a3c0e-1a2b-4c3d-8e9f-001122334455/event/last/", "http://localhost:8000"),
    (
        "https://Bugsink.Example.com:443/issues/issue/4f6a3c0e-1a2b-4c3d-8e9f-001122334455/",
        "https://bugsink.example.com",
    ),
    ("https://u:pw@[::1]:8443/issues/issue/4f6a3c0e-1a2b-4c3d-8e9f-001122334455/", "https://[::1]:8443"),
    (
        "https://bugsink.bücher.example/issues/issue/4f6a3c0e-1a2b-4c3d-8e9f-001122334455/",
        "https://bugsink.xn--bcher-kva.example",
    ),
]


@pytest.mark.parametrize(("url", "server"), BUGSINK_ADDRESSES, ids=[row[0] for row in BUGSINK_ADDRESSES])
def test_a_bugsink_address_names_its_server_as_the_config_would(url: str, server: str) -> None:
    ref = ref_from_web_url(url)
    assert ref is not None and ref.origin is not None
    assert str(ref.origin) == server
    assert ref.origin.same_server(Origin.parse(normalise_base_url(server)[0]))
    assert "pw" not in ref.text

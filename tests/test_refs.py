"""Issue references from free text: every accepted form, every problem, and robustness on any input."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sentry_issue_export.errors import InvalidReferenceError
from sentry_issue_export.refs import IssueRef, IssueSearch, ParsedRefs, RefProblem, parse_ref, parse_refs

EVENT = "0123456789abcdef0123456789abcdef"


def only_ref(text: str) -> IssueRef:
    parsed = parse_refs(text)
    assert parsed.problems == (), parsed.problems
    assert len(parsed.refs) == 1, parsed.refs
    return parsed.refs[0]


def ids(parsed: ParsedRefs) -> list[str]:
    return [ref.issue_id for ref in parsed.refs]


def is_no_reference_problem(parsed: ParsedRefs) -> bool:
    return parsed.refs == () and len(parsed.problems) == 1 and "holds no issue reference" in parsed.problems[0].reason


# --- bare ids ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "issue_id", "written"),
    [
        pytest.param("12345", "12345", "12345", id="numeric"),
        pytest.param("#12345", "12345", "#12345", id="hash-numeric"),
        pytest.param("PROJ-1A", "PROJ-1A", "PROJ-1A", id="short-id"),
        pytest.param("MY-APP-2-1A", "MY-APP-2-1A", "MY-APP-2-1A", id="short-id-slug-with-dashes-and-digits"),
        pytest.param("BACKEND-API-3F", "BACKEND-API-3F", "BACKEND-API-3F", id="short-id-multi-dash-slug"),
        pytest.param("MY_APP-Z9", "MY_APP-Z9", "MY_APP-Z9", id="short-id-underscore-slug"),
        pytest.param("3D-VIEWER-A", "3D-VIEWER-A", "3D-VIEWER-A", id="short-id-slug-starts-with-digit"),
        pytest.param("#PROJ-1A", "PROJ-1A", "#PROJ-1A", id="hash-short-id"),
        pytest.param("proj-1a", "PROJ-1A", "proj-1a", id="lower-case-short-id-alone"),
        pytest.param("  proj-1a \n", "PROJ-1A", "proj-1a", id="lower-case-short-id-alone-with-whitespace"),
        pytest.param("(proj-1a).", "PROJ-1A", "proj-1a", id="lower-case-short-id-alone-with-punctuation"),
        pytest.param("Proj-1a", "PROJ-1A", "Proj-1a", id="mixed-case-short-id-alone"),
    ],
)
def test_bare_reference(text: str, issue_id: str, written: str) -> None:
    ref = only_ref(text)
    assert ref == IssueRef(issue_id)
    assert ref.text == written
    assert ref.is_short_id == (not issue_id.isdigit())


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("PROJ-1I", id="counter-with-I"),
        pytest.param("PROJ-1L", id="counter-with-L"),
        pytest.param("PROJ-1O", id="counter-with-O"),
        pytest.param("PROJ-1U", id="counter-with-U"),
        pytest.param("PROJ-", id="no-counter"),
        pytest.param("-1A", id="no-slug"),
        pytest.param("PROJ--1A", id="slug-ends-with-dash"),
        pytest.param("2024-10", id="slug-without-letter"),
        pytest.param("PRÖJ-1A", id="non-ascii-slug"),
        pytest.param("١٢٣", id="non-ascii-digits"),
        pytest.param("1" * 20, id="number-longer-than-64-bit"),
        pytest.param("12.5", id="decimal"),
    ],
)
def test_near_miss_ids_are_not_references(text: str) -> None:
    assert is_no_reference_problem(parse_refs(text))


# --- URLs -------------------------------------------------------------------------------------------------------

ACME_SAAS = "https://acme.sentry.io"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://acme.sentry.io/issues/123/", IssueRef("123", "acme", ACME_SAAS), id="org-subdomain"),
        pytest.param("https://acme.sentry.io/issues/123", IssueRef("123", "acme", ACME_SAAS), id="no-trailing-slash"),
        pytest.param(
            "https://acme.sentry.io/issues/123/?project=456&query=is%3Aunresolved&referrer=issue-stream",
            IssueRef("123", "acme", ACME_SAAS),
            id="query-string",
        ),
        pytest.param(
            "https://acme.sentry.io/issues/123/?project=456#activity",
            IssueRef("123", "acme", ACME_SAAS),
            id="query-and-fragment",
        ),
        pytest.param(
            "https://sentry.io/organizations/acme/issues/123/",
            IssueRef("123", "acme", "https://sentry.io"),
            id="organizations-path",
        ),
        pytest.param(
            "https://us.sentry.io/acme/issues/123/", IssueRef("123", "acme", "https://us.sentry.io"), id="region-us"
        ),
        pytest.param(
            "https://de.sentry.io/acme/issues/123/", IssueRef("123", "acme", "https://de.sentry.io"), id="region-de"
        ),
        pytest.param(
            "https://sentry.io/acme/issues/123/", IssueRef("123", "acme", "https://sentry.io"), id="old-org-path"
        ),
        pytest.param(
            "https://acme.sentry.io/issues/PROJ-1A/", IssueRef("PROJ-1A", "acme", ACME_SAAS), id="short-id-in-url"
        ),
        pytest.param(
            "https://acme.sentry.io/issues/proj-1a/",
            IssueRef("PROJ-1A", "acme", ACME_SAAS),
            id="lower-case-short-id-in-url",
        ),
        pytest.param(
            "https://acme.sentry.io/issues/123/tags/browser/",
            IssueRef("123", "acme", ACME_SAAS),
            id="issue-sub-page",
        ),
        pytest.param(
            "https://acme.sentry.io/issues/123/events/",
            IssueRef("123", "acme", ACME_SAAS),
            id="events-tab-without-event",
        ),
        pytest.param(
            "https://acme.sentry.io/organizations/other/issues/123/",
            IssueRef("123", "other", ACME_SAAS),
            id="path-org-wins-over-host",
        ),
        pytest.param(
            "https://sentry.example.com/organizations/acme/issues/123/",
            IssueRef("123", "acme", "https://sentry.example.com"),
            id="self-hosted",
        ),
        pytest.param(
            "https://sentry.example.com/issues/5/",
            IssueRef("5", None, "https://sentry.example.com"),
            id="self-hosted-without-org",
        ),
        pytest.param(
            "https://errors.example.com/acme/issues/5",
            IssueRef("5", "acme", "https://errors.example.com"),
            id="self-hosted-org-path",
        ),
        pytest.param(
            "http://localhost:9000/organizations/acme/issues/5/",
            IssueRef("5", "acme", "http://localhost:9000"),
            id="localhost-port-kept",
        ),
        pytest.param("http://[::1]:9000/issues/4/", IssueRef("4", None, "http://[::1]:9000"), id="ipv6-host-and-port"),
        pytest.param(
            "https://acme.sentry.io:443/issues/4/", IssueRef("4", "acme", ACME_SAAS), id="default-port-dropped"
        ),
        pytest.param(
            "HTTPS://ACME.Sentry.IO/issues/4/", IssueRef("4", "acme", ACME_SAAS), id="scheme-and-host-lower-cased"
        ),
        pytest.param(
            "https://sentry.io/api/0/organizations/acme/issues/123/",
            IssueRef("123", "acme", "https://sentry.io"),
            id="api-organization-issue",
        ),
        pytest.param(
            "https://sentry.io/api/0/issues/123/", IssueRef("123", None, "https://sentry.io"), id="api-legacy-issue"
        ),
        pytest.param(
            f"https://sentry.example.com/api/0/issues/123/events/{EVENT}/",
            IssueRef("123", None, "https://sentry.example.com", EVENT),
            id="api-legacy-issue-event",
        ),
        pytest.param("acme.sentry.io/issues/9/", IssueRef("9", "acme", ACME_SAAS), id="sentry-io-without-scheme"),
        pytest.param(
            "Acme.Sentry.IO/issues/9/", IssueRef("9", "acme", ACME_SAAS), id="sentry-io-without-scheme-any-case"
        ),
        pytest.param(
            "https://acme.sentry.io:8443/issues/4/",
            IssueRef("4", None, "https://acme.sentry.io:8443"),
            id="sentry-io-other-port-kept-for-the-host-check",
        ),
        pytest.param(
            "https://sentry.sentry.io/issues/4/",
            IssueRef("4", "sentry", "https://sentry.sentry.io"),
            id="sentry-is-an-organisation-like-any-other",
        ),
    ],
)
def test_issue_url(url: str, expected: IssueRef) -> None:
    ref = only_ref(url)
    assert (ref.issue_id, ref.org, ref.origin, ref.event_id) == (
        expected.issue_id,
        expected.org,
        expected.origin,
        expected.event_id,
    )
    assert ref.text == url


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("us.sentry.io", id="us"),
        pytest.param("de.sentry.io", id="de"),
        pytest.param("eu.sentry.io", id="eu"),
        pytest.param("www.sentry.io", id="www"),
        pytest.param("acme.sentry.io:8443", id="sentry-io-host-on-another-port"),
        pytest.param("sentry.io", id="apex"),
        pytest.param("o1.ingest.sentry.io", id="deeper-subdomain"),
        pytest.param("acme.example.com", id="self-hosted-first-label"),
        pytest.param("acme.sentry.io.example.com", id="look-alike-host"),
    ],
)
def test_org_is_never_guessed_from_these_hosts(host: str) -> None:
    assert only_ref(f"https://{host}/issues/7/").org is None


@pytest.mark.parametrize(
    ("segment", "event_id"),
    [
        pytest.param(EVENT, EVENT, id="hex"),
        pytest.param(EVENT.upper(), EVENT, id="upper-hex-lower-cased"),
        pytest.param("01234567-89ab-cdef-0123-456789abcdef", EVENT, id="uuid-with-dashes"),
        pytest.param("latest", "latest", id="latest"),
        pytest.param("oldest", "oldest", id="oldest"),
        pytest.param("recommended", "recommended", id="recommended"),
    ],
)
@pytest.mark.parametrize(
    "base",
    [
        pytest.param("https://acme.sentry.io/issues/123", id="subdomain"),
        pytest.param("https://sentry.io/organizations/acme/issues/123", id="organizations"),
        pytest.param("https://us.sentry.io/acme/issues/123", id="region"),
        pytest.param("https://sentry.example.com/organizations/acme/issues/123", id="self-hosted"),
    ],
)
def test_url_with_event(base: str, segment: str, event_id: str) -> None:
    ref = only_ref(f"{base}/events/{segment}/?project=9")
    assert (ref.issue_id, ref.org, ref.event_id) == ("123", "acme", event_id)


# --- problems ---------------------------------------------------------------------------------------------------

VALID_EXAMPLES = ("12345", "PROJ-1A", "32 hex digits", "'acme'")


@pytest.mark.parametrize(
    ("text", "offending", "reason_part"),
    [
        pytest.param("https://github.com/a/b", "https://github.com/a/b", "is not a Sentry issue URL", id="other-site"),
        pytest.param(
            "https://github.com/a/b/issues/5",
            "https://github.com/a/b/issues/5",
            "is not a Sentry issue URL",
            id="other-tracker-issue",
        ),
        pytest.param(
            "https://acme.sentry.io/settings/",
            "https://acme.sentry.io/settings/",
            "is not a Sentry issue URL",
            id="sentry-settings-page",
        ),
        pytest.param(
            "https://o1.ingest.sentry.io/api/1/envelope/",
            "https://o1.ingest.sentry.io/api/1/envelope/",
            "is not a Sentry issue URL",
            id="ingest-url",
        ),
        pytest.param(
            "https://sentry.io/organizations/acme/issues/?sort=random",
            "https://sentry.io/organizations/acme/issues/?sort=random",
            "sorts by 'random', which Sentry does not offer",
            id="issue-list-bad-sort",
        ),
        pytest.param("#abc", "#abc", "is not an issue number", id="hash-word"),
        pytest.param("#1a", "#1a", "is not an issue number", id="hash-mixed"),
        pytest.param("#" + "9" * 25, "#" + "9" * 25, "is not an issue number", id="hash-too-long"),
        pytest.param(
            "https://acme.sentry.io/issues/12x/",
            "https://acme.sentry.io/issues/12x/",
            "has an issue id '12x'",
            id="malformed-issue-id",
        ),
        pytest.param(
            "https://acme.sentry.io/issues/PROJ-1O/",
            "https://acme.sentry.io/issues/PROJ-1O/",
            "has an issue id 'PROJ-1O'",
            id="short-id-with-letter-outside-alphabet",
        ),
        pytest.param(
            "https://acme.sentry.io/issues/1/events/abc/",
            "https://acme.sentry.io/issues/1/events/abc/",
            "has an event id 'abc' that is not 32 hex digits",
            id="event-id-not-hex",
        ),
        pytest.param(
            f"https://acme.sentry.io/issues/1/events/{EVENT}0/",
            f"https://acme.sentry.io/issues/1/events/{EVENT}0/",
            "that is not 32 hex digits",
            id="event-id-33-hex",
        ),
        pytest.param(
            "https://sentry.io/organizations/ac%20me/issues/1/",
            "https://sentry.io/organizations/ac%20me/issues/1/",
            "names an organisation 'ac%20me' that is not a slug",
            id="org-not-a-slug",
        ),
        pytest.param(
            "http://localhost:99999/issues/1/",
            "http://localhost:99999/issues/1/",
            "is not a valid URL",
            id="port-out-of-range",
        ),
        pytest.param("https:///issues/1/", "https:///issues/1/", "has no host name", id="no-host"),
        pytest.param(
            "see https://github.com/a/b.", "https://github.com/a/b", "is not a Sentry issue URL", id="in-prose"
        ),
    ],
)
def test_problem(text: str, offending: str, reason_part: str) -> None:
    parsed = parse_refs(text)
    assert parsed.refs == ()
    assert len(parsed.problems) == 1
    problem = parsed.problems[0]
    assert problem.text == offending
    assert reason_part in problem.reason
    message = str(problem)
    assert message.startswith(repr(offending) + " ")
    assert any(example in problem.reason for example in VALID_EXAMPLES), "say what a valid reference looks like"


def test_problem_message_reads_as_a_sentence() -> None:
    problem = parse_refs("https://github.com/x/y").problems[0]
    assert str(problem).startswith("'https://github.com/x/y' is not a Sentry issue URL: ")
    assert "https://acme.sentry.io/issues/12345/" in str(problem)


def test_problem_message_escapes_control_characters_and_cuts_long_text() -> None:
    long_url = "https://github.com/" + "a" * 500 + "\x07"
    message = str(RefProblem(long_url, "is not a Sentry issue URL"))
    assert "\x07" not in message
    assert len(message) < 200
    assert message.startswith("'https://github.com/aaa")


def test_problems_and_refs_are_reported_together_in_order() -> None:
    parsed = parse_refs("123, https://github.com/a/b, #abc, PROJ-1A, https://acme.sentry.io/settings/")
    assert ids(parsed) == ["123", "PROJ-1A"]
    assert [problem.text for problem in parsed.problems] == [
        "https://github.com/a/b",
        "#abc",
        "https://acme.sentry.io/settings/",
    ]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   \n\t ", id="whitespace"),
        pytest.param("please export the latest crash", id="prose"),
        pytest.param("a follow-up e-mail about the x-ray check-in", id="dashed-words"),
        pytest.param("the proj-1a issue", id="lower-case-short-id-in-prose"),
        pytest.param("## Heading\n* item", id="markdown-markers"),
        pytest.param("10:30, 1.5 and 2024-10-05", id="times-decimals-dates"),
        pytest.param(",,;; ()[]<>", id="only-punctuation"),
    ],
)
def test_no_reference_found(text: str) -> None:
    parsed = parse_refs(text)
    assert is_no_reference_problem(parsed)
    message = str(parsed.problems[0])
    for example in ("12345", "PROJ-1A", "https://acme.sentry.io/issues/12345/"):
        assert example in message


def test_no_reference_problem_quotes_the_input() -> None:
    assert str(parse_refs("hello there").problems[0]).startswith("'hello there' holds no issue reference")
    assert str(parse_refs("").problems[0]).startswith("The input holds no issue reference")


def test_input_without_a_reference_gets_the_examples_of_the_source_that_reads_it() -> None:
    """The Bugsink source takes friendly ids, UUIDs and its own addresses, and its message says so, not Sentry's."""
    from sentry_issue_export.selection import collect
    from sentry_issue_export.sources.bugsink import BugsinkSource
    from sentry_issue_export.sources.sentry import SentrySource

    _, [failure], _ = collect("hello there", BugsinkSource())
    assert failure.message.startswith("'hello there' holds no issue reference; give a Bugsink issue's friendly id")
    assert "Sentry" not in failure.message and "sentry.io" not in failure.message
    _, [failure], _ = collect("hello there", SentrySource())
    assert "short id (PROJ-1A" in failure.message and "https://acme.sentry.io/issues/12345/" in failure.message


def test_messages_cut_a_long_piece_of_the_input_they_repeat() -> None:
    """A message names what it refuses, but never repeats tens of thousands of characters of it."""
    for text in (
        "https://acme.sentry.io/issues/" + "1" * 60_000 + "/",
        "https://acme.sentry.io/issues/1/events/" + "x" * 60_000 + "/",
        "https://acme.sentry.io/organizations/" + "Ω" * 60_000 + "/issues/1/",
        "https://acme.sentry.io/organizations/acme/issues/?sort=" + "z" * 60_000,
    ):
        [problem] = parse_refs(text).problems
        assert len(str(problem)) < 700, str(problem)[:200]
    assert len(str(IssueSearch("is:unresolved " + "a" * 60_000))) < 300
    pasted = "https://acme.sentry.io/organizations/acme/issues/?query=" + "a" * 60_000
    [search] = parse_refs(pasted).searches
    assert len(str(search)) <= 200 and str(search).startswith("https://acme.sentry.io/organizations/acme/issues/")


# --- several references, prose and punctuation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Check Sentry issue #123 and PROJ-1A please", ["123", "PROJ-1A"], id="sentence"),
        pytest.param("12, 34,56", ["12", "34", "56"], id="commas"),
        pytest.param("12 34\t56", ["12", "34", "56"], id="spaces-and-tabs"),
        pytest.param("12;34 ; 56", ["12", "34", "56"], id="semicolons"),
        pytest.param("12\n34\r\n56\n", ["12", "34", "56"], id="newlines"),
        pytest.param("(12) [34] {56}", ["12", "34", "56"], id="brackets"),
        pytest.param("\"12\" '34' `56` “78” ‘90’", ["12", "34", "56", "78", "90"], id="quotes"),
        pytest.param("**PROJ-1A** _PROJ-2B_ ~PROJ-3C~", ["PROJ-1A", "PROJ-2B", "PROJ-3C"], id="markdown-emphasis"),
        pytest.param("See PROJ-1A's stack, and #12.", ["PROJ-1A", "12"], id="possessive-and-full-stop"),
        pytest.param(
            "Broken: <https://acme.sentry.io/issues/1/>, (https://acme.sentry.io/issues/2/).",
            ["1", "2"],
            id="angle-brackets-and-parentheses",
        ),
        pytest.param(
            "[the crash](https://acme.sentry.io/issues/3/) and [PROJ-4D](https://acme.sentry.io/issues/5/)",
            ["3", "PROJ-4D", "5"],
            id="markdown-links",
        ),
        pytest.param(
            "https://acme.sentry.io/issues/1/,https://acme.sentry.io/issues/2/;https://acme.sentry.io/issues/3/",
            ["1", "2", "3"],
            id="urls-joined-by-commas",
        ),
        pytest.param("https://acme.sentry.io/issues/1/https://acme.sentry.io/issues/2/", ["1", "2"], id="urls-glued"),
        pytest.param("link:https://acme.sentry.io/issues/7/ ok", ["7"], id="url-after-colon"),
        pytest.param(
            "1. https://acme.sentry.io/issues/7/\n2. https://acme.sentry.io/issues/8/\n  3) PROJ-9A",
            ["7", "8", "PROJ-9A"],
            id="numbered-list-markers-skipped",
        ),
        pytest.param("Fixed in 2 places: 41 and 42.", ["2", "41", "42"], id="numbers-in-prose-count"),
        pytest.param("UPPER PROJ-1A lower proj-2b", ["PROJ-1A"], id="only-upper-case-short-ids-in-prose"),
    ],
)
def test_references_in_text(text: str, expected: list[str]) -> None:
    parsed = parse_refs(text)
    assert parsed.problems == ()
    assert ids(parsed) == expected


@pytest.mark.parametrize(
    ("url", "issue_id"),
    [
        pytest.param("https://acme.sentry.io/issues/123/?project=456", "123", id="query"),
        pytest.param("https://acme.sentry.io/issues/123/#456", "123", id="fragment"),
        pytest.param("https://acme.sentry.io/issues/123?project=456", "123", id="query-without-slash"),
        pytest.param("https://acme2.sentry.io/issues/3/", "3", id="digits-in-host"),
        pytest.param("https://sentry.io/organizations/acme42/issues/3/", "3", id="digits-in-org"),
        pytest.param("http://localhost:9000/issues/3/", "3", id="digits-in-port"),
        pytest.param(f"https://acme.sentry.io/issues/123/events/{EVENT}/", "123", id="digits-in-event-id"),
    ],
)
def test_digits_from_different_url_parts_are_never_glued(url: str, issue_id: str) -> None:
    parsed = parse_refs(url)
    assert ids(parsed) == [issue_id]
    assert parsed.problems == ()


def test_duplicates_removed_first_occurrence_kept() -> None:
    parsed = parse_refs("3, 1, #3, 3. 2, 1")
    assert ids(parsed) == ["3", "1", "2"]
    assert parsed.refs[0].text == "3"


def test_same_url_twice_is_one_reference() -> None:
    url = "https://acme.sentry.io/issues/1/"
    assert len(parse_refs(f"{url} ({url}), {url}?project=2").refs) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("123", "https://acme.sentry.io/issues/123/", id="bare-vs-url"),
        pytest.param("https://acme.sentry.io/issues/123/", "https://other.sentry.io/issues/123/", id="different-org"),
        pytest.param(
            "https://acme.sentry.io/issues/123/",
            "https://sentry.io/organizations/acme/issues/123/",
            id="different-origin",
        ),
        pytest.param(
            "https://acme.sentry.io/issues/123/",
            f"https://acme.sentry.io/issues/123/events/{EVENT}/",
            id="different-event",
        ),
    ],
)
def test_references_that_differ_in_a_key_field_are_both_kept(first: str, second: str) -> None:
    assert len(parse_refs(f"{first} {second}").refs) == 2


def test_duplicate_problems_are_reported_once() -> None:
    assert len(parse_refs("#abc #abc https://github.com/a https://github.com/a").problems) == 2


# --- iterable input ---------------------------------------------------------------------------------------------


def test_iterable_input_keeps_order_and_dedupes_across_items() -> None:
    parsed = parse_refs(["12", "PROJ-1A, 34", "12"])
    assert ids(parsed) == ["12", "PROJ-1A", "34"]


def test_generator_input() -> None:
    assert ids(parse_refs(f"{n}" for n in (5, 6, 5))) == ["5", "6"]


def test_lower_case_short_id_is_accepted_per_item() -> None:
    assert ids(parse_refs(["proj-1a", "other-2b"])) == ["PROJ-1A", "OTHER-2B"]
    assert is_no_reference_problem(parse_refs(["proj-1a other-2b"]))


def test_iterable_without_references_quotes_all_items() -> None:
    parsed = parse_refs(["hello", "world"])
    assert is_no_reference_problem(parsed)
    assert parsed.problems[0].text == "hello, world"


@pytest.mark.parametrize("items", [pytest.param([], id="no-items"), pytest.param(["", "  "], id="blank-items")])
def test_empty_iterable_reports_no_reference(items: list[str]) -> None:
    parsed = parse_refs(items)
    assert is_no_reference_problem(parsed)
    assert str(parsed.problems[0]).startswith("The input holds no issue reference")


def test_non_text_item_is_a_problem_not_a_crash() -> None:
    parsed = parse_refs(["12", 34])  # type: ignore[list-item]
    assert ids(parsed) == ["12"]
    assert [problem.text for problem in parsed.problems] == ["34"]
    assert "is not text" in parsed.problems[0].reason


def test_bytes_are_one_problem_not_one_per_byte() -> None:
    parsed = parse_refs(b"12345")  # type: ignore[arg-type]
    assert parsed.refs == ()
    assert len(parsed.problems) == 1


# --- parse_ref --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("12345", IssueRef("12345"), id="numeric"),
        pytest.param(" proj-1a\n", IssueRef("PROJ-1A"), id="short-id"),
        pytest.param(
            "please export https://acme.sentry.io/issues/7/ thanks",
            IssueRef("7", "acme", ACME_SAAS),
            id="url-in-prose",
        ),
        pytest.param("#7, 7, 7.", IssueRef("7"), id="one-issue-named-three-times"),
    ],
)
def test_parse_ref_returns_the_one_reference(text: str, expected: IssueRef) -> None:
    assert parse_ref(text) == expected


@pytest.mark.parametrize(
    ("text", "message_start", "message_part"),
    [
        pytest.param("", "The input holds no issue reference", "PROJ-1A", id="empty"),
        pytest.param("hello", "'hello' holds no issue reference", "12345", id="prose"),
        pytest.param("1, 2", "'1, 2' names 2 issues (1, 2)", "give exactly one", id="several"),
        pytest.param("#abc", "'#abc' is not an issue number", "#12345", id="problem-is-whole-input"),
        pytest.param(
            "12 and https://github.com/a/b",
            "'12 and https://github.com/a/b' is not a usable issue reference: 'https://github.com/a/b'",
            "is not a Sentry issue URL",
            id="reference-with-problem",
        ),
    ],
)
def test_parse_ref_raises_quoting_the_input(text: str, message_start: str, message_part: str) -> None:
    with pytest.raises(InvalidReferenceError) as raised:
        parse_ref(text)
    message = str(raised.value)
    assert message.startswith(message_start)
    assert message_part in message
    assert message.endswith(".")


def test_parse_ref_message_stays_short_for_huge_input() -> None:
    with pytest.raises(InvalidReferenceError) as raised:
        parse_ref(" ".join(f"#x{n}" for n in range(10_000)))
    assert len(str(raised.value)) < 2_000
    assert "and 9995 more" in str(raised.value)


# --- robustness -------------------------------------------------------------------------------------------------

MEGABYTE = 1_000_000


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a" * MEGABYTE, id="one-word"),
        pytest.param("#a " * (MEGABYTE // 3), id="many-hash-problems"),
        pytest.param(" ".join(str(n) for n in range(MEGABYTE // 7)), id="many-distinct-ids"),
        pytest.param("https://" * (MEGABYTE // 8), id="url-starts"),
        pytest.param("http://[" + "0:" * (MEGABYTE // 2), id="unclosed-ipv6"),
        pytest.param("https://acme.sentry.io/" + "issues/" * (MEGABYTE // 7), id="long-path"),
        pytest.param("https://a.io/x" + ")" * MEGABYTE, id="closing-parentheses"),
        pytest.param("https://a.io/x" + "." * MEGABYTE, id="trailing-dots"),
        pytest.param("A-" * (MEGABYTE // 2), id="dashes"),
        pytest.param("1.\n" * (MEGABYTE // 3), id="list-markers"),
        pytest.param("\x00\x1b" * (MEGABYTE // 2), id="control-characters"),
    ],
)
def test_megabyte_of_input_parses_in_linear_time(text: str) -> None:
    # A guard against catastrophic backtracking, which would take minutes here; typical runs take 0.1-0.4 s.
    # The generous bound keeps a busy machine green: this is not a performance target.
    started = time.perf_counter()
    parse_refs(text)
    assert time.perf_counter() - started < 10.0


REFERENCE_FRAGMENTS = st.sampled_from(
    [
        "https://",
        "http://",
        "acme.sentry.io/",
        "sentry.io",
        "/organizations/",
        "/issues/",
        "/events/",
        "/api/0/",
        "latest",
        EVENT,
        "PROJ-1A",
        "proj-1a",
        "#",
        "123",
        "?project=",
        ":9000",
        "[::1]",
        "%",
        "(",
        ")",
        "<",
        ">",
        ", ",
        "\n",
        "1. ",
    ]
)
TEXT_WITH_REFERENCE_PIECES = st.lists(st.one_of(st.text(), REFERENCE_FRAGMENTS), max_size=12).map("".join)


@given(st.one_of(st.text(), TEXT_WITH_REFERENCE_PIECES))
def test_any_text_parses_without_raising(text: str) -> None:
    parsed = parse_refs(text)
    assert parsed.refs or parsed.problems
    for ref in parsed.refs:
        assert ref.issue_id.isdigit() or ref.issue_id == ref.issue_id.upper()
        assert ref.text in text
        assert ref.event_id is None or len(ref.event_id) == 32 or ref.event_id in {"latest", "oldest", "recommended"}
    for problem in parsed.problems:
        assert problem.text in text or problem.text == text
        assert str(problem)
    # What was found can be found again from the pieces it was found in.
    if parsed.refs:
        assert parse_refs(" ".join(ref.text for ref in parsed.refs)).refs == parsed.refs


@given(st.one_of(st.text(), TEXT_WITH_REFERENCE_PIECES))
def test_parse_ref_raises_only_invalid_reference_error(text: str) -> None:
    try:
        ref = parse_ref(text)
    except InvalidReferenceError as error:
        assert str(error)
    else:
        assert parse_refs(text).refs == (ref,)


SHORT_IDS = st.from_regex(r"[A-Z][A-Z0-9_]{0,8}(-[A-Z0-9]{1,6}){0,2}-[0-9A-HJKMNP-TV-Z]{1,5}", fullmatch=True)
SEPARATORS = st.sampled_from([", ", " ", ";", "\n", " and ", "; see "])


@given(st.lists(st.one_of(SHORT_IDS, st.integers(1, 2**63 - 1).map(str)), min_size=1, max_size=6), SEPARATORS)
def test_generated_references_are_all_found_in_order(references: list[str], separator: str) -> None:
    parsed = parse_refs(separator.join(references))
    assert parsed.problems == ()
    assert ids(parsed) == list(dict.fromkeys(references))


def test_unicode_host_becomes_the_ascii_form_the_http_client_uses() -> None:
    from sentry_issue_export.web.origin import origin_of

    [ref] = parse_refs("https://sentry.bücher.example/organizations/acme/issues/5/").refs
    assert str(ref.origin) == "https://sentry.xn--bcher-kva.example"
    assert ref.origin is not None and ref.origin.same_server_any_scheme(origin_of("https://sentry.bücher.example"))


def test_invalid_unicode_host_is_a_problem_not_a_crash() -> None:
    parsed = parse_refs("https://a..bü/organizations/acme/issues/5/")
    assert parsed.refs == ()
    assert parsed.problems


# --- collecting references for a source -------------------------------------------------------------------------


def test_a_uuid_is_a_problem_not_a_short_id() -> None:
    for uuid in ("3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b", "3F2A1B4C-5D6E-4F70-8A9B-0C1D2E3F4A5B", "3f2a1b4c" * 4):
        parsed = parse_refs(uuid)
        assert parsed.refs == ()
        [problem] = parsed.problems
        assert "is a UUID" in str(problem) and "bugsink source" in str(problem)
    beside = parse_refs("12345 3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b")
    assert [ref.issue_id for ref in beside.refs] == ["12345"] and len(beside.problems) == 1  # never dropped


def test_collect_refs_offers_words_to_the_source_first_and_keeps_the_input_order() -> None:
    from sentry_issue_export.refs import collect_refs

    def claim(word: str) -> IssueRef | None:
        return IssueRef(word.upper(), text=word) if word.startswith("sample_") else None

    parsed = collect_refs(["12 sample_one", "PROJ-1A, sample_two 12", IssueRef("99")], claim)
    assert [ref.issue_id for ref in parsed.refs] == ["12", "SAMPLE_ONE", "PROJ-1A", "SAMPLE_TWO", "99"]
    assert parsed.problems == ()


def test_prose_around_claimed_words_is_no_problem_but_bad_pieces_still_are() -> None:
    from sentry_issue_export.refs import collect_refs

    parsed = collect_refs("please look at sample_one and #abc", lambda w: IssueRef("1") if w == "sample_one" else None)
    assert [ref.issue_id for ref in parsed.refs] == ["1"]
    assert [problem.text for problem in parsed.problems] == ["#abc"]


def test_a_pasted_password_never_reaches_a_reference_or_a_problem() -> None:
    good = parse_ref("https://admin:hunter2@sentry.example.com/organizations/acme/issues/42/")
    assert good.text == "https://admin@sentry.example.com/organizations/acme/issues/42/"
    assert (str(good.origin), good.org, good.issue_id) == ("https://sentry.example.com", "acme", "42")
    bad = parse_refs("https://admin:p@ss:w@rd@sentry.example.com/settings/ and https://u:pw@x.example/iss/")
    assert all("hunter2" not in str(p) and "rd@" not in str(p) and ":pw" not in str(p) for p in bad.problems)
    assert {problem.text for problem in bad.problems} == {
        "https://admin@sentry.example.com/settings/",
        "https://u@x.example/iss/",
    }
    [search] = parse_refs("https://u:pw@x.example/organizations/acme/issues/?query=a").searches
    assert search.text == "https://u@x.example/organizations/acme/issues/?query=a"
    with pytest.raises(InvalidReferenceError) as caught:
        parse_ref("https://root:s3cret@sentry.example.com/issues/1/ https://root:s3cret@sentry.example.com/issues/2/")
    assert "s3cret" not in str(caught.value)


def test_without_passwords_keeps_ports_and_plain_text() -> None:
    from sentry_issue_export.refs import without_passwords

    assert without_passwords("https://sentry.example.com:9000/issues/1/") == "https://sentry.example.com:9000/issues/1/"
    assert without_passwords("mail me at a@b.example") == "mail me at a@b.example"
    assert without_passwords("HTTP://u:x@h/") == "HTTP://u@h/"


@pytest.mark.parametrize("text", ["data:text/plain,1", "data:,1", "javascript:alert(1)", "file:///etc/passwd"])
def test_an_address_of_another_scheme_is_never_an_issue(text: str) -> None:
    parsed = parse_refs(f"{text} 12345")
    assert [ref.issue_id for ref in parsed.refs] == ["12345"]
    [problem] = parsed.problems
    assert problem.text == text and "address, not an issue reference" in str(problem)
    assert parse_refs("thoughts about: 12345").problems == ()

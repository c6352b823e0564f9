"""Free text -> issue references (host, organisation, issue id or short id, event id).

People name issues in every shape: a number, a short id, a link copied from the browser or from the API, alone,
in a list, inside a sentence, wrapped in markdown. :func:`parse_refs` finds every reference, and every piece that
was clearly meant as one but is not (a link to another page, ``#abc``), so a front end can export what it
understood and explain the rest. Ordinary words are never references and never problems.

Parsing is one pass of a regular expression without nested repetition plus linear work per piece, so any input,
however long or strange, is safe to hand over. :func:`collect_refs` is what the exporter calls: it lets the source
claim words of its own first (sample names, a Bugsink UUID or web URL), then parses the rest, keeping the order of
the input. A URL's password never reaches a reference or a problem (:func:`without_passwords`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from urllib.parse import parse_qs, urlsplit

import attrs

from .errors import InvalidReferenceError
from .web.origin import Origin, OriginError, as_origin, is_sentry_io_host

__all__ = [
    "DEFAULT_SEARCH_LIMIT",
    "EVENT_KEYWORDS",
    "MAX_SEARCH_LIMIT",
    "SORTS",
    "IssueRef",
    "IssueSearch",
    "ParsedRefs",
    "RefProblem",
    "collect_refs",
    "parse_ref",
    "parse_refs",
    "without_passwords",
]


@attrs.frozen
class IssueRef:
    """One issue to export, as the user named it.

    ``issue_id`` is a numeric id (``"12345"``) or an upper-case short id (``"PROJ-1A"``). ``origin`` is
    the server of a pasted URL (``None`` for bare ids; a URL string given is read as one); ``org`` the
    organisation slug when the input names one; ``event_id`` a 32-hex event id (or ``latest``, ``oldest``,
    ``recommended``) when the URL names an event. ``text`` is the piece of input it came from, for messages.
    """

    issue_id: str
    org: str | None = None
    origin: Origin | None = attrs.field(default=None, converter=as_origin)
    event_id: str | None = None
    text: str = attrs.field(default="", eq=False)

    @property
    def is_short_id(self) -> bool:
        return not self.issue_id.isdigit()

    def __str__(self) -> str:
        return self.text or self.issue_id


@attrs.frozen
class RefProblem:
    """A piece of input that looks meant as an issue reference but is not one.

    ``text`` is the offending piece exactly as written; ``reason`` completes the sentence "<text> ...": why it
    is not a reference and what a valid one looks like.
    """

    text: str
    reason: str

    def __str__(self) -> str:
        return f"{_quote(self.text)} {self.reason}"


EVENT_KEYWORDS = frozenset({"latest", "oldest", "recommended"})
"""Words Sentry takes in place of an event id (``/issues/{id}/events/latest/``); an ``IssueRef.event_id`` is one
of them or 32 hex digits."""
SORTS = ("date", "new", "freq", "user")
"""Sentry's issue sorts: last seen, first seen, events, users."""
DEFAULT_SEARCH_LIMIT = 50
MAX_SEARCH_LIMIT = 1000
"""A search exports its first 50 matches by default (twice the page Sentry's issue list shows), and at most
1,000."""


@attrs.frozen
class IssueSearch:
    """A search for issues in Sentry's query syntax, typed (``--query``) or pasted as an issue-list address.

    ``projects`` are numeric project ids (``?project=`` of a pasted address); ``project_slugs`` are slugs
    (``--project``), which the query syntax names as ``project:slug``. ``period`` is Sentry's ``statsPeriod``
    (``24h``, ``14d``), ``sort`` one of :data:`SORTS`.
    """

    query: str = ""
    projects: tuple[str, ...] = ()
    project_slugs: tuple[str, ...] = ()
    period: str | None = None
    sort: str | None = None
    org: str | None = None
    origin: Origin | None = attrs.field(default=None, converter=as_origin)
    text: str = attrs.field(default="", eq=False)

    def __str__(self) -> str:
        """How messages name the search: the address as pasted, or ``search 'the query' in project web ...``;
        a long address or query is cut (a message repeats it, and the server has it whole)."""
        if self.text:
            return _cut(self.text, _MAX_SEARCH_SHOWN)
        parts = [repr(_cut(self.query, _MAX_SEARCH_SHOWN)) if self.query else "every issue"]
        parts += [f"in project {slug}" for slug in self.project_slugs]
        if self.period:
            parts.append(f"in the last {self.period}")
        if self.sort:
            parts.append(f"sorted by {self.sort}")
        return "search " + " ".join(parts)


@attrs.frozen
class ParsedRefs:
    """Every reference found (duplicates removed, first occurrence first) and every problem, in input order;
    ``searches`` are the pasted issue-list addresses, each a search to run."""

    refs: tuple[IssueRef, ...]
    problems: tuple[RefProblem, ...]
    searches: tuple[IssueSearch, ...] = ()


def parse_refs(text: str | Iterable[str]) -> ParsedRefs:
    """Find the issue references in ``text``, a string or several strings (one per list item).

    Never raises for string input. When the input holds neither a reference nor a problem (it is empty, or only
    prose), the result has one problem saying so, with examples of what is accepted.
    """
    items: Iterable[object] = [text] if isinstance(text, str | bytes | bytearray) else text
    return collect_refs(list(items))


Claim = Callable[[str], "IssueRef | None"]
"""A source's ``ref_from_word``: the reference one word of input names, or ``None``."""


def collect_refs(inputs: str | Sequence[object], claim: Claim | None = None) -> ParsedRefs:
    """The references in the user's input, in the order given, each once, and every problem.

    ``inputs`` is a string, or a list of strings and ready ``IssueRef`` objects. Each word (anything between
    whitespace, commas and semicolons) is first offered to ``claim``; what it does not claim is parsed as Sentry
    references. Prose around claimed words is fine: only when nothing at all is found does the result carry the
    "holds no reference" problem. Linear in the length of the input.
    """
    items = [inputs] if isinstance(inputs, str) else list(inputs)
    found: list[tuple[tuple[int, int], IssueRef]] = []
    problems: dict[RefProblem, None] = {}
    searches: dict[IssueSearch, None] = {}
    seen_text: list[str] = []
    for index, item in enumerate(items):
        if isinstance(item, IssueRef):
            found.append(((index, 0), item))
            continue
        if not isinstance(item, str):
            problems[RefProblem(_shown_value(item), _NOT_TEXT)] = None
            continue
        seen_text.append(item)
        if claim is not None:
            item, claimed = _claim_words(item, claim)
            found.extend(((index, start), ref) for start, ref in claimed)
        for start, piece in _scan(item):
            if isinstance(piece, IssueRef):
                found.append(((index, start), piece))
            elif isinstance(piece, IssueSearch):
                searches.setdefault(piece, None)
            else:
                problems.setdefault(piece, None)
    refs = dict.fromkeys(ref for _, ref in sorted(found, key=lambda item: item[0]))
    if not refs and not problems and not searches:
        whole = ", ".join(text for text in seen_text if text.strip()) if len(seen_text) != 1 else seen_text[0]
        problems[RefProblem(without_passwords(whole), NO_REFERENCE)] = None
    return ParsedRefs(refs=tuple(refs), problems=tuple(problems), searches=tuple(searches))


_CLAIMABLE = re.compile(r"[^\s,;]+")


def _claim_words(text: str, claim: Claim) -> tuple[str, list[tuple[int, IssueRef]]]:
    """``text`` with every word ``claim`` accepts blanked out (so positions stay), and the claimed references
    with their positions. One pass: the pieces are joined once at the end."""
    pieces: list[str] = []
    claimed: list[tuple[int, IssueRef]] = []
    last = 0
    for match in _CLAIMABLE.finditer(text):
        ref = claim(match.group())
        if ref is None:
            continue
        claimed.append((match.start(), attrs.evolve(ref, text=without_passwords(ref.text or match.group()))))
        pieces += [text[last : match.start()], " " * (match.end() - match.start())]
        last = match.end()
    if not pieces:
        return text, claimed
    pieces.append(text[last:])
    return "".join(pieces), claimed


def _shown_value(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= _MAX_QUOTED else shown[: _MAX_QUOTED - 3] + "..."


def parse_ref(text: str) -> IssueRef:
    """The one issue reference in ``text``.

    Raises :class:`InvalidReferenceError`, quoting the input, when it holds no reference, several, or a piece
    that is not a valid reference.
    """
    parsed = parse_refs(text)
    if parsed.problems:
        if len(parsed.problems) == 1 and parsed.problems[0].text in (text, text.strip()):
            raise InvalidReferenceError(f"{parsed.problems[0]}.")
        shown = "; ".join(str(problem) for problem in parsed.problems[:_MAX_LISTED])
        more = len(parsed.problems) - _MAX_LISTED
        if more > 0:
            shown += f"; and {more} more"
        raise InvalidReferenceError(f"{_quote(text)} is not a usable issue reference: {shown}.")
    if parsed.searches and not parsed.refs:
        raise InvalidReferenceError(f"{_quote(text)} is a list of issues (a search), not one issue reference.")
    if len(parsed.refs) > 1:
        names = ", ".join(str(ref) for ref in parsed.refs[:_MAX_LISTED])
        if len(parsed.refs) > _MAX_LISTED:
            names += ", ..."
        raise InvalidReferenceError(
            f"{_quote(text)} names {len(parsed.refs)} issues ({names}); give exactly one issue reference."
        )
    return parsed.refs[0]


# --- wording --------------------------------------------------------------------------------------------------

_EXAMPLES = (
    "an issue id (12345 or #12345), a short id (PROJ-1A: the project slug in capitals, a dash and a counter), "
    "or an issue URL (https://acme.sentry.io/issues/12345/)"
)
REFERENCE_EXAMPLES = _EXAMPLES
"""What a reference to a Sentry (or GlitchTip) issue looks like, as messages give examples of it."""


def no_reference(examples: str = REFERENCE_EXAMPLES) -> str:
    """The reason for input that names no issue at all, with ``examples`` of what the source takes."""
    return f"holds no issue reference; give {examples}"


NO_REFERENCE = no_reference()
"""The reason of the problem ``parse_refs`` reports when the input names no issue at all."""
_NOT_TEXT = f"is not text; give each issue reference as a string: {_EXAMPLES}"
_URL_EXAMPLES = "https://acme.sentry.io/issues/12345/ or https://sentry.example.com/organizations/acme/issues/12345/"
_NOT_ISSUE_URL = f"is not a Sentry issue URL: open the issue in Sentry and copy its address, e.g. {_URL_EXAMPLES}"
_UUID = (
    "is a UUID (an event id, or a Bugsink issue id), not a Sentry issue id: give the issue's number (12345), its "
    "short id (PROJ-1A) or its URL; for a Bugsink server, choose the bugsink source"
)
_MAX_LISTED = 5
_MAX_QUOTED = 120
_MAX_SEARCH_SHOWN = 200
"""A message names a search by its query or pasted address cut here."""


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _quote(text: str) -> str:
    """``text`` in quotes with control characters escaped and long text cut, or "The input" when blank."""
    if not text.strip():
        return "The input"
    return repr(_cut(without_passwords(text), _MAX_QUOTED))


# A URL's user information up to its last "@" before the path; the password is everything after the first ":".
# Each match scans no further than the next "/", "?", "#" or space, so the substitution stays linear.
_URL_PASSWORD = re.compile(r"(https?://[^\s/?#@:]*):[^\s/?#]*@", re.IGNORECASE)


def without_passwords(text: str) -> str:
    """``text`` with the password of every URL's user information removed: ``https://admin:pw@host/`` becomes
    ``https://admin@host/``. The user name may stay; the password never reaches a message, a report or a file."""
    if "@" not in text:
        return text
    return _URL_PASSWORD.sub(r"\1@", text)


# --- tokens ---------------------------------------------------------------------------------------------------

# A URL runs to whitespace, quotes, angle brackets or the next URL; commas and semicolons end it only before the
# query, where they separate references (Sentry paths never contain them) rather than belong to a search.
_URL_BODY = r"[^\s<>\"'`\[\]{}|\\^“”‘’«»]"
_URL_PATH = rf"(?:(?!https?://)(?![,;?#]){_URL_BODY})*"
_URL_QUERY = rf"(?:[?#](?:(?!https?://){_URL_BODY})*)?"
_URL = rf"https?://(?:\[[0-9a-f:.]*\])?{_URL_PATH}{_URL_QUERY}"
# A word is anything between separators; brackets and quotes separate, so "(PROJ-1A)" yields "PROJ-1A".
_WORD = r"(?:(?!https?://)[^\s,;<>\"'`()\[\]{}|“”‘’«»])+"
# Addresses of other schemes are taken whole, so "data:text/plain,1" is never read as the issue "1".
_OTHER_SCHEME = r"(?:data|javascript|vbscript|file|blob):[^\s<>\"'`]+"
_TOKEN = re.compile(rf"(?P<url>{_URL})|(?P<scheme>{_OTHER_SCHEME})|(?P<word>{_WORD})", re.IGNORECASE)

# Markdown emphasis and sentence punctuation that may cling to either end of a word.
_WORD_EDGES = ".:!?*_~"
_URL_TRAILERS = ".,;:!?*_~"


def _scan(item: str) -> Iterator[tuple[int, IssueRef | RefProblem | IssueSearch]]:
    """References and problems in one input item, with where each starts, in order of appearance."""
    tokens = list(_TOKEN.finditer(item))
    # A lower-case short id such as "proj-1a" is only trusted when it is the whole item: in prose, words like
    # "x-ray" have the same shape.
    alone = _is_single_piece(tokens)
    # Pasted lists repeat the same pieces; deciding each distinct piece once keeps long input fast.
    decided: dict[str, IssueRef | RefProblem | IssueSearch | None] = {}
    previous_end = 0
    for match in tokens:
        start, end = match.span()
        piece = item[start:end]
        gap_start, previous_end = previous_end, end
        is_word = match.lastgroup == "word"
        if is_word and _is_list_number(piece, item[end : end + 1]) and _starts_line(item, gap_start, start):
            continue
        if match.lastgroup == "scheme":
            scheme = piece.split(":", 1)[0].lower()
            yield start, RefProblem(piece, f"is a {scheme}: address, not an issue reference; give {_EXAMPLES}")
            continue
        if piece not in decided:
            if is_word:
                decided[piece] = _parse_word(piece.strip(_WORD_EDGES), lower_case_ok=alone)
            else:
                decided[piece] = _parse_url(_trim_url(piece))
        found = decided[piece]
        if found is not None:
            yield start, found


def _is_single_piece(tokens: list[re.Match[str]]) -> bool:
    """Whether exactly one token is more than stray punctuation, as in "(proj-1a)."."""
    pieces = (token for token in tokens if token.group().strip(_WORD_EDGES))
    return next(pieces, None) is not None and next(pieces, None) is None


def _starts_line(item: str, gap_start: int, start: int) -> bool:
    """Whether only whitespace stands between the start of a line and ``start`` (the previous token ends at
    ``gap_start``, so the scan stays within the gap and the whole parse stays linear)."""
    gap = item[gap_start:start]
    if gap_start > 0 and "\n" not in gap:
        return False
    return not gap[gap.rfind("\n") + 1 :].strip()


def _is_list_number(word: str, following: str) -> bool:
    """Whether ``word`` is the "1." or "1)" that starts a numbered list line, not an issue id."""
    number = word[:-1] if word[-1] == "." else word if following == ")" else ""
    return number.isascii() and number.isdigit()


def _trim_url(url: str) -> str:
    """Drop sentence punctuation and unbalanced closing parentheses that follow a URL in prose."""
    end, unbalanced = len(url), url.count(")") - url.count("(")
    while end:
        last = url[end - 1]
        if last == ")" and unbalanced > 0:
            unbalanced -= 1
        elif last not in _URL_TRAILERS:
            break
        end -= 1
    return url[:end]


def _parse_word(word: str, *, lower_case_ok: bool) -> IssueRef | RefProblem | IssueSearch | None:
    """A bare id, ``#id``, short id or scheme-less sentry.io link; ``None`` for an ordinary word."""
    if not word:
        return None
    if word.startswith("#"):
        body = word.lstrip("#")
        if not body:
            return None  # a markdown heading marker
        issue_id = _numeric_id(body) or _short_id(body, lower_case_ok=lower_case_ok)
        if issue_id is None:
            return RefProblem(word, "is not an issue number: after # give the numeric issue id, e.g. #12345")
        return IssueRef(issue_id, text=word)
    if "/" in word and is_sentry_io_host(word.split("/", 1)[0]):
        return _parse_url(word, assumed_scheme="https")
    if _is_uuid(word):
        return RefProblem(word, _UUID)
    issue_id = _numeric_id(word) or _short_id(word, lower_case_ok=lower_case_ok)
    return None if issue_id is None else IssueRef(issue_id, text=word)


# --- ids ------------------------------------------------------------------------------------------------------

_MAX_NUMERIC_DIGITS = 19  # Sentry issue ids are 64-bit integers
_COUNTER_CHARS = frozenset("0123456789ABCDEFGHJKMNPQRSTVWXYZ")  # Sentry's base32: no I, L, O, U
_SLUG_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_HEX = frozenset("0123456789abcdef")
_ORG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def _numeric_id(text: str) -> str | None:
    if text.isascii() and text.isdigit() and len(text) <= _MAX_NUMERIC_DIGITS:
        return text
    return None


def _short_id(text: str, *, lower_case_ok: bool) -> str | None:
    """``text`` as an upper-case short id (project slug, dash, base32 counter), or ``None``."""
    if not text.isascii():
        return None
    upper = text.upper()
    if upper != text and not lower_case_ok:
        return None
    slug, dash, counter = upper.rpartition("-")
    if not (dash and slug and counter) or slug[0] == "-" or slug[-1] == "-":
        return None
    if not set(counter) <= _COUNTER_CHARS or not set(slug) <= _SLUG_CHARS or not _LETTERS & set(slug):
        return None
    return upper


def _is_uuid(text: str) -> bool:
    """A UUID (``8-4-4-4-12`` hex digits) or 32 bare hex digits: an event id or a Bugsink id, never a Sentry
    issue id, though the dashed form has the shape of a short id."""
    lowered = text.lower()
    if len(lowered) == 36 and [i for i, c in enumerate(lowered) if c == "-"] == [8, 13, 18, 23]:
        lowered = lowered.replace("-", "")
    return len(lowered) == 32 and set(lowered) <= _HEX


def _event_id(text: str) -> str | None:
    """A 32-hex event id (lower-cased, dashes of the UUID form removed) or a keyword, else ``None``."""
    lowered = text.lower()
    if lowered in EVENT_KEYWORDS:
        return lowered
    if len(lowered) == 36 and [i for i, c in enumerate(lowered) if c == "-"] == [8, 13, 18, 23]:
        lowered = lowered.replace("-", "")
    if len(lowered) == 32 and set(lowered) <= _HEX:
        return lowered
    return None


# --- URLs -----------------------------------------------------------------------------------------------------


def _parse_url(url: str, *, assumed_scheme: str | None = None) -> IssueRef | RefProblem | IssueSearch:
    """An issue reference from a web or API URL of sentry.io or a self-hosted Sentry, or why it is not one."""
    url = without_passwords(url)
    full = f"{assumed_scheme}://{url}" if assumed_scheme else url
    try:
        origin = Origin.parse(full)
    except OriginError as error:
        return RefProblem(url, f"{error}: give e.g. {_URL_EXAMPLES}")
    parts = urlsplit(full)

    segments = [segment for segment in parts.path.split("/") if segment]
    if segments[:2] == ["api", "0"]:
        segments = segments[2:]
    if "issues" not in segments:
        return RefProblem(url, _NOT_ISSUE_URL)
    at = segments.index("issues")
    prefix, rest = segments[:at], segments[at + 1 :]
    if not prefix:
        org = None
    elif len(prefix) == 2 and prefix[0] == "organizations":
        org = prefix[1]
    elif len(prefix) == 1 and prefix[0] not in ("organizations", "api"):
        org = prefix[0]
    else:
        return RefProblem(url, _NOT_ISSUE_URL)
    if org is not None and not set(org) <= _ORG_CHARS:
        return RefProblem(url, f"names an organisation {_quote(org)} that is not a slug like 'acme'")
    org = org or origin.sentry_organisation
    if not rest:
        return _search_of(parts.query, org, origin, url)

    issue_id = _numeric_id(rest[0]) or _short_id(rest[0], lower_case_ok=True)
    if issue_id is None:
        return RefProblem(
            url,
            f"has an issue id {_quote(rest[0])} that is neither a number (12345) nor a short id (PROJ-1A): "
            "copy the issue's address again",
        )
    event_id = None
    if len(rest) >= 3 and rest[1] == "events":
        event_id = _event_id(rest[2])
        if event_id is None:
            return RefProblem(
                url,
                f"has an event id {_quote(rest[2])} that is not 32 hex digits (nor latest, oldest or recommended): "
                "copy the event's address again, or drop the /events/... part to export the latest event",
            )
    return IssueRef(issue_id, org=org, origin=origin, event_id=event_id, text=url)


def _search_of(query_string: str, org: str | None, origin: Origin, url: str) -> IssueSearch | RefProblem:
    """The search a pasted issue-list address shows: its query, projects, period and sort."""
    fields = parse_qs(query_string, keep_blank_values=True)
    projects = tuple(p for p in fields.get("project", []) if p.lstrip("-").isdigit() and p != "-1")
    sort = (fields.get("sort") or [""])[0] or None
    if sort is not None and sort not in SORTS:
        return RefProblem(
            url,
            f"sorts by {_quote(sort)}, which Sentry does not offer: use one of {', '.join(SORTS)}, or paste one "
            f"issue's address, e.g. {_URL_EXAMPLES}",
        )
    period = (fields.get("statsPeriod") or [""])[0] or None
    query = " ".join((fields.get("query") or [""])[0].split())
    return IssueSearch(query, projects, (), period, sort, org, origin, url)

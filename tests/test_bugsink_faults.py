"""A Bugsink that misbehaves, over a real socket: lists that repeat themselves forever and projects without a
numeric id. The real Bugsink (``bugsink_server.py``) never does this, so a small server on loopback plays it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from sentry_issue_export import IssueSearch, Settings, export_issues_sync

TOKEN = "0" * 40
ISSUE = "4f6a3c0e-1a2b-4c3d-8e9f-001122334455"


class MisbehavingBugsink:
    """Answers the issue list with the same issue on every page, each page naming a fresh cursor; lists projects
    whose ids are not numbers."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                outer.paths.append(self.path)
                parts = urlsplit(self.path)
                body = outer.answer(parts.path, parse_qs(parts.query))
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path: str, query: dict[str, list[str]]) -> Any:
        page = int((query.get("cursor") or ["0"])[0]) + 1
        following = f"{self.url}{path}?cursor={page}"
        if path == "/api/canonical/0/issues/":
            same = {"id": ISSUE, "friendly_id": "BACKEND-1", "project": 1}
            return {"next": following, "previous": None, "results": [same, same]}
        if path == "/api/canonical/0/projects/":
            return {"next": None, "previous": None, "results": [{"slug": "backend", "id": "one"}, {"slug": "web"}]}
        return {"next": None, "previous": None, "results": []}

    def searches(self) -> int:
        return sum(path.startswith("/api/canonical/0/issues/?") for path in self.paths)


@pytest.fixture
def bugsink() -> Iterator[MisbehavingBugsink]:
    server = MisbehavingBugsink()
    yield server
    server.server.shutdown()
    server.server.server_close()


def settings(server: MisbehavingBugsink) -> Settings:
    return Settings(source="bugsink", base_url=server.url, token=TOKEN, retries=0, timeout=5)


def test_a_list_that_repeats_itself_forever_gives_each_issue_once_and_ends(bugsink: MisbehavingBugsink) -> None:
    result = export_issues_sync("", settings(bugsink), search=IssueSearch(), limit=1000, write=False)
    [outcome] = result.searches
    assert outcome.taken == 1
    assert bugsink.searches() == 2  # the second page brings nothing new: the walk ends


@pytest.mark.parametrize(
    ("slug", "said"),
    [
        ("backend", "Bugsink listed project 'backend' without a numeric id ('one'), so its issues cannot be asked"),
        ("web", "Bugsink has no project 'web' that the token may see"),  # an item without an id is no project
    ],
    ids=["id-not-a-number", "no-id"],
)
def test_a_project_without_a_numeric_id_is_a_sentence(bugsink: MisbehavingBugsink, slug: str, said: str) -> None:
    result = export_issues_sync("", settings(bugsink), search=IssueSearch(project_slugs=(slug,)), write=False)
    [failure] = result.failures
    assert said in failure.message

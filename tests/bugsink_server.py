"""A real Bugsink (the ``bugsink`` package, Django on SQLite) on loopback, filled by the real sentry-sdk.

``running_bugsink(directory)`` migrates a fresh database, creates a team and a project, three tokens (every
right; only ``issues:read``; ``issues:read`` and ``events:read``), starts the server on a free port, and sends it
the events of ``fixtures/shop_app.py`` (a WSGI app whose checkout fails with a chained exception, plus a logged
error) through sentry-sdk's own transport. It takes a few seconds, so the tests start it once per session.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import httpx

FIXTURES = Path(__file__).parent / "fixtures"

_CONF = """
from bugsink.settings.default import *  # noqa

SECRET_KEY = "test-only-not-secret"
SNAPPEA = {{"TASK_ALWAYS_EAGER": True}}
EMAIL_BACKEND = "bugsink.email_backends.QuietConsoleEmailBackend"
DEBUG = False
BUGSINK = {{
    "BASE_URL": "http://127.0.0.1:{port}",
    "SINGLE_USER": True,
    "SINGLE_TEAM": True,
    "USER_REGISTRATION": "CB_NOBODY",
    "INGEST_STORE_BASE_DIR": "{directory}/ingestion",
}}
"""

_SETUP = """
import json
from bsmain.models import AuthToken
from projects.models import Project
from teams.models import Team

team = Team.objects.create(name="acme")
project = Project.objects.create(name="backend", team=team)
print(json.dumps({
    "dsn": project.dsn,
    "project": project.id,
    "full": AuthToken.create_full_access().token,
    "issues_only": AuthToken.objects.create(issues_read=True).token,
    "reader": AuthToken.objects.create(issues_read=True, events_read=True).token,
}))
"""

_SEND = """
import io, logging, sys
sys.path.insert(0, {fixtures!r})
import sentry_sdk
from sentry_sdk.integrations.wsgi import SentryWsgiMiddleware

sentry_sdk.init(dsn={dsn!r}, release="shop@3.1.0", environment="staging", server_name="shop-web-1",
                include_local_variables=True, send_default_pii=True, auto_enabling_integrations=False)
import shop_app

sentry_sdk.set_tag("tenant", "acme")
environ = {{"REQUEST_METHOD": "POST", "PATH_INFO": "/checkout", "QUERY_STRING": "coupon=SPRING",
           "SERVER_NAME": "shop.example.com", "SERVER_PORT": "443", "wsgi.url_scheme": "https",
           "HTTP_HOST": "shop.example.com", "HTTP_COOKIE": "sessionid=abc123; theme=dark",
           "HTTP_AUTHORIZATION": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxNyJ9.c2lnbmF0dXJl",
           "wsgi.input": io.BytesIO(b""), "REMOTE_ADDR": "203.0.113.9", "wsgi.errors": sys.stderr}}
for _ in range({repeats}):
    try:
        SentryWsgiMiddleware(shop_app.app)(dict(environ), lambda *a: None)
    except ValueError:
        pass
logging.getLogger("shop.payments").error("payment provider %s answered %d", "stripe", 502)
sentry_sdk.flush(timeout=10)
"""


@attrs.frozen
class Bugsink:
    url: str
    dsn: str
    project: int
    full: str = attrs.field(repr=False)
    """A token with every right."""
    issues_only: str = attrs.field(repr=False)
    """A token that may read issues but not their events."""
    reader: str = attrs.field(repr=False)
    """A least-privilege token for exports: issues:read and events:read."""

    def get(self, path: str, token: str | None = None) -> httpx.Response:
        return httpx.get(
            f"{self.url}/api/canonical/0/{path}", headers={"Authorization": f"Bearer {token or self.full}"}
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _manage(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bugsink.scripts.manage", *args],
        cwd=directory,
        env=_env(directory),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def _env(directory: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "DJANGO_"))}
    return {**env, "DJANGO_SETTINGS_MODULE": "bugsink_conf", "PYTHONPATH": str(directory)}


@contextlib.contextmanager
def running_bugsink(directory: Path, *, repeats: int = 2) -> Iterator[Bugsink]:
    port = _free_port()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "bugsink_conf.py").write_text(textwrap.dedent(_CONF.format(port=port, directory=directory)))
    _manage(directory, "migrate", "--no-input", "-v0")
    made = json.loads(_manage(directory, "shell", "-c", _SETUP).stdout.strip().splitlines()[-1])
    log = (directory / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "bugsink.scripts.manage", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=directory,
        env=_env(directory),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/api/canonical/0/", timeout=2)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Bugsink did not start:\n{(directory / 'server.log').read_text()}") from None
                time.sleep(0.1)
        dsn = made["dsn"].replace("localhost", "127.0.0.1")
        script = _SEND.format(fixtures=str(FIXTURES), dsn=dsn, repeats=repeats)
        subprocess.run([sys.executable, "-c", script], env=_env(directory), check=True, timeout=60, capture_output=True)
        bugsink = Bugsink(url, dsn, made["project"], made["full"], made["issues_only"], made["reader"])
        while len(bugsink.get("issues/").json().get("results", [])) < 2:
            if time.monotonic() > deadline:
                raise RuntimeError("Bugsink did not digest the events in time")
            time.sleep(0.1)
        yield bugsink
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()

"""Payloads with a secret planted in every place Sentry puts one, for redaction and end-to-end tests.

Each secret is a distinctive string that must not appear anywhere in a redacted payload or in any report built
from it: ``assert secret not in output`` for every secret returned. The harmless neighbours must survive, so a
test can tell redaction from deletion.
"""

from __future__ import annotations

import base64
from typing import Any

SNTRYU_TOKEN = "sntryu_" + "5ec3e7" * 10 + "abcd"
SNTRYS_TOKEN = "sntrys_eyJpYXQiOjE3MDAwMDAwMDAsInVybCI6Imh0dHBzOi8vc2VudHJ5LmlvIn0=_S3CR3T0rgT0k3nPart"
PEM_BODY = "MIIEowIBAAKCAQEAS3CR3TpemBodyLine0neXyZ"
PEM_KEY = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\nAnotherLineOfKeyMaterial==\n-----END RSA PRIVATE KEY-----"
VISA_TEST_CARD = "4111 1111 1111 1111"
MASTERCARD_TEST_CARD = 5555555555554444
AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7S3CR3TX"
GITHUB_TOKEN = "ghp_S3CR3TgithubT0kenAbcdefghijklmnop12"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJTM0NSM1Qtand0In0.S3CR3TjwtSignature"
BASIC_CREDENTIALS = base64.b64encode(b"proxy-user:S3CR3T-proxy-password").decode()
FORWARDED_FOR = "198.51.100.23"


def planted_secrets_event() -> tuple[dict[str, Any], list[str]]:
    """An error event shaped like Sentry's event JSON, and every secret planted in it."""
    secrets = [
        "S3CR3T-bearer-header",
        BASIC_CREDENTIALS,
        "S3CR3T-cookie-header",
        "S3CR3T-x-api-key",
        FORWARDED_FOR,
        "S3CR3T-referer-token",
        "S3CR3T-cookie-pair",
        "S3CR3T-cookie-theme",
        "S3CR3T-query-pair",
        "S3CR3T-form-field",
        "S3CR3T-env-auth",
        "S3CR3T-url-password",
        "S3CR3T-url-token",
        "S3CR3T-fragment",
        "S3CR3T-exception-url",
        "S3CR3T-exception-bearer",
        "S3CR3T-var-plain",
        "S3CR3T-var-repr",
        "S3CR3T-var-repr-dict",
        "S3CR3T-var-json",
        "S3CR3T-var-pair",
        "S3CR3T-var-container",
        "S3CR3T-source-line",
        VISA_TEST_CARD,
        str(MASTERCARD_TEST_CARD),
        PEM_BODY,
        SNTRYU_TOKEN,
        SNTRYS_TOKEN,
        "S3CR3T0rgT0k3nPart",
        "S3CR3T-event-message",
        AWS_ACCESS_KEY_ID,
        GITHUB_TOKEN,
        JWT,
        "S3CR3T-crumb-url",
        "S3CR3T-crumb-data",
        "S3CR3T-crumb-sql",
        "S3CR3T-span-description",
        "S3CR3T-span-data",
        "S3CR3T-span-tag",
        "S3CR3T-tag",
        "S3CR3T-extra",
        "S3CR3T-dsn",
        "S3CR3T-contexts",
        "S3CR3T-user-data",
        "S3CR3T-too-deep",
    ]
    too_deep: Any = {"note": "S3CR3T-too-deep"}
    for level in range(150):
        too_deep = {"level": level, "child": too_deep}
    frame_vars = {
        "password": "S3CR3T-var-plain",
        "self": "<User username='ada' password='S3CR3T-var-repr'>",
        "kwargs": "{'api_key': 'S3CR3T-var-repr-dict', 'page': 2, 'author': 'Ada Lovelace'}",
        "payload": '{"token": "S3CR3T-var-json", "author": "Ada Lovelace", "page": 2}',
        "headers": [["Authorization", "S3CR3T-var-pair"], ["Content-Type", "application/json"]],
        "credentials": {"user": "ada", "key": "S3CR3T-var-container"},
        "card": VISA_TEST_CARD,
        "card_number": MASTERCARD_TEST_CARD,
        "not_a_card": "4111111111111112",
        "created_ms": 1712345678901,
        "private_key_pem": "see below",
        "signing_key": PEM_KEY,
        "max_tokens": 4096,
    }
    event: dict[str, Any] = {
        "id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "eventID": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "groupID": "4512345678",
        "title": "ValueError: login failed",
        "message": "Login failed: password=S3CR3T-event-message",
        "type": "error",
        "platform": "python",
        "dateCreated": "2024-05-17T10:30:45.123000Z",
        "dateReceived": "2024-05-17T10:30:46Z",
        "tags": [
            {"key": "auth_token", "value": "S3CR3T-tag"},
            {"key": "browser", "value": "Firefox 126"},
            {"key": "server_name", "value": "web-1"},
        ],
        "user": {
            "id": "42",
            "email": "ada@example.com",
            "username": "ada",
            "ip_address": "192.0.2.10",
            "data": {"session_token": "S3CR3T-user-data", "plan": "team"},
        },
        "contexts": {
            "app": {"type": "app", "app_name": "shop", "api_key": "S3CR3T-contexts"},
            "os": {"type": "os", "name": "Linux", "version": "6.8"},
        },
        "context": {
            "db_password": "S3CR3T-extra",
            "release_author": "Ada Lovelace",
            "sentry_dsn": "https://S3CR3T-dsn@o1.ingest.sentry.io/1",
            "startup_log": f"loaded credentials for {AWS_ACCESS_KEY_ID}, using {GITHUB_TOKEN}",
            "login_hint": f"received {JWT}",
            "nested": too_deep,
        },
        "sdk": {"name": "sentry.python", "version": "2.3.1"},
        "entries": [
            {
                "type": "exception",
                "data": {
                    "values": [
                        {
                            "type": "ValueError",
                            "value": "login failed for https://bob:S3CR3T-exception-url@db.internal/app "
                            "with Bearer S3CR3T-exception-bearer",
                            "module": "shop.auth",
                            "mechanism": {"type": "generic", "handled": False},
                            "stacktrace": {
                                "frames": [
                                    {
                                        "filename": "shop/auth.py",
                                        "absPath": "/app/shop/auth.py",
                                        "module": "shop.auth",
                                        "function": "login",
                                        "lineNo": 41,
                                        "inApp": True,
                                        "context": [
                                            [40, "API_KEY = 'S3CR3T-source-line'"],
                                            [41, "def login(user):"],
                                        ],
                                        "vars": frame_vars,
                                    }
                                ],
                                "framesOmitted": None,
                                "hasSystemFrames": True,
                            },
                        }
                    ]
                },
            },
            {
                "type": "message",
                "data": {"formatted": f"token refresh with {SNTRYU_TOKEN} failed", "params": [SNTRYS_TOKEN]},
            },
            {
                "type": "request",
                "data": {
                    "method": "POST",
                    "url": "https://ada:S3CR3T-url-password@app.example.com/login?token=S3CR3T-url-token&page=2",
                    "fragment": "access_token=S3CR3T-fragment",
                    "query": [["page", "2"], ["api_key", "S3CR3T-query-pair"]],
                    "data": {"username": "ada", "password": "S3CR3T-form-field"},
                    "headers": [
                        ["Authorization", "Bearer S3CR3T-bearer-header"],
                        ["Proxy-Authorization", f"Basic {BASIC_CREDENTIALS}"],
                        ["Cookie", "sessionid=S3CR3T-cookie-header; theme=dark"],
                        ["X-Api-Key", "S3CR3T-x-api-key"],
                        ["X-Forwarded-For", FORWARDED_FOR],
                        ["Referer", "https://app.example.com/?access_token=S3CR3T-referer-token"],
                        ["User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"],
                        ["Content-Type", "application/x-www-form-urlencoded"],
                    ],
                    "cookies": [["sessionid", "S3CR3T-cookie-pair"], ["theme", "S3CR3T-cookie-theme"]],
                    "env": {"REMOTE_ADDR": "192.0.2.10", "HTTP_AUTHORIZATION": "S3CR3T-env-auth"},
                    "inferredContentType": "application/x-www-form-urlencoded",
                },
            },
            {
                "type": "breadcrumbs",
                "data": {
                    "values": [
                        {
                            "timestamp": "2024-05-17T10:30:44Z",
                            "type": "http",
                            "category": "httplib",
                            "level": "info",
                            "data": {
                                "url": "https://api.example.com/v1/items?apikey=S3CR3T-crumb-url&page=3",
                                "method": "GET",
                                "status_code": 200,
                                "authorization": "S3CR3T-crumb-data",
                            },
                        },
                        {
                            "timestamp": "2024-05-17T10:30:45Z",
                            "type": "default",
                            "category": "query",
                            "message": "UPDATE users SET password = 'S3CR3T-crumb-sql' WHERE id = 7",
                        },
                    ]
                },
            },
            {
                "type": "spans",
                "data": [
                    {
                        "span_id": "a1b2c3d4e5f60718",
                        "trace_id": "0123456789abcdef0123456789abcdef",
                        "op": "http.client",
                        "description": "GET https://api.example.com/v1?token=S3CR3T-span-description",
                        "start_timestamp": 1715941844.5,
                        "timestamp": 1715941844.75,
                        "data": {"http.request.header.authorization": "S3CR3T-span-data", "status": 200},
                        "tags": {"session_id": "S3CR3T-span-tag", "http.status_code": "200"},
                    }
                ],
            },
        ],
    }
    return event, secrets


def planted_secrets_issue() -> tuple[dict[str, Any], list[str]]:
    """An issue (group) payload with secrets in its title, culprit and metadata, and those secrets."""
    issue = {
        "id": "4512345678",
        "shortId": "SHOP-1A",
        "title": "OperationalError: postgres://app:S3CR3T-issue-title@db.internal/shop",
        "culprit": "shop.auth in login(token=S3CR3T-issue-culprit)",
        "permalink": "https://acme.sentry.io/issues/4512345678/",
        "level": "error",
        "status": "unresolved",
        "platform": "python",
        "project": {"id": "7", "slug": "shop", "name": "Shop"},
        "metadata": {"type": "OperationalError", "value": "auth header Bearer S3CR3T-issue-metadata"},
        "count": "12",
        "userCount": 3,
        "firstSeen": "2024-05-17T10:30:45Z",
        "lastSeen": "2024-05-17T11:00:00.5Z",
    }
    return issue, ["S3CR3T-issue-title", "S3CR3T-issue-culprit", "S3CR3T-issue-metadata"]


def harmless_neighbours() -> list[str]:
    """Text in the planted payloads that is not secret and must survive redaction, with or without remove_pii."""
    return [
        "Ada Lovelace",
        "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
        "application/x-www-form-urlencoded",
        "4111111111111112",
        "1712345678901",
        "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "def login(user):",
        "Firefox 126",
        "web-1",
        "app.example.com/login",
        "theme",
        "sessionid",
        "max_tokens",
        "shop.auth",
        "SHOP-1A",
    ]

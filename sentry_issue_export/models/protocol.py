"""The event protocol's top-level keys: the legacy ``sentry.interfaces.*`` names older SDKs send and the keys
Relay reads them as, and the keys any one of which makes a JSON object an event (the file source recognises
events by them).
"""

from __future__ import annotations

from typing import Any

LEGACY_KEYS = {
    "sentry.interfaces.Exception": "exception",
    "sentry.interfaces.Stacktrace": "stacktrace",
    "sentry.interfaces.Message": "logentry",
    "sentry.interfaces.Http": "request",
    "sentry.interfaces.User": "user",
    "sentry.interfaces.Breadcrumbs": "breadcrumbs",
    "sentry.interfaces.Contexts": "contexts",
    "sentry.interfaces.Template": "template",
    "sentry.interfaces.Csp": "csp",
    "sentry.interfaces.Hpkp": "hpkp",
    "sentry.interfaces.ExpectCT": "expectct",
    "sentry.interfaces.ExpectStaple": "expectstaple",
}
"""The interface names older SDKs send (raven-js, raven-java, raven-php ...) and the keys Relay reads them as."""

PROTOCOL_KEYS = frozenset(
    {
        # the event protocol's top-level keys, as SDKs send them and Relay stores them
        "event_id", "level", "version", "type", "fingerprint", "culprit", "transaction", "transaction_info",
        "time_spent", "logentry", "message", "logger", "modules", "platform", "timestamp", "start_timestamp",
        "received", "server_name", "release", "dist", "environment", "site", "user", "request", "contexts",
        "breadcrumbs", "exception", "stacktrace", "template", "threads", "tags", "extra", "debug_meta", "sdk",
        "errors", "csp", "hpkp", "expectct", "expectstaple", "spans", "measurements", "breakdowns",
        # the REST API's event
        "entries", "eventID", "groupID", "dateCreated",
        *LEGACY_KEYS,
    }
)  # fmt: skip
"""The keys that make a JSON object an event: any one of them is enough."""


def modern_keys(data: dict[str, Any]) -> dict[str, Any]:
    """A raw SDK event with each legacy ``sentry.interfaces.*`` key read as its modern name (the modern key wins
    when both are sent); ``data`` itself is left unchanged."""
    legacy = [key for key in LEGACY_KEYS if key in data]
    if not legacy:
        return data
    modern = {key: value for key, value in data.items() if key not in LEGACY_KEYS}
    for key in legacy:
        modern.setdefault(LEGACY_KEYS[key], data[key])
    return modern

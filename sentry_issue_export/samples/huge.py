"""A very large sample event, generated on demand instead of shipped as a multi-megabyte file.

It sits at or past every limit Sentry and the exporter apply: 250 frames with variables on every frame,
1,000 breadcrumbs, 1,000 spans in a tree, long strings. It is a stress fixture rather than a faithful event
(an error event rarely carries spans), so one sample exercises truncation and rendering speed everywhere.
The output is seeded: every call returns an equal, freshly built dict.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

HUGE_ISSUE_ID = "5832120475"
HUGE_SHORT_ID = "INGEST-WORKER-2B"
HUGE_EVENT_ID = "7f6e5d4c3b2a41908f7e6d5c4b3a2918"
FRAME_COUNT = 250
VARS_PER_FRAME = 10
BREADCRUMB_COUNT = 1000
SPAN_COUNT = 1000

_SEED = 20250314
_TRACE_ID = "5e4d3c2b1a0948f7e6d5c4b3a2910f8e"
_ROOT_SPAN_ID = "c0ffee0000000000"
_START = 1741946400.0  # 2025-03-14T10:00:00Z
_APP = "/srv/ingest"
_BATCH = "imp_01HSXB7Q2M4K8N"
_ERROR = "Batch imp_01HSXB7Q2M4K8N failed at record 8812 of 20000"

_TRANSFORM_SOURCE = [
    "def _walk(self, node, path, depth, rule, options):",
    '    """Apply the mapping rule to every nested value, depth first."""',
    "    if depth > options.max_depth:",
    "        raise TransformError(f\"{'/'.join(path)} nests deeper than {options.max_depth}\")",
    "    if isinstance(node, dict):",
    "        return {key: self._transform_node(value, [*path, key], depth + 1, rule, options)",
    "                for key, value in node.items()}",
    "    if isinstance(node, list):",
    "        return [self._transform_node(item, [*path, str(i)], depth + 1, rule, options)",
    "                for i, item in enumerate(node)]",
    "    return self._apply_rule(node, path, rule)",
    "",
    "def _transform_node(self, value, path, depth, rule, options):",
    "    seen = self._seen.setdefault(id(value), [])",
    "    seen.append(depth)",
    "    child_rule = rule.children.get(path[-1], rule)",
    "    result = self._walk(value, path, depth, child_rule, options)",
    "    self._stats.nodes += 1",
    "    return result",
    "",
    "def _apply_rule(self, value, path, rule):",
    "    converter = self._converters[rule.kind]",
    "    return converter(value, field='/'.join(path))",
]
# (function, index of the executing line in _TRANSFORM_SOURCE); the recursion cycles through these.
_RECURSION = [("_walk", 5), ("_transform_node", 16), ("_walk", 8), ("_transform_node", 16)]
_FIRST_LINE = 212
_SQL_TABLES = ["import_record", "import_batch", "catalog_product", "catalog_variant", "inventory_stocklevel"]
_LOGGERS = ["ingest.tasks", "ingest.transform", "ingest.storage", "celery.worker.strategy"]
_HOSTS = ["https://catalog.internal.acme-shop.com", "https://media.internal.acme-shop.com"]
_SPAN_OPS = ["db", "db", "http.client", "cache.get", "serialize", "function"]


def _metadata() -> dict[str, str]:
    """The issue's and the event's ``metadata``: the same in both, as Sentry sends it (a fresh copy each time)."""
    return {
        "type": "ImportBatchError",
        "value": _ERROR,
        "filename": "ingest/tasks.py",
        "function": "import_batch",
        "in_app_frame_mix": "mixed",
    }


def huge_issue() -> dict[str, Any]:
    """The issue half of the huge sample, cheap to build on its own."""
    return {
        "id": HUGE_ISSUE_ID,
        "shareId": None,
        "shortId": HUGE_SHORT_ID,
        "title": f"ImportBatchError: {_ERROR}",
        "culprit": "ingest.tasks in import_batch",
        "permalink": f"https://acme.sentry.io/issues/{HUGE_ISSUE_ID}/",
        "logger": None,
        "level": "error",
        "status": "unresolved",
        "statusDetails": {},
        "substatus": "ongoing",
        "isPublic": False,
        "platform": "python",
        "project": {"id": "4505123456789017", "name": "ingest-worker", "slug": "ingest-worker", "platform": "python"},
        "type": "error",
        "metadata": _metadata(),
        "numComments": 0,
        "assignedTo": None,
        "isBookmarked": False,
        "isSubscribed": False,
        "subscriptionDetails": None,
        "hasSeen": False,
        "annotations": [],
        "issueType": "error",
        "issueCategory": "error",
        "priority": "high",
        "priorityLockedAt": None,
        "isUnhandled": True,
        "count": "40961",
        "userCount": 0,
        "firstSeen": "2025-03-01T00:12:09.500113Z",
        "lastSeen": "2025-03-14T10:00:31Z",
        "firstRelease": None,
        "lastRelease": {"version": "ingest-worker@1.42.0", "shortVersion": "1.42.0"},
        "activity": [],
        "seenBy": [],
        "pluginActions": [],
        "pluginIssues": [],
        "pluginContexts": [],
        "userReportCount": 0,
        "stats": {"24h": [[1741860000 + 3600 * hour, 1700 + 37 * hour] for hour in range(24)]},
        "participants": [],
        "tags": [],
    }


def huge_event_sample() -> dict[str, Any]:
    """``{"issue": ..., "event": ...}`` for the huge sample; equal on every call, several MB as JSON."""
    rng = random.Random(_SEED)
    return {"issue": huge_issue(), "event": _event(rng)}


def _event(rng: random.Random) -> dict[str, Any]:
    exception = {
        "type": "exception",
        "data": {
            "values": [
                {
                    "type": "RecursionError",
                    "value": "maximum recursion depth exceeded while calling a Python object",
                    "mechanism": {
                        "type": "chained",
                        "handled": True,
                        "source": "__context__",
                        "exception_id": 1,
                        "parent_id": 0,
                    },
                    "threadId": None,
                    "module": None,
                    "stacktrace": _stacktrace([_recursion_frame(rng, i) for i in range(FRAME_COUNT)]),
                    "rawStacktrace": None,
                },
                {
                    "type": "ImportBatchError",
                    "value": _ERROR,
                    "mechanism": {"type": "celery", "handled": False, "exception_id": 0},
                    "threadId": None,
                    "module": "ingest.errors",
                    "stacktrace": _stacktrace(_task_frames()),
                    "rawStacktrace": None,
                },
            ],
            "hasSystemFrames": True,
            "excOmitted": None,
        },
    }
    return {
        "id": HUGE_EVENT_ID,
        "groupID": HUGE_ISSUE_ID,
        "eventID": HUGE_EVENT_ID,
        "projectID": "4505123456789017",
        "size": 1048576,
        "entries": [
            exception,
            {"type": "breadcrumbs", "data": {"values": [_breadcrumb(rng, i) for i in range(BREADCRUMB_COUNT)]}},
            _request(rng),
            {"type": "spans", "data": _spans(rng)},
        ],
        "dist": None,
        "message": "",
        "title": f"ImportBatchError: {_ERROR}",
        "location": "ingest/tasks.py",
        "user": {
            "id": "svc-ingest",
            "email": None,
            "username": "svc-ingest",
            "ip_address": "10.42.7.3",
            "name": None,
            "geo": None,
            "sentry_user": "id:svc-ingest",
            "data": None,
        },
        "contexts": {
            "os": {"name": "Linux", "version": "6.1.79", "type": "os"},
            "runtime": {"name": "CPython", "version": "3.12.2", "type": "runtime"},
            "trace": {
                "trace_id": _TRACE_ID,
                "span_id": _ROOT_SPAN_ID,
                "op": "queue.task.celery",
                "status": "internal_error",
                "type": "trace",
            },
            "celery_job": {
                "task": "ingest.tasks.import_batch",
                "args": [_BATCH],
                "kwargs": {"dry_run": False},
                "retries": 2,
                "type": "default",
            },
        },
        "sdk": {"name": "sentry.python.celery", "version": "2.22.0"},
        "context": {"batch_manifest": _long_text(rng, "manifest", 29_997) + "...", "record_count": 20000},
        "packages": {"celery": "5.3.6", "sentry-sdk": "2.22.0"},
        "type": "error",
        "metadata": _metadata(),
        "tags": [{"key": f"shard.{n}", "value": f"ingest-{rng.randrange(1, 64):02d}"} for n in range(40)]
        + [{"key": "environment", "value": "production"}, {"key": "level", "value": "error"}],
        "platform": "python",
        "dateReceived": "2025-03-14T10:00:33.017Z",
        "errors": [{"type": "value_too_long", "message": "Discarded value was too long", "data": {"name": "extra"}}],
        "occurrence": None,
        "_meta": {"context": {"batch_manifest": {"": {"len": 120_000, "rem": [["!limit", "s", 29_997, 30_000]]}}}},
        "crashFile": None,
        "culprit": "ingest.tasks in import_batch",
        "dateCreated": "2025-03-14T10:00:31Z",
        "fingerprints": ["8d4c2b1a0f9e8d7c6b5a493827160514"],
        "groupingConfig": {"enhancements": "KLUv_SAYwQAAkwKRs25ld3N0eWxlOjIwMjMtMDEtMTGQ", "id": "newstyle:2023-01-11"},
        "release": {"version": "ingest-worker@1.42.0", "shortVersion": "1.42.0"},
        "userReport": None,
        "sdkUpdates": [],
        "resolvedWith": [],
        "nextEventID": None,
        "previousEventID": None,
    }


def _stacktrace(frames: list[dict[str, Any]]) -> dict[str, Any]:
    return {"frames": frames, "framesOmitted": None, "registers": None, "hasSystemFrames": True}


def _frame(
    path: str, module: str, function: str, lineno: int, context: list[list[Any]], vars_: Any, *, in_app: bool
) -> dict[str, Any]:
    prefix = _APP if in_app else "/usr/local/lib/python3.12/site-packages"
    return {
        "filename": path,
        "absPath": f"{prefix}/{path}",
        "module": module,
        "package": None,
        "platform": None,
        "instructionAddr": None,
        "symbolAddr": None,
        "function": function,
        "rawFunction": None,
        "symbol": None,
        "context": context,
        "lineNo": lineno,
        "colNo": None,
        "inApp": in_app,
        "trust": None,
        "errors": None,
        "lock": None,
        "sourceLink": None,
        "vars": vars_,
    }


def _recursion_frame(rng: random.Random, index: int) -> dict[str, Any]:
    function, at = _RECURSION[index % len(_RECURSION)]
    lo, hi = max(0, at - 5), min(len(_TRANSFORM_SOURCE), at + 6)
    context = [[_FIRST_LINE + i, "    " + _TRANSFORM_SOURCE[i]] for i in range(lo, hi)]
    path = [rng.choice(["variants", "media", "attributes", "localized", "bundle"]) for _ in range(index % 9 + 1)]
    vars_ = {
        "self": "<ingest.transform.RecordTransformer object at 0x7f21c4d3e8b0>",
        "node": {
            "id": f"'node-{index}'",
            "kind": "'object'",
            "children": {f"c{k}": {"value": f"'{_word(rng)}'", "weight": rng.randrange(100)} for k in range(3)},
        },
        "path": [f"'{p}'" for p in path],
        "depth": index,
        "rule": {"kind": "'nested'", "children": f"<{rng.randrange(2, 40)} rules>", "strict": rng.random() < 0.5},
        "value": repr(" ".join(_word(rng) for _ in range(300))),
        "context": {
            "record": {"line": 8812, "source": {"file": "'catalog-2025-03-14.jsonl'", "offset": rng.randrange(10**9)}}
        },
        "options": {"max_depth": 1000, "locale": "'de-DE'", "coerce": True},
        "seen": [rng.randrange(index + 1) for _ in range(8)],
        "result": None,
    }
    return _frame("ingest/transform.py", "ingest.transform", function, _FIRST_LINE + at, context, vars_, in_app=True)


def _task_frames() -> list[dict[str, Any]]:
    library = [
        ("celery/app/trace.py", "celery.app.trace", "trace_task", 453, "R = retval = fun(*args, **kwargs)"),
        ("celery/app/trace.py", "celery.app.trace", "__protected_call__", 736, "return self.run(*args, **kwargs)"),
        (
            "sentry_sdk/integrations/celery/__init__.py",
            "sentry_sdk.integrations.celery",
            "_inner",
            330,
            "return f(*args, **kwargs)",
        ),
    ]
    frames = [
        _frame(path, module, function, lineno, [[lineno, "        " + line]], {"args": [f"'{_BATCH}'"]}, in_app=False)
        for path, module, function, lineno, line in library
    ]
    context = [
        [96, "    try:"],
        [97, "        for position, record in enumerate(reader, 1):"],
        [98, "            transformer.transform(record)"],
        [99, "    except RecursionError as exc:"],
        [100, '        raise ImportBatchError(f"Batch {batch_id} failed at record {position} of {total}")'],
    ]
    frames.append(
        _frame(
            "ingest/tasks.py",
            "ingest.tasks",
            "import_batch",
            100,
            context,
            {"batch_id": f"'{_BATCH}'", "position": 8812, "total": 20000, "exc": "RecursionError()"},
            in_app=True,
        )
    )
    return frames


def _breadcrumb(rng: random.Random, index: int) -> dict[str, Any]:
    moment = datetime.fromtimestamp(_START - 30 + index * 0.029 + rng.random() * 0.029, UTC)
    # Sentry sends whole seconds without a fraction; keep some such timestamps.
    timestamp = moment.isoformat(timespec="seconds" if index % 50 == 0 else "milliseconds").replace("+00:00", "Z")
    kind = index % 4
    if kind in (0, 1):
        table = rng.choice(_SQL_TABLES)
        ids = ", ".join(str(rng.randrange(10**6)) for _ in range(80))
        return {
            "type": "default",
            "timestamp": timestamp,
            "level": "info",
            "category": "query",
            "message": f'SELECT "{table}"."id", "{table}"."payload" FROM "{table}" WHERE "{table}"."id" IN ({ids})',
            "data": {"db.paramstyle": "format", "db.executemany": False, "rows": rng.randrange(40)},
            "event_id": None,
        }
    if kind == 2:
        status = rng.choice([200, 200, 200, 201, 404, 503])
        return {
            "type": "http",
            "timestamp": timestamp,
            "level": "warning" if status >= 400 else "info",
            "category": "httplib",
            "message": None,
            "data": {
                "url": f"{rng.choice(_HOSTS)}/v1/items/{rng.randrange(10**6)}",
                "method": "GET",
                "status_code": status,
                "reason": "OK" if status < 400 else "Error",
            },
            "event_id": None,
        }
    return {
        "type": "log",
        "timestamp": timestamp,
        "level": rng.choice(["info", "info", "warning"]),
        "category": rng.choice(_LOGGERS),
        "message": f"Transformed record {index * 8} ({_word(rng)} rule)",
        "data": {"batch": _BATCH, "record": index * 8},
        "event_id": None,
    }


def _request(rng: random.Random) -> dict[str, Any]:
    return {
        "type": "request",
        "data": {
            "apiTarget": None,
            "method": "POST",
            "url": "https://ingest.internal.acme-shop.com/internal/imports/",
            "query": [["batch", _BATCH], ["format", "jsonl"]],
            "fragment": None,
            "data": _long_text(rng, "record", 1_000_000),
            "headers": [
                ["Authorization", "Bearer sample-token-not-real"],
                ["Content-Type", "application/x-ndjson"],
                ["User-Agent", "acme-catalog-sync/3.1 python-httpx/0.27.0"],
            ],
            "cookies": [],
            "env": {"SERVER_NAME": "ingest-worker-6b7c8d9e0-m3n4p"},
            "inferredContentType": None,
        },
    }


def _spans(rng: random.Random) -> list[dict[str, Any]]:
    """A tree of SPAN_COUNT spans: each picks an earlier span (or the root) as parent, at most five deep."""
    parents: list[int] = []  # parent index per span, -1 for the root
    depth: list[int] = []
    for i in range(SPAN_COUNT):
        candidates = [j for j in range(max(0, i - 30), i) if depth[j] < 5]
        parent = rng.choice(candidates) if candidates and rng.random() < 0.8 else -1
        parents.append(parent)
        depth.append(0 if parent < 0 else depth[parent] + 1)
    children: dict[int, list[int]] = {}
    for i, parent in enumerate(parents):
        children.setdefault(parent, []).append(i)
    bounds: dict[int, tuple[float, float]] = {-1: (_START, _START + 30.0)}
    for parent in [-1, *range(SPAN_COUNT)]:  # parents always precede children, so bounds exist in time
        kids = children.get(parent, [])
        start, end = bounds[parent]
        slot = (end - start) / max(1, len(kids))
        for n, kid in enumerate(kids):
            begin = start + n * slot
            bounds[kid] = (begin + slot * 0.05, begin + slot * (0.5 + rng.random() * 0.45))
    spans = []
    for i in range(SPAN_COUNT):
        op = _SPAN_OPS[i % len(_SPAN_OPS)]
        start, end = bounds[i]
        spans.append(
            {
                "span_id": f"{i + 1:016x}",
                "trace_id": _TRACE_ID,
                "parent_span_id": _ROOT_SPAN_ID if parents[i] < 0 else f"{parents[i] + 1:016x}",
                "op": op,
                "description": _span_description(rng, op),
                "status": "ok" if rng.random() < 0.95 else "deadline_exceeded",
                "start_timestamp": round(start, 6),
                "timestamp": round(end, 6),
                "same_process_as_parent": True,
                "data": {"thread.id": "139781", "record": rng.randrange(20000), "attempt": rng.randrange(1, 4)},
                "tags": None,
            }
        )
    return spans


def _span_description(rng: random.Random, op: str) -> str:
    if op == "db":
        table = rng.choice(_SQL_TABLES)
        return f'UPDATE "{table}" SET "payload" = %s, "updated_at" = %s WHERE "{table}"."id" = %s'
    if op == "http.client":
        return f"GET {rng.choice(_HOSTS)}/v1/items/{rng.randrange(10**6)}"
    if op == "cache.get":
        return f"ingest:rule:{_word(rng)}:{rng.randrange(1000)}"
    return f"ingest.transform.{_word(rng)}"


# fmt: off
_WORDS = (
    "graphite", "sand", "trail", "runner", "bundle", "variant", "media", "locale", "attribute", "weight", "colour",
    "size", "price", "stock", "warehouse", "supplier", "barcode", "season", "canvas", "leather", "merino",
)
# fmt: on


def _word(rng: random.Random) -> str:
    return rng.choice(_WORDS)


def _long_text(rng: random.Random, label: str, length: int) -> str:
    """A long newline-separated string of JSON-ish lines, cut to exactly ``length`` characters."""
    line = "".join(
        f'{{"{label}": {n}, "sku": "SKU-{n:05d}", "name": "{_word(rng)} {_word(rng)}"}}\n' for n in range(50)
    )
    return (line * (length // len(line) + 1))[:length]

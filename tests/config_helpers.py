"""What the config tests share: recognisable tokens of each kind, a saved config, file modes.

The ``env`` and ``path`` fixtures they use live in ``tests/conftest.py``.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

from sentry_issue_export.config.file import SavedConfig

USER_TOKEN = "sntryu_" + "a1" * 32
ARG_TOKEN = "sntryu_" + "b" * 64
ENV_TOKEN = "sntryu_" + "e" * 64
FILE_TOKEN = "sntryu_" + "f" * 64
LEGACY_TOKEN = "0123456789abcdef" * 4
ORG_TOKEN_SECRET = "S3cr3tP4rtN0b0dyM4yS33xyzABCDEFGHIJKLMNOPQR"


def org_token(url: str = "https://sentry.example.com", org: str = "acme") -> str:
    """An organisation token (``sntrys_``) whose embedded JSON names ``url`` and ``org``."""
    payload = {"iat": 1700000000.5, "url": url, "region_url": url, "org": org}
    encoded = base64.b64encode(json.dumps(payload).encode()).decode()
    return f"sntrys_{encoded}_{ORG_TOKEN_SECRET}"


def saved(base_url: str = "https://sentry.io", token: str = FILE_TOKEN, **fields: Any) -> SavedConfig:
    return SavedConfig(base_url=base_url, token=token, **fields)


def mode_of(target: Path) -> int:
    return stat.S_IMODE(os.stat(target).st_mode)

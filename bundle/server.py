"""The MCP server as Claude Desktop starts it from the bundle (``.mcpb``): manifest.json names this file as the
entry point, and the host runs it with uv, in an environment made from pyproject.toml's dependencies."""

import sys
from pathlib import Path

# The bundle's root holds the package; it is importable whether or not the host installed the project itself.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sentry_issue_export.mcp.server import main

if __name__ == "__main__":
    sys.exit(main())

"""A minimal MCP client over a child process's standard streams: one JSON-RPC message a line, the older
``initialize`` handshake. For tests that start the server themselves, as another user or as PID 1 of a PID
namespace, where the SDK's client (which spawns its own child) cannot reach.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from typing import Any

import pytest


class LineClient:
    """Requests written to the child's standard input, answers read from its standard output by a thread, so a
    silent server fails the test after ``timeout`` seconds instead of hanging it."""

    def __init__(self, child: subprocess.Popen[bytes], timeout: float = 30) -> None:
        assert child.stdin is not None and child.stdout is not None
        self.child = child
        self.timeout = timeout
        self.lines: queue.Queue[bytes] = queue.Queue()
        self.next_id = 1
        threading.Thread(target=self._read, args=(child.stdout,), daemon=True).start()

    def _read(self, stdout: Any) -> None:
        for line in iter(stdout.readline, b""):
            self.lines.put(line)

    def send(self, message: dict[str, Any]) -> None:
        assert self.child.stdin is not None
        self.child.stdin.write(json.dumps(message).encode() + b"\n")
        self.child.stdin.flush()

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """The result of one request; notifications sent meanwhile (progress, logs) are passed over."""
        number, self.next_id = self.next_id, self.next_id + 1
        self.send({"jsonrpc": "2.0", "id": number, "method": method, "params": params})
        while True:
            try:
                line = self.lines.get(timeout=self.timeout)
            except queue.Empty:
                pytest.fail(f"no answer to {method} within {self.timeout} s (exit code {self.child.poll()})")
            message = json.loads(line)
            if message.get("id") == number:
                assert "error" not in message, message
                return dict(message["result"])

    def initialize(self) -> dict[str, Any]:
        result = self.request(
            "initialize",
            {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "tests", "version": "1"}},
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return result

    def call_tool(self, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
        """The tool's text answer, and whether it is an error."""
        result = self.request("tools/call", {"name": name, "arguments": arguments})
        text = "".join(block["text"] for block in result["content"] if block["type"] == "text")
        return text, bool(result.get("isError"))

"""Rendered issues kept on disk between their arrival and the document that holds them.

A streaming export renders each issue as soon as it is fetched, in whatever order the fetches complete, and
puts its text here; the document is then written in the order the user gave, reading one issue back at a
time. So an export holds a summary per issue in memory, not every report: a thousand issues need no more
memory than ten. The spool is an unnamed temporary file (only this process can reach it, and nothing is
left behind however the process ends); it holds redacted report text only.
"""

from __future__ import annotations

import tempfile
from types import TracebackType

from .hookspecs import IssuePart
from .models import IssueSummary


class IssueSpool:
    """Rendered issue texts by position, appended as they come and read back in any order."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close(), the spool's own lifetime
        self._end = 0
        self._where: dict[int, tuple[int, int]] = {}

    def put(self, position: int, text: str) -> None:
        data = text.encode("utf-8", "surrogatepass")
        self._file.seek(self._end)
        self._file.write(data)
        self._where[position] = (self._end, len(data))
        self._end += len(data)

    def read(self, position: int) -> str:
        start, size = self._where[position]
        self._file.seek(start)
        data = self._file.read(size)
        if len(data) != size:
            raise OSError(f"the spooled text of issue {position} ends early")
        return data.decode("utf-8", "surrogatepass")

    def part(self, position: int, summary: IssueSummary) -> IssuePart:
        return IssuePart(summary, lambda: self.read(position))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> IssueSpool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

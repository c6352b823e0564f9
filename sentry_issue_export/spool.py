"""Rendered issues kept on disk between their arrival and the document that holds them.

A streaming export renders each issue as soon as it is fetched, in whatever order the fetches complete, and
puts its text here; the document is then written in the order the user gave, reading one issue back at a
time. So an export holds a summary per issue in memory, not every report: a thousand issues need no more
memory than ten. The spool is an unnamed temporary file (only this process can reach it, and nothing is
left behind however the process ends); it holds redacted report text only.

A full disk or a file-size limit where temporary files go is an :class:`~sentry_issue_export.errors.OutputError`
sentence, raised once: the export cannot be written either, and nothing half-written is left.
"""

from __future__ import annotations

import contextlib
import tempfile
from types import TracebackType

from .errors import OutputError
from .hookspecs import IssuePart
from .models import IssueSummary


class IssueSpool:
    """Rendered issue texts by position, appended as they come and read back in any order."""

    def __init__(self) -> None:
        try:
            self._file = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise _spool_failure(exc) from None
        self._end = 0
        self._where: dict[int, tuple[int, int]] = {}

    def put(self, position: int, text: str) -> None:
        data = text.encode("utf-8", "surrogatepass")
        try:
            self._file.seek(self._end)
            view = memoryview(data)
            while view:  # unbuffered: a full disk is told here, at the write that meets it, and only once
                view = view[self._file.write(view) :]
        except OSError as exc:
            raise _spool_failure(exc) from None
        self._where[position] = (self._end, len(data))
        self._end += len(data)

    def read(self, position: int) -> str:
        start, size = self._where[position]
        try:
            self._file.seek(start)
            data = self._file.read(size)
        except OSError as exc:
            raise _spool_failure(exc) from None
        if len(data) != size:
            raise OutputError(f"The rendered text of issue {position + 1} came back short from the temporary file.")
        return data.decode("utf-8", "surrogatepass")

    def part(self, position: int, summary: IssueSummary) -> IssuePart:
        return IssuePart(summary, lambda: self.read(position))

    def close(self) -> None:
        with contextlib.suppress(OSError):  # what it held is no longer needed; its error was told already
            self._file.close()

    def __enter__(self) -> IssueSpool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def _spool_failure(exc: OSError) -> OutputError:
    where = tempfile.gettempdir()
    return OutputError(
        f"The rendered issues could not be kept in a temporary file in {where} ({exc.strerror or exc}): free some "
        "space there, or point TMPDIR at a disk with room, and export again. No report was written."
    )

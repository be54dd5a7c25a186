"""The build's log: streamed to a size-capped file, the last lines kept for the report, and
the first error-looking lines found in it (what a failed build's summary shows)."""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from verifier.sandbox.interface import LineCallback

LOG_CAP = 64 << 20
TAIL_LINES = 40
TAIL_LINE_BYTES = 4096  # of each line kept for the report's log tail
LINE_CAP = 64 << 10  # a longer line (a build printing megabytes without a newline) is read in pieces
ERROR_LINES = 8  # the first error-looking lines kept for a failed build's summary
ERROR_LINE_CHARS = 300
# compilers and tools (`error:`), make, automake/pytest/ctest test suites (FAIL, FAILED),
# perl's prove and Test::More, Python tracebacks, debhelper/dpkg-buildpackage
ERROR_RE = re.compile(r"\b[Ee]rror:|\bERROR:|^make(\[\d+\])?: \*\*\*|\bFAIL(ED)?\b(?!:\s+0\b)"  # not automake's "# FAIL:  0"
                      r"|\bFailed \d+/\d+ (test|subtest)|^#\s+Failed test|^Traceback \(most recent call last\)"
                      r"|\bdied with exit status|^dpkg-buildpackage: error")


class LogCapture:
    """Streams the build's output to the log file (capped) and keeps the last lines."""

    def __init__(self, stream: BinaryIO, path: Path, on_line: LineCallback | None = None) -> None:
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.written = 0
        self.on_line = on_line
        self.thread = threading.Thread(target=self._pump, args=(stream, path), daemon=True)
        self.thread.start()

    def _pump(self, stream: BinaryIO, path: Path) -> None:
        with open(path, "wb") as log:
            for line in iter(lambda: stream.readline(LINE_CAP), b""):
                if self.written < LOG_CAP:
                    log.write(line)
                    self.written += len(line)
                self.tail.append(line[:TAIL_LINE_BYTES].decode("utf-8", "replace").rstrip("\n"))
                if self.on_line is not None:
                    self.on_line(self.tail[-1])
        stream.close()

    def text(self) -> str:
        self.thread.join(timeout=10)
        return "\n".join(self.tail)


def error_lines(lines: Iterable[str]) -> tuple[str, ...]:
    """The first lines that look like an error, each cut to ``ERROR_LINE_CHARS``."""
    found = []
    for line in lines:
        if ERROR_RE.search(line):
            found.append(line.rstrip("\r\n")[:ERROR_LINE_CHARS])
            if len(found) == ERROR_LINES:
                break
    return tuple(found)


def first_errors(path: Path) -> tuple[str, ...]:
    """``error_lines`` of a build log file, read line by line (a missing log has none)."""
    try:
        with open(path, "rb") as f:
            return error_lines(line[:LINE_CAP].decode("utf-8", "replace") for line in iter(lambda: f.readline(LINE_CAP), b""))
    except FileNotFoundError:
        return ()

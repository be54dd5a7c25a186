"""The build's log: streamed to a size-capped file, the last lines kept for the report."""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path
from typing import BinaryIO

from verifier.sandbox.interface import LineCallback

LOG_CAP = 64 << 20
TAIL_LINES = 40
TAIL_LINE_BYTES = 4096  # of each line kept for the report's log tail
LINE_CAP = 64 << 10  # a longer line (a build printing megabytes without a newline) is read in pieces


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

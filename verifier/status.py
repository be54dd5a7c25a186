"""A live status line for long steps, on a terminal only.

``StatusLine(enabled)`` shows one line on standard error while a step runs: a spinner, the
step's name, the seconds elapsed and the latest detail (a build-log line, the member being
compared). The line is redrawn four times a second and erased when the step ends. When
``enabled`` is false (output is not a terminal: CI logs, pipes, tests) nothing is printed
and every call is a no-op. Details come from the build and from archives: they are made
visible with ``one_line`` (no escape sequence reaches the terminal) and shown as plain text,
never as rich markup.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

from verifier.printable import one_line

DETAIL_LIMIT = 200


class _Line:
    """The renderable: rich calls ``__rich__`` on every refresh, so the time is always current."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.detail = ""
        self.started = time.monotonic()
        self.spinner = Spinner("dots")

    def __rich__(self) -> Text:
        elapsed = time.monotonic() - self.started
        line = self.spinner.render(elapsed)
        line = line if isinstance(line, Text) else Text(str(line))
        line.append(f" {self.title} ", style="bold")
        line.append(_elapsed(elapsed), style="cyan")
        if self.detail:
            line.append("  " + self.detail, style="dim")
        line.no_wrap, line.overflow = True, "ellipsis"
        return line


def _elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}" if minutes else f"{secs} s"


class StatusLine:
    """``with status.step("rebuilding") as step: ... step.detail(line)``; silent when disabled."""

    def __init__(self, enabled: bool, console: Console | None = None) -> None:
        self.enabled = enabled
        self.console = console

    @contextmanager
    def step(self, title: str) -> Iterator["StepStatus"]:
        if not self.enabled:
            yield StepStatus(None)
            return
        line = _Line(title)
        console = self.console or Console(stderr=True)
        with Live(line, console=console, refresh_per_second=4, transient=True):
            yield StepStatus(line)


class StepStatus:
    """What a running step may tell the status line; safe to call from another thread."""

    def __init__(self, line: _Line | None) -> None:
        self._line = line
        self._members = 0

    def detail(self, text: str) -> None:
        if self._line is not None:
            shown = one_line(text.strip())
            self._line.detail = shown if len(shown) <= DETAIL_LIMIT else shown[: DETAIL_LIMIT - 1] + "…"

    def member(self, label: str) -> None:
        """One more pair of members compared: show the count and the latest member's name
        (the last part of its label: the member, not the chain of containers)."""
        self._members += 1
        self.detail(f"{self._members} compared · {label.rsplit('::', 1)[-1]}")


"""`verifier compare A B`: explain how two files or directories differ (exit 0 identical,
1 different, 2 error — as diffoscope)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from verifier.atomic import write_bytes
from verifier.cli.options import UnpackLimit, unpack_limits
from verifier.compare.hints import BuildClock
from verifier.errors import InputError
from verifier.outcome import CompareStatus
from verifier.settings import Settings

if TYPE_CHECKING:
    from verifier.report.comparison import ComparisonDocument

FORMATS = ("text", "json", "markdown", "html")


def _clock(source_date_epoch: int | None, build_time: str | None, official: int | None = None) -> BuildClock:
    """``--build-time START[:END]`` in epoch seconds: when the second input was built."""
    started = finished = None
    if build_time is not None:
        start, _, end = build_time.partition(":")
        try:
            started, finished = int(start), int(end or start)
        except ValueError:
            raise InputError(f"--build-time {build_time!r}: expected epoch seconds START or START:END") from None
        if finished < started:
            raise InputError(f"--build-time {build_time!r}: END is before START")
    return BuildClock(source_date_epoch, started, finished, official)


def _document(a: Path, b: Path, normalize: tuple[str, ...], clock: BuildClock,
              settings: Settings) -> ComparisonDocument:
    """Compare A and B; on a terminal a status line shows the members compared so far and the
    latest one (nothing is printed when standard error is not a terminal)."""
    from verifier.compare.api import compare_paths
    from verifier.report.comparison import comparison_document
    from verifier.status import StatusLine

    with StatusLine(settings.progress).step("comparing") as step:
        comparison = compare_paths(a, b, settings, normalizers=normalize, clock=clock, progress=step.member)
    return comparison_document(a, b, comparison)


def _cap_output(text: str, max_bytes: int, status: str) -> str:
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    cut = data[:max_bytes].decode("utf-8", "ignore")
    return cut + f"\n… output cut at {max_bytes} bytes (--max-report-bytes); the result is still {status}\n"


def compare_command(
    a: Annotated[Optional[Path], typer.Argument(help="First file or directory (e.g. the official artifact).")] = None,
    b: Annotated[Optional[Path], typer.Argument(help="Second file or directory (e.g. the rebuilt one).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, json, markdown or html.")] = "text",
    output: Annotated[Optional[Path], typer.Option("--output", help="Write here instead of standard output.")] = None,
    html: Annotated[Optional[Path], typer.Option("--html", help="Also write a self-contained HTML page here.")] = None,
    normalize: Annotated[Optional[str], typer.Option("--normalize", help="Normalisers NAME[,NAME…] (docs/normalizers.md).")] = None,
    load: Annotated[Optional[Path], typer.Option("--load", help="Re-render a saved JSON comparison instead of comparing.")] = None,
    max_diff_lines: Annotated[Optional[int], typer.Option("--max-diff-lines", help="Cut each diff to N lines (display only).")] = None,
    max_report_bytes: Annotated[Optional[int], typer.Option("--max-report-bytes", help="Cut the whole output at N bytes (display only).")] = None,
    source_date_epoch: Annotated[Optional[int], typer.Option("--source-date-epoch", help="The build's SOURCE_DATE_EPOCH, for the timestamp hints.")] = None,
    build_time: Annotated[Optional[str], typer.Option("--build-time", help="When B was built, epoch seconds START[:END], for the build-clock hint.")] = None,
    official_build_time: Annotated[Optional[int], typer.Option("--official-build-time", help="When A was built, epoch seconds (a .buildinfo's Build-Date), for the build-clock hint.")] = None,
    unpack_limit: UnpackLimit = None,
) -> CompareStatus:
    """Compare two files or directories and explain every difference."""
    from verifier.render.comparison import render_comparison
    from verifier.render.formats import ReportFormat
    from verifier.report.comparison import cap_diffs, load_comparison

    if fmt not in FORMATS:
        raise InputError(f"--format {fmt!r}: choose from {', '.join(FORMATS)}")
    if load is not None:
        doc = load_comparison(load)
    elif a is None or b is None:
        raise InputError("compare: give two paths A and B, or --load FILE")
    else:
        names = tuple(n.strip() for n in (normalize or "").split(",") if n.strip())
        settings = Settings(unpack=unpack_limits(unpack_limit), progress=sys.stderr.isatty())
        doc = _document(a, b, names, _clock(source_date_epoch, build_time, official_build_time), settings)
    if max_diff_lines is not None:
        doc = cap_diffs(doc, max(max_diff_lines, 1))
    text = render_comparison(doc, ReportFormat(fmt))
    if max_report_bytes is not None and fmt != "json":
        text = _cap_output(text, max(max_report_bytes, 256), doc.status)
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_bytes(output, text.encode())
    if html is not None:
        write_bytes(html, render_comparison(doc, ReportFormat.HTML).encode())
    return doc.status


def register(app: typer.Typer) -> None:
    app.command("compare")(compare_command)

"""The auditor's entry point, used by `verifier compare` and by `verify` for differing artifacts."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from verifier.compare.difference import Difference
from verifier.compare.directories import compare_directories
from verifier.compare.engine import compare_sides, same_content
from verifier.compare.hints import BuildClock, add_hints
from verifier.compare.interface import CompareContext, Recurse, Side
from verifier.compare.normalize import check_names, normalize
from verifier.compare.result import Comparison
from verifier.errors import InputError, where
from verifier.printable import name_text
from verifier.settings import Settings


def _check(path: Path) -> None:
    if not path.exists():
        raise InputError(where(path, "no such file or directory"))
    if not (path.is_file() or path.is_dir()):
        raise InputError(where(path, "not a regular file or directory"))


Progress = Callable[[str], None]  # told the label of each pair of members as it is compared


def reporting(progress: Progress | None) -> Recurse:
    """The engine's recursion, telling ``progress`` about every pair it compares."""
    if progress is None:
        return compare_sides

    def recurse(a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        progress(a.label)
        return compare_sides(a, b, ctx)

    return recurse


def compare_paths(a: Path, b: Path, settings: Settings, *, normalizers: tuple[str, ...] = (),
                  labels: tuple[str, str] | None = None, clock: BuildClock = BuildClock(),
                  progress: Progress | None = None) -> Comparison:
    _check(a)
    _check(b)
    check_names(normalizers)
    la, lb = labels or (name_text(str(a)), name_text(str(b)))  # a host path's bytes may not be UTF-8
    a, b = a.resolve(), b.resolve()  # the user's own links are followed; nothing below them is
    if a.is_dir() or b.is_dir():
        return compare_directories(a, b, settings, la, lb, normalizers, clock, reporting(progress))
    if same_content(a, b):
        return Comparison(True, None)
    degradations: list[str] = []
    with tempfile.TemporaryDirectory(prefix="verifier-compare-") as tmp:
        ctx = CompareContext(settings, 0, Path(tmp), degradations, reporting(progress))
        tree = ctx.recurse(Side(la, a), Side(lb, b), ctx)
    if tree is None:  # bytes differ yet nothing was found: never report "identical"
        tree = Difference(la, lb, ("differs, unexplained",), kind="bytes")
    tree = add_hints(tree, clock)
    equivalent, record = False, None
    if normalizers:
        remaining, record = normalize(tree, normalizers)
        equivalent = remaining is None
    return Comparison(False, tree, tuple(degradations), equivalent, record)

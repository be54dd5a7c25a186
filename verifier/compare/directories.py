"""Directories compared as trees of files: files pair by relative path (symlinks are
compared by target, never followed), then each differing pair goes through the engine."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from verifier.compare.difference import Difference
from verifier.compare.engine import compare_sides
from verifier.compare.hints import BuildClock, add_hints
from verifier.compare.interface import CompareContext, Recurse, Side
from verifier.compare.normalize import normalize
from verifier.compare.result import Comparison
from verifier.printable import name_text, one_line
from verifier.settings import Settings


def _walk(root: Path) -> dict[str, Path]:
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames) + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            path = Path(dirpath) / name
            found[str(path.relative_to(root))] = path
    return found


def _pair(rel: str, x: Path, y: Path, la: str, lb: str, ctx: CompareContext) -> Difference | None:
    if x.is_symlink() or y.is_symlink():
        tx = os.readlink(x) if x.is_symlink() else "(not a symlink)"
        ty = os.readlink(y) if y.is_symlink() else "(not a symlink)"
        return Difference.field(f"{la}/{name_text(rel)} (symlink)", tx, ty, kind="metadata")
    return ctx.recurse(Side(f"{la}/{name_text(rel)}", x), Side(f"{lb}/{name_text(rel)}", y), ctx)


def compare_directories(a: Path, b: Path, settings: Settings, la: str, lb: str,
                        normalizers: tuple[str, ...], clock: BuildClock, recurse: Recurse = compare_sides) -> Comparison:
    if not (a.is_dir() and b.is_dir()):
        tree = Difference(la, lb, ("one side is a directory, the other a file",), kind="member")
        return Comparison(False, tree)
    fa, fb = _walk(a), _walk(b)
    names_a, names_b = ("\n".join(map(one_line, sorted(found))) for found in (fa, fb))  # one name, one line
    listing = Difference.from_text(names_a, names_b, f"{la} (files)", f"{lb} (files)",
                                   kind="member")
    degradations: list[str] = []
    with tempfile.TemporaryDirectory(prefix="verifier-compare-") as tmp:
        ctx = CompareContext(settings, 0, Path(tmp), degradations, recurse)
        details = [listing] + [_pair(rel, fa[rel], fb[rel], la, lb, ctx) for rel in sorted(set(fa) & set(fb))]
    tree = Difference.from_details(la, lb, details)
    if tree is None:
        return Comparison(True, None)
    tree = add_hints(tree, clock)
    remaining, record = normalize(tree, normalizers) if normalizers else (tree, None)
    return Comparison(False, tree, tuple(degradations), bool(normalizers) and remaining is None, record)

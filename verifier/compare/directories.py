"""Directories compared as trees: files and directories pair by relative path (symlinks
are compared by target, never followed; an empty directory is listed), each pair's type,
rwx bits and special bits are compared, then each differing file pair goes through the engine."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from verifier.compare.comparators.archives import KINDS
from verifier.compare.difference import Difference
from verifier.compare.engine import compare_sides
from verifier.compare.hints import BuildClock, add_hints
from verifier.compare.interface import CompareContext, Recurse, Side
from verifier.compare.modes import mode_fields
from verifier.compare.normalize import normalize
from verifier.compare.result import Comparison
from verifier.printable import name_text, one_line
from verifier.settings import Settings


def _walk(root: Path) -> dict[str, Path]:
    """Every file, symlink and directory under ``root``; directories end in ``/`` (so an
    empty one is listed, and each one's mode is compared)."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames) + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            path = Path(dirpath) / name
            found[str(path.relative_to(root))] = path
        for name in dirnames:
            path = Path(dirpath) / name
            if not path.is_symlink():
                found[f"{path.relative_to(root)}/"] = path
    return found


def _modes(rel: str, x: Path, y: Path, la: str, lb: str) -> Difference | None:
    """Type, rwx bits and special bits (setuid, setgid, sticky) of a file or directory, as
    container members report them (so ``permissions`` removes rwx differences only)."""
    mx, my = x.lstat().st_mode, y.lstat().st_mode
    fx = {"type": KINDS.get(stat.S_IFMT(mx), "unknown"), **mode_fields(mx)}
    fy = {"type": KINDS.get(stat.S_IFMT(my), "unknown"), **mode_fields(my)}
    return Difference.from_details(f"{la}/{name_text(rel)} (metadata)", f"{lb}/{name_text(rel)} (metadata)",
                                   [Difference.field(k, fx[k], fy[k], kind="metadata") for k in fx], kind="metadata")


def _pair(rel: str, x: Path, y: Path, la: str, lb: str, ctx: CompareContext) -> list[Difference | None]:
    if x.is_symlink() or y.is_symlink():
        tx = os.readlink(x) if x.is_symlink() else "(not a symlink)"
        ty = os.readlink(y) if y.is_symlink() else "(not a symlink)"
        return [Difference.field(f"{la}/{name_text(rel)} (symlink)", tx, ty, kind="metadata")]
    if rel.endswith("/"):
        return [_modes(rel, x, y, la, lb)]
    return [_modes(rel, x, y, la, lb),
            ctx.recurse(Side(f"{la}/{name_text(rel)}", x), Side(f"{lb}/{name_text(rel)}", y), ctx)]


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
        details = [listing] + [d for rel in sorted(set(fa) & set(fb)) for d in _pair(rel, fa[rel], fb[rel], la, lb, ctx)]
    tree = Difference.from_details(la, lb, details)
    if tree is None:
        return Comparison(True, None)
    tree = add_hints(tree, clock)
    remaining, record = normalize(tree, normalizers) if normalizers else (tree, None)
    return Comparison(False, tree, tuple(degradations), bool(normalizers) and remaining is None, record)

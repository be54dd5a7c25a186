"""Directories compared as trees: files and directories pair by relative path (an empty
directory is listed), each pair's type, rwx bits and special bits are compared, then each
differing pair of regular files goes through the engine. Symlinks, devices, FIFOs and
sockets are never opened nor followed: a link's target and a device's numbers are compared
as data, and a symlink's pair is labelled on each side with what that side is."""

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
from verifier.compare.regular import kind_of
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


def _device(mode: int, rdev: int) -> str:
    return f"{os.major(rdev)}:{os.minor(rdev)}" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "none"


def _modes(rel: str, x: Path, y: Path, la: str, lb: str) -> Difference | None:
    """Type, rwx bits and special bits (setuid, setgid, sticky) of a file or directory, as
    container members report them (so ``permissions`` removes rwx differences only); a
    device's numbers too. Read with lstat: nothing is opened."""
    sx, sy = x.lstat(), y.lstat()
    fx = {"type": KINDS.get(stat.S_IFMT(sx.st_mode), "unknown"), **mode_fields(sx.st_mode),
          "device": _device(sx.st_mode, sx.st_rdev)}
    fy = {"type": KINDS.get(stat.S_IFMT(sy.st_mode), "unknown"), **mode_fields(sy.st_mode),
          "device": _device(sy.st_mode, sy.st_rdev)}
    return Difference.from_details(f"{la}/{name_text(rel)} (metadata)", f"{lb}/{name_text(rel)} (metadata)",
                                   [Difference.field(k, fx[k], fy[k], kind="metadata") for k in fx], kind="metadata")


def _link(path: Path, st: os.stat_result) -> str:
    """A symlink's target; any other file as what it is (a symlink is compared with it by this line)."""
    if stat.S_ISLNK(st.st_mode):
        return f"symlink to {os.readlink(path)}"
    return f"{kind_of(st.st_mode)}, mode {stat.S_IMODE(st.st_mode):04o}"


def _symlink(rel: str, x: Path, y: Path, la: str, lb: str) -> Difference | None:
    sx, sy = x.lstat(), y.lstat()
    tx, ty = _link(x, sx), _link(y, sy)
    if tx == ty:
        return None
    return Difference(f"{la}/{name_text(rel)} ({kind_of(sx.st_mode)})", f"{lb}/{name_text(rel)} ({kind_of(sy.st_mode)})",
                      (), f"-{one_line(tx)}\n+{one_line(ty)}\n", kind="metadata")


def _pair(rel: str, x: Path, y: Path, la: str, lb: str, ctx: CompareContext) -> list[Difference | None]:
    if x.is_symlink() or y.is_symlink():
        return [_symlink(rel, x, y, la, lb)]
    if rel.endswith("/"):
        return [_modes(rel, x, y, la, lb)]
    if not (stat.S_ISREG(x.lstat().st_mode) and stat.S_ISREG(y.lstat().st_mode)):
        return [_modes(rel, x, y, la, lb)]  # a device, FIFO or socket: its metadata only, never opened
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

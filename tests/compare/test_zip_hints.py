"""Hints for wheels and zips (issue 10, docs/hints.md), on wheel-shaped zips written by
Python's zipfile: only the entry timestamps differ (a time-zone offset, or the build clock),
the official wheel made on Windows, the compression level or method, the member order.
Each fires naming the archive or member and what each side has, and stays silent on a
look-alike."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.compare.pairs import WHEEL_FILES, wheel
from verifier.compare.api import compare_paths
from verifier.compare.hints_zip import CLOCK, COMPRESSION, METHOD, ONLY_TIMES, ORDER, TIME_ZONE, WINDOWS
from verifier.settings import Settings

Pair = tuple[Path, Path]
NAMES = list(WHEEL_FILES)
LATER = (2023, 11, 14, 23, 13, 20)
BIG = {"demo/__init__.py": "".join(f"X{i} = {i * i}\n" for i in range(400))}  # levels 1 and 9 store it differently


def _pair(tmp: Path, a: dict, b: dict) -> Pair:
    return wheel(tmp / "a.whl", **a), wheel(tmp / "b.whl", **b)


def _stored(tmp: Path) -> Pair:
    a = wheel(tmp / "a.whl")
    b = tmp / "b.whl"
    with zipfile.ZipFile(a) as src, zipfile.ZipFile(b, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            info.compress_type = zipfile.ZIP_STORED if info.filename.endswith("RECORD") else info.compress_type
            out.writestr(info, data)
    return a, b


# cause -> (a pair showing it, a look-alike that must not give it, text the hint must hold)
CASES: dict[str, tuple[Callable[[Path], Pair], Callable[[Path], Pair], str]] = {
    f"{ONLY_TIMES} {TIME_ZONE}": (
        lambda t: _pair(t, {}, {"date_time": LATER}),
        lambda t: _pair(t, {}, {"date_time": LATER, "files": {"demo/__init__.py": "X = 2\n"}}),
        "a.whl: every entry 1 h later in the rebuild (official 2023-11-14 22:13:20, rebuild 2023-11-14 23:13:20)"),
    f"{ONLY_TIMES} {CLOCK}": (
        lambda t: _pair(t, {}, {"date_time": (2023, 11, 14, 22, 14, 56)}),
        lambda t: _pair(t, {}, {"date_time": LATER}),
        "every entry +96 s in the rebuild"),
    "varying": (  # times moved by different amounts: the build clock, never a time zone
        lambda t: _pair(t, {}, {"shift": {NAMES[0]: 3600, NAMES[1]: 7200}}),
        lambda t: _pair(t, {}, {"shift": {NAMES[0]: 3600, NAMES[1]: 3600}}),
        f"{ONLY_TIMES} {CLOCK}"),
    WINDOWS.format(side="official"): (
        lambda t: _pair(t, {"create_system": 0, "mode": 0o100666, "eol": "\r\n"}, {}),
        lambda t: _pair(t, {"mode": 0o100664}, {}),
        "zip host OS MS-DOS/Windows (0); mode -rw-rw-rw-; CRLF line endings"),
    COMPRESSION: (
        lambda t: _pair(t, {"level": 9, "files": BIG}, {"level": 1, "files": BIG}),
        lambda t: _pair(t, {}, {"files": {"demo/__init__.py": "X = 2\n"}}),
        "demo/__init__.py: official"),
    METHOD: (_stored, lambda t: _pair(t, {"level": 9, "files": BIG}, {"level": 1, "files": BIG}),
             "demo-1.0.dist-info/RECORD: official deflated, rebuild stored"),
    ORDER: (lambda t: _pair(t, {}, {"order": NAMES[::-1]}), lambda t: _pair(t, {}, {"date_time": LATER}),
            "a.whl: first at position 0: official has demo/__init__.py, rebuild has demo-1.0.dist-info/RECORD"),
}


def _hints(pair: Pair, cfg: Settings) -> tuple[str, ...]:
    return compare_paths(*pair, cfg, labels=("a.whl", "b.whl")).difference.hints


@pytest.mark.parametrize("cause", list(CASES), ids=[c[:30] for c in CASES])
def test_zip_hint_fires_and_says_what_each_side_has(cause: str, tmp_path: Path, cfg: Settings) -> None:
    positive, _, said = CASES[cause]
    hints = _hints(positive(tmp_path), cfg)
    prefix = f"{ONLY_TIMES} {CLOCK}" if cause == "varying" else cause
    found = [h for h in hints if h.startswith(prefix)]
    assert len(found) == 1 and said in found[0], hints


@pytest.mark.parametrize("cause", list(CASES), ids=[c[:30] for c in CASES])
def test_zip_hint_stays_silent_on_a_look_alike(cause: str, tmp_path: Path, cfg: Settings) -> None:
    _, negative, _ = CASES[cause]
    hints = _hints(negative(tmp_path), cfg)
    prefix = f"{ONLY_TIMES} {TIME_ZONE}" if cause == "varying" else cause
    assert not any(h.startswith(prefix) for h in hints), hints

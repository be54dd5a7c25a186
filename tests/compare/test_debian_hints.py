"""Hints for what Debian rebuilds really hit (docs/hints.md), on packages made as debhelper
makes them (dpkg-gencontrol, gzip -9n, dpkg-deb) and executables built by gcc: each fires
on its pattern, names the member and what each side has, and stays silent on a look-alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fixtures.compare.pairs import gencontrol_deb, stripped_elf
from tests.conftest import require_tool
from verifier.compare.api import compare_paths
from verifier.compare.hints import BuildClock
from verifier.compare.hints_clock import LEAK
from verifier.compare.hints_debian import CHANGELOG, INSTALLED_SIZE, LOWERED, MD5SUMS, RAISED
from verifier.settings import Settings

SDE = 1700000000  # 2023-11-14
REBUILT = 1764450000  # 2025-11-29, "today" in these cases
CLOCK = BuildClock(SDE, REBUILT - 30, REBUILT + 30)
F = "usr/share/demo/f"
Pair = tuple[Path, Path]


def _debs(tmp: Path, a: dict, b: dict, files_a: str = "x" * 3000, files_b: str = "x" * 3000) -> Pair:
    require_tool("dpkg-gencontrol")
    return gencontrol_deb(tmp, "a", {"f": files_a}, **a), gencontrol_deb(tmp, "b", {"f": files_b}, **b)


def _elfs(tmp: Path, a: str, b: str) -> Pair:
    require_tool("gcc")
    src = 'const char *s = "%s"; const long t = %sL; int main(void) { return s[0] + (int)t; }\n'
    return stripped_elf(tmp, "one", src % tuple(a.split("|"))), stripped_elf(tmp, "one-b", src % tuple(b.split("|")))


# cause -> (a pair showing it, a look-alike pair that must not give it, text the hint must hold)
CASES: dict[str, tuple[Callable[[Path], Pair], Callable[[Path], Pair], str]] = {
    CHANGELOG: (lambda t: _debs(t, {"changelog_entries": 5}, {"changelog_entries": 3}),
                lambda t: _debs(t, {}, {"changelog_note": " Fixed."}),
                "usr/share/doc/demo/changelog.Debian.gz: the official one has 12 more lines"),
    INSTALLED_SIZE: (lambda t: _debs(t, {}, {}, files_b="x" * 5000),
                     lambda t: _debs(t, {}, {"substvars": "Installed-Size=99\n"}),
                     "a.deb: official 11 KiB, rebuild 13 KiB"),
    MD5SUMS: (lambda t: _debs(t, {}, {}, files_b="y" * 3000),
              lambda t: _debs(t, {}, {"bad_md5": "usr/share/doc/demo/changelog.Debian.gz"}, files_b="y" * 3000),
              f"a.deb md5sums: official and rebuild differ in the lines of 1 file(s) that differ themselves ({F})"),
    RAISED: (lambda t: _debs(t, {}, {"depends": "libc6 (>= 2.36)"}),
             lambda t: _debs(t, {}, {"depends": "libc6 (>= 2.34), libfoo1 (>= 1.1)"}),
             "a.deb: official libc6 (>= 2.34), rebuild libc6 (>= 2.36)"),
    LOWERED: (lambda t: _debs(t, {}, {"depends": "libc6 (>= 2.28)"}),
              lambda t: _debs(t, {"depends": "libc6 (>= 2.34), libx (>= 1)"}, {"depends": "libc6 (>= 2.36), libx (>= 0.9)"}),
              "official libc6 (>= 2.34), rebuild libc6 (>= 2.28)"),
    LEAK: (lambda t: _debs(t, {}, {}, files_a="Copyright 2023 Foo\n", files_b="Copyright 2025 Foo\n"),
           lambda t: _debs(t, {}, {}, files_a="Copyright 2023 Foo\n", files_b="Copyright 2024 Foo\n"),
           f"{F}: official '2023' (SOURCE_DATE_EPOCH's), rebuild '2025' (the rebuild's)"),
}


def _hints(pair: Pair, cfg: Settings) -> tuple[str, ...]:
    return compare_paths(*pair, cfg, clock=CLOCK).difference.hints


@pytest.mark.parametrize("cause", list(CASES), ids=[c[:24] for c in CASES])
def test_debian_hint_fires_and_names_the_member(cause: str, tmp_path: Path, cfg: Settings) -> None:
    positive, _, said = CASES[cause]
    hints = [h for h in _hints(positive(tmp_path), cfg) if h.startswith(cause)]
    assert len(hints) == 1 and said in hints[0], _hints(positive(tmp_path / "again"), cfg)


@pytest.mark.parametrize("cause", list(CASES), ids=[c[:24] for c in CASES])
def test_debian_hint_stays_silent_on_a_look_alike(cause: str, tmp_path: Path, cfg: Settings) -> None:
    _, negative, _ = CASES[cause]
    hints = _hints(negative(tmp_path), cfg)
    assert not any(h.startswith(cause) for h in hints), hints


def test_a_changelog_trimmed_with_debhelpers_note_is_named(tmp_path: Path, cfg: Settings) -> None:
    """As mawk 1.3.4.20200120-3.1 rebuilt in bookworm: the rebuild's debhelper cut the old
    entries and wrote its note in their place; the note is not an entry of its own."""
    pair = _debs(tmp_path, {"changelog_entries": 5}, {"changelog_entries": 3, "changelog_trimmed": True})
    hints = [h for h in _hints(pair, cfg) if h.startswith(CHANGELOG)]
    assert len(hints) == 1 and "the official one has 12 more lines" in hints[0], _hints(pair, cfg)


def test_the_clock_leak_in_an_elf_constant(tmp_path: Path, cfg: Settings) -> None:
    """An epoch baked into .rodata: SOURCE_DATE_EPOCH in the official, the rebuild's time in the rebuild."""
    a, b = _elfs(tmp_path, f"v1|{SDE}", f"v1|{REBUILT}")
    leak = [h for h in _hints((a, b), cfg) if h.startswith(LEAK)]
    assert len(leak) == 1 and "official 1700000000 (SOURCE_DATE_EPOCH's time, a " in leak[0], leak
    assert "(section .rodata)" in leak[0], "the constant itself, and the code the compiler folded it into"


def test_no_clock_leak_for_another_constant_or_without_a_clock(tmp_path: Path, cfg: Settings) -> None:
    a, b = _elfs(tmp_path, f"v1|{SDE}", f"v1|{SDE + 86400 * 30}")
    assert not any(h.startswith(LEAK) for h in _hints((a, b), cfg))
    a, b = _elfs(tmp_path / "2", f"v1|{SDE}", f"v1|{REBUILT}")
    assert not any(h.startswith(LEAK) for h in compare_paths(a, b, cfg).difference.hints), "no clock: no claim"


def test_the_clock_leak_in_a_c_date_string(tmp_path: Path, cfg: Settings) -> None:
    a, b = _elfs(tmp_path, "built Nov 14 2023|0", "built Nov 29 2025|0")
    leak = [h for h in _hints((a, b), cfg) if h.startswith(LEAK)]
    assert len(leak) == 1 and "official 'Nov 14 2023' (SOURCE_DATE_EPOCH's), rebuild 'Nov 29 2025'" in leak[0], leak


YEAR_SRC = '#include <stdio.h>\nint main(void) { printf("Copyright (C) %d\\n", YEAR); return 0; }\n'


def _year_elfs(tmp: Path, a: int, b: int) -> Pair:
    """As GNU hello 2.10-3 rebuilt in 2026: the year the build ran, an immediate in .text."""
    require_tool("gcc")
    return (stripped_elf(tmp, "one", YEAR_SRC, flags=(f"-DYEAR={a}",)),
            stripped_elf(tmp, "one-b", YEAR_SRC, flags=(f"-DYEAR={b}",)))


def test_the_build_year_as_an_immediate_in_code(tmp_path: Path, cfg: Settings) -> None:
    leak = [h for h in _hints(_year_elfs(tmp_path, 2023, 2025), cfg) if h.startswith(LEAK)]
    assert len(leak) == 1 and "(section .text): official 2023 (SOURCE_DATE_EPOCH's year" in leak[0], leak
    assert "rebuild 2025 (the rebuild's year)" in leak[0]


def test_another_year_in_code_is_not_the_build_clock(tmp_path: Path, cfg: Settings) -> None:
    assert not any(h.startswith(LEAK) for h in _hints(_year_elfs(tmp_path, 2023, 2024), cfg))


def test_compare_takes_the_official_build_time(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`verifier compare --official-build-time`: a date of the official build (not
    SOURCE_DATE_EPOCH's) where the rebuild has its own is the build clock leaking in."""
    from verifier.cli.app import run
    from verifier.errors import ExitCode

    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("built on 2024-02-03\n")
    b.write_text("built on 2025-11-29\n")
    argv = ["compare", str(a), str(b), "--source-date-epoch", str(SDE), "--build-time", f"{REBUILT - 30}:{REBUILT}"]
    assert run(argv) == ExitCode.DIFFERENT
    assert LEAK not in capsys.readouterr().out, "2024-02-03 is neither SOURCE_DATE_EPOCH's date nor known"
    assert run([*argv, "--official-build-time", "1706961600"]) == ExitCode.DIFFERENT  # 2024-02-03 12:00 UTC
    assert "official '2024-02-03' (the official build's), rebuild '2025-11-29'" in capsys.readouterr().out


def test_drift_inside_a_deb_names_the_executable(tmp_path: Path, cfg: Settings) -> None:
    """Two packages whose executable was built from the same code in two build directories:
    the hint names the member inside data.tar, and md5sums is a consequence of it."""
    require_tool("gcc")
    from verifier.compare.hints_debian import DRIFT

    one = stripped_elf(tmp_path, "build-1", "int main(void) { return 3; }\n")
    two = stripped_elf(tmp_path, "build-2", "int main(void) { return 3; }\n")
    a, b = _debs(tmp_path, {"binaries": {"demo": one}}, {"binaries": {"demo": two}})
    hints = _hints((a, b), cfg)
    drift = [h for h in hints if h.startswith(DRIFT)]
    assert len(drift) == 1 and "original: usr/bin/demo: only the ELF build-id and debug links differ" in drift[0], hints
    assert any(h.startswith(MD5SUMS) and "(usr/bin/demo)" in h for h in hints), hints
    assert not any(h.startswith(LEAK) for h in hints), hints

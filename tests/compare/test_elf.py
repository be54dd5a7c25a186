"""ELF read natively: build-id, debug links, the section list, a node per differing section
(streamed digests), diffoscope only for the disassembly; and the toolchain-drift hint."""

from __future__ import annotations

from pathlib import Path

from fixtures.compare.pairs import stripped_elf
from tests.compare.conftest import kinds
from tests.conftest import require_tool
from verifier.compare.api import compare_paths
from verifier.compare.hints_debian import DRIFT
from verifier.settings import Settings

MAIN = "int main(void) { return %d; }\n"
DATED = 'const char *stamp = "%s"; int main(void) { return stamp[0]; }\n'


def _tools() -> None:
    for tool in ("gcc", "objcopy", "strip"):
        require_tool(tool)


def _sections(diff) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.source1.rsplit("(section ", 1)[-1].rstrip(")") for n in kinds(diff, "section")]


def test_only_build_id_and_debuglink_differ_is_toolchain_drift(tmp_path: Path, cfg: Settings) -> None:
    """Same code built in two directories: the debug info differs, so the build-id and the
    debug file's CRC in .gnu_debuglink differ, and nothing else."""
    _tools()
    a, b = stripped_elf(tmp_path, "one", MAIN % 3), stripped_elf(tmp_path, "two", MAIN % 3)
    diff = compare_paths(a, b, cfg).difference
    assert diff.kind == "elf"
    assert _sections(diff) == [".note.gnu.build-id", ".gnu_debuglink"]
    drift = [h for h in diff.hints if h.startswith(DRIFT)]
    assert len(drift) == 1 and f"{a}: only the ELF build-id and debug links differ" in drift[0]
    assert "build-id: official " in drift[0] and "debuglink: official m.debug (crc32 " in drift[0]
    assert not kinds(diff, "diffoscope"), "identical code: no disassembly needed"


def test_a_code_change_is_not_drift_and_is_disassembled(tmp_path: Path, cfg: Settings) -> None:
    _tools()
    require_tool("diffoscope")
    a, b = stripped_elf(tmp_path, "one", MAIN % 3), stripped_elf(tmp_path, "one-b", MAIN % 4)
    result = compare_paths(a, b, cfg)
    diff = result.difference
    assert ".text" in _sections(diff)
    assert not any(h.startswith(DRIFT) for h in diff.hints), diff.hints
    assert kinds(diff, "diffoscope"), "the differing code is disassembled by diffoscope"


def test_a_data_change_beside_the_build_id_is_not_drift(tmp_path: Path, cfg: Settings) -> None:
    _tools()
    a = stripped_elf(tmp_path, "one", DATED % "Nov 14 2023")
    b = stripped_elf(tmp_path, "two", DATED % "Nov 29 2026")
    diff = compare_paths(a, b, cfg).difference
    assert ".rodata" in _sections(diff)
    rodata = next(n for n in kinds(diff, "section") if n.source1.endswith("(section .rodata)"))
    assert "|Nov 14 2023." in rodata.unified_diff and "|Nov 29 2026." in rodata.unified_diff
    assert not any(h.startswith(DRIFT) for h in diff.hints), diff.hints


def test_a_truncated_elf_is_named(tmp_path: Path, cfg: Settings) -> None:
    _tools()
    a = stripped_elf(tmp_path, "one", MAIN % 3)
    b = tmp_path / "cut"
    b.write_bytes(a.read_bytes()[: a.stat().st_size - 100])
    result = compare_paths(a, b, cfg)
    assert any(h.startswith(f"{b} is truncated (ELF)") for h in result.difference.hints), result.difference.hints


def test_garbage_behind_the_elf_magic_is_corrupt_not_a_crash(tmp_path: Path, cfg: Settings) -> None:
    _tools()
    a = stripped_elf(tmp_path, "one", MAIN % 3)
    for i, tail in enumerate((b"\x02\x01\x01" + b"\xff" * 200, b"\x01\x01\x01" + bytes(range(256)) * 4, b"\x02")):
        b = tmp_path / f"bad{i}"
        b.write_bytes(b"\x7fELF" + tail)
        hints = compare_paths(a, b, cfg).difference.hints
        assert any(h.startswith(f"{b} is ") and "(ELF)" in h for h in hints), hints


def test_seeded_header_damage_never_reaches_an_internal_error(tmp_path: Path, cfg: Settings, monkeypatch) -> None:
    """Bytes flipped in the ELF header and the section header table (a fixed seed; 1,500
    rounds ran clean by hand): pyelftools' failures, bogus offsets and sizes included, are
    named (the pair compared as bytes), never an exception out of the comparison."""
    import random

    from elftools.elf.elffile import ELFFile

    from verifier.compare.comparators import elf
    from verifier.errors import ToolMissing

    def no_disassembly(*args: object) -> None:
        raise ToolMissing("diffoscope: off in this test")

    monkeypatch.setattr(elf, "DISASSEMBLY", no_disassembly)
    _tools()
    a = stripped_elf(tmp_path, "one", MAIN % 3)
    data = a.read_bytes()
    with open(a, "rb") as f:
        header = ELFFile(f).header
    table = range(header["e_shoff"], header["e_shoff"] + header["e_shentsize"] * header["e_shnum"])
    rng, bad = random.Random(9), tmp_path / "bad"  # seed 9 reaches a pyelftools seek to a negative offset
    for _ in range(60):
        damaged = bytearray(data)
        for _ in range(rng.choice([1, 2, 4])):
            damaged[rng.choice([rng.randrange(64), rng.choice(table)])] ^= 1 + rng.randrange(255)
        bad.write_bytes(bytes(damaged))
        result = compare_paths(a, bad, cfg)  # raises on anything but a comparison
        assert result.identical == (bytes(damaged) == data)

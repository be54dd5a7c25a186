"""The engine around the comparators: digests first, directories, normalisers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fixtures.compare.pairs import EPOCH, make_tree, tar
from tests.compare.conftest import kinds, tree_text
from verifier.cli.app import run
from verifier.compare import engine
from verifier.compare.api import compare_paths
from verifier.compare.difference import Difference
from verifier.compare.interface import CompareContext, CorruptArchive, Side
from verifier.errors import ExitCode, InputError, LimitExceeded, ToolMissing
from verifier.settings import Settings


def test_same_bytes_are_identical_without_any_comparator(tmp_path: Path, cfg: Settings) -> None:
    a = tmp_path / "a"
    a.write_bytes(b"\x7fELF" + b"\0" * 100)  # would go to diffoscope if it differed
    b = tmp_path / "b"
    b.write_bytes(a.read_bytes())
    result = compare_paths(a, b, cfg)
    assert result.identical and result.difference is None and result.degradations == ()


def test_directories_compare_as_trees(tmp_path: Path, cfg: Settings) -> None:
    a = make_tree(tmp_path / "a", {"x/y.txt": "1\n", "only-a": "a"})
    b = make_tree(tmp_path / "b", {"x/y.txt": "2\n", "only-b": "b"})
    text = tree_text(compare_paths(a, b, cfg).difference)
    assert "-only-a" in text and "+only-b" in text and "x/y.txt" in text


def test_normalisers_never_hide_content(tmp_path: Path, cfg: Settings) -> None:
    a = tar(tmp_path, "a.tar", {"f": "same\n"})
    b = tar(tmp_path, "b.tar", {"f": "same\n"}, mtime=EPOCH + 5)
    same = compare_paths(a, b, cfg, normalizers=("timestamps",))
    assert same.equivalent and same.normalized is not None and same.normalized.normalizers == ("timestamps",)
    c = tar(tmp_path, "c.tar", {"f": "changed\n"}, mtime=EPOCH + 5)
    result = compare_paths(a, c, cfg, normalizers=("timestamps",))
    assert not result.equivalent and result.normalized is not None and result.normalized.equivalent is False
    with pytest.raises(InputError, match="unknown normaliser 'nope'"):
        compare_paths(a, b, cfg, normalizers=("nope",))


def test_a_normaliser_only_removes_what_it_names(tmp_path: Path, cfg: Settings) -> None:
    a = tar(tmp_path, "a.tar", {"f": "same\n"})
    b = tar(tmp_path, "b.tar", {"f": "same\n"}, mtime=EPOCH + 5, extra=("--owner=7",))
    assert not compare_paths(a, b, cfg, normalizers=("timestamps",)).equivalent
    assert compare_paths(a, b, cfg, normalizers=("timestamps", "ownership")).equivalent


def test_cpio_and_pyc_normalisers(tmp_path: Path, cfg: Settings) -> None:
    from fixtures.compare.pairs import cpio, pyc

    a, b = cpio(tmp_path, "a.cpio", {"f": "x\n"}), cpio(tmp_path, "b.cpio", {"f": "x\n"})
    assert compare_paths(a, b, cfg, normalizers=("cpio-inodes",)).equivalent
    c, d = pyc(tmp_path, "c", "x = 1\n"), pyc(tmp_path, "d", "x = 1\n", source_mtime=EPOCH + 1)
    assert compare_paths(c, d, cfg, normalizers=("pyc-header",)).equivalent
    e = pyc(tmp_path, "e", "x = 2\n", source_mtime=EPOCH + 1)
    assert not compare_paths(c, e, cfg, normalizers=("pyc-header",)).equivalent, "the code is still compared"


@pytest.mark.parametrize("size", [0, 1, 4 << 20, (8 << 20) + 10])
def test_identity_is_byte_for_byte_at_every_block_edge(size: int, tmp_path: Path, cfg: Settings) -> None:
    data = bytearray(range(256)) * (size // 256 + 1)
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(bytes(data[:size]))
    b.write_bytes(bytes(data[:size]))
    assert compare_paths(a, b, cfg).identical
    if size:
        changed = bytearray(data[:size])
        changed[-1] ^= 1  # the very last byte, after every full block
        b.write_bytes(bytes(changed))
        assert not compare_paths(a, b, cfg).identical


class Raising:
    """A comparator for files starting with ``BUG!`` that raises what it is given."""

    name = "raising"

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def recognizes(self, head: bytes, side: Side) -> bool:
        return head.startswith(b"BUG!")

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        raise self.exc


def _bug_pair(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"BUG! one")
    b.write_bytes(b"BUG! two")
    return a, b


BUGS = [KeyError("meta"), IndexError("list index out of range"), ValueError("bad value"), TypeError("no"),
        AttributeError("x"), UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), OSError("disk")]


@pytest.mark.parametrize("bug", BUGS, ids=lambda e: type(e).__name__)
def test_a_comparator_bug_is_an_error_not_a_degradation(bug: Exception, tmp_path: Path, cfg: Settings,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "REGISTRY", (Raising(bug), *engine.REGISTRY))
    with pytest.raises(type(bug)):
        compare_paths(*_bug_pair(tmp_path), cfg)


def test_a_comparator_bug_exits_70_in_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(engine, "REGISTRY", (Raising(KeyError("meta")), *engine.REGISTRY))
    a, b = _bug_pair(tmp_path)
    assert run(["compare", str(a), str(b)]) == ExitCode.INTERNAL
    assert "internal error (KeyError" in capsys.readouterr().err


def test_a_budget_hit_ends_the_comparison(tmp_path: Path, cfg: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a degradation: the input is refused with the limit named (exit 2), never a quiet byte diff."""
    monkeypatch.setattr(engine, "REGISTRY", (Raising(LimitExceeded("x: too big")), *engine.REGISTRY))
    with pytest.raises(LimitExceeded, match="x: too big"):
        compare_paths(*_bug_pair(tmp_path), cfg)


@pytest.mark.parametrize("named", [CorruptArchive("x", "bad CRC", "member m"),
                                   ToolMissing("diffoscope is not installed")], ids=lambda e: type(e).__name__)
def test_named_comparator_errors_are_explained_as_bytes(named: Exception, tmp_path: Path, cfg: Settings,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "REGISTRY", (Raising(named), *engine.REGISTRY))
    result = compare_paths(*_bug_pair(tmp_path), cfg)
    assert not result.identical and result.difference.kind == "bytes"
    assert any(str(named) in d for d in result.degradations)
    assert bool(kinds(result.difference, "unreadable")) == isinstance(named, CorruptArchive)


def test_a_missing_tool_is_an_infrastructure_error(tmp_path: Path, cfg: Settings,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Raised by the comparator as ToolMissing (exit 5 wherever it is not caught); the engine
    turns it into a visible degradation and compares the pair as bytes."""
    from verifier.compare.comparators import diffoscope, filesystems

    (tmp_path / "bin").mkdir()  # no tool beside the interpreter nor on PATH
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"%PDF one")
    b.write_bytes(b"%PDF two")
    ctx = CompareContext(cfg, 0, tmp_path, [], engine.compare_sides)
    for comparator in (diffoscope.DiffoscopeComparator(), filesystems.SquashfsContainer()):
        with pytest.raises(ToolMissing) as caught:
            comparator.compare(Side("a", a), Side("b", b), ctx)
        assert caught.value.exit_code == ExitCode.INFRASTRUCTURE and "not installed" in str(caught.value)
    assert any("diffoscope: not installed" in d for d in compare_paths(a, b, cfg).degradations)

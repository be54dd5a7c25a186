"""The auditor on pairs built by real tools: each planted difference found at the right
place, nothing reported for identical inputs, hints on the patterns they claim, and
hostile inputs (bombs, nesting, truncation) degrading to comments, never crashes."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.conftest import require_tool
from verifier.cli.app import run
from verifier.compare.api import compare_paths
from verifier.compare.difference import Difference
from verifier.compare.hints import BuildClock
from verifier.errors import ExitCode, InputError
from verifier.settings import Settings, UnpackLimits

EPOCH = 1700000000


def tree_text(diff: Difference | None) -> str:
    return json.dumps(diff.to_json() if diff else None)


def nodes(diff: Difference) -> list[Difference]:
    return list(diff.walk())


def make_tree(root: Path, files: dict[str, str], mtime: int = EPOCH) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.utime(path, (mtime, mtime))
    for directory in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True) + [root]:
        os.utime(directory, (mtime, mtime))  # directories too: outputs must not depend on the clock
    return root


def tar(tmp: Path, name: str, files: dict[str, str], *, mtime: int = EPOCH, extra: tuple[str, ...] = (),
        compress: str = "") -> Path:
    src = make_tree(tmp / f"{name}-src" / "pkg", files, mtime)
    out = tmp / name
    flags = ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", *extra]
    subprocess.run(["tar", *flags, "-C", str(src.parent), "-cf", str(out.with_suffix(".tmp")), "pkg"], check=True)
    if compress:
        with open(out, "wb") as f:
            subprocess.run([compress, "-c", *(["-n"] if compress == "gzip" else []), str(out.with_suffix(".tmp"))],
                           stdout=f, check=True)
    else:
        shutil.move(out.with_suffix(".tmp"), out)
    return out


@pytest.fixture
def cfg(tmp_path: Path) -> Settings:
    return Settings(cache_dir=tmp_path / "c", work_dir=tmp_path / "w")


def test_identical_inputs_report_nothing(tmp_path: Path, cfg: Settings) -> None:
    a = tar(tmp_path, "a.tar", {"x.txt": "same"})
    b = tar(tmp_path, "b.tar", {"x.txt": "same"})
    result = compare_paths(a, b, cfg)
    assert result.identical and result.difference is None


def test_tar_content_and_mtime_found_at_the_member(tmp_path: Path, cfg: Settings) -> None:
    a = tar(tmp_path, "a.tar", {"x.txt": "one\n", "y.txt": "same\n"})
    b = tar(tmp_path, "b.tar", {"x.txt": "two\n", "y.txt": "same\n"}, mtime=EPOCH + 60)
    diff = compare_paths(a, b, cfg, clock=BuildClock(source_date_epoch=EPOCH)).difference
    content = [n for n in nodes(diff) if n.kind == "content"]
    assert [n.source1 for n in content] == [f"{a}::pkg/x.txt"]
    assert "-one" in content[0].unified_diff and "+two" in content[0].unified_diff
    mtimes = [n for n in nodes(diff) if n.kind == "metadata" and n.source1 == "mtime"]
    assert len(mtimes) >= 2  # x.txt and y.txt (pkg/ too when its creation times differ)
    assert any("SOURCE_DATE_EPOCH" in h for h in diff.hints)
    assert "one side is clamped to SOURCE_DATE_EPOCH and the other is not" in diff.hints


def test_tar_added_removed_renamed_and_order(tmp_path: Path, cfg: Settings) -> None:
    a = tar(tmp_path, "a.tar", {"keep": "k", "old-name": "moved content", "gone": "g"})
    b = tar(tmp_path, "b.tar", {"keep": "k", "new-name": "moved content", "added": "a"})
    text = tree_text(compare_paths(a, b, cfg).difference)
    assert "renamed: pkg/old-name -> pkg/new-name (same content)" in text
    assert "-pkg/gone" in text and "+pkg/added" in text


def test_tar_member_order_and_ownership(tmp_path: Path, cfg: Settings) -> None:
    src = make_tree(tmp_path / "s", {"a": "1", "b": "2"})
    a, b = tmp_path / "a.tar", tmp_path / "b.tar"
    subprocess.run(["tar", "--owner=0", "--group=0", "-C", str(src), "-cf", str(a), "a", "b"], check=True)
    subprocess.run(["tar", "--owner=1000", "--group=1000", "-C", str(src), "-cf", str(b), "b", "a"], check=True)
    diff = compare_paths(a, b, cfg).difference
    kinds = {n.kind for n in nodes(diff)}
    assert "order" in kinds
    fields = {n.source1 for n in nodes(diff) if n.kind == "metadata" and not n.details}
    assert {"uid", "gid"} <= fields
    assert any("member order" in h for h in diff.hints) and any("ownership" in h for h in diff.hints)


def test_gzip_header_mtime_and_name(tmp_path: Path, cfg: Settings) -> None:
    a, b = tmp_path / "a.gz", tmp_path / "b.gz"
    a.write_bytes(gzip.compress(b"payload\n", mtime=0))
    with open(b, "wb") as raw, gzip.GzipFile(filename="named.txt", mode="wb", fileobj=raw, mtime=EPOCH) as f:
        f.write(b"payload\n")
    diff = compare_paths(a, b, cfg).difference
    header = {n.source1: n.unified_diff for n in nodes(diff) if n.kind == "header"}
    assert header["mtime"] == f"-0\n+{EPOCH}\n"
    assert "gzip -n" in " ".join(diff.hints)
    assert not [n for n in nodes(diff) if n.kind == "content"], "the decompressed payloads are equal"


@pytest.mark.parametrize("tool", ["gzip", "xz", "zstd", "bzip2"])
def test_compressed_tars_are_opened(tmp_path: Path, cfg: Settings, tool: str) -> None:
    require_tool(tool)
    a = tar(tmp_path, "a.tar.x", {"f": "left\n"}, compress=tool)
    b = tar(tmp_path, "b.tar.x", {"f": "right\n"}, compress=tool)
    diff = compare_paths(a, b, cfg).difference
    content = [n for n in nodes(diff) if n.kind == "content"]
    assert len(content) == 1 and content[0].source1.endswith("::(decompressed)::pkg/f")


def test_zip_timestamps_extra_and_content(tmp_path: Path, cfg: Settings) -> None:
    a, b = tmp_path / "a.whl", tmp_path / "b.whl"
    with zipfile.ZipFile(a, "w") as z:
        z.writestr(zipfile.ZipInfo("pkg/__init__.py", (2023, 11, 14, 22, 13, 20)), "x = 1\n")
        z.writestr(zipfile.ZipInfo("pkg-1.0.dist-info/RECORD", (2023, 11, 14, 22, 13, 20)), "r\n")
    with zipfile.ZipFile(b, "w") as z:
        z.writestr(zipfile.ZipInfo("pkg/__init__.py", (2026, 1, 2, 3, 4, 6)), "x = 2\n")
        z.writestr(zipfile.ZipInfo("pkg-1.0.dist-info/RECORD", (2023, 11, 14, 22, 13, 20)), "r\n")
    diff = compare_paths(a, b, cfg).difference
    assert any(n.source1 == "date_time" for n in nodes(diff))
    assert [n.source1 for n in nodes(diff) if n.kind == "content"] == [f"{a}::pkg/__init__.py"]


def test_deb_members_are_explained(tmp_path: Path, cfg: Settings) -> None:
    require_tool("dpkg-deb")
    debs = []
    for side, version in (("a", "1.0"), ("b", "1.1")):
        root = tmp_path / side
        (root / "DEBIAN").mkdir(parents=True)
        (root / "DEBIAN" / "control").write_text(
            f"Package: demo\nVersion: {version}\nArchitecture: all\nMaintainer: x <x@example.invalid>\nDescription: d\n")
        make_tree(root / "usr/share/demo", {"data.txt": f"data {version}\n"})
        out = tmp_path / f"{side}.deb"
        env = dict(os.environ, SOURCE_DATE_EPOCH=str(EPOCH))
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(out)],
                       check=True, capture_output=True, env=env)
        debs.append(out)
    diff = compare_paths(*debs, cfg).difference
    text = tree_text(diff)
    assert "control.tar.xz" in text and "data.tar.xz" in text
    assert "-Version: 1.0" in text and "+Version: 1.1" in text
    assert "-data 1.0" in text
    fields = [n for n in nodes(diff) if n.kind == "field"]
    assert [(n.source1, n.unified_diff) for n in fields] == [("Version", "-1.0\n+1.1\n")]
    dup = tmp_path / "dup.deb"
    with open(dup, "wb") as f:  # an ar archive with two data.tar members
        f.write(debs[0].read_bytes())
        tail = debs[0].read_bytes()
        start = tail.index(b"data.tar.xz")
        f.write(tail[start:])
    result = compare_paths(debs[0], dup, cfg)
    assert any("duplicate ar member 'data.tar.xz'" in d for d in result.degradations)


def test_binary_pair_names_offsets(tmp_path: Path, cfg: Settings) -> None:
    data = bytearray(os.urandom(3 << 20))
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(bytes(data))
    data[1_000_000] ^= 0xFF
    data[2_500_000] ^= 0xFF
    b.write_bytes(bytes(data))
    diff = compare_paths(a, b, cfg).difference
    assert diff.kind == "bytes"
    assert "0xf4240-0xf4241" in diff.comments[0] and "0x2625a0-0x2625a1" in diff.comments[0]


def test_text_line_endings_called_out(tmp_path: Path, cfg: Settings) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(b"one\ntwo\n")
    b.write_bytes(b"one\r\ntwo\r\n")
    assert "only line endings differ" in tree_text(compare_paths(a, b, cfg).difference)


def test_truncated_archive_degrades_to_bytes(tmp_path: Path, cfg: Settings) -> None:
    a = tar(tmp_path, "a.tar.gz", {"f": "x" * 100000}, compress="gzip")
    b = tmp_path / "b.tar.gz"
    b.write_bytes(a.read_bytes()[:-200])
    result = compare_paths(a, b, cfg)
    assert not result.identical
    assert result.degradations and "compared as bytes" in result.degradations[0]
    assert result.difference is not None


def test_decompression_bomb_is_bounded(tmp_path: Path) -> None:
    a, b = tmp_path / "a.gz", tmp_path / "b.gz"
    a.write_bytes(gzip.compress(b"\0" * (64 << 20), mtime=0))
    b.write_bytes(gzip.compress(b"\0" * (64 << 20) + b"x", mtime=0))
    tight = Settings(unpack=UnpackLimits(max_ratio=10))
    result = compare_paths(a, b, tight)
    assert any("decompresses past" in d for d in result.degradations)
    assert result.difference is not None and not result.identical


def test_nesting_beyond_the_depth_limit(tmp_path: Path) -> None:
    inner_a, inner_b = tmp_path / "ia", tmp_path / "ib"
    inner_a.write_bytes(gzip.compress(b"a", mtime=0))
    inner_b.write_bytes(gzip.compress(b"b", mtime=0))
    for level in range(4):
        inner_a.write_bytes(gzip.compress(inner_a.read_bytes(), mtime=0))
        inner_b.write_bytes(gzip.compress(inner_b.read_bytes(), mtime=0))
    result = compare_paths(inner_a, inner_b, Settings(unpack=UnpackLimits(max_depth=2)))
    assert any("nesting deeper than 2" in d for d in result.degradations)


def test_normalisers_never_hide_content(tmp_path: Path, cfg: Settings) -> None:
    a = tar(tmp_path, "a.tar", {"f": "same\n"})
    b = tar(tmp_path, "b.tar", {"f": "same\n"}, mtime=EPOCH + 5)
    assert compare_paths(a, b, cfg, normalizers=("timestamps",)).equivalent
    c = tar(tmp_path, "c.tar", {"f": "changed\n"}, mtime=EPOCH + 5)
    result = compare_paths(a, c, cfg, normalizers=("timestamps",))
    assert not result.equivalent and result.normalized["equivalent"] is False
    with pytest.raises(InputError, match="unknown normaliser 'nope'"):
        compare_paths(a, b, cfg, normalizers=("nope",))


def test_directories_compare_as_trees(tmp_path: Path, cfg: Settings) -> None:
    a = make_tree(tmp_path / "a", {"x/y.txt": "1\n", "only-a": "a"})
    b = make_tree(tmp_path / "b", {"x/y.txt": "2\n", "only-b": "b"})
    text = tree_text(compare_paths(a, b, cfg).difference)
    assert "-only-a" in text and "+only-b" in text and "x/y.txt" in text


def test_compare_cli_formats_and_exit_codes(tmp_path: Path, capsys) -> None:
    a = tar(tmp_path, "a.tar", {"f": "1\n"})
    b = tar(tmp_path, "b.tar", {"f": "2\n"})
    assert run(["compare", str(a), str(a)]) == ExitCode.OK
    assert run(["compare", str(a), str(b), "--format", "json", "--output", str(tmp_path / "c.json")]) == ExitCode.DIFFERENT
    assert json.loads((tmp_path / "c.json").read_text())["compare_version"] == 1
    assert run(["compare", "--load", str(tmp_path / "c.json"), "--format", "html", "--output", str(tmp_path / "c.html")]) == 1
    page = (tmp_path / "c.html").read_text()
    assert "<details" in page and "Content-Security-Policy" in page and "http://" not in page.split("<body>")[1]
    capsys.readouterr()
    assert run(["compare", str(a), str(tmp_path / "missing")]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing: no such file" in err


def _elf_pair(tmp_path: Path) -> tuple[Path, Path]:
    require_tool("gcc")
    outs = []
    for side, value in (("a", 1), ("b", 2)):
        src = tmp_path / f"{side}.c"
        src.write_text(f"int main(void) {{ return {value}; }}\n")
        subprocess.run(["gcc", "-O2", "-o", str(tmp_path / side), str(src)], check=True)
        outs.append(tmp_path / side)
    return outs[0], outs[1]


def test_elf_is_explained_by_the_diffoscope_fallback(tmp_path: Path, cfg: Settings) -> None:
    require_tool("diffoscope")
    a, b = _elf_pair(tmp_path)
    result = compare_paths(a, b, cfg)
    assert result.difference.kind == "diffoscope"
    assert any("diffoscope fallback" in d for d in result.degradations)
    assert "a.c" in tree_text(result.difference) and "b.c" in tree_text(result.difference)


def test_missing_diffoscope_is_a_visible_degradation(tmp_path: Path, cfg: Settings, monkeypatch) -> None:
    from verifier.compare.comparators import diffoscope

    a, b = _elf_pair(tmp_path)
    monkeypatch.setattr(diffoscope, "find", lambda name: None)  # a machine without diffoscope
    result = compare_paths(a, b, cfg)
    assert any("diffoscope is not installed" in d for d in result.degradations)
    assert result.difference.kind == "bytes" and "bytes differ at" in tree_text(result.difference)


def test_date_hint_fires_only_on_a_changed_timestamp(tmp_path: Path, cfg: Settings) -> None:
    a, b, c = tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "c.txt"
    a.write_text("name: x\nbuilt: 2026-11-22T12:19:30Z\n")
    b.write_text("name: x\nbuilt: 2026-11-22T12:19:33Z\n")
    c.write_text("name: y\nbuilt: 2026-11-22T12:19:30Z\nold entry 2019-01-01\n")
    assert any("date or time" in h for h in compare_paths(a, b, cfg).difference.hints)
    assert not any("date or time" in h for h in compare_paths(a, c, cfg).difference.hints)


def test_iso9660_members_and_truncation(tmp_path: Path, cfg: Settings) -> None:
    tool = shutil.which("genisoimage") or shutil.which("xorrisofs") or require_tool("genisoimage")
    isos = []
    for side, text in (("a", "one\n"), ("b", "two\n")):
        src = make_tree(tmp_path / f"iso-{side}", {"docs/readme.txt": text, "same.txt": "same\n"})
        out = tmp_path / f"{side}.iso"
        subprocess.run([tool, "-quiet", "-R", "-o", str(out), str(src)], check=True, capture_output=True)
        isos.append(out)
    diff = compare_paths(*isos, cfg).difference
    content = [n for n in nodes(diff) if n.kind == "content"]
    assert [n.source1.split("::")[-1] for n in content] == ["docs/readme.txt"]
    truncated = tmp_path / "t.iso"
    truncated.write_bytes(isos[0].read_bytes()[: 40 * 1024])
    result = compare_paths(isos[0], truncated, cfg)
    assert any("truncated ISO image" in d for d in result.degradations)


def test_squashfs_members(tmp_path: Path, cfg: Settings) -> None:
    require_tool("mksquashfs")
    images = []
    for side, text in (("a", "one\n"), ("b", "two\n")):
        src = make_tree(tmp_path / f"sq-{side}", {"etc/conf": text, "bin/tool": "same\n"})
        (src / "etc" / "link").symlink_to("conf" if side == "a" else "other")
        out = tmp_path / f"{side}.sqfs"
        subprocess.run(["mksquashfs", str(src), str(out), "-quiet", "-noappend", "-all-root", "-mkfs-time", "0",
                        "-all-time", str(EPOCH)], check=True, capture_output=True)
        images.append(out)
    diff = compare_paths(*images, cfg).difference
    text = tree_text(diff)
    assert [n.source1.split("::")[-1] for n in nodes(diff) if n.kind == "content"] == ["etc/conf"]
    assert '"-conf\\n+other\\n"' in text, "the symlink target is compared as metadata"


def _rpm(tmp: Path, release: int, content: str, host: str) -> Path:
    require_tool("rpmbuild")
    top = tmp / f"rpm{release}{host}"
    (top / "SPECS").mkdir(parents=True)
    spec = top / "SPECS" / "demo.spec"
    spec.write_text(f"""Name: demo
Version: 1.0
Release: {release}
Summary: demo
License: MIT
BuildArch: noarch
%description
demo
%install
mkdir -p %{{buildroot}}/usr/share/demo
echo "{content}" > %{{buildroot}}/usr/share/demo/file.txt
%files
/usr/share/demo/file.txt
""")
    subprocess.run(["rpmbuild", "--define", f"_topdir {top}", "--define", f"_buildhost {host}", "-bb", str(spec)],
                   check=True, capture_output=True)
    return next((top / "RPMS" / "noarch").glob("*.rpm"))


def test_rpm_header_fields_and_payload(tmp_path: Path, cfg: Settings) -> None:
    a = _rpm(tmp_path, 1, "content 1", "host-a")
    b = _rpm(tmp_path, 1, "content 2", "host-b")
    diff = compare_paths(a, b, cfg).difference
    fields = {n.source1: n for n in nodes(diff) if n.kind == "field"}
    assert "buildhost" in fields and "volatile tag" in fields["buildhost"].comments[0]
    assert any("BUILDHOST" in h for h in diff.hints)
    content = [n for n in nodes(diff) if n.kind == "content"]
    assert [n.source1.split("::")[-1] for n in content] == ["usr/share/demo/file.txt"]
    result = compare_paths(a, b, cfg, normalizers=("rpm-signature", "rpm-buildinfo"))
    assert not result.equivalent, "normalisers never hide the payload's content change"


def test_corrupt_rpm_degrades_to_bytes(tmp_path: Path, cfg: Settings) -> None:
    a = _rpm(tmp_path, 1, "content 1", "h")
    bad = tmp_path / "bad.rpm"
    bad.write_bytes(a.read_bytes()[:200] + b"\xff" * 300)
    result = compare_paths(a, bad, cfg)
    assert any("rpm comparison failed" in d for d in result.degradations)


GOLDEN = Path(__file__).parent.parent / "fixtures" / "compare" / "expected"


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_golden_output_for_a_release_tarball_pair(tmp_path: Path, monkeypatch, capsys, fmt: str) -> None:
    """The compare output of a fixed pair, reviewed like code (VERIFIER_UPDATE_GOLDEN=1 rewrites it)."""
    monkeypatch.chdir(tmp_path)
    a = tar(tmp_path, "a.tar.gz", {"VERSION": "1.0\n", "src/main.c": "int main(void) { return 0; }\n"},
            compress="gzip")
    b = tar(tmp_path, "b.tar.gz", {"VERSION": "1.0\n", "src/main.c": "int main(void) { return 1; }\n"},
            mtime=EPOCH + 3600, compress="gzip")
    run(["compare", a.name, b.name, "--format", fmt])
    out = capsys.readouterr().out
    golden = GOLDEN / f"tarball-pair.{ 'md' if fmt == 'markdown' else 'txt'}"
    if os.environ.get("VERIFIER_UPDATE_GOLDEN") == "1":
        golden.write_text(out)
    assert out == golden.read_text()


def test_timezone_hint(tmp_path: Path, cfg: Settings) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("generated 2023-11-14 22:13:20\n")
    b.write_text("generated 2023-11-14 23:13:20\n")
    hints = compare_paths(a, b, cfg).difference.hints
    assert any("time zone" in h for h in hints)
    b.write_text("generated 2023-11-14 22:13:27\n")
    assert not any("time zone" in h for h in compare_paths(a, b, cfg).difference.hints)


def test_output_limits_cut_the_display_never_the_result(tmp_path: Path, capsys) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("".join(f"line {i}\n" for i in range(500)))
    b.write_text("".join(f"LINE {i}\n" for i in range(500)))
    code = run(["compare", str(a), str(b), "--format", "markdown", "--max-diff-lines", "5"])
    out = capsys.readouterr().out
    assert code == ExitCode.DIFFERENT and "diff cut to 5 lines" in out
    code = run(["compare", str(a), str(b), "--max-report-bytes", "300"])
    out = capsys.readouterr().out
    assert code == ExitCode.DIFFERENT and "output cut at 300 bytes" in out and len(out.encode()) < 500


def test_member_xattrs_are_compared(tmp_path: Path, cfg: Settings) -> None:
    src = make_tree(tmp_path / "x", {"f": "same\n"})
    archives = []
    for value in (b"one", b"two"):
        try:
            os.setxattr(src / "f", "user.origin", value)
        except OSError:
            pytest.skip("this filesystem has no user xattrs")
        out = tmp_path / f"{value.decode()}.tar"
        subprocess.run(["tar", "--xattrs", "-C", str(src), "-cf", str(out), "f"], check=True)
        archives.append(out)
    diff = compare_paths(*archives, cfg).difference
    fields = {n.source1: n.unified_diff for n in nodes(diff) if n.kind == "metadata" and not n.details}
    assert fields == {"xattr user.origin": "-one\n+two\n"}

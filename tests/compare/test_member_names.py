"""Member names are bytes, not always UTF-8 (issue 14, defect 2): every container format,
built by its real tool with a name that is not UTF-8, is compared without an internal
error; members are paired by their exact bytes and shown with each such byte as \\xNN."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import require_tool
from verifier.cli.app import run
from verifier.errors import ExitCode, InputError
from verifier.sandbox.archive import check_archive, unpack
from verifier.settings import UnpackLimits

NAME = b"n\xe9\xff"  # Latin-1 e-acute then a byte that is never UTF-8
SHOWN = "n\\xe9\\xff"
EPOCH = 1700000000


def tree(root: Path, files: dict[bytes, bytes]) -> Path:
    """Files under ``root`` named by raw bytes, all stamped EPOCH."""
    for name, body in files.items():
        path = os.path.join(os.fsencode(root), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(body)
        os.utime(path, (EPOCH, EPOCH))
    for directory, _, _ in os.walk(os.fsencode(root)):
        os.utime(directory, (EPOCH, EPOCH))
    return root


def gnu_tar(tmp: Path, side: str, files: dict[bytes, bytes]) -> Path:
    src, out = tree(tmp / f"t{side}", files), tmp / f"{side}.tar"
    subprocess.run(["tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "-C", str(src), "-cf",
                    str(out), "."], check=True)
    return out


def cpio_archive(tmp: Path, side: str, files: dict[bytes, bytes]) -> Path:
    require_tool("cpio")
    src, out = tree(tmp / f"c{side}", files), tmp / f"{side}.cpio"
    with open(out, "wb") as f:
        subprocess.run(["cpio", "--quiet", "-o", "-H", "newc", "-R", "0:0"], input=b"".join(n + b"\n" for n in files),
                       stdout=f, cwd=src, check=True)
    return out


def ar_archive(tmp: Path, side: str, files: dict[bytes, bytes]) -> Path:
    src, out = tree(tmp / f"a{side}", files), tmp / f"{side}.a"
    subprocess.run([require_tool("ar"), "rcD", os.fsencode(out), *files], cwd=src, check=True)
    return out


def deb_package(tmp: Path, side: str, files: dict[bytes, bytes]) -> Path:
    root = tree(tmp / f"d{side}", {b"usr/share/demo/" + n: body for n, body in files.items()})
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN" / "control").write_text("Package: demo\nVersion: 1\nArchitecture: all\n"
                                             "Maintainer: x <x@example.invalid>\nDescription: d\n")
    out = tmp / f"{side}.deb"
    subprocess.run([require_tool("dpkg-deb"), "--root-owner-group", "-Zxz", "--build", str(root), str(out)],
                   check=True, capture_output=True, env={**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)})
    return out


def rpm_package(tmp: Path, side: str, files: dict[bytes, bytes]) -> Path:
    """rpmbuild refuses names that are not UTF-8 unless told to only warn."""
    top = tmp / f"r{side}"
    (top / "SPECS").mkdir(parents=True)
    install = "".join(f"printf '%s' '{body.decode()}' > \"%{{buildroot}}/usr/share/demo/$(printf '"
                      + "".join(f"\\{c:03o}" for c in name) + "')\"\n" for name, body in files.items())
    (top / "SPECS" / "demo.spec").write_text(
        "Name: demo\nVersion: 1.0\nRelease: 1\nSummary: demo\nLicense: MIT\nBuildArch: noarch\n%description\ndemo\n"
        f"%install\nmkdir -p %{{buildroot}}/usr/share/demo\n{install}%files\n/usr/share/demo/*\n")
    defines = [f"_topdir {top}", "_invalid_encoding_terminates_build 0", "use_source_date_epoch_as_buildtime 1",
               "clamp_mtime_to_source_date_epoch 1", "_buildhost h"]
    subprocess.run([require_tool("rpmbuild"), *(a for d in defines for a in ("--define", d)), "-bb",
                    str(top / "SPECS" / "demo.spec")], check=True, capture_output=True,
                   env={**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)})
    return next((top / "RPMS" / "noarch").glob("*.rpm"))


def iso_image(tmp: Path, side: str, files: dict[bytes, bytes]) -> Path:
    src, out = tree(tmp / f"i{side}", files), tmp / f"{side}.iso"
    subprocess.run([require_tool("genisoimage"), "-quiet", "-R", "-o", str(out), str(src)], check=True,
                   capture_output=True, env={**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)})
    return out


def squashfs_image(tmp: Path, side: str, files: dict[bytes, bytes]) -> Path:
    src, out = tree(tmp / f"s{side}", files), tmp / f"{side}.sqfs"
    subprocess.run([require_tool("mksquashfs"), str(src), str(out), "-quiet", "-noappend", "-all-root",
                    "-mkfs-time", "0", "-all-time", str(EPOCH)], check=True, capture_output=True)
    return out


def zip_archive(tmp: Path, side: str, files: dict[bytes, bytes], *, utf8_flag: bool = False) -> Path:
    """Python's zipfile cannot write raw names: write a same-length placeholder, then patch
    the bytes in the local header and the central directory."""
    placeholders = {name: ("\u00e9" if utf8_flag else "") + chr(ord("A") + i) * (len(name) - 2 * utf8_flag)
                    for i, name in enumerate(files)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in files.items():
            z.writestr(zipfile.ZipInfo(placeholders[name], (2023, 11, 14, 22, 13, 20)), body)
    data = buffer.getvalue()
    for name, placeholder in placeholders.items():
        encoded = placeholder.encode()
        assert len(encoded) == len(name) and data.count(encoded) == 2
        data = data.replace(encoded, name)
    out = tmp / f"{side}.zip"
    out.write_bytes(data)
    return out


Builder = Callable[[Path, str, dict[bytes, bytes]], Path]
BUILDERS: dict[str, Builder] = {
    "tar": gnu_tar, "cpio": cpio_archive, "ar": ar_archive, "deb": deb_package, "rpm": rpm_package,
    "iso": iso_image, "squashfs": squashfs_image, "zip": zip_archive,
    "zip-flagged-utf8": lambda tmp, side, files: zip_archive(tmp, side, files, utf8_flag=True),
}


def compare(a: Path, b: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = run(["compare", str(a), str(b), *args])
    out, err = capsys.readouterr()
    assert "internal error" not in err and "Traceback" not in err, err
    return code, out


@pytest.mark.parametrize("fmt", BUILDERS)
def test_a_name_that_is_not_utf8_is_compared_and_shown_escaped(fmt: str, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    a = BUILDERS[fmt](tmp_path, "a", {NAME: b"one\n", b"same": b"same\n"})
    b = BUILDERS[fmt](tmp_path, "b", {NAME: b"two\n", b"same": b"same\n"})
    code, out = compare(a, b, capsys)
    assert code == ExitCode.DIFFERENT
    content = [line for line in out.splitlines() if "[content]" in line]
    assert content and all(f"{SHOWN} [content]" in line or f"{SHOWN} ↔ " in line for line in content), out
    assert "degraded" not in out, out  # read as its format, not compared as bytes


def test_rpm_header_names_are_shown_escaped_not_as_hex(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = rpm_package(tmp_path, "a", {NAME: b"same"})
    b = rpm_package(tmp_path, "b", {b"n\xea\xff": b"same"})
    code, out = compare(a, b, capsys, "--format", "json")
    assert code == ExitCode.DIFFERENT
    basenames = next(n for n in _walk(json.loads(out)["difference"]) if n["source1"] == "basenames")
    assert basenames["unified_diff"] == "@@ -1 +1 @@\n-n\\xe9\\xff\n+n\\xea\\xff\n"


def test_names_pair_by_their_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two names that differ only in a byte that is not UTF-8 are two members, not one."""
    a = gnu_tar(tmp_path, "a", {b"n\xe9": b"x\n"})
    b = gnu_tar(tmp_path, "b", {b"n\xea": b"x\n"})
    code, out = compare(a, b, capsys, "--format", "json")
    assert code == ExitCode.DIFFERENT
    listing = next(node for node in _walk(json.loads(out)["difference"]) if node["kind"] == "member")
    assert listing["comments"] == ["renamed: n\\xe9 -> n\\xea (same content)"]


def test_json_and_html_of_such_names_are_valid_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = gnu_tar(tmp_path, "a", {NAME: b"one\n"})
    b = gnu_tar(tmp_path, "b", {NAME: b"two\n"})
    for fmt in ("json", "html", "markdown"):
        out_file = tmp_path / f"out.{fmt}"
        assert compare(a, b, capsys, "--format", fmt, "--output", str(out_file))[0] == ExitCode.DIFFERENT
        text = out_file.read_bytes().decode("utf-8")  # strict: no lone surrogate leaked
        assert SHOWN in text.replace("\\\\", "\\")


def test_directories_with_such_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = tree(tmp_path / "a", {NAME: b"one\n"})
    b = tree(tmp_path / "b", {NAME: b"two\n", b"only\xfe": b"x"})
    code, out = compare(a, b, capsys, "--format", "json")
    assert code == ExitCode.DIFFERENT and "\\ud" not in out  # no lone surrogate escaped into the JSON
    labels = [node["source1"] for node in _walk(json.loads(out)["difference"])]
    assert f"{a}/{SHOWN}" in labels


def _walk(node: dict) -> list[dict]:
    return [node, *(n for child in node.get("details") or [] for n in _walk(child))]


def hostile_tar(path: Path, names: list[bytes]) -> Path:
    """A ustar archive whose names are raw bytes (tarfile writes them with surrogateescape)."""
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT, encoding="utf-8", errors="surrogateescape") as t:
        for name in names:
            info = tarfile.TarInfo(name.decode("utf-8", "surrogateescape"))
            info.size, info.mtime = 3, EPOCH
            t.addfile(info, io.BytesIO(b"abc"))
    return path


def test_the_sandbox_unpacks_such_names_as_their_bytes(tmp_path: Path) -> None:
    archive = hostile_tar(tmp_path / "src.tar", [b"dir/" + NAME])
    dest = tmp_path / "out"
    dest.mkdir()
    assert check_archive(archive, "src.tar", UnpackLimits()) == 1
    assert unpack(archive, "src.tar", dest, UnpackLimits()) == 1
    assert os.listdir(os.fsencode(dest / "dir")) == [NAME]


def test_the_sandbox_names_an_escaping_member_escaped(tmp_path: Path) -> None:
    archive = hostile_tar(tmp_path / "src.tar", [b"../" + NAME + b"\nVERDICT: ok"])
    with pytest.raises(InputError) as caught:
        unpack(archive, "src.tar", tmp_path, UnpackLimits())
    assert str(caught.value) == f"src.tar: member '../{SHOWN}\\x0aVERDICT: ok' escapes the archive root"
    assert not any(tmp_path.parent.glob("n*VERDICT*"))

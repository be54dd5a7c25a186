"""An official build's .buildinfo, as `verifier debian` reads it: its signature checked with
gpgv against the keyring the user names (only the signed text is then read), and the
fields that drive a rebuild read strictly, each problem one ``InputError`` naming the file
and the field.

The signature status is recorded, never dropped: ``verified`` (with the signer),
``not signed``, or ``not checked`` (signed, but no keyring was given).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from debian.deb822 import Deb822

from verifier.errors import InputError, IntegrityError, where
from verifier.packages.lockfile.buildinfo import parse as parse_pins
from verifier.packages.interface import LockedPackage
from verifier.tools import require

MAX_BYTES = 16 << 20
SIGNED = "-----BEGIN PGP SIGNED MESSAGE-----"
VALIDSIG = re.compile(r"^\[GNUPG:\] VALIDSIG (?:\S+ ){9}([0-9A-F]{40})$", re.M)
NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
VERSION = re.compile(r"^[0-9][A-Za-z0-9.+~:-]*$")
BUILD_PATH = re.compile(r"^/build/[A-Za-z0-9._+-]+(/[A-Za-z0-9._+-]+)*$")
VARIABLE = re.compile(r"^(DEB_[A-Z0-9_]+|LANG|LANGUAGE|LC_[A-Z]+|TZ|SOURCE_DATE_EPOCH)$")
VALUE = re.compile(r"^[\x20-\x7e]{0,4096}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Signature:
    status: str  # verified | not signed | not checked
    detail: str  # the signer's fingerprint, or why it was not checked


@dataclass(frozen=True)
class OfficialBuild:
    place: str  # the .buildinfo as the user named it
    source: str
    version: str  # of the source package
    binaries: tuple[str, ...]  # the Binary field
    architectures: tuple[str, ...]  # the Architecture field: all, amd64, source…
    build_architecture: str
    build_path: str | None
    environment: tuple[tuple[str, str], ...]  # the Environment field, allowed names only
    files: tuple[tuple[str, str, int], ...]  # Checksums-Sha256: (name, sha256, size)
    installed: tuple[LockedPackage, ...]  # Installed-Build-Depends
    signature: Signature

    @property
    def source_date_epoch(self) -> int | None:
        value = dict(self.environment).get("SOURCE_DATE_EPOCH")
        return int(value) if value is not None else None


def load(data: bytes, place: str, keyring: Path | None) -> OfficialBuild:
    if len(data) > MAX_BYTES:
        raise InputError(where(place, f"larger than {MAX_BYTES} bytes: not a .buildinfo"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(where(place, f"not UTF-8 text (byte {exc.start})")) from None
    text, signature = _signed_text(text, data, place, keyring)
    return _read(text, place, signature)


def _signed_text(text: str, data: bytes, place: str, keyring: Path | None) -> tuple[str, Signature]:
    signed = text.lstrip().startswith(SIGNED)
    if not signed:
        if keyring is not None:
            raise IntegrityError(where(place, "not signed, but --buildinfo-keyring was given"))
        return text, Signature("not signed", "")
    if keyring is None:
        return text, Signature("not checked", "signed, but no --buildinfo-keyring was given")
    if not keyring.is_file():
        raise InputError(where(keyring, "no such keyring (--buildinfo-keyring)"))
    with tempfile.TemporaryDirectory(prefix="buildinfo-") as tmp:
        raw, out = Path(tmp) / "in.buildinfo", Path(tmp) / "signed.txt"
        raw.write_bytes(data)
        run = subprocess.run([require("gpgv"), "--status-fd", "1", "--keyring", str(keyring.resolve()),
                              "--output", str(out), str(raw)], capture_output=True, text=True, check=False)
        signers = sorted(set(VALIDSIG.findall(run.stdout)))
        if run.returncode != 0 or not signers or not out.is_file():
            raise IntegrityError(where(place, f"bad signature: it does not verify against {keyring}"))
        return out.read_text("utf-8", "replace"), Signature("verified", " ".join(signers))


def _read(text: str, place: str, signature: Signature) -> OfficialBuild:
    try:
        info = Deb822(text.splitlines(keepends=True))  # plain strings: multi-line fields read below
        source = (info.get("Source") or "").split()
        fields = {k: info.get(k) or "" for k in ("Version", "Binary", "Architecture", "Build-Architecture",
                                                  "Build-Path", "Environment", "Checksums-Sha256")}
    except (ValueError, KeyError, AttributeError, TypeError) as exc:
        raise InputError(where(place, f"not a valid buildinfo: {exc}")) from None
    if not source or not NAME.match(source[0]):
        raise InputError(where(place, "field Source: missing or not a source package name"))
    version = source[1].strip("()") if len(source) > 1 else fields["Version"].strip()
    if not VERSION.match(version):
        raise InputError(where(place, f"field Version: {version!r} is not a Debian version"))
    binaries = tuple(fields["Binary"].split())
    if not binaries or not all(NAME.match(b) for b in binaries):
        raise InputError(where(place, "field Binary: missing or not package names"))
    return OfficialBuild(
        place=place, source=source[0], version=version, binaries=binaries,
        architectures=tuple(fields["Architecture"].split()),
        build_architecture=_architecture(fields["Build-Architecture"], place),
        build_path=_build_path(fields["Build-Path"].strip(), place), environment=_environment(fields["Environment"], place),
        files=_files(fields["Checksums-Sha256"], place), installed=parse_pins(text, place).packages,
        signature=signature)


def _architecture(value: str, place: str) -> str:
    value = value.strip() or "amd64"
    if not re.fullmatch(r"[a-z0-9-]+", value):
        raise InputError(where(place, f"field Build-Architecture: {value!r} is not an architecture"))
    return value


def _build_path(value: str, place: str) -> str | None:
    if not value:
        return None
    if not BUILD_PATH.match(value) or "/../" in value + "/" or "/./" in value + "/" or value.count("/") < 3:
        raise InputError(where(place, f"field Build-Path: {value!r} is not a directory two levels under /build"))
    return value


def _environment(value: str, place: str) -> tuple[tuple[str, str], ...]:
    found = []
    for line in value.splitlines():
        line = line.strip()
        if not line:
            continue
        name, sep, quoted = line.partition("=")
        text = quoted[1:-1] if len(quoted) >= 2 and quoted[0] == quoted[-1] == '"' else quoted
        if not sep or not VARIABLE.match(name):
            continue  # variables a rebuild does not take over (PATH, HOME…) are not read
        if not VALUE.match(text):
            raise InputError(where(place, f"field Environment: {name} has an unprintable or overlong value"))
        if name == "SOURCE_DATE_EPOCH" and not text.isdigit():
            raise InputError(where(place, f"field Environment: SOURCE_DATE_EPOCH={text!r} is not a number"))
        found.append((name, text))
    return tuple(found)


def _files(value: str, place: str) -> tuple[tuple[str, str, int], ...]:
    files = []
    for line in value.splitlines():
        words = line.split()
        if not words:
            continue
        if len(words) != 3 or not SHA256.match(words[0]) or not words[1].isdigit() or "/" in words[2]:
            raise InputError(where(place, f"field Checksums-Sha256: malformed line {line.strip()[:80]!r}"))
        files.append((words[2], words[0], int(words[1])))
    return tuple(files)

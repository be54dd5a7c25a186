"""The archive's signed chain, read from the apt lists a build used: the InRelease file
(checked again here with gpgv against the Debian archive keyring: its digest, date and
signing keys are recorded), the Packages index it names by digest, and each installed
package's .deb digest from that index.

apt already refused anything unsigned or not matching while building; this module
re-checks the chain and writes down what it rests on.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from verifier.environments.lock import InstalledPackage, ReleaseRecord
from verifier.errors import InfrastructureError, IntegrityError, where
from verifier.digests import digest_file
from verifier.tools import require

KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
VALIDSIG = re.compile(r"^\[GNUPG:\] VALIDSIG (?:\S+ ){9}([0-9A-F]{40})$", re.M)


@dataclass(frozen=True)
class Indexed:
    """A Packages entry: the .deb the signed index names for (name, version, architecture)."""

    sha256: str
    filename: str


def sha256_file(path: Path) -> str:
    return digest_file(path).sha256


def the_one(lists: Path, suffix: str) -> Path:
    found = sorted(p for p in lists.iterdir() if p.name.endswith(suffix) and p.is_file())
    if len(found) != 1:
        raise InfrastructureError(where(lists, f"expected one *{suffix} in the build's apt lists, found {len(found)}"))
    return found[0]


def release_record(lists: Path, keyring: Path = KEYRING) -> ReleaseRecord:
    """The InRelease apt used, verified again with gpgv: digest, Date, signing keys."""
    inrelease = the_one(lists, "_InRelease")
    if not keyring.is_file():
        raise InfrastructureError(where(keyring, "the archive keyring is missing (install debian-archive-keyring)"))
    run = subprocess.run([require("gpgv"), "--status-fd", "1", "--keyring", str(keyring), str(inrelease)],
                         capture_output=True, text=True, check=False)
    signers = tuple(sorted(set(VALIDSIG.findall(run.stdout))))
    if not signers:
        raise IntegrityError(where(inrelease.name, f"no valid signature from a key in {keyring}"))
    return ReleaseRecord("InRelease", sha256_file(inrelease), _field(inrelease, "Date"), signers, str(keyring))


def _field(path: Path, name: str) -> str:
    text = path.read_text("utf-8", "replace")
    match = re.search(rf"^{name}: (.+)$", text, re.M)
    if match is None:
        raise IntegrityError(where(path.name, f"no {name} field"))
    return match.group(1).strip()


def packages_index(lists: Path) -> dict[tuple[str, str, str], Indexed]:
    """The Packages index, after checking its digest is the one the InRelease file lists."""
    inrelease, packages = the_one(lists, "_InRelease"), the_one(lists, "_Packages")
    digest = sha256_file(packages)
    signed = inrelease.read_text("utf-8", "replace").split("\nSHA256:", 1)[-1]
    if not re.search(rf"^ {digest} +\d+ \S+/Packages$", signed, re.M):
        raise IntegrityError(where(packages.name, "its sha256 is not one the signed InRelease lists"))
    index: dict[tuple[str, str, str], Indexed] = {}
    with open(packages, encoding="utf-8", errors="replace") as f:
        fields: dict[str, str] = {}
        for line in f:
            if line == "\n":
                _add(index, fields)
                fields = {}
            elif not line.startswith((" ", "\t")):
                key, _, value = line.partition(":")
                if key in ("Package", "Version", "Architecture", "SHA256", "Filename"):
                    fields[key] = value.strip()
        _add(index, fields)
    return index


def _add(index: dict[tuple[str, str, str], Indexed], fields: dict[str, str]) -> None:
    if {"Package", "Version", "Architecture", "SHA256"} <= fields.keys():
        key = (fields["Package"], fields["Version"], fields["Architecture"])
        index[key] = Indexed(fields["SHA256"], fields.get("Filename", ""))


def installed_packages(status_lines: str, index: dict[tuple[str, str, str], Indexed],
                       native: str) -> tuple[InstalledPackage, ...]:
    """dpkg-query's NAME<TAB>VERSION<TAB>ARCH lines with each .deb's digest from the index."""
    found: list[InstalledPackage] = []
    for line in status_lines.splitlines():
        if not line.strip():
            continue
        name, version, arch = line.split("\t")
        entry = index.get((name, version, arch)) or index.get((name, version, native if arch == "all" else arch))
        if entry is None:
            raise IntegrityError(f"{name}={version} ({arch}): installed, but the signed Packages index does not list it")
        found.append(InstalledPackage(name, version, arch, entry.sha256))
    return tuple(sorted(found, key=lambda p: (p.name, p.architecture)))

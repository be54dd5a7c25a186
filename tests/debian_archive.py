"""A small Debian archive on disk, signed with a throw-away OpenPGP key made by gpg: a
``demo`` source package (native, with a debian/changelog), its binary ``demo_1.0_all.deb``,
and index entries for what `verifier debian` adds to an environment. Tests tamper with
it after signing."""

from __future__ import annotations

import hashlib
import lzma
import os
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

CHANGELOG = """demo (1.0) unstable; urgency=medium

  * Initial release.

 -- Demo Maintainer <demo@example.invalid>  Tue, 14 Nov 2023 22:13:20 +0000
"""


@dataclass(frozen=True)
class FakeArchive:
    root: Path
    keyring: Path  # the archive's key
    gnupg: Path  # GNUPGHOME holding the secret key (for signing .buildinfo files too)

    @property
    def url(self) -> str:
        return self.root.as_uri()

    def sign(self, text: str, dest: Path, home: Path | None = None) -> Path:
        dest.with_suffix(".in").write_text(text)
        subprocess.run(["gpg", "--batch", "--yes", "--clearsign", "-o", str(dest), str(dest.with_suffix(".in"))],
                       check=True, capture_output=True, env={**os.environ, "GNUPGHOME": str(home or self.gnupg)})
        return dest

    def resign(self, packages: bytes | None = None) -> None:
        """Write the indexes (Packages replaced when given) and a new signed InRelease."""
        dists = self.root / "dists" / "bookworm"
        if packages is not None:
            (dists / "main/binary-amd64/Packages.xz").write_bytes(lzma.compress(packages))
        lines = ["Origin: Demo", "Suite: bookworm", "Date: Sat, 11 Jul 2026 10:16:37 UTC", "SHA256:"]
        for rel in ("main/source/Sources.xz", "main/binary-amd64/Packages.xz"):
            data = (dists / rel).read_bytes()
            lines.append(f" {hashlib.sha256(data).hexdigest()} {len(data)} {rel}")
        self.sign("\n".join(lines) + "\n", dists / "InRelease")


def make_key(home: Path, name: str) -> Path:
    home.mkdir(mode=0o700, parents=True)
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(["gpg", "--batch", "--passphrase", "", "--quick-gen-key", f"{name} <{name}@example.invalid>",
                    "ed25519", "sign", "never"], check=True, capture_output=True, env=env)
    keyring = home.parent / f"{name}.gpg"
    keyring.write_bytes(subprocess.run(["gpg", "--export"], check=True, capture_output=True, env=env).stdout)
    return keyring


def entry(path: Path) -> str:
    data = path.read_bytes()
    return f"{hashlib.sha256(data).hexdigest()} {len(data)}"


def packages_text(root: Path, deb_sha: str | None = None) -> bytes:
    deb = root / "pool/main/d/demo/demo_1.0_all.deb"
    sha, size = entry(deb).split()
    paragraphs = [f"Package: demo\nVersion: 1.0\nArchitecture: all\nFilename: pool/main/d/demo/demo_1.0_all.deb\n"
                  f"Size: {size}\nSHA256: {deb_sha or sha}\n"]
    for name, version in (("build-essential", "12.9"), ("fakeroot", "1.31-1.2"), ("make", "4.3-4.1")):
        paragraphs.append(f"Package: {name}\nVersion: {version}\nArchitecture: amd64\n"
                          f"Filename: pool/main/x/{name}_{version}_amd64.deb\nSize: 10\nSHA256: {'0' * 64}\n")
    return "\n".join(paragraphs).encode()


def build(tmp: Path) -> FakeArchive:
    root = tmp / "archive"
    pool = root / "pool/main/d/demo"
    pool.mkdir(parents=True)
    tree = tmp / "demo-1.0" / "debian"
    tree.mkdir(parents=True)
    (tree / "changelog").write_text(CHANGELOG)
    with tarfile.open(pool / "demo_1.0.tar.xz", "w:xz") as tar:
        tar.add(tmp / "demo-1.0", arcname="demo-1.0")
    (pool / "demo_1.0.dsc").write_text(f"Source: demo\nVersion: 1.0\nChecksums-Sha256:\n "
                                       f"{entry(pool / 'demo_1.0.tar.xz')} demo_1.0.tar.xz\n")
    (pool / "demo_1.0_all.deb").write_bytes(b"!<arch>\nnot really a deb\n")
    sources = (f"Package: demo\nBinary: demo\nVersion: 1.0\nDirectory: pool/main/d/demo\nChecksums-Sha256:\n"
               f" {entry(pool / 'demo_1.0.dsc')} demo_1.0.dsc\n {entry(pool / 'demo_1.0.tar.xz')} demo_1.0.tar.xz\n")
    dists = root / "dists" / "bookworm"
    (dists / "main/source").mkdir(parents=True)
    (dists / "main/binary-amd64").mkdir(parents=True)
    (dists / "main/source/Sources.xz").write_bytes(lzma.compress(sources.encode()))
    home = tmp / "gnupg"
    archive = FakeArchive(root, make_key(home, "archive"), home)
    archive.resign(packages_text(root))
    return archive


def buildinfo(archive: FakeArchive, *, source: str = "demo (1.0)", binary: str = "demo",
              deb_sha: str | None = None, extra: str = "") -> str:
    pool = archive.root / "pool/main/d/demo"
    sha, size = entry(pool / "demo_1.0_all.deb").split()
    return (f"Format: 1.0\nSource: {source}\nBinary: {binary}\nArchitecture: all\nVersion: 1.0\n"
            f"Checksums-Sha256:\n {entry(pool / 'demo_1.0.dsc')} demo_1.0.dsc\n {deb_sha or sha} {size} demo_1.0_all.deb\n"
            f"Build-Architecture: amd64\nBuild-Path: /build/reproducible-path/demo-1.0\n"
            f"Installed-Build-Depends:\n make (= 4.3-4.1)\nEnvironment:\n DEB_BUILD_OPTIONS=\"parallel=2\"\n"
            f" SOURCE_DATE_EPOCH=\"1700000000\"\n{extra}")

"""Formats from their magic numbers: the one place that says what a file is."""

from __future__ import annotations

import struct
from pathlib import Path, PurePosixPath

HEAD_BYTES = 8192
COMPRESSIONS = (
    ("gzip", b"\x1f\x8b"),
    ("xz", b"\xfd7zXZ\x00"),
    ("zstd", b"\x28\xb5\x2f\xfd"),
    ("bzip2", b"BZh"),
)
SUFFIXES = {".gz": "gzip", ".tgz": "gzip", ".xz": "xz", ".txz": "xz", ".zst": "zstd", ".bz2": "bzip2",
            ".zip": "zip", ".whl": "zip", ".jar": "zip", ".tar": "tar", ".deb": "deb", ".rpm": "rpm",
            ".cpio": "cpio", ".iso": "iso9660", ".pyc": "pyc"}  # names as compare's comparators name formats
RPM_MAGIC = b"\xed\xab\xee\xdb"
ELF_MAGIC = b"\x7fELF"
PYC_FLAGS = (0, 1, 3)  # PEP 552: bit 0 hash-based, bit 1 checked
OTHER_MAGICS = (ELF_MAGIC, b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\xca\xfe\xba\xbe",
                b"SQLite format 3\x00", b"MZ", b"\x00asm")  # diffoscope's (ELF: for its disassembly only)
ISO_PVD = 0x8000


def head(path: Path, size: int = HEAD_BYTES) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def compression(data: bytes) -> str | None:
    """libarchive's filter name for a compressed stream starting with ``data``, or None."""
    return next((name for name, magic in COMPRESSIONS if data.startswith(magic)), None)


def compression_of(path: Path) -> str | None:
    return compression(head(path, 8))


def is_tar(data: bytes) -> bool:
    return len(data) > 262 and data[257:262] == b"ustar"


def is_cpio(data: bytes) -> bool:
    return data[:6] in (b"070701", b"070702", b"070707") or data[:2] in (b"\xc7\x71", b"\x71\xc7")


def is_ar(data: bytes) -> bool:
    return data.startswith(b"!<arch>\n")


def is_deb(data: bytes) -> bool:
    return is_ar(data) and data[8:24].startswith(b"debian-binary")


def is_rpm(data: bytes) -> bool:
    return data.startswith(RPM_MAGIC)


def is_zip(data: bytes) -> bool:
    """A zip from its start: a local header, an empty zip, or (omni.ja) the central directory
    first. A zip behind a stub (self-extracting) is found from its end by compare's zipdir."""
    return data.startswith((b"PK\x03\x04", b"PK\x05\x06")) or data[4:8] == b"PK\x01\x02"


def is_squashfs(data: bytes) -> bool:
    return data.startswith(b"hsqs")


def is_pyc(data: bytes) -> bool:
    """Python 3 bytecode: a magic number from 3000 to 3999, CR LF, PEP 552 flags 0, 1 or 3."""
    if len(data) < 16 or data[2:4] != b"\r\n":
        return False
    magic, flags = struct.unpack_from("<H2xI", data)
    return 3000 <= magic < 4000 and flags in PYC_FLAGS


def is_elf(data: bytes) -> bool:
    return data.startswith(ELF_MAGIC)


def is_other_known(data: bytes) -> bool:
    """ELF, PDF, PNG, JPEG, GIF, Java class, SQLite, PE, WebAssembly."""
    return data.startswith(OTHER_MAGICS)


def iso_volume_bytes(path: Path) -> int | None:
    """The size an ISO 9660 image declares in its primary volume descriptor, or None."""
    with open(path, "rb") as f:
        f.seek(ISO_PVD)
        pvd = f.read(2048)
    if len(pvd) < 2048 or pvd[1:6] != b"CD001":
        return None
    (blocks,) = struct.unpack_from("<I", pvd, 80)
    (block_size,) = struct.unpack_from("<H", pvd, 128)
    return blocks * block_size


def claimed(name: str) -> str | None:
    """The format a file's name says it is (``x.tar.gz``: gzip): a claim, never a finding."""
    return SUFFIXES.get(PurePosixPath(name).suffix.lower())

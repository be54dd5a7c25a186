"""A Debian binary package's control paragraph, read in-process with bounds.

The one reader of .deb control fields: the offline repository (identity checks and the
``Packages`` index), ``verifier lock`` and the deb comparator all use it. The ar archive
and the control tarball are opened with explicit format and filter names; a second
``control.tar`` member is refused (python-debian would silently take the last one).
"""

from __future__ import annotations

from pathlib import Path

import libarchive
import libarchive.exception

from verifier.errors import InputError, LimitExceeded, where
from verifier.formats.reading import member_name, text
from verifier.printable import one_line

MAX_CONTROL_TAR = 16 << 20
MAX_CONTROL = 1 << 20
IDENTITY = ("Package", "Version", "Architecture")
FILTERS = {"control.tar": "none", "control.tar.gz": "gzip", "control.tar.xz": "xz", "control.tar.zst": "zstd",
           "control.tar.bz2": "bzip2", "control.tar.lzma": "lzma"}


class UnreadableDeb(InputError):
    """The file is not a Debian package this reader accepts: ``place`` says where."""

    def __init__(self, label: str, reason: str, place: str) -> None:
        self.label, self.reason, self.place = label, reason, place
        super().__init__(where(label, f"not a valid Debian package ({place}): {reason}"))


def _read(entry: libarchive.ArchiveEntry, limit: int, what: str, label: str) -> bytes:
    data = bytearray()
    for block in entry.get_blocks():
        data += block
        if len(data) > limit:
            raise LimitExceeded(where(label, f"{what} is larger than {limit >> 20} MiB; refused"))
    return bytes(data)


def _control_tar(deb: Path, label: str) -> tuple[str, bytes]:
    found: tuple[str, bytes] | None = None
    with libarchive.file_reader(str(deb), format_name="ar", filter_name="none") as archive:
        for entry in archive:
            name = text(member_name(entry))  # bytes, not always UTF-8
            if not name.startswith("control.tar"):
                continue
            if found is not None:
                raise UnreadableDeb(label, f"second control member '{one_line(name)}'; refused", "ar members")
            if name not in FILTERS:
                raise UnreadableDeb(label, f"'{one_line(name)}' has an unknown compression", "ar members")
            found = name, _read(entry, MAX_CONTROL_TAR, name, label)
    if found is None:
        raise UnreadableDeb(label, "no control.tar member", "ar members")
    return found


def _control_file(member: str, data: bytes, label: str) -> bytes:
    try:
        with libarchive.memory_reader(data, format_name="tar", filter_name=FILTERS[member]) as archive:
            for entry in archive:
                if member_name(entry).removeprefix(b"./") == b"control" and entry.isfile:
                    return _read(entry, MAX_CONTROL, f"{member}::control", label)
    except libarchive.exception.ArchiveError as exc:
        raise UnreadableDeb(label, " ".join(str(exc.msg).split()), member) from None
    raise UnreadableDeb(label, "no control file", f"{member} members")


def control_fields(deb: Path, label: str) -> dict[str, str]:
    """The control paragraph of a .deb (``Package``, ``Version``, ``Architecture``, …);
    continuation lines keep their leading space, as in a ``Packages`` index."""
    from debian.deb822 import Deb822  # 40 ms to import: loaded when a .deb is met, not at start-up

    try:
        member, data = _control_tar(deb, label)
    except libarchive.exception.ArchiveError as exc:
        raise UnreadableDeb(label, " ".join(str(exc.msg).split()), "ar members") from None
    text = _control_file(member, data, label).decode("utf-8", "replace")
    return dict(Deb822(text.splitlines(keepends=True)))


def identity(fields: dict[str, str], label: str) -> tuple[str, str, str]:
    """(Package, Version, Architecture) of a control paragraph; each must be present."""
    values = tuple(fields.get(key, "").strip() for key in IDENTITY)
    for key, value in zip(IDENTITY, values):
        if not value:
            raise UnreadableDeb(label, f"control field {key} is missing or empty", "control")
    return values[0], values[1], values[2]

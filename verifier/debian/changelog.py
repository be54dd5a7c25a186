"""SOURCE_DATE_EPOCH as dpkg-buildpackage derives it: the date of the newest entry of
``debian/changelog``, read from the source package's files as data (libarchive, explicit
format and filter; a budget on what is read), never unpacked on the host."""

from __future__ import annotations

import gzip
import re
import zlib
from email.utils import parsedate_to_datetime
from pathlib import Path

import libarchive.exception

from verifier.errors import InputError, where
from verifier.formats.reading import member_name, open_archive

FILTERS = {".xz": "xz", ".gz": "gzip", ".bz2": "bzip2", ".zst": "zstd", ".lzma": "lzma"}
MAX_CHANGELOG = 1 << 20
MAX_MEMBERS = 100_000
TRAILER = re.compile(r"^ -- .*?>  ?(\S.*)$", re.M)


def source_date_epoch(files: dict[str, Path], place: str) -> int:
    """``files``: the source package's file names (as the .dsc names them) and cache paths."""
    ordered = sorted(files, key=lambda n: (".debian.tar." not in n, ".diff." not in n, n))
    for name in ordered:
        text = _changelog(name, files[name])
        if text is not None:
            return _epoch(text, f"{name}: debian/changelog")
    raise InputError(where(place, "no debian/changelog in the source package's files"))


def _changelog(name: str, path: Path) -> str | None:
    if name.endswith(".diff.gz"):
        return _from_diff(path, name)
    filter_name = next((f for ext, f in FILTERS.items() if name.endswith(".tar" + ext)), None)
    if filter_name is None:
        return None
    try:
        with open_archive(path, "tar", filter_name) as archive:
            for count, entry in enumerate(archive):
                if count > MAX_MEMBERS:
                    break
                parts = member_name(entry).split(b"/")
                if parts[-2:] == [b"debian", b"changelog"] and len(parts) <= 3 and entry.isfile:
                    return _bounded(entry.get_blocks(), name)
    except libarchive.exception.ArchiveError as exc:
        raise InputError(where(name, f"cannot read the source archive ({exc.msg})")) from None
    return None


def _bounded(blocks, name: str) -> str:
    data = b""
    for block in blocks:
        data += block
        if len(data) > MAX_CHANGELOG:
            break
    return data[:MAX_CHANGELOG].decode("utf-8", "replace")


def _from_diff(path: Path, name: str) -> str | None:
    """A 1.0 source's .diff.gz: the added lines of the debian/changelog hunk."""
    lines, inside = [], False
    try:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("+++ "):
                    inside = line.split()[1].endswith("/debian/changelog")
                elif inside and line.startswith("+"):
                    lines.append(line[1:])
                    if len(lines) > 10_000:
                        break
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(where(name, f"cannot read the diff ({exc})")) from None
    return "".join(lines) or None


def _epoch(text: str, place: str) -> int:
    match = TRAILER.search(text)
    if match is None:
        raise InputError(where(place, "no trailer line (' -- NAME <EMAIL>  DATE') in the newest entry"))
    try:
        return int(parsedate_to_datetime(match.group(1).strip()).timestamp())
    except (TypeError, ValueError, IndexError) as exc:
        raise InputError(where(place, f"the newest entry's date {match.group(1)[:60]!r} is not a date ({exc})")) from None

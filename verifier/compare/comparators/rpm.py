"""RPM packages: header tags compared field by field (read with rpmfile, wrapped), volatile
tags labelled as such, then the payload (a compressed cpio archive) copied out from its
offset and compared one level deeper like any compressed archive."""

from __future__ import annotations

import shutil
import struct
from dataclasses import dataclass
from typing import Any

import rpmfile
from rpmfile.errors import RPMError

from verifier.compare.difference import Difference
from verifier.compare.interface import CompareContext, CorruptArchive, Side, TruncatedArchive
from verifier.compare.regular import open_regular
from verifier.digests import CHUNK
from verifier.formats import sniff
from verifier.printable import one_line

MAX_VALUE = 2000
SIGNATURE_TAGS = {"sigmd5", "sha1header", "sha256header", "md5", "sha1", "sha256", "rsaheader", "dsaheader", "pgp",
                  "gpg", "payloaddigest", "payloaddigestalt", "loaddigestalt", "siggpg", "sigpgp", "size",
                  "payloadsize", "archivesize", "longsigsize", "longarchivesize"}
VOLATILE = SIGNATURE_TAGS | {"buildtime", "buildhost", "cookie"}
SKIPPED = {"headerimmutable", "headerimage", "headersignatures", "headerregions"}
NAME_TAGS = {"basenames", "dirnames", "filelinktos", "fileusername", "filegroupname", "filelangs", "requirename",
             "providename", "conflictname", "obsoletename", "name", "version", "release"}  # names: bytes, not hex


def _value(v: Any, names: bool = False) -> str:
    """A tag's value as text: a name (``names``) with bytes that are not UTF-8 and control
    characters escaped, one per line; other bytes as text when printable UTF-8, else hex."""
    if isinstance(v, bytes):
        try:
            text = v.decode("utf-8")
            text = text if text.isprintable() else one_line(v) if names else v.hex()
        except UnicodeDecodeError:
            text = one_line(v) if names else v.hex()
    elif isinstance(v, (list, tuple)):
        text = "\n".join(_value(x, names) for x in v)
    else:
        text = one_line(v) if names else str(v)
    return text[:MAX_VALUE * 50]


def headers(side: Side) -> tuple[dict[str, str], int]:
    """Tag name -> printable value, and the payload's offset. rpmfile's own exceptions
    (struct.error, UnicodeDecodeError, bare asserts: it has no error type for bad input)
    become a CorruptArchive at the boundary of the one call into it."""
    try:
        with open_regular(side.path, side.label) as f, rpmfile.RPMFile(fileobj=f) as rpm:
            tags = {str(k).lower(): _value(v, str(k).lower() in NAME_TAGS) for k, v in rpm.headers.items()
                    if isinstance(k, str)}
            offset = int(rpm.data_offset)
    except (RPMError, AssertionError, struct.error, UnicodeDecodeError, ValueError, KeyError, IndexError, TypeError,
            EOFError, OSError) as exc:
        detail = " ".join(str(exc).split())[:200]
        raise CorruptArchive(side.label, f"rpmfile cannot read it ({type(exc).__name__}{': ' if detail else ''}"
                             f"{detail})", "RPM lead and headers") from None
    size = side.path.stat().st_size
    if offset > size:
        raise TruncatedArchive(side.label, f"the headers end at byte {offset}, past the end of the file ({size} bytes)",
                               "RPM headers")
    return tags, offset


def _payload(side: Side, offset: int, ctx: CompareContext) -> Side:
    dest = ctx.new_temp_file()
    with open_regular(side.path, side.label) as f, open(dest, "wb") as out:
        f.seek(offset)
        shutil.copyfileobj(f, out, CHUNK)
    return Side(f"{side.label}::(payload)", dest)


def _tag(name: str, a: str | None, b: str | None) -> Difference | None:
    if a == b:
        return None
    diff = Difference.from_text(a or "", b or "", name, name, kind="field")
    if diff is not None and name in VOLATILE:
        return Difference(name, name, ("volatile tag: expected to differ between builds unless normalised",),
                          diff.unified_diff, kind="field")
    return diff


@dataclass(frozen=True)
class RpmComparator:
    name: str = "rpm"

    def recognizes(self, head: bytes, side: Side) -> bool:
        return sniff.is_rpm(head)

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        (ta, oa), (tb, ob) = headers(a), headers(b)
        names = sorted((set(ta) | set(tb)) - SKIPPED)
        fields = Difference.from_details(f"{a.label} (header)", f"{b.label} (header)",
                                         [_tag(n, ta.get(n), tb.get(n)) for n in names], kind="header")
        payload = ctx.compare_files(_payload(a, oa, ctx), _payload(b, ob, ctx))
        return Difference.from_details(a.label, b.label, [fields, payload])

"""Debian binary packages: the ar members (duplicates refused: python-debian would silently
take the last data.tar), the control fields compared one by one (parsed with
python-debian's Deb822), then control.tar and data.tar compared member by member."""

from __future__ import annotations

from dataclasses import dataclass

import libarchive

from verifier.compare.comparators.archives import LibarchiveContainer
from verifier.compare.difference import Difference
from verifier.compare.comparators.libarchive_errors import reading
from verifier.compare.interface import CompareContext, CorruptArchive, Side, UnreadableInput
from verifier.sandbox.archive import filter_of

MAX_CONTROL = 1 << 20
AR = LibarchiveContainer("ar", "ar")


def _ar_members(side: Side) -> list[str]:
    with reading(side, "ar"), libarchive.file_reader(str(side.path), format_name="ar", filter_name="none") as archive:
        names = [entry.pathname for entry in archive]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UnreadableInput(side.label, f"duplicate ar member {duplicates[0]!r}; refused", "ar members")
    return names


def _control_tar(side: Side, ctx: CompareContext) -> Side | None:
    dest = ctx.new_temp_file()
    with reading(side, "ar"), libarchive.file_reader(str(side.path), format_name="ar", filter_name="none") as archive:
        for entry in archive:
            if entry.pathname.startswith("control.tar"):
                with open(dest, "wb") as out:
                    for block in entry.get_blocks():
                        out.write(block)
                return Side(f"{side.label}::{entry.pathname}", dest)
    return None


def control_fields(side: Side, ctx: CompareContext) -> dict[str, str]:
    from debian.deb822 import Deb822  # imported when a .deb is met: keeps start-up fast

    tar = _control_tar(side, ctx)
    if tar is None:
        raise CorruptArchive(side.label, "no control.tar member", "ar members")
    compression = filter_of(tar.path) or "none"
    with reading(tar, "tar", compression), \
            libarchive.file_reader(str(tar.path), format_name="tar", filter_name=compression) as archive:
        for entry in archive:
            if entry.pathname.removeprefix("./") == "control":
                data = b"".join(entry.get_blocks())[: MAX_CONTROL]
                return dict(Deb822(data.decode("utf-8", "replace").splitlines(keepends=True)))
    raise CorruptArchive(tar.label, "no control file", "control.tar members")


@dataclass(frozen=True)
class DebComparator:
    name: str = "deb"

    def recognizes(self, head: bytes, side: Side) -> bool:
        return head.startswith(b"!<arch>\n") and head[8:24].startswith(b"debian-binary")

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        _ar_members(a), _ar_members(b)
        fa, fb = control_fields(a, ctx), control_fields(b, ctx)
        fields = Difference.from_details(
            f"{a.label} (control fields)", f"{b.label} (control fields)",
            [Difference.field(k, fa.get(k), fb.get(k)) for k in sorted(set(fa) | set(fb))], kind="header")
        members = AR.compare(a, b, ctx)
        return Difference.from_details(a.label, b.label, [fields, *(members.details if members else ())])

"""Debian binary packages: the ar members (duplicates refused: python-debian would silently
take the last data.tar), the control fields compared one by one (read by the one .deb
control reader, verifier/packages/deb.py), then control.tar and data.tar compared member
by member."""

from __future__ import annotations

from dataclasses import dataclass, replace

from verifier.compare.comparators.archives import LibarchiveContainer, name_of
from verifier.compare.comparators.deb_size import FIELD, installed_size_note
from verifier.compare.comparators.libarchive_errors import reading
from verifier.compare.difference import Difference
from verifier.compare.interface import CompareContext, CorruptArchive, Side, UnreadableInput
from verifier.formats import sniff
from verifier.formats.reading import open_archive
from verifier.packages.deb import UnreadableDeb, control_fields
from verifier.printable import one_line

AR = LibarchiveContainer("ar", "ar")


def _ar_members(side: Side) -> list[str]:
    with reading(side, "ar"), open_archive(side.path, "ar") as archive:
        names = [name_of(entry) for entry in archive]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UnreadableInput(side.label, f"duplicate ar member '{one_line(duplicates[0])}'; refused", "ar members")
    return names


def _control_fields(side: Side) -> dict[str, str]:
    try:
        return control_fields(side.path, side.label)
    except UnreadableDeb as exc:
        raise CorruptArchive(exc.label, exc.reason, exc.place) from None


def _field(key: str, a: Side, b: Side, fa: dict[str, str], fb: dict[str, str], ctx: CompareContext) -> Difference | None:
    """One control field; a differing Installed-Size says whether each side's files add up to it."""
    node = Difference.field(key, fa.get(key), fb.get(key))
    note = installed_size_note(a, b, fa, fb, ctx) if node is not None and key == FIELD else None
    return replace(node, comments=(note,)) if node is not None and note else node


@dataclass(frozen=True)
class DebComparator:
    name: str = "deb"

    def recognizes(self, head: bytes, side: Side) -> bool:
        return sniff.is_deb(head)

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        _ar_members(a), _ar_members(b)
        fa, fb = _control_fields(a), _control_fields(b)
        fields = Difference.from_details(
            f"{a.label} (control fields)", f"{b.label} (control fields)",
            [_field(k, a, b, fa, fb, ctx) for k in sorted(set(fa) | set(fb))], kind="header")
        members = AR.compare(a, b, ctx)
        return Difference.from_details(a.label, b.label, [fields, *(members.details if members else ())])

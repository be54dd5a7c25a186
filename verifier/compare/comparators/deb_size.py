"""A .deb's Installed-Size as dpkg-gencontrol computes it from the files it packs: each
regular file or symlink in 1 KiB units rounded up (a hard link counted once), anything
else (directories) 1 KiB, over data.tar and the DEBIAN/ files as they were when it ran.
Recomputed (streamed, within the unpack budget, sparse maps checked first) only when the
two sides' fields differ: if the field differs by exactly as much as the files do, it
differs only as a consequence of them."""

from __future__ import annotations

import libarchive

from verifier.compare.comparators.compressed import decompress
from verifier.compare.comparators.libarchive_errors import reading
from verifier.compare.interface import CompareContext, Side
from verifier.formats.reading import Budget, member_name, open_archive, text
from verifier.formats.tar_scan import sparse_maps_of

COMPRESSIONS = {"": "none", ".gz": "gzip", ".xz": "xz", ".zst": "zstd", ".bz2": "bzip2"}  # as compressed.py reads them
FILTERS = {f"{tar}{suffix}": name for tar in ("data.tar", "control.tar") for suffix, name in COMPRESSIONS.items()}
WRITTEN_LATER = {"control", "md5sums"}  # written into DEBIAN/ after dpkg-gencontrol adds up the sizes
FIELD = "Installed-Size"


def _kib(size: int) -> int:
    return (size + 1023) // 1024


def _tars(side: Side, ctx: CompareContext) -> list[tuple[Side, str]]:
    """data.tar and control.tar copied out of the ar archive to synthetic temp paths, within the unpack budget."""
    budget = Budget(side.path, side.label, ctx.settings.unpack, ctx.stop)
    found = []
    with reading(side, "ar"), open_archive(side.path, "ar") as archive:
        for entry in archive:
            name = text(member_name(entry))
            if name in FILTERS:
                dest = ctx.new_temp_file()
                with open(dest, "wb") as out:
                    for block in entry.get_blocks():
                        budget.grow(len(block))
                        out.write(block)
                found.append((Side(f"{side.label}::{name}", dest), FILTERS[name]))
    return found


def _entry_kib(entry: libarchive.ArchiveEntry) -> int:
    if entry.islnk:
        return 0  # a hard link: its file is counted once
    if entry.isreg:
        return _kib(entry.size or 0)
    if entry.issym:
        return _kib(len(entry.linkpath or ""))
    return 1


def _tar_kib(tar: Side, control: bool, ctx: CompareContext) -> int:
    """The sum over one plain tar, read with the same budget as a comparison (sparse maps
    checked before libarchive builds them, declared sizes, member count)."""
    budget = Budget(tar.path, tar.label, ctx.settings.unpack, ctx.stop)
    budget.declared_maps(sparse_maps_of(tar.path))
    total = 0
    with reading(tar, "tar"), open_archive(tar.path, "tar") as archive:
        for entry in archive:
            budget.member(entry)
            later = control and text(member_name(entry)).removeprefix("./") in WRITTEN_LATER
            total += 0 if later else _entry_kib(entry)
    return total


def computed_kib(side: Side, ctx: CompareContext) -> int:
    """dpkg-gencontrol's sum over the package's files: data.tar, and the DEBIAN/ directory as it
    was when the sum was made (control.tar without control and md5sums)."""
    total = 0
    for tar, filter_name in _tars(side, ctx):
        copies = [tar.path]  # removed now (the comparison's temp dir goes only at its end)
        try:
            plain = tar
            if filter_name != "none":
                plain = decompress(tar, filter_name, ctx)
                copies.append(plain.path)
            total += _tar_kib(plain, tar.label.rsplit("::", 1)[-1].startswith("control.tar"), ctx)
        finally:
            for path in copies:
                path.unlink(missing_ok=True)
    return total


def installed_size_note(a: Side, b: Side, fa: dict[str, str], fb: dict[str, str], ctx: CompareContext) -> str | None:
    """A comment for a differing Installed-Size: whether it differs by as much as the files do."""
    declared = fa.get(FIELD, "").strip(), fb.get(FIELD, "").strip()
    if declared[0] == declared[1] or not all(d.isdigit() for d in declared):
        return None
    ca, cb = computed_kib(a, ctx), computed_kib(b, ctx)
    if int(declared[1]) - int(declared[0]) == cb - ca:
        return (f"{FIELD} differs by as much as the packaged files do (they add up to {ca} and {cb} KiB): "
                "a consequence of those files")
    return f"{FIELD} differs by more or less than the packaged files do (they add up to {ca} and {cb} KiB)"

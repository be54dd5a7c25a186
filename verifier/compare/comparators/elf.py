"""ELF executables, libraries and objects, read natively: the header fields, the GNU
build-id and the debug links (``.gnu_debuglink``, ``.gnu_debugaltlink``), the section list
with sizes, then every section compared by a streamed sha256 (a node per differing
section, with its first differing byte runs shown as hex and text), and the bytes no
section covers. When a section holding code differs, diffoscope's disassembly is grafted
in (its absence is a comment and a degradation, never a silent drop)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from verifier.compare.comparators.diffoscope import run_diffoscope
from verifier.compare.difference import Difference
from verifier.compare.interface import CompareContext, CorruptArchive, Side, ToolFailed, TruncatedArchive
from verifier.compare.regular import open_regular
from verifier.errors import ToolMissing
from verifier.formats import sniff
from verifier.formats.elf import ElfInfo, ElfUnreadable, Section, chunks, digest, outside_sections, read_elf
from verifier.printable import one_line

MAX_RUNS = 16  # differing byte runs shown per section
GAP = 8  # runs closer than this are one run
WINDOW = 64  # the most bytes shown of one run
OUTSIDE = "(ELF headers and bytes outside sections)"
DISASSEMBLY = run_diffoscope

SectionKey = tuple[str, int]


def _read(side: Side, f: BinaryIO) -> ElfInfo:
    try:
        return read_elf(f, side.path.stat().st_size)
    except ElfUnreadable as exc:
        kind = TruncatedArchive if exc.truncated else CorruptArchive
        raise kind(side.label, exc.reason, "ELF") from None


def _keyed(info: ElfInfo) -> dict[SectionKey, Section]:
    seen: Counter[str] = Counter()
    out = {}
    for s in info.sections:
        out[(s.name, seen[s.name])] = s
        seen[s.name] += 1
    return out


def _header(a: Side, b: Side, ia: ElfInfo, ib: ElfInfo) -> Difference | None:
    fields = [Difference.field(k, ia.header.get(k), ib.header.get(k), kind="header")
              for k in sorted(set(ia.header) | set(ib.header))]
    fields += [Difference.field("build-id", ia.build_id, ib.build_id, kind="header"),
               Difference.field("debuglink", ia.debuglink, ib.debuglink, kind="header"),
               Difference.field("debugaltlink", ia.debugaltlink, ib.debugaltlink, kind="header")]
    return Difference.from_details(f"{a.label} (ELF header)", f"{b.label} (ELF header)", fields, kind="header")


def _listing(a: Side, b: Side, ka: dict[SectionKey, Section], kb: dict[SectionKey, Section]) -> Difference | None:
    def line(s: Section) -> str:
        return f"{one_line(s.name)} {s.type} {s.memory_size} bytes"

    la, lb = [line(s) for s in ka.values()], [line(s) for s in kb.values()]
    return Difference.from_text("\n".join(la), "\n".join(lb), f"{a.label} (ELF sections)", f"{b.label} (ELF sections)",
                                kind="member", comment="the section list (name, type, size)")


def _differing(x: bytes, y: bytes) -> Iterator[int]:
    """Indexes where two blocks of one length differ, skipping equal 64-byte slices fast."""
    for base in range(0, len(x), 64):
        if x[base:base + 64] != y[base:base + 64]:
            yield from (base + i for i in range(min(64, len(x) - base)) if x[base + i] != y[base + i])


def _runs(fa: BinaryIO, fb: BinaryIO, sa: Section, sb: Section) -> Iterator[tuple[int, int]]:
    """(start, end) of differing byte runs within two sections of one size, streamed."""
    start = end = -1
    at = 0
    for x, y in zip(chunks(fa, sa.offset, sa.size), chunks(fb, sb.offset, sb.size)):
        if x != y:
            for i in _differing(x, y):
                if start >= 0 and at + i - end >= GAP:
                    yield start, end
                    start = -1
                if start < 0:
                    start = at + i
                end = at + i + 1
        at += len(x)
    if start >= 0:
        yield start, end


def _printable(c: int) -> bool:
    return 32 <= c < 127


def _extent(f: BinaryIO, s: Section, start: int, end: int) -> tuple[int, int]:
    """The run widened to 8-byte alignment (integers) and to the printable text around it."""
    lo, hi = start & ~7, min(s.size, (end + 7) & ~7, start + WINDOW)
    f.seek(s.offset + max(0, lo - WINDOW))
    before = f.read(lo - max(0, lo - WINDOW))
    while before and _printable(before[-1]):
        before, lo = before[:-1], lo - 1
    f.seek(s.offset + hi)
    after = f.read(min(WINDOW, s.size - hi))
    return lo, hi + next((i for i, c in enumerate(after) if not _printable(c)), len(after))


def _window(fa: BinaryIO, fb: BinaryIO, sa: Section, sb: Section, start: int, end: int) -> tuple[int, bytes, bytes]:
    """One range around a run, the same on both sides, and each side's bytes there."""
    (la, ha), (lb, hb) = _extent(fa, sa, start, end), _extent(fb, sb, start, end)
    lo, hi = min(la, lb), max(ha, hb)
    fa.seek(sa.offset + lo)
    fb.seek(sb.offset + lo)
    return lo, fa.read(hi - lo), fb.read(hi - lo)


def _shown(offset: int, data: bytes) -> str:
    text = "".join(chr(c) if 32 <= c < 127 else "." for c in data)
    return f"0x{offset:x}: {data.hex()} |{text}|"


def _section_diff(a: Side, b: Side, fa: BinaryIO, fb: BinaryIO, sa: Section, sb: Section) -> Difference:
    name = one_line(sa.name)
    la, lb = f"{a.label} (section {name})", f"{b.label} (section {name})"
    if sa.size != sb.size:
        return Difference(la, lb, (f"section {name}: {sa.size} bytes in the first, {sb.size} in the second",),
                          kind="section")
    lines, runs = [], 0
    for start, end in _runs(fa, fb, sa, sb):
        runs += 1
        if runs > MAX_RUNS:
            break
        lo, xa, xb = _window(fa, fb, sa, sb, start, end)
        lines += [f"-{_shown(lo, xa)}", f"+{_shown(lo, xb)}"]
    counted = f"more than {MAX_RUNS} differing byte runs, the first {MAX_RUNS} shown" if runs > MAX_RUNS else \
        f"{runs} differing byte run(s)"
    comments = (f"section {name}: {counted}",)
    return Difference(la, lb, comments, "\n".join(lines) + "\n", kind="section")


def _sections(a: Side, b: Side, fa: BinaryIO, fb: BinaryIO, ia: ElfInfo, ib: ElfInfo) -> list[Difference]:
    ka, kb = _keyed(ia), _keyed(ib)
    found: list[Difference | None] = [_listing(a, b, ka, kb)]
    for key in (k for k in ka if k in kb):
        sa, sb = ka[key], kb[key]
        if sa.size != sb.size or digest(fa, sa.offset, sa.size) != digest(fb, sb.offset, sb.size):
            found.append(_section_diff(a, b, fa, fb, sa, sb))
    if outside_sections(fa, ia) != outside_sections(fb, ib):
        found.append(Difference(f"{a.label} {OUTSIDE}", f"{b.label} {OUTSIDE}",
                                ("the ELF, program or section headers, or bytes between sections, differ",), kind="section"))
    return [d for d in found if d is not None]


def code_differs(ia: ElfInfo, diffs: list[Difference]) -> bool:
    code = {f"(section {one_line(s.name)})" for s in ia.sections if s.executable}
    return any(d.kind == "section" and any(d.source1.endswith(c) for c in code) for d in diffs)


def _disassembly(a: Side, b: Side, ctx: CompareContext) -> Difference:
    try:
        found = DISASSEMBLY(a, b)
    except (ToolMissing, ToolFailed) as exc:
        note = ctx.degrade(f"{a.label}: code differs; no disassembly ({exc})")
        return Difference(a.label, b.label, (note,), kind="diffoscope")
    if found is None:
        return Difference(a.label, b.label, ("diffoscope found no difference in the code",), kind="diffoscope")
    ctx.degrade(f"{a.label}: code that differs disassembled by diffoscope")
    return Difference(a.label, b.label, ("disassembled by diffoscope",), None, found.details or (found,), kind="diffoscope")


@dataclass(frozen=True)
class ElfComparator:
    name: str = "elf"

    def recognizes(self, head: bytes, side: Side) -> bool:
        return sniff.is_elf(head)

    def compare(self, a: Side, b: Side, ctx: CompareContext) -> Difference | None:
        with open_regular(a.path, a.label) as fa, open_regular(b.path, b.label) as fb:
            ia, ib = _read(a, fa), _read(b, fb)
            try:
                sections = _sections(a, b, fa, fb, ia, ib)
            except ElfUnreadable as exc:
                raise TruncatedArchive(a.label, exc.reason, "ELF sections") from None
        details = [_header(a, b, ia, ib), *sections]
        if code_differs(ia, sections):
            details.append(_disassembly(a, b, ctx))
        return Difference.from_details(a.label, b.label, details, kind="elf")

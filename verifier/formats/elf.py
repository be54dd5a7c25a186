"""ELF files read natively (pyelftools for the headers): the section list with offsets and
sizes, the GNU build-id and the debug links, and streamed digests of each section's bytes
and of the bytes no section covers (ELF, program and section headers, padding). Nothing
is loaded whole: section bytes are read in blocks from their offsets."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from elftools.common.exceptions import ELFError, ELFParseError
from elftools.elf.elffile import ELFFile

BLOCK = 1 << 20
SMALL = 4096  # the most read of a build-id note or a debug link section
MAX_SECTIONS = 65535
NOBITS = "SHT_NOBITS"
EXECINSTR = 0x4  # SHF_EXECINSTR
DEBUG_LINKS = (".gnu_debuglink", ".gnu_debugaltlink")
NUL = b"\0"
BUILD_ID_NOTE = 3  # NT_GNU_BUILD_ID
# pyelftools builds typed sections (hash tables, symbol tables) from bogus offsets too: a seek to a
# negative offset is an OSError (EINVAL) there
ELF_ERRORS = (ELFError, ELFParseError, struct.error, ValueError, KeyError, AssertionError, UnicodeDecodeError,
              OSError, OverflowError)


class ElfUnreadable(Exception):
    """The file contradicts the ELF format (``reason``), ``truncated`` when it ends too early."""

    def __init__(self, reason: str, truncated: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.truncated = reason, truncated


@dataclass(frozen=True)
class Section:
    name: str
    type: str
    offset: int
    size: int  # bytes in the file (0 for SHT_NOBITS, which holds none)
    memory_size: int  # sh_size as the header says
    executable: bool


@dataclass(frozen=True)
class ElfInfo:
    header: dict[str, str]  # class, byte order, type, machine, entry point
    sections: tuple[Section, ...]
    build_id: str | None
    debuglink: str | None  # "NAME (crc32 XXXXXXXX)"
    debugaltlink: str | None  # "NAME (build-id HEX)"
    file_size: int


def chunks(f: BinaryIO, offset: int, size: int) -> Iterator[bytes]:
    """``size`` bytes from ``offset``, in blocks."""
    f.seek(offset)
    left = size
    while left > 0:
        block = f.read(min(BLOCK, left))
        if not block:
            raise ElfUnreadable(f"ends inside the bytes at offset {offset}", truncated=True)
        left -= len(block)
        yield block


def digest(f: BinaryIO, offset: int, size: int) -> str:
    h = hashlib.sha256()
    for block in chunks(f, offset, size):
        h.update(block)
    return h.hexdigest()


def _small(f: BinaryIO, section: Section) -> bytes:
    f.seek(section.offset)
    return f.read(min(section.size, SMALL))


def _build_id(data: bytes, little: bool) -> str | None:
    """The GNU build-id from a note section's bytes (namesz, descsz, type, "GNU\\0", desc)."""
    order = "<" if little else ">"
    at = 0
    while at + 12 <= len(data):
        namesz, descsz, kind = struct.unpack_from(f"{order}III", data, at)
        name_end = at + 12 + ((namesz + 3) & ~3)
        desc = data[name_end:name_end + descsz]
        if kind == BUILD_ID_NOTE and data[at + 12:at + 12 + namesz].rstrip(b"\0") == b"GNU":
            return desc.hex()
        at = name_end + ((descsz + 3) & ~3)
    return None


def _debuglink(data: bytes, little: bool, alt: bool) -> str:
    name, _, rest = data.partition(b"\0")
    text = name.decode("utf-8", "replace")
    if alt:
        return f"{text} (build-id {rest.lstrip(NUL).hex()})"
    tail = data[-4:] if len(data) >= 4 else b"\0\0\0\0"
    (crc,) = struct.unpack("<I" if little else ">I", tail)
    return f"{text} (crc32 {crc:08x})"


def _sections(elf: ELFFile, file_size: int) -> tuple[Section, ...]:
    if elf.num_sections() > MAX_SECTIONS:
        raise ElfUnreadable(f"{elf.num_sections()} sections (more than {MAX_SECTIONS})")
    found = []
    for s in elf.iter_sections():
        size = 0 if s["sh_type"] == NOBITS else s["sh_size"]
        if s["sh_offset"] + size > file_size:
            raise ElfUnreadable(f"section {s.name!r} ends at {s['sh_offset'] + size}, past the file's "
                                f"{file_size} bytes", truncated=True)
        found.append(Section(s.name, str(s["sh_type"]), s["sh_offset"], size, s["sh_size"],
                             bool(s["sh_flags"] & EXECINSTR)))
    return tuple(found)


def _check_table(f: BinaryIO, file_size: int) -> None:
    """A file cut short loses its section header table (at the end, where linkers put it)."""
    f.seek(0)
    ident = f.read(64)
    wide, order = ident[4:5] == b"\2", "<" if ident[5:6] == b"\1" else ">"
    if len(ident) < (64 if wide else 52):
        raise ElfUnreadable(f"{file_size} bytes, shorter than an ELF header", truncated=True)
    (shoff,) = struct.unpack_from(order + ("Q" if wide else "I"), ident, 0x28 if wide else 0x20)
    entsize, count = struct.unpack_from(order + "HH", ident, 0x3A if wide else 0x2E)
    if shoff + entsize * count > file_size:
        raise ElfUnreadable(f"the section header table ends at {shoff + entsize * count}, past the file's "
                            f"{file_size} bytes", truncated=True)


def read_elf(f: BinaryIO, file_size: int) -> ElfInfo:
    """Headers, sections, build-id and debug links of the ELF file open as ``f``."""
    _check_table(f, file_size)
    try:
        elf = ELFFile(f)
        sections = _sections(elf, file_size)
        header = {"class": f"ELF{elf.elfclass}", "byte order": "little" if elf.little_endian else "big",
                  "type": str(elf["e_type"]), "machine": str(elf["e_machine"]), "entry point": hex(elf["e_entry"])}
        little = elf.little_endian
    except ELF_ERRORS as exc:
        raise ElfUnreadable(f"not a readable ELF file: {exc}") from None
    named = {s.name: s for s in sections}
    notes = [s for s in sections if s.type == "SHT_NOTE"]
    build_id = next((b for b in (_build_id(_small(f, s), little) for s in notes) if b), None)
    links = [_debuglink(_small(f, named[n]), little, n == DEBUG_LINKS[1]) if n in named else None for n in DEBUG_LINKS]
    return ElfInfo(header, sections, build_id, links[0], links[1], file_size)


def outside_sections(f: BinaryIO, info: ElfInfo) -> str:
    """sha256 of every byte no section holds (headers, tables, padding), in file order."""
    covered = sorted((s.offset, s.offset + s.size) for s in info.sections if s.size)
    h = hashlib.sha256()
    at = 0
    for start, end in [*covered, (info.file_size, info.file_size)]:
        if start > at:
            for block in chunks(f, at, start - at):
                h.update(block)
        at = max(at, end)
    return h.hexdigest()

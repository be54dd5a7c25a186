"""The comparator registry: plain ordered data, specific before generic, binary last."""

from __future__ import annotations

from verifier.compare.comparators.archives import LibarchiveContainer
from verifier.compare.comparators.binary import BinaryComparator
from verifier.compare.comparators.compressed import CompressedStream
from verifier.compare.comparators.deb import DebComparator
from verifier.compare.comparators.diffoscope import DiffoscopeComparator
from verifier.compare.comparators.elf import ElfComparator
from verifier.compare.comparators.filesystems import Iso9660Container, SquashfsContainer
from verifier.compare.comparators.pyc import PycComparator
from verifier.compare.comparators.rpm import RpmComparator
from verifier.compare.comparators.text import TextComparator
from verifier.compare.comparators.zip import ZipComparator
from verifier.compare.interface import Comparator
from verifier.formats.sniff import COMPRESSIONS

REGISTRY: tuple[Comparator, ...] = (
    RpmComparator(),
    DebComparator(),
    LibarchiveContainer("ar", "ar"),
    ZipComparator(),
    Iso9660Container(),
    SquashfsContainer(),
    LibarchiveContainer("cpio", "cpio"),
    LibarchiveContainer("tar", "tar"),
    *(CompressedStream(name, magic, name) for name, magic in COMPRESSIONS),
    PycComparator(),
    ElfComparator(),  # native: build-id, debug links, sections; diffoscope only for the disassembly
    DiffoscopeComparator(),  # only formats with no native comparator (PDF, images, …)
    TextComparator(),
    BinaryComparator(),
)
FALLBACK: Comparator = REGISTRY[-1]

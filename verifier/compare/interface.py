"""What a comparator is, the context the engine hands it, and the errors it may raise.

A comparator translates its library's exceptions (libarchive, zlib, lzma, bz2, struct,
rpmfile, zipfile…) at its boundary into ``UnreadableInput`` (or its kinds
``CorruptArchive``, ``TruncatedArchive``), naming the file, the place and the reason; an
external tool that is missing or fails raises ``ToolMissing`` or ``ToolFailed``. The
engine catches exactly these (``COMPARATOR_ERRORS``) and explains the pair as bytes. A
budget hit raises ``LimitExceeded``, which ends the whole comparison (exit 2, the message
naming the limit and ``--unpack-limit``); any other exception is a bug in verifier and
propagates.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from verifier.compare.difference import Difference
from verifier.errors import InfrastructureError, InputError, ToolMissing
from verifier.formats.sniff import HEAD_BYTES
from verifier.settings import Settings

__all__ = ["HEAD_BYTES", "COMPARATOR_ERRORS", "Comparator", "CompareContext", "CorruptArchive", "Side",
           "ToolFailed", "TruncatedArchive", "UnreadableInput"]


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a host file (perhaps a synthetic temp path) and its label."""

    label: str  # member names are labels only, never host paths
    path: Path


Recurse = Callable[[Side, Side, "CompareContext"], "Difference | None"]


class UnreadableInput(InputError):
    """One side of a pair cannot be read as the format it was recognised as: ``label`` names
    the file (a member path after ``::``), ``place`` where (a member, an offset), ``reason``
    what the library said."""

    condition = "unreadable"

    def __init__(self, label: str, reason: str, place: str = "") -> None:
        self.label, self.reason, self.place = label, " ".join(reason.split()), " ".join(place.split())
        where = f" ({self.place})" if self.place else ""
        super().__init__(f"{label} is {self.condition}{where}: {self.reason}")


class CorruptArchive(UnreadableInput):
    """The bytes contradict the format: a bad checksum, a damaged header, an offset nowhere."""

    condition = "corrupt"


class TruncatedArchive(CorruptArchive):
    """The file ends before the format says it does."""

    condition = "truncated"


class ToolFailed(InfrastructureError):
    """An external tool a comparator runs (diffoscope, unsquashfs) timed out or crashed."""


COMPARATOR_ERRORS = (UnreadableInput, ToolMissing, ToolFailed)


class Comparator(Protocol):
    name: str

    def recognizes(self, head: bytes, side: Side) -> bool: ...

    def compare(self, a: Side, b: Side, ctx: "CompareContext") -> Difference | None: ...


@dataclass
class CompareContext:
    settings: Settings
    depth: int
    tempdir: Path
    degradations: list[str]
    recurse: Recurse
    counter: itertools.count = field(default_factory=itertools.count)
    stop: threading.Event = field(default_factory=threading.Event)  # set on an interrupt: readers stop

    def compare_files(self, a: Side, b: Side) -> Difference | None:
        """Compare two members found inside a container, one level deeper."""
        deeper = CompareContext(self.settings, self.depth + 1, self.tempdir, self.degradations,
                                self.recurse, self.counter, self.stop)
        return self.recurse(a, b, deeper)

    def new_temp_file(self) -> Path:
        """A fresh synthetic path: archive names never touch the filesystem."""
        return self.tempdir / f"m{next(self.counter):06d}"

    def degrade(self, note: str) -> str:
        self.degradations.append(note)
        return note

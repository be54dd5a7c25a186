"""What a comparator is, and the context the engine hands it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from verifier.compare.difference import Difference
from verifier.settings import Settings

HEAD_BYTES = 8192


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a host file (perhaps a synthetic temp path) and its label."""

    label: str  # member names are labels only, never host paths
    path: Path


Recurse = Callable[[Side, Side, "CompareContext"], "Difference | None"]


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

    def compare_files(self, a: Side, b: Side) -> Difference | None:
        """Compare two members found inside a container, one level deeper."""
        deeper = CompareContext(self.settings, self.depth + 1, self.tempdir, self.degradations,
                                self.recurse, self.counter)
        return self.recurse(a, b, deeper)

    def new_temp_file(self) -> Path:
        """A fresh synthetic path: archive names never touch the filesystem."""
        return self.tempdir / f"m{next(self.counter):06d}"

    def degrade(self, note: str) -> str:
        self.degradations.append(note)
        return note

"""What the auditor answers for a pair of paths (files or directories)."""

from __future__ import annotations

from dataclasses import dataclass

from verifier.compare.difference import Difference
from verifier.compare.normalize import Normalization


@dataclass(frozen=True)
class Comparison:
    identical: bool  # from the bytes only (size, then byte-for-byte)
    difference: Difference | None
    degradations: tuple[str, ...] = ()
    equivalent: bool = False  # identical after the chosen normalisers
    normalized: Normalization | None = None  # None: no normaliser was asked for

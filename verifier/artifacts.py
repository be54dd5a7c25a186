"""Pair official artifacts with their rebuilt twins and classify each pair from digests.

The status of a pair comes from sha256 and size only. When they differ, the auditor
(``verifier.compare``) is asked to explain why; its tree goes into the result, and any
failure of the explanation is a comment, never a change of status — with one exception:
EQUIVALENT, when the user asked for normalisers and the auditor finds the pair identical
after them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from verifier.compare.api import compare_paths
from verifier.compare.difference import Difference
from verifier.compare.hints import BuildClock
from verifier.errors import VerifierError
from verifier.settings import Settings
from verifier.stages import ArtifactResult, ArtifactStatus, CachedFile, RebuiltFile


@dataclass(frozen=True)
class Explanation:
    difference: Difference | None
    comments: tuple[str, ...]
    equivalent: bool
    normalizers: tuple[str, ...]


Explainer = Callable[[Path, Path, str], Explanation]


def compare_artifacts(
    official: Sequence[CachedFile],
    rebuilt: Sequence[RebuiltFile],
    explain: Explainer | None,
) -> tuple[ArtifactResult, ...]:
    by_name = {r.name: r for r in rebuilt}
    results = [_pair(o, by_name.pop(o.pin.name, None), explain) for o in official]
    results += [_extra(r) for r in sorted(by_name.values(), key=lambda r: r.name)]
    return tuple(results)


def _pair(official: CachedFile, twin: RebuiltFile | None, explain: Explainer | None) -> ArtifactResult:
    pin = official.pin
    if twin is None:
        return ArtifactResult(pin.name, ArtifactStatus.MISSING, pin.sha256, pin.size, None, None)
    if (twin.sha256, twin.size) == (pin.sha256, pin.size):
        return ArtifactResult(pin.name, ArtifactStatus.IDENTICAL, pin.sha256, pin.size, twin.sha256, twin.size)
    if explain is None:
        return ArtifactResult(pin.name, ArtifactStatus.DIFFERENT, pin.sha256, pin.size, twin.sha256, twin.size,
                              comments=("differences not explained (--no-explain)",))
    found = explain(official.path, twin.path, pin.name)
    status = ArtifactStatus.EQUIVALENT if found.equivalent else ArtifactStatus.DIFFERENT
    return ArtifactResult(
        pin.name, status, pin.sha256, pin.size, twin.sha256, twin.size,
        difference=found.difference, comments=found.comments,
        normalizers=found.normalizers if found.equivalent else (),
    )


def _extra(r: RebuiltFile) -> ArtifactResult:
    return ArtifactResult(r.name, ArtifactStatus.EXTRA, None, None, r.sha256, r.size)


def auditor(settings: Settings, normalizers: tuple[str, ...], clock: BuildClock,
            progress: Callable[[str], None] | None = None) -> Explainer:
    """The explainer backed by ``verifier.compare``; its errors become comments. ``clock``
    (SOURCE_DATE_EPOCH and when the rebuild ran) lets the hints name timestamp leaks;
    ``progress`` is told each member compared (a status line)."""

    def explain(official: Path, rebuilt: Path, name: str) -> Explanation:
        try:
            c = compare_paths(official, rebuilt, settings, normalizers=normalizers,
                              labels=(f"official/{name}", f"rebuilt/{name}"), clock=clock,
                              progress=progress)
        except VerifierError as exc:
            return Explanation(None, (f"explanation failed: {exc.message}",), False, ())
        tree = c.difference
        comments = tuple(c.degradations)
        if tree is None:
            comments += ("bytes differ, unexplained: no comparator found the difference",)
        return Explanation(tree, comments, bool(c.equivalent), tuple(normalizers) if c.equivalent else ())

    return explain

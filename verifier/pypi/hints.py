"""The hint only `verifier pypi` can give, because it knows the build packages: a file a
build package generates differs in content, and that package is one the official wheel
does not pin (its WHEEL file's Generator names the backend only), resolved here as of the
upload time, so the official build may well have used another version of it:

- a version file (``_version.py``…) written by a plugin: setuptools-scm, hatch-vcs,
  versioningit…;
- ``*.dist-info/METADATA`` written by setuptools when the Generator is bdist_wheel (the
  ``wheel`` package): setuptools' version is pinned by nothing in the wheel.

Fires only for a content difference of such a file with such a package installed; silent
otherwise (a time-only difference, a file nobody generates, a backend the Generator pins).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from verifier.compare.difference import Difference
from verifier.pypi.resolve import LockedWheel
from verifier.stages import ArtifactResult, ArtifactStatus

PLUGINS = ("setuptools-scm", "hatch-vcs", "versioningit", "poetry-dynamic-versioning", "dunamai", "pbr",
           "incremental", "vcversioner", "setuptools-git-versioning", "flit-scm")
VERSION_FILE = re.compile(r"(^|/)(_version|version|__version__|_version_info|_scm_version)\.py$")
METADATA = re.compile(r"(^|/)[^/]+\.dist-info/METADATA$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def generators_of(member: str, unpinned: Sequence[LockedWheel]) -> list[LockedWheel]:
    """The unpinned build packages that write ``member``."""
    if VERSION_FILE.search(member):
        return [w for w in unpinned if _norm(w.name) in PLUGINS]
    if METADATA.search(member):
        return [w for w in unpinned if _norm(w.name) == "setuptools"]
    return []


def hint(member: str, writers: Sequence[LockedWheel]) -> str:
    names = ", ".join(f"{w.name} {w.version}" for w in writers)
    return (f"{member} is generated at build time by {names} (a build package the wheel does not pin, resolved as "
            "of the release's upload time); the official build may have used another version, which writes this "
            "file differently (RECORD then differs too)")


def _hinted(node: Difference, unpinned: Sequence[LockedWheel]) -> Difference:
    writers = generators_of(node.source1, unpinned) if node.kind == "content" else []
    hinted = node.with_hints((hint(node.source1, writers),)) if writers else node
    if not node.details:
        return hinted
    return replace(hinted, details=tuple(_hinted(d, unpinned) for d in node.details))


def plugin_hints(artifacts: tuple[ArtifactResult, ...], unpinned: Sequence[LockedWheel]) -> tuple[ArtifactResult, ...]:
    if not unpinned:
        return artifacts
    return tuple(replace(a, difference=_hinted(a.difference, unpinned))
                 if a.status == ArtifactStatus.DIFFERENT and a.difference is not None else a for a in artifacts)

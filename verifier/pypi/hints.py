"""The hint only `verifier pypi` can give, because it knows the build packages: a file that a
build plugin generates (``_version.py`` from setuptools-scm, hatch-vcs, versioningit…)
differs, and the plugin's version is one resolved as of the upload time, which need not be
the one the official build used (the wheel's WHEEL file names the backend, never its
plugins). Fires only when such a file differs and such a plugin was installed."""

from __future__ import annotations

import re
from dataclasses import replace
from collections.abc import Sequence

from verifier.compare.difference import Difference
from verifier.pypi.resolve import LockedWheel
from verifier.stages import ArtifactResult, ArtifactStatus

PLUGINS = ("setuptools-scm", "hatch-vcs", "versioningit", "poetry-dynamic-versioning", "dunamai", "pbr",
           "incremental", "vcversioner", "setuptools-git-versioning", "flit-scm")
GENERATED = re.compile(r"(^|/)(_version|version|__version__|_version_info|_scm_version)\.py$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def plugin_hint(member: str, plugins: Sequence[LockedWheel]) -> str:
    names = ", ".join(f"{p.name} {p.version}" for p in plugins)
    return (f"{member} is generated at build time by a build plugin ({names}, resolved as of the release's "
            "upload time); the official wheel's WHEEL file names only the backend, so its build may have used "
            "another plugin version, whose template writes a different file (RECORD then differs too)")


def _with_hint(node: Difference, plugins: Sequence[LockedWheel]) -> Difference:
    name = node.source1.split("/")[-1] and node.source1
    hinted = node
    if GENERATED.search(name) and node.kind in ("member", "content", ""):
        hinted = node.with_hints((plugin_hint(name.rsplit("!", 1)[-1], plugins),))
    if not node.details:
        return hinted
    return replace(hinted, details=tuple(_with_hint(d, plugins) for d in node.details))


def plugin_hints(artifacts: tuple[ArtifactResult, ...], wheels: Sequence[LockedWheel]) -> tuple[ArtifactResult, ...]:
    plugins = [w for w in wheels if _norm(w.name) in PLUGINS]
    if not plugins:
        return artifacts
    return tuple(replace(a, difference=_with_hint(a.difference, plugins))
                 if a.status == ArtifactStatus.DIFFERENT and a.difference is not None else a for a in artifacts)

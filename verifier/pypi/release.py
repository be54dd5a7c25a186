"""One release's official files, chosen from the index page: its sdist and the wheels to check."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.utils import (
    InvalidSdistFilename, InvalidWheelFilename, canonicalize_version, parse_sdist_filename, parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from verifier.errors import InputError, where
from verifier.pypi.index import IndexFile, ProjectPage

COMPILED_REASON = "compiled wheel: needs its original compiler toolchain"
PYTHON2_REASON = "Python 2 wheel: needs a Python 2 interpreter (the sandbox has Python 3.11)"


@dataclass(frozen=True)
class ReleaseFiles:
    project: str
    version: str
    sdist: IndexFile
    wheels: tuple[IndexFile, ...]  # the wheels to check, pure ones first


def parse_requirement(text: str) -> tuple[str, str]:
    """``NAME==VERSION``: the only form accepted (a release, not a range)."""
    name, sep, version = text.partition("==")
    if not sep or not name.strip() or not version.strip() or "=" in version:
        raise InputError(f"{text!r}: give the release as NAME==VERSION")
    try:
        Version(version.strip())
    except InvalidVersion:
        raise InputError(f"{text!r}: {version.strip()!r} is not a valid version") from None
    return name.strip(), version.strip()


def is_pure(filename: str) -> bool:
    _, _, _, tags = parse_wheel_filename(filename)
    return all(tag.platform == "any" for tag in tags)


def not_rebuilt(filename: str) -> str | None:
    """Why this wheel cannot be rebuilt here (INCONCLUSIVE, never DIFFERENT), or None: a
    compiled wheel, or a pure wheel for Python 2 only (no ``py3``/``cp3`` interpreter tag)."""
    if not is_pure(filename):
        return COMPILED_REASON
    _, _, _, tags = parse_wheel_filename(filename)
    if not any(tag.interpreter.startswith(("py3", "cp3")) for tag in tags):
        return PYTHON2_REASON
    return None


def _version_of(f: IndexFile) -> str | None:
    try:
        if f.filename.endswith(".whl"):
            return str(parse_wheel_filename(f.filename)[1])
        return str(parse_sdist_filename(f.filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


def select(page: ProjectPage, version: str, wanted: tuple[str, ...]) -> ReleaseFiles:
    """The release's sdist and the wheels to check: those named (``--wheel``), else all its
    wheels (a compiled one is INCONCLUSIVE, with the reason: a release that ships compiled
    wheels is never REPRODUCIBLE as a whole for its pure one alone)."""
    same = canonicalize_version(version)
    files = [f for f in page.files if (v := _version_of(f)) is not None and canonicalize_version(v) == same]
    url = f"{page.index_url.rstrip('/')}/{page.project}/"
    if not files:
        raise InputError(where(url, f"{page.project} has no release {version} (with sha256 digests and sizes) on this index"))
    sdists = [f for f in files if f.filename.endswith(".tar.gz")]
    if not sdists:
        other = [f.filename for f in files if not f.filename.endswith(".whl")]
        raise InputError(where(url, f"{page.project} {version} has no .tar.gz sdist to rebuild from"
                                    + (f" (only {', '.join(other)})" if other else "")))
    wheels = [f for f in files if f.filename.endswith(".whl")]
    if wanted:
        by_name = {w.filename: w for w in wheels}
        unknown = [name for name in wanted if name not in by_name]
        if unknown:
            raise InputError(where(url, f"{page.project} {version} has no wheel {unknown[0]!r}"))
        chosen = [by_name[name] for name in dict.fromkeys(wanted)]
    else:
        chosen = wheels
    if not chosen:
        raise InputError(where(url, f"{page.project} {version} has no wheel to check"))
    return ReleaseFiles(page.project, version, sdists[0], tuple(sorted(chosen, key=lambda w: not_rebuilt(w.filename) is not None)))

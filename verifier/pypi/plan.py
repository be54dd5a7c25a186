"""One `verifier pypi` rebuild as the pipeline's own hand-offs: a release manifest (written
beside the report: what was rebuilt, from what), the fetched inputs, and the build
preparation that installs the locked wheels offline inside the sandbox.

The sandbox sees, read-only at ``/verifier/pypi``: ``frontend.py`` (our PEP 517 frontend),
``plan.json`` (the policies and the official digests), ``site/sitecustomize.py`` (notes
every network attempt), ``installer/`` (pip's wheel, run from the wheel) and ``wheels/``
(the locked build packages). Wheel file names come from the lock and are checked to be
plain names before they become file names there.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from verifier.errors import InputError, where
from verifier.manifest import BuildSpec, PinnedFile, ReleaseManifest, Source
from verifier.pypi.policies import Policy
from verifier.pypi.resolve import LockedWheel
from verifier.stages import BuildPreparation, CachedFile, FetchedInputs, Mount

MOUNT = "/verifier/pypi"
BUILD_ENV = "/opt/verifier-build-env"
WORKDIR = "/build"
OUTPUTS = ("verifier-out/*.whl",)
FRONTEND_DIRS = ("verifier-out", "verifier-src", "verifier-wheel")  # frontend.py's own, beside the sdist's root
WHEEL_NAME = re.compile(r"^[A-Za-z0-9_.+!-]+\.whl$")
INSTALL = (f"mkdir -p {BUILD_ENV}; if ls {MOUNT}/wheels/*.whl >/dev/null 2>&1; then "
           f"python3 {MOUNT}/installer/{{installer}}/pip install --isolated --no-index --no-deps --no-compile "
           f"--disable-pip-version-check --target {BUILD_ENV} {MOUNT}/wheels/*.whl; fi")
QUERY = ("python3 -c \"import importlib.metadata as m; [print(d.metadata['Name'], d.version, 'python', sep=chr(9)) "
         f"for d in m.distributions(path=['{BUILD_ENV}'])]\"")


@dataclass(frozen=True)
class RebuildPlan:
    inputs: FetchedInputs
    preparation: BuildPreparation
    policies: tuple[Policy, ...]  # those run, in order (duplicates left out)


def variables() -> dict[str, str]:
    return {"PYTHONPATH": f"{BUILD_ENV}:{MOUNT}/site", "VERIFIER_BUILD_ENV": BUILD_ENV, "PIP_CONFIG_FILE": "/dev/null",
            "PIP_NO_INDEX": "1"}


def manifest(name: str, version: str, environment: PinnedFile, sdist: Source, wheels: tuple[PinnedFile, ...],
             source_date_epoch: int, location: str) -> ReleaseManifest:
    build = BuildSpec(command=f"python3 {MOUNT}/frontend.py {MOUNT}/plan.json", workdir=WORKDIR, outputs=OUTPUTS,
                      source_date_epoch=source_date_epoch, variables=variables())
    return ReleaseManifest(name, version, environment, None, (sdist,), build, wheels, location)


def check_root(root: str, label: str) -> str:
    """The sdist's top-level directory, unless it is one of the frontend's own (an sdist named
    ``verifier-out`` would have its files collected as rebuilt wheels without any build)."""
    if root in FRONTEND_DIRS:
        raise InputError(where(label, f"the sdist's top-level directory {root!r} is a name the rebuild uses"))
    return root


def _plain(name: str) -> str:
    if not WHEEL_NAME.match(name):
        raise InputError(where("pylock.toml", f"wheel file name {name[:80]!r} is not a plain file name"))
    return name


def write_mount(directory: Path, root: str, policies: tuple[Policy, ...], expected: dict[str, str],
                installer: LockedWheel | None, wheels: tuple[LockedWheel, ...], check_requires: bool = True) -> Mount:
    """The read-only directory the sandbox sees at ``/verifier/pypi``."""
    for sub in ("installer", "wheels", "site"):
        (directory / sub).mkdir(parents=True)
    files = resources.files("verifier.pypi.sandbox")
    (directory / "frontend.py").write_text(files.joinpath("frontend.py").read_text())
    (directory / "site" / "sitecustomize.py").write_text(files.joinpath("sitecustomize.py").read_text())
    plan = {"root": root, "expected": expected, "check_requires": check_requires,
            "policies": [{"name": p.name, "source_date_epoch": p.source_date_epoch, "time_zone": p.time_zone}
                         for p in policies]}
    (directory / "plan.json").write_text(json.dumps(plan, indent=2) + "\n")
    if installer is not None:
        shutil.copyfile(installer.cached.path, directory / "installer" / _plain(installer.cached.pin.name))
    for w in wheels:
        shutil.copyfile(w.cached.path, directory / "wheels" / _plain(w.cached.pin.name))
    return Mount(directory, MOUNT)


def preparation(mount: Mount, installer: LockedWheel | None) -> BuildPreparation:
    """Install the locked wheels (nothing to install: no installer either)."""
    if installer is None:
        return BuildPreparation((mount,), f"mkdir -p {BUILD_ENV}", QUERY)
    return BuildPreparation((mount,), INSTALL.format(installer=_plain(installer.cached.pin.name)), QUERY)


def fetched(m: ReleaseManifest, digest: tuple[str, int], environment: CachedFile, sdist: CachedFile,
            wheels: tuple[CachedFile, ...]) -> FetchedInputs:
    return FetchedInputs(manifest=m, manifest_sha256=digest[0], manifest_size=digest[1], environment=environment,
                         lockfile=None, sources=(sdist,), artifacts=wheels)

"""mock's buildroot_lock.json (schema versions 1.0.0 and 1.1.0) as a lockfile.

It names every RPM of the buildroot (name, epoch, version, release, arch, license,
sigmd5, signature, url) but no sha256: verifier checks each downloaded RPM's SIGMD5 (the
MD5 over its header and payload) against the lockfile, which mock itself never does.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from verifier.errors import InputError, where
from verifier.files import read_limited
from verifier.manifest import resolve_url, strict_json_loads
from verifier.packages.interface import LockedEnvironment, LockedPackage
from verifier.packages.rpm import rpm_version

MAX_BYTES = 64 << 20
SUPPORTED_MAJOR = 1
REQUIRED = ("name", "version", "release", "arch", "sigmd5", "url")
MD5_RE = re.compile(r"^[0-9a-f]{32}$")


def _package(entry: Any, index: int, place: str) -> LockedPackage:
    field = f"buildroot.rpms[{index}]"
    if not isinstance(entry, dict):
        raise InputError(where(place, f"field {field}: not an object"))
    for key in REQUIRED:
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise InputError(where(place, f"field {field}.{key}: missing or not a string"))
    if not MD5_RE.match(entry["sigmd5"]):
        raise InputError(where(place, f"field {field}.sigmd5: not an MD5 digest"))
    epoch = entry.get("epoch")
    if epoch is not None and not (isinstance(epoch, int) or (isinstance(epoch, str) and epoch.isdigit())):
        raise InputError(where(place, f"field {field}.epoch: not a number"))
    return LockedPackage(entry["name"], rpm_version(epoch, entry["version"], entry["release"]), entry["arch"],
                         url=entry["url"], sigmd5=entry["sigmd5"])


def parse(data: bytes, place: str) -> LockedEnvironment:
    doc = strict_json_loads(data, place)
    if not isinstance(doc, dict):
        raise InputError(where(place, "buildroot lock must be a JSON object"))
    version = doc.get("version")
    if not isinstance(version, str) or not re.match(r"^\d+\.\d+\.\d+$", version):
        raise InputError(where(place, f"field version: {version!r} is not a schema version"))
    if int(version.split(".")[0]) != SUPPORTED_MAJOR:
        raise InputError(where(place, f"field version: buildroot lock schema {version} is not supported (1.x only)"))
    rpms = (doc.get("buildroot") or {}).get("rpms") if isinstance(doc.get("buildroot"), dict) else None
    if not isinstance(rpms, list) or not rpms:
        raise InputError(where(place, "field buildroot.rpms: missing or empty"))
    packages = tuple(_package(entry, i, place) for i, entry in enumerate(rpms))
    seen: set[tuple[str, str]] = set()
    for p in packages:
        if p.key in seen:
            raise InputError(where(place, f"duplicate entry for package {p.name} ({p.architecture})"))
        seen.add(p.key)
    return LockedEnvironment("rpm", packages)


def load(path: Path, place: str, base_url: str | None = None) -> LockedEnvironment:
    locked = parse(read_limited(path, MAX_BYTES, "buildroot lock", place), place)
    if base_url is None:
        return locked
    packages = tuple(replace(p, url=resolve_url(p.url or "", base_url, place)) for p in locked.packages)
    return replace(locked, packages=packages)


"""verifier's own lockfile (JSON, schema verifier/schemas/lockfile-v1.json)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema

from verifier.errors import InputError, where
from verifier.files import read_limited
from verifier.manifest import resolve_url, strict_json_loads
from verifier.packages.interface import LockedEnvironment, LockedPackage

MAX_BYTES = 64 << 20
VERSION = 1


def _schema() -> dict:
    return json.loads(resources.files("verifier.schemas").joinpath("lockfile-v1.json").read_text())


def _field(error: jsonschema.ValidationError) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".") or "(top level)"


def parse(data: bytes, place: str, base_url: str | None = None) -> LockedEnvironment:
    doc = strict_json_loads(data, place)
    if not isinstance(doc, dict):
        raise InputError(where(place, "lockfile must be a JSON object"))
    if doc.get("lockfile_version") != VERSION:
        raise InputError(where(place, f"unsupported lockfile_version {doc.get('lockfile_version')!r} (this verifier reads {VERSION})"))
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(_schema()).iter_errors(doc))
    if error is not None:
        raise InputError(where(place, f"field {_field(error)}: {error.message[:300]}"))
    packages = tuple(
        LockedPackage(p["name"], p["version"], p["architecture"], _url(p["url"], base_url, place), p["size"], p["sha256"])
        for p in doc["packages"])
    _no_duplicates(packages, place)
    return LockedEnvironment(doc["package_manager"], packages)


def _url(reference: str, base_url: str | None, place: str) -> str:
    """Package URLs follow the manifest's rules: http, https or file, and a lockfile read
    from a remote URL may never name a local file."""
    if base_url is None:
        return reference
    return resolve_url(reference, base_url, place)


def _no_duplicates(packages: tuple[LockedPackage, ...], place: str) -> None:
    seen: set[tuple[str, str]] = set()
    for p in packages:
        if p.key in seen:
            raise InputError(where(place, f"duplicate entry for package {p.name} ({p.architecture})"))
        seen.add(p.key)


def load(path: Path, place: str, base_url: str | None = None) -> LockedEnvironment:
    return parse(read_limited(path, MAX_BYTES, "lockfile", place), place, base_url)


def dump(locked: LockedEnvironment) -> bytes:
    doc = {"lockfile_version": VERSION, "package_manager": locked.package_manager, "packages": [
        {"name": p.name, "version": p.version, "architecture": p.architecture, "url": p.url, "size": p.size,
         "sha256": p.sha256} for p in sorted(locked.packages, key=lambda p: p.key)]}
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()

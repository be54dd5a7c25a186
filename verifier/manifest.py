"""The release manifest: a versioned, documented JSON document pinning every input and output.

Schema: ``verifier/schemas/release-manifest-v1.json`` (documented in docs/manifest.md).
Relative URLs resolve against the manifest's own URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from verifier.errors import InputError, where
from verifier.urls import has_userinfo, redact

MANIFEST_VERSION = 1
MAX_MANIFEST_BYTES = 16 << 20


@dataclass(frozen=True)
class PinnedFile:
    """A file named by the manifest: a label, where to get it, and its pins."""

    name: str
    url: str  # absolute after resolution (http, https or file)
    sha256: str
    size: int


@dataclass(frozen=True)
class Environment(PinnedFile):
    format: str = "rootfs"  # rootfs | oci-archive | docker-archive
    lock: PinnedFile | None = None  # its env.lock.json (docs/environments.md), for verify --rebuild-env


@dataclass(frozen=True)
class Lockfile(PinnedFile):
    format: str = "verifier"  # verifier | buildinfo | mock


@dataclass(frozen=True)
class Source(PinnedFile):
    unpack: bool = True  # unpack an archive into the workdir, else copy the file


@dataclass(frozen=True)
class BuildSpec:
    command: str
    workdir: str
    outputs: tuple[str, ...]
    source_date_epoch: int
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReleaseManifest:
    name: str
    version: str
    environment: Environment
    lockfile: Lockfile | None
    sources: tuple[Source, ...]
    build: BuildSpec
    artifacts: tuple[PinnedFile, ...]
    location: str  # where the manifest itself was read from (URL or path)
    official_buildinfo: PinnedFile | None = None  # the official build's .buildinfo, if published
    unavailable: tuple[str, ...] = ()  # what the original build had and this rebuild cannot: INCONCLUSIVE


def _schema() -> dict[str, Any]:
    text = resources.files("verifier.schemas").joinpath("release-manifest-v1.json").read_text()
    return json.loads(text)


def strict_json_loads(data: bytes, place: str) -> Any:
    """Parse JSON, refusing duplicate keys, NaN/Infinity and invalid UTF-8."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise InputError(where(place, f"duplicate JSON key {key!r}"))
            seen[key] = value
        return seen

    def no_constant(name: str) -> Any:
        raise InputError(where(place, f"invalid JSON constant {name}"))

    try:
        text = data.decode("utf-8")
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)
    except UnicodeDecodeError as exc:
        raise InputError(where(place, f"not UTF-8 text (byte {exc.start})")) from None
    except json.JSONDecodeError as exc:
        raise InputError(where(place, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")) from None
    except RecursionError:
        raise InputError(where(place, "JSON nested too deeply")) from None


def _field_path(error: Any) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path.lstrip(".") or "(top level)"


def validate(document: Any, place: str) -> None:
    if not isinstance(document, dict):
        raise InputError(where(place, "manifest must be a JSON object"))
    version = document.get("manifest_version")
    if version != MANIFEST_VERSION:
        raise InputError(where(place, f"unsupported manifest_version {version!r} (this verifier reads {MANIFEST_VERSION})"))
    import jsonschema  # on first validation: the manifest module is loaded at every start-up (report model)

    validator = jsonschema.Draft202012Validator(_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        raise InputError(where(place, f"field {_field_path(error)}: {error.message[:300]}"))


def resolve_url(reference: str, base: str, place: str) -> str:
    """Resolve a manifest URL. Remote manifests may never point at local files."""
    base_is_remote = urlsplit(base).scheme in ("http", "https")
    if not base_is_remote and not urlsplit(base).scheme:
        base = Path(base).resolve().as_uri()
    absolute = urljoin(base, reference)
    parts = urlsplit(absolute)
    shown = redact(reference)
    if has_userinfo(absolute):
        raise InputError(where(place, f"URLs with a user name or password are refused: {shown!r}"))
    if parts.scheme not in ("http", "https", "file"):
        raise InputError(where(place, f"URL scheme {parts.scheme!r} not allowed in {shown!r} (http, https, file only)"))
    if base_is_remote and parts.scheme == "file":
        raise InputError(where(place, f"a document read from a remote URL may not name a local file: {shown!r}"))
    return absolute


def parse(data: bytes, location: str) -> ReleaseManifest:
    """Parse and validate manifest bytes read from ``location`` (a URL or a path)."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise InputError(where(location, f"manifest larger than {MAX_MANIFEST_BYTES} bytes"))
    doc = strict_json_loads(data, location)
    validate(doc, location)
    _check_unique_names(doc, location)

    def pin(entry: dict[str, Any], cls: type = PinnedFile, **extra: Any) -> Any:
        url = resolve_url(entry["url"], location, location)
        return cls(name=entry["name"], url=url, sha256=entry["sha256"], size=entry["size"], **extra)

    lock = doc.get("lockfile")
    build = doc["build"]
    return ReleaseManifest(
        name=doc["name"],
        version=doc["version"],
        environment=pin(doc["environment"], Environment, format=doc["environment"]["format"],
                        lock=pin(doc["environment"]["lock"]) if doc["environment"].get("lock") else None),
        lockfile=pin(lock, Lockfile, format=lock["format"]) if lock else None,
        sources=tuple(pin(s, Source, unpack=s["unpack"]) for s in doc["sources"]),
        build=BuildSpec(
            command=build["command"],
            workdir=build["workdir"],
            outputs=tuple(build["outputs"]),
            source_date_epoch=build["source_date_epoch"],
            variables=dict(build["variables"]),
        ),
        artifacts=tuple(pin(a) for a in doc["artifacts"]),
        location=location,
        official_buildinfo=pin(doc["official_buildinfo"]) if doc.get("official_buildinfo") else None,
        unavailable=tuple(doc.get("unavailable") or ()),
    )


def _check_unique_names(doc: dict[str, Any], place: str) -> None:
    for section in ("sources", "artifacts"):
        names = [entry["name"] for entry in doc[section]]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise InputError(where(place, f"field {section}: duplicate name {duplicates[0]!r}"))


def manifest_bytes(manifest: ReleaseManifest) -> bytes:
    """The manifest as written by ``publish``: sorted keys, two-space indentation, ASCII."""
    return (json.dumps(to_document(manifest), indent=2, sort_keys=True, ensure_ascii=True) + "\n").encode("utf-8")


def to_document(manifest: ReleaseManifest, relative_to: str | None = None) -> dict[str, Any]:
    """The JSON document for ``manifest``; URLs are written relative to ``relative_to`` when they share it."""

    def url(u: str) -> str:
        if relative_to and u.startswith(relative_to):
            return u[len(relative_to):]
        return u

    def pin(p: PinnedFile) -> dict[str, Any]:
        return {"name": p.name, "url": url(p.url), "sha256": p.sha256, "size": p.size}

    lock = manifest.lockfile
    return {
        "manifest_version": MANIFEST_VERSION,
        "name": manifest.name,
        "version": manifest.version,
        "environment": {**pin(manifest.environment), "format": manifest.environment.format,
                        **({"lock": pin(manifest.environment.lock)} if manifest.environment.lock else {})},
        "lockfile": {**pin(lock), "format": lock.format} if lock else None,
        "sources": [{**pin(s), "unpack": s.unpack} for s in manifest.sources],
        "build": {
            "command": manifest.build.command,
            "workdir": manifest.build.workdir,
            "outputs": list(manifest.build.outputs),
            "source_date_epoch": manifest.build.source_date_epoch,
            "variables": dict(sorted(manifest.build.variables.items())),
        },
        "artifacts": [pin(a) for a in manifest.artifacts],
        **({"official_buildinfo": pin(manifest.official_buildinfo)} if manifest.official_buildinfo else {}),
        **({"unavailable": list(manifest.unavailable)} if manifest.unavailable else {}),
    }

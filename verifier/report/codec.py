"""The one place the verify report meets JSON: ``Report`` to the versioned document of
docs/report-format.md (sorted keys, ASCII, two-space indentation) and back.

Reading validates once: the schema (``verifier/schemas/report-v1.json``) for the whole
document, then each Difference node on its own (iteratively, depth bounded), so a bad
report is one ``InputError`` naming the file and the field, and everything after the
load can trust the model.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

import jsonschema

from verifier.atomic import atomic_writer
from verifier.compare.difference import Difference
from verifier.errors import InputError, where
from verifier.files import read_limited
from verifier.manifest import Environment, Lockfile, PinnedFile, Source, strict_json_loads
from verifier.report.model import (
    ArchiveRecord,
    Artifact,
    Build,
    BuildPackage,
    DebianRecord,
    EnvironmentInfo,
    FileRef,
    Inputs,
    Packages,
    PolicyAttempt,
    PypiRebuild,
    RebuiltDigest,
    Release,
    Report,
    Tool,
    timestamp,
)
from verifier.stages import (
    ArtifactStatus,
    BuildStatus,
    EnvironmentCheck,
    EnvironmentFile,
    EnvironmentPackage,
    EnvironmentStatus,
    PackageCounts,
    PackageDrift,
    PackageStatus,
    RuntimeChoice,
    SandboxLimits,
    SandboxRecord,
    Verdict,
)

REPORT_VERSION = 1
MAX_REPORT_BYTES = 64 << 20
MAX_TREE_DEPTH = 256  # far deeper than any tree the auditor builds (nesting is bounded at 8 archives)
Json = dict[str, Any]  # a JSON object; private to this module and the file format


def _schema() -> Json:
    text = resources.files("verifier.schemas").joinpath("report-v1.json").read_text()
    loaded: Json = json.loads(text)
    return loaded


_SCHEMA = _schema()
_VALIDATOR = jsonschema.Draft202012Validator(_SCHEMA)
_NODE_TEXT = ("source1", "source2", "kind")
_NODE_LISTS = ("comments", "hints")


# --- writing ---------------------------------------------------------------------------

def _pin(p: PinnedFile | None, **extra: Any) -> Json | None:
    if p is None:
        return None
    return {"name": p.name, "url": p.url, "sha256": p.sha256, "size": p.size, **extra}


def _inputs(i: Inputs) -> Json:
    return {
        "environment": _pin(i.environment, format=i.environment.format,
                            **({"lock": _pin(i.environment.lock)} if i.environment.lock else {})),
        "lockfile": _pin(i.lockfile, format=i.lockfile.format) if i.lockfile else None,
        "sources": [_pin(s, unpack=s.unpack) for s in i.sources],
        "official_buildinfo": _pin(i.official_buildinfo),
    }


def _environment(env: EnvironmentInfo | None) -> Json | None:
    if env is None:
        return None
    return {"image": env.image, "image_id": env.image_id, "reused": env.reused,
            "runtime": {"name": env.runtime.name, "reason": env.runtime.reason},
            "podman_version": env.podman_version}


def _build(b: Build) -> Json:
    doc: Json = {
        "command": b.command, "workdir": b.workdir, "outputs": list(b.outputs),
        "source_date_epoch": b.source_date_epoch, "variables": dict(sorted(b.variables.items())),
        "status": b.status.value if b.status else None, "exit_status": b.exit_status, "reason": b.reason,
        "log": b.log, "log_tail": b.log_tail, "seconds": b.seconds, "unmatched_globs": list(b.unmatched_globs),
    }
    if b.log_errors:  # left out when empty: reports written before it stay byte-identical
        doc["log_errors"] = list(b.log_errors)
    return doc


def _sandbox(s: SandboxRecord | None) -> Json | None:
    if s is None:
        return None
    limits = s.limits
    return {
        "backend": s.backend, "podman_version": s.podman_version, "runtime": s.runtime,
        "runtime_reason": s.runtime_reason, "network": s.network, "argv": list(s.argv), "env": dict(s.env),
        "hostname": s.hostname, "user": s.user, "umask": s.umask, "workdir": s.workdir,
        "capabilities": list(s.capabilities),
        "limits": {"build_timeout": limits.build_timeout, "memory": limits.memory, "pids": limits.pids,
                   "nofile": limits.nofile, "nproc": limits.nproc, "tmp_size": limits.tmp_size,
                   "workdir_size": limits.workdir_size},
        "output_notes": list(s.output_notes), "backend_reason": s.backend_reason,
    }


def _artifact(a: Artifact) -> Json:
    official, rebuilt = a.official, a.rebuilt
    return {
        "name": a.name, "status": a.status.value,
        "official": {"url": official.url, "sha256": official.sha256, "size": official.size} if official else None,
        "rebuilt": {"sha256": rebuilt.sha256, "size": rebuilt.size} if rebuilt else None,
        "difference": a.difference.to_json() if a.difference else None,
        "comments": list(a.comments), "normalizers": list(a.normalizers),
    }


def _counts(c: PackageCounts | None) -> Json:
    if c is None:
        return {}
    return {"lockfile": c.lockfile, "installed": c.installed, "installed_not_locked": c.installed_not_locked}


def _packages(p: Packages) -> Json:
    return {
        "status": p.status.value, "reason": p.reason, "counts": _counts(p.counts),
        "drift": [{"name": d.name, "lockfile": d.lockfile, "installed": d.installed, "buildinfo": d.buildinfo}
                  for d in p.drift],
        "manifest": p.manifest,
    }


def _ref(f: FileRef) -> Json:
    return {"url": f.url, "sha256": f.sha256, "size": f.size}


def _pypi(p: PypiRebuild) -> Json:
    return {
        "index_url": p.index_url, "project": p.project, "upload_time": p.upload_time, "generator": p.generator,
        "build_backend": p.build_backend, "sdist": _ref(p.sdist),
        "policies": [{"name": a.name, "source_date_epoch": a.source_date_epoch, "time_zone": a.time_zone,
                      "rebuilt": {"sha256": a.rebuilt.sha256, "size": a.rebuilt.size} if a.rebuilt else None,
                      "identical": a.identical, "note": a.note} for a in p.policies],
        "matched_policy": p.matched_policy,
        "build_packages": [{"name": b.name, "version": b.version, "file": _ref(b.file)} for b in p.build_packages],
        "lock": p.lock,
    }


def _env_package(p: EnvironmentPackage) -> Json:
    return {"name": p.name, "architecture": p.architecture, "lock": p.lock, "installed": p.installed, "note": p.note}


def _environment_check(c: EnvironmentCheck) -> Json:
    return {
        "status": c.status.value, "reason": c.reason, "lock": _pin(c.lock),
        "published_sha256": c.published_sha256, "rebuilt_sha256": c.rebuilt_sha256,
        "files": [{"name": f.name, "package": f.package, "change": f.change} for f in c.files],
        "packages": [_env_package(p) for p in c.packages],
        "rebuild_drift": [_env_package(p) for p in c.rebuild_drift],
        "seconds": c.seconds,
    }


def _to_json(r: Report) -> Json:
    """The report as the JSON document of docs/report-format.md (every key present; ``pypi``
    only in a `verifier pypi` report, ``environment_check`` only when it was asked for)."""
    m = r.release.manifest
    optional = {"pypi": _pypi(r.pypi)} if r.pypi is not None else {}
    if r.environment_check is not None:
        optional["environment_check"] = _environment_check(r.environment_check)
    if r.debian is not None:
        optional["debian"] = _debian(r.debian)
    return {
        "report_version": REPORT_VERSION,
        "tool": {"name": r.tool.name, "version": r.tool.version},
        "release": {"name": r.release.name, "version": r.release.version,
                    "manifest": {"url": m.url, "sha256": m.sha256, "size": m.size}},
        "verdict": r.verdict.value,
        "reasons": list(r.reasons),
        "inputs": _inputs(r.inputs),
        "environment": _environment(r.environment),
        "build": _build(r.build),
        "sandbox": _sandbox(r.sandbox),
        "artifacts": [_artifact(a) for a in r.artifacts],
        "packages": _packages(r.packages),
        "timings": dict(r.timings),
        "started": timestamp(r.started),
        "finished": timestamp(r.finished),
        **optional,
    }


def _debian(d: DebianRecord) -> Json:
    a = d.archive
    return {"source": d.source, "version": d.version,
            "archive": {"url": a.url, "suite": a.suite, "release_sha256": a.release_sha256, "date": a.date,
                        "signed_by": list(a.signed_by), "keyring": a.keyring},
            "environment": d.environment, "buildinfo": d.buildinfo, "buildinfo_signature": d.buildinfo_signature,
            "signature_detail": d.signature_detail, "missing_packages": list(d.missing_packages),
            "rebuilt_files": list(d.rebuilt_files)}


def _read_debian(doc: Json | None) -> DebianRecord | None:
    if doc is None:
        return None
    a = doc["archive"]
    archive = ArchiveRecord(a["url"], a["suite"], a["release_sha256"], a["date"], tuple(a["signed_by"]), a["keyring"])
    return DebianRecord(doc["source"], doc["version"], archive, doc["environment"], doc["buildinfo"],
                        doc["buildinfo_signature"], doc["signature_detail"], tuple(doc["missing_packages"]),
                        tuple(doc["rebuilt_files"]))


def write_report(report: Report, out: BinaryIO) -> None:
    """The canonical bytes of a report, streamed: json's indented encoder is pure Python and
    ``json.dumps`` joins millions of small pieces at once (for 50,000 artifacts, 130 MiB
    more than the document); written piece by piece through a buffer, the peak stays at
    the document's size."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="\n")
    json.dump(_to_json(report), text, indent=2, sort_keys=True, ensure_ascii=True)
    text.write("\n")
    text.flush()
    text.detach()


def report_bytes(report: Report) -> bytes:
    """The canonical bytes of a report: what is written, rendered as ``json`` and signed."""
    buffer = io.BytesIO()
    write_report(report, buffer)
    return buffer.getvalue()


def dump_report(report: Report, path: Path) -> None:
    """Write the report's canonical bytes atomically (streamed)."""
    with atomic_writer(path) as out:
        write_report(report, out)


# --- reading ---------------------------------------------------------------------------

def _check(validator: jsonschema.Draft202012Validator, doc: Any, place: object, what: str, prefix: str = "") -> None:
    """The first problem (jsonschema's best match) as one InputError naming the file and the field."""
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is not None:
        field = "/".join(p for p in (prefix, *map(str, error.absolute_path)) if p) or "(top level)"
        raise InputError(where(place, f"not a valid {what}: field {field}: {error.message[:200]}"))


def _node_problem(node: Any) -> tuple[str, str] | None:
    """What is wrong with one Difference node ($defs/difference_node of the schema), checked
    by hand: jsonschema took 3.3 s for the 60,000 nodes of a 20,000-artifact report."""
    if not isinstance(node, dict):
        return "", "not an object"
    for key in (*_NODE_TEXT, *_NODE_LISTS, "unified_diff", "details"):
        if key not in node:
            return "", f"{key!r} is a required property"
    for key in _NODE_TEXT:
        if not isinstance(node[key], str):
            return key, "not a string"
    for key in _NODE_LISTS:
        if not isinstance(node[key], list) or not all(isinstance(x, str) for x in node[key]):
            return key, "not a list of strings"
    if node["unified_diff"] is not None and not isinstance(node["unified_diff"], str):
        return "unified_diff", "not a string or null"
    if not isinstance(node["details"], list) or not all(isinstance(d, dict) for d in node["details"]):
        return "details", "not a list of objects"
    return None


def check_tree(root: Json, place: object, prefix: str, what: str = "verifier report") -> None:
    """Every node of a Difference tree ($defs/difference_node), without recursion."""
    stack: list[tuple[Any, str, int]] = [(root, prefix, 1)]
    while stack:
        node, at, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise InputError(where(place, f"not a valid {what}: field {at}: difference tree deeper "
                                          f"than {MAX_TREE_DEPTH} levels"))
        problem = _node_problem(node)
        if problem is not None:
            field = "/".join(p for p in (at, problem[0]) if p)
            raise InputError(where(place, f"not a valid {what}: field {field}: {problem[1]}"))
        stack.extend((child, f"{at}/details/{i}", depth + 1) for i, child in enumerate(node["details"]))


def parse_difference(node: Json) -> Difference:
    """A checked Difference node (see ``check_tree``) and its children, as the tree."""
    return Difference(
        source1=node["source1"], source2=node["source2"], comments=tuple(node["comments"]),
        unified_diff=node["unified_diff"], details=tuple(parse_difference(d) for d in node["details"]),
        hints=tuple(node["hints"]), kind=node["kind"],
    )


def _time(text: str, place: object, field: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise InputError(where(place, f"not a valid verifier report: field {field}: {text!r} is not a time")) from None


def _file(doc: Json | None) -> PinnedFile | None:
    return PinnedFile(doc["name"], doc["url"], doc["sha256"], doc["size"]) if doc else None


def _read_inputs(doc: Json) -> Inputs:
    env, lock = doc["environment"], doc["lockfile"]
    return Inputs(
        environment=Environment(env["name"], env["url"], env["sha256"], env["size"], format=env["format"],
                                lock=_file(env.get("lock"))),
        lockfile=Lockfile(lock["name"], lock["url"], lock["sha256"], lock["size"], format=lock["format"]) if lock else None,
        sources=tuple(Source(s["name"], s["url"], s["sha256"], s["size"], unpack=s["unpack"]) for s in doc["sources"]),
        official_buildinfo=_file(doc["official_buildinfo"]),
    )


def _read_environment(doc: Json | None) -> EnvironmentInfo | None:
    if doc is None:
        return None
    runtime = RuntimeChoice(doc["runtime"]["name"], doc["runtime"]["reason"])
    return EnvironmentInfo(doc["image"], doc["image_id"], doc["reused"], runtime, doc["podman_version"])


def _read_build(doc: Json) -> Build:
    return Build(
        command=doc["command"], workdir=doc["workdir"], outputs=tuple(doc["outputs"]),
        source_date_epoch=doc["source_date_epoch"], variables=dict(doc["variables"]),
        status=BuildStatus(doc["status"]) if doc["status"] else None, exit_status=doc["exit_status"],
        reason=doc["reason"], log=doc["log"], log_tail=doc["log_tail"], seconds=doc["seconds"],
        unmatched_globs=tuple(doc["unmatched_globs"]), log_errors=tuple(doc.get("log_errors", ())),
    )


def _read_sandbox(doc: Json | None) -> SandboxRecord | None:
    if doc is None:
        return None
    lim = doc["limits"]
    limits = SandboxLimits(lim["build_timeout"], lim["memory"], lim["pids"], lim["nofile"], lim["nproc"],
                           lim["tmp_size"], lim["workdir_size"])
    return SandboxRecord(
        backend=doc["backend"], podman_version=doc["podman_version"], runtime=doc["runtime"],
        runtime_reason=doc["runtime_reason"], network=doc["network"], argv=tuple(doc["argv"]),
        env=dict(doc["env"]), hostname=doc["hostname"], user=doc["user"], umask=doc["umask"],
        workdir=doc["workdir"], capabilities=tuple(doc["capabilities"]), limits=limits,
        output_notes=tuple(doc.get("output_notes", ())),  # absent in reports written before it existed
        backend_reason=doc.get("backend_reason", ""),  # likewise
    )


def _read_artifact(doc: Json, place: object, at: str) -> Artifact:
    official, rebuilt, tree = doc["official"], doc["rebuilt"], doc["difference"]
    if tree is not None:
        check_tree(tree, place, f"{at}/difference")
    return Artifact(
        name=doc["name"], status=ArtifactStatus(doc["status"]),
        official=FileRef(official["url"], official["sha256"], official["size"]) if official else None,
        rebuilt=RebuiltDigest(rebuilt["sha256"], rebuilt["size"]) if rebuilt else None,
        difference=parse_difference(tree) if tree is not None else None,
        comments=tuple(doc["comments"]), normalizers=tuple(doc["normalizers"]),
    )


def _read_packages(doc: Json) -> Packages:
    drift = tuple(PackageDrift(d["name"], d["lockfile"], d["installed"], d["buildinfo"]) for d in doc["drift"])
    c = doc["counts"]
    counts = PackageCounts(c["lockfile"], c["installed"], c["installed_not_locked"]) if c else None
    return Packages(PackageStatus(doc["status"]), doc["reason"], counts, drift, doc["manifest"])


def _read_ref(doc: Json) -> FileRef:
    return FileRef(doc["url"], doc["sha256"], doc["size"])


def _read_pypi(doc: Json | None) -> PypiRebuild | None:
    if doc is None:
        return None
    policies = tuple(PolicyAttempt(
        a["name"], a["source_date_epoch"], a["time_zone"],
        RebuiltDigest(a["rebuilt"]["sha256"], a["rebuilt"]["size"]) if a["rebuilt"] else None,
        a["identical"], a["note"]) for a in doc["policies"])
    packages = tuple(BuildPackage(b["name"], b["version"], _read_ref(b["file"])) for b in doc["build_packages"])
    return PypiRebuild(doc["index_url"], doc["project"], doc["upload_time"], doc["generator"], doc["build_backend"],
                       _read_ref(doc["sdist"]), policies, doc["matched_policy"], packages, doc["lock"])


def _read_env_package(doc: Json) -> EnvironmentPackage:
    return EnvironmentPackage(doc["name"], doc["architecture"], doc["lock"], doc["installed"], doc["note"])


def _read_environment_check(doc: Json | None) -> EnvironmentCheck | None:
    if doc is None:
        return None
    return EnvironmentCheck(
        status=EnvironmentStatus(doc["status"]), reason=doc["reason"], lock=_file(doc["lock"]),
        published_sha256=doc["published_sha256"], rebuilt_sha256=doc["rebuilt_sha256"],
        files=tuple(EnvironmentFile(f["name"], f["package"], f["change"]) for f in doc["files"]),
        packages=tuple(_read_env_package(p) for p in doc["packages"]),
        rebuild_drift=tuple(_read_env_package(p) for p in doc["rebuild_drift"]),
        seconds=doc["seconds"],
    )


def _from_json(doc: Any, place: object) -> Report:
    """A report from its parsed JSON, validated; any problem is one InputError naming ``place``."""
    if not isinstance(doc, dict) or doc.get("report_version") != REPORT_VERSION:
        version = doc.get("report_version") if isinstance(doc, dict) else None
        raise InputError(where(place, f"not a verifier report of version {REPORT_VERSION} (report_version {version!r})"))
    _check(_VALIDATOR, doc, place, "verifier report")
    release = doc["release"]
    m = release["manifest"]
    return Report(
        tool=Tool(doc["tool"]["name"], doc["tool"]["version"]),
        release=Release(release["name"], release["version"], FileRef(m["url"], m["sha256"], m["size"])),
        verdict=Verdict(doc["verdict"]),
        reasons=tuple(doc["reasons"]),
        inputs=_read_inputs(doc["inputs"]),
        environment=_read_environment(doc["environment"]),
        build=_read_build(doc["build"]),
        sandbox=_read_sandbox(doc["sandbox"]),
        artifacts=tuple(_read_artifact(a, place, f"artifacts/{i}") for i, a in enumerate(doc["artifacts"])),
        packages=_read_packages(doc["packages"]),
        timings=dict(doc["timings"]),
        started=_time(doc["started"], place, "started"),
        finished=_time(doc["finished"], place, "finished"),
        pypi=_read_pypi(doc.get("pypi")),
        environment_check=_read_environment_check(doc.get("environment_check")),
        debian=_read_debian(doc.get("debian")),
    )


def parse_report(data: bytes, place: object) -> Report:
    return _from_json(strict_json_loads(data, str(place)), place)


def load_report(path: Path) -> Report:
    """Read a saved report, refusing oversized, non-JSON, unknown-version or malformed documents."""
    return parse_report(read_limited(path, MAX_REPORT_BYTES, "report"), path)

"""The report's sections as plain rows of raw (unescaped) values, shared by presenters.

Presenters escape every value themselves; nothing here formats for a medium.
"""

from __future__ import annotations

from typing import Any

Row = tuple[Any, ...]
VERDICT_COLOR = {"REPRODUCIBLE": "brightgreen", "EQUIVALENT": "yellowgreen",
                 "DIFFERENT": "red", "INCONCLUSIVE": "lightgrey"}


def dig(doc: Any, *keys: str) -> Any:
    """``doc[k1][k2]…`` or None when a level is absent or not an object."""
    for key in keys:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def title(report: dict[str, Any]) -> str:
    return f"{dig(report, 'release', 'name')} {dig(report, 'release', 'version')}"


INPUT_HEADERS = ("input", "name", "sha256", "size", "url")


def input_rows(report: dict[str, Any]) -> list[Row]:
    inputs = dig(report, "inputs") or {}
    manifest = dig(report, "release", "manifest") or {}
    rows: list[Row] = [("manifest", "release.json", manifest.get("sha256"), manifest.get("size"), manifest.get("url"))]
    pins = [("environment", dig(inputs, "environment")), ("lockfile", dig(inputs, "lockfile"))]
    pins += [("source", s) for s in items(dig(inputs, "sources"))]
    pins += [("official buildinfo", dig(inputs, "official_buildinfo"))]
    for role, pin in pins:
        if isinstance(pin, dict):
            rows.append((role, pin.get("name"), pin.get("sha256"), pin.get("size"), pin.get("url")))
    return rows


def environment_rows(report: dict[str, Any]) -> list[Row]:
    env = dig(report, "environment")
    if not isinstance(env, dict):
        return [("environment", "not prepared")]
    return [("image", env.get("image")), ("image id", env.get("image_id")),
            ("reused", env.get("reused")), ("runtime", dig(env, "runtime", "name")),
            ("runtime reason", dig(env, "runtime", "reason")), ("podman", env.get("podman_version")),
            ("network", dig(report, "sandbox", "network"))]


def build_rows(report: dict[str, Any]) -> list[Row]:
    b = dig(report, "build") or {}
    variables = " ".join(f"{k}={v}" for k, v in sorted((b.get("variables") or {}).items()))
    return [("command", b.get("command")), ("workdir", b.get("workdir")),
            ("outputs", " ".join(map(str, items(b.get("outputs"))))),
            ("SOURCE_DATE_EPOCH", b.get("source_date_epoch")), ("variables", variables),
            ("status", b.get("status")), ("exit status", b.get("exit_status")),
            ("reason", b.get("reason")), ("seconds", b.get("seconds")), ("log", b.get("log")),
            ("unmatched globs", " ".join(map(str, items(b.get("unmatched_globs")))))]


ARTIFACT_HEADERS = ("artifact", "status", "official sha256", "rebuilt sha256", "size official/rebuilt")


def artifacts(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in items(dig(report, "artifacts")) if isinstance(a, dict)]


def artifact_row(a: dict[str, Any]) -> Row:
    sizes = "/".join("-" if v is None else str(v) for v in (dig(a, "official", "size"), dig(a, "rebuilt", "size")))
    return (a.get("name"), a.get("status"), dig(a, "official", "sha256"), dig(a, "rebuilt", "sha256"), sizes)


DRIFT_HEADERS = ("package", "lockfile", "installed", "buildinfo")


def packages_summary(report: dict[str, Any]) -> list[Row]:
    p = dig(report, "packages") or {}
    counts = p.get("counts") or {}
    return [("status", p.get("status")), ("reason", p.get("reason")),
            ("lockfile packages", counts.get("lockfile")), ("installed packages", counts.get("installed")),
            ("manifest", p.get("manifest"))]


def drift_rows(report: dict[str, Any]) -> list[Row]:
    return [(d.get("name"), d.get("lockfile"), d.get("installed"), d.get("buildinfo"))
            for d in items(dig(report, "packages", "drift")) if isinstance(d, dict)]


def timing_rows(report: dict[str, Any]) -> list[Row]:
    timings = dig(report, "timings") or {}
    rows: list[Row] = sorted(timings.items()) if isinstance(timings, dict) else []
    return rows + [("started", report.get("started")), ("finished", report.get("finished"))]

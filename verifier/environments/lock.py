"""``env.lock.json``: what an environment archive was built from and how to rebuild it.

The lock is strict JSON read into frozen dataclasses; anything else (not JSON, another
format, a missing or mistyped field) is one ``InputError`` naming the file and the field.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from verifier.errors import InputError, where
from verifier.files import open_regular

FORMAT = "verifier-env-lock"
VERSION = 1
MAX_LOCK_BYTES = 16 << 20
NAME = re.compile(r"[a-z0-9][a-z0-9+.-]+")
VERSION_TEXT = re.compile(r"[0-9][A-Za-z0-9.+~:-]*")
ARCH = re.compile(r"[a-z0-9-]+")
SHA256 = re.compile(r"[0-9a-f]{64}")
SUITE = re.compile(r"[a-z0-9][a-z0-9.-]*")
# a mirror URL and nothing else: mmdebstrap reads an argument with spaces or newlines as
# sources.list lines, where "[trusted=yes]" would turn the signature check off
ARCHIVE = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%+-]*)*")
VARIANTS = ("minbase",)
MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z: tar, dpkg and mmdebstrap take nothing later


@dataclass(frozen=True)
class Pin:
    """One ``name=version`` asked for."""

    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name}={self.version}"


@dataclass(frozen=True)
class ReleaseRecord:
    """The archive's signed Release file the build was authenticated through."""

    file: str  # InRelease
    sha256: str
    date: str  # the Release file's own Date field
    signed_by: tuple[str, ...]  # primary key fingerprints gpgv reported VALIDSIG for
    keyring: str


@dataclass(frozen=True)
class InstalledPackage:
    name: str
    version: str
    architecture: str
    sha256: str  # of the .deb, as the signed Packages index names it


@dataclass(frozen=True)
class EnvRequest:
    """Everything the build depends on, and nothing that does not change its bytes."""

    suite: str
    archive: str  # the mirror's base URL
    variant: str
    architecture: str
    source_date_epoch: int
    include: tuple[Pin, ...]


@dataclass(frozen=True)
class EnvLock:
    request: EnvRequest
    release: ReleaseRecord
    packages: tuple[InstalledPackage, ...]
    env_sha256: str  # of the archive the build wrote
    tools: tuple[tuple[str, str], ...]  # (tool, version) pairs of the build
    command: str  # the command that rebuilds it


def parse_pin(text: str, place: str) -> Pin:
    name, sep, version = text.strip().partition("=")
    if not sep or not NAME.fullmatch(name) or not VERSION_TEXT.fullmatch(version):
        raise InputError(where(place, f"{text!r} is not an exact package pin NAME=VERSION"))
    return Pin(name, version)


def parse_pins(text: str, place: str) -> tuple[Pin, ...]:
    pins = tuple(parse_pin(item, place) for item in text.split(",") if item.strip())
    if not pins:
        raise InputError(where(place, "no package given (expected NAME=VERSION[,NAME=VERSION…])"))
    names = [p.name for p in pins]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(where(place, f"package {twice[0]!r} is pinned more than once"))
    return tuple(sorted(pins, key=lambda p: p.name))


def lock_json(lock: EnvLock) -> bytes:
    data = asdict(lock)
    data["request"]["include"] = [str(p) for p in lock.request.include]
    data["tools"] = dict(lock.tools)
    document = {"format": FORMAT, "version": VERSION, **data}
    return (json.dumps(document, indent=2, sort_keys=False) + "\n").encode()


def _read(path: Path) -> bytes:
    with open_regular(path, "environment lock") as f:  # a FIFO is refused, never waited on
        try:
            raw = f.read(MAX_LOCK_BYTES + 1)
        except OSError as exc:
            raise InputError(where(path, f"cannot read the environment lock ({exc.strerror})")) from None
    if len(raw) > MAX_LOCK_BYTES:
        raise InputError(where(path, f"not an environment lock (larger than {MAX_LOCK_BYTES} bytes)"))
    return raw


def is_pin_list(path: Path) -> bool:
    """A plain NAME=VERSION list (one a line, # comments) rather than an env.lock.json: UTF-8
    text whose first line with content has a '=' and is no JSON (anything else is read, and
    refused, as a lock)."""
    try:
        text = _read(path).decode("utf-8")
    except UnicodeDecodeError:
        return False
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    first = next((line for line in lines if line), "")
    return "=" in first and not first.startswith(("{", "["))


def load_pin_list(path: Path) -> tuple[Pin, ...]:
    """A plain list of exact pins, one NAME=VERSION a line; blank lines and # comments skipped."""
    try:
        text = _read(path).decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(where(path, "not an environment lock nor a NAME=VERSION list (not UTF-8)")) from None
    items = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return parse_pins(",".join(i for i in items if i), str(path))


def load_lock(path: Path) -> EnvLock:
    place = str(path)
    raw = _read(path)
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(where(place, f"not an environment lock (not JSON: {str(exc)[:80]})")) from None
    return _lock(_Reader(place, data))


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


class _Reader:
    """Typed field access with messages naming the field."""

    def __init__(self, place: str, data: Any, path: str = "") -> None:
        self.place, self.data, self.path = place, data, path

    def fail(self, field: str, problem: str) -> InputError:
        return InputError(where(self.place, f"not an environment lock: {self.path}{field} {problem}"))

    def get(self, field: str, kind: type) -> Any:
        if not isinstance(self.data, dict):
            raise self.fail("", "is not an object")
        value = self.data.get(field)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise self.fail(field, f"is missing or not {kind.__name__}")
        return value

    def text(self, field: str, pattern: re.Pattern[str] | None = None) -> str:
        value = self.get(field, str)
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(field, f"has an invalid value {value[:80]!r}")
        return value

    def sub(self, field: str) -> "_Reader":
        return _Reader(self.place, self.get(field, dict), f"{self.path}{field}.")

    def items(self, field: str) -> list["_Reader"]:
        return [_Reader(self.place, item, f"{self.path}{field}[{i}].") for i, item in enumerate(self.get(field, list))]


def _lock(r: _Reader) -> EnvLock:
    if not isinstance(r.data, dict) or r.data.get("format") != FORMAT:
        raise InputError(where(r.place, f"not an environment lock (no \"format\": \"{FORMAT}\")"))
    if r.data.get("version") != VERSION:
        raise r.fail("version", f"is not {VERSION} (unsupported lock version)")
    tools = r.get("tools", dict)
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in tools.items()):
        raise r.fail("tools", "must map names to version strings")
    request, release = _request(r.sub("request")), _release(r.sub("release"))
    packages = tuple(_package(p) for p in r.items("packages"))
    keys = [(p.name, p.architecture) for p in packages]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise r.fail("packages", f"list {twice[0][0]} ({twice[0][1]}) more than once")
    return EnvLock(request, release, packages, r.text("env_sha256", SHA256),
                   tuple(sorted(tools.items())), r.text("command"))


def _request(r: _Reader) -> EnvRequest:
    epoch = r.get("source_date_epoch", int)
    if not 0 <= epoch <= MAX_EPOCH:
        raise r.fail("source_date_epoch", f"is not between 0 and {MAX_EPOCH}")
    variant = r.text("variant")
    if variant not in VARIANTS:
        raise r.fail("variant", f"is not one of {', '.join(VARIANTS)}")
    archive = r.text("archive")
    if not ARCHIVE.fullmatch(archive):
        raise r.fail("archive", f"is not a plain http(s) mirror URL: {archive[:80]!r}")
    includes = r.get("include", list)
    if not all(isinstance(i, str) for i in includes):
        raise r.fail("include", "must be a list of NAME=VERSION strings")
    pins = parse_pins(",".join(includes), f"{r.place}: request.include") if includes else ()
    return EnvRequest(r.text("suite", SUITE), archive, variant, r.text("architecture", ARCH), epoch, pins)


def _release(r: _Reader) -> ReleaseRecord:
    signed = r.get("signed_by", list)
    if not signed or not all(isinstance(s, str) and re.fullmatch(r"[0-9A-F]{40}", s) for s in signed):
        raise r.fail("signed_by", "must list the signing keys' fingerprints")
    return ReleaseRecord(r.text("file"), r.text("sha256", SHA256), r.text("date"), tuple(signed), r.text("keyring"))


def _package(r: _Reader) -> InstalledPackage:
    return InstalledPackage(r.text("name", NAME), r.text("version", VERSION_TEXT),
                            r.text("architecture", ARCH), r.text("sha256", SHA256))

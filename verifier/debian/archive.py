"""A Debian archive read through its signed chain: ``InRelease`` checked with gpgv against
the archive keyring, then only the text gpgv says was signed is read; the ``Sources`` and
``Packages`` indexes are fetched pinned to the sha256 that signed text lists (so the cache
re-checks them), and every file named in them (a .dsc and its files, a .deb) is in turn a
sha256 pin. Nothing outside the signed text is ever read."""

from __future__ import annotations

import lzma
import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from debian.debian_support import Version

from verifier.cache import ContentCache
from verifier.errors import InputError, IntegrityError, where
from verifier.fetch import fetch_file, fetch_unpinned
from verifier.manifest import PinnedFile
from verifier.settings import Settings
from verifier.tools import require

KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
VALIDSIG = re.compile(r"^\[GNUPG:\] VALIDSIG (?:\S+ ){9}([0-9A-F]{40})$", re.M)
MAX_RELEASE_BYTES = 4 << 20
MAX_INDEX_BYTES = 512 << 20  # an index, decompressed
SUITE = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
COMPONENT = "main"
DECOMPRESSED = "verifier-debian-index:xz-sha256:"  # the cache's URL index key of a decompressed index
PACKAGE_LINE = re.compile(r"^Package: *(\S+)[ \t]*$", re.M)


@dataclass(frozen=True)
class ArchiveChain:
    """What the official files' authenticity rests on (the report's ``debian.archive``)."""

    url: str
    suite: str
    release_sha256: str  # of the InRelease file as fetched
    date: str  # its Date field
    signed_by: tuple[str, ...]  # primary key fingerprints gpgv reported a valid signature for
    keyring: str


@dataclass(frozen=True)
class SourceEntry:
    name: str
    version: str
    directory: str
    files: tuple[PinnedFile, ...]  # the .dsc and what it names, each pinned by the signed index
    binaries: tuple[str, ...]

    @property
    def dsc(self) -> PinnedFile:
        return next(f for f in self.files if f.name.endswith(".dsc"))


@dataclass(frozen=True)
class BinaryEntry:
    name: str
    version: str
    architecture: str
    source: str
    source_version: str
    pin: PinnedFile  # the .deb, by its real file name


@dataclass(frozen=True)
class Index:
    """An index's decompressed text and where each package's paragraphs start: only the
    paragraphs asked for are parsed (a full parse of bookworm's Packages costs seconds)."""

    text: str
    starts: dict[str, tuple[int, ...]]

    def paragraphs(self, name: str) -> Iterator[dict[str, str]]:
        for pos in self.starts.get(name, ()):
            begin = self.text.rfind("\n\n", 0, pos)
            end = self.text.find("\n\n", pos)
            yield _fields(self.text[begin + 2 if begin >= 0 else 0:end if end >= 0 else len(self.text)])


@dataclass(frozen=True)
class Archive:
    chain: ArchiveChain
    architecture: str
    sources: Index
    packages: Index

    def source(self, name: str, version: str | None) -> SourceEntry:
        found = [e for e in (_source_entry(p, self.chain.url) for p in self.sources.paragraphs(name)) if e]
        if not found:
            raise InputError(where(f"{self.chain.url} {self.chain.suite}", f"no source package {name}"))
        if version is None:
            return max(found, key=lambda s: Version(s.version))
        for entry in found:
            if entry.version == version:
                return entry
        have = ", ".join(sorted(s.version for s in found))
        raise InputError(where(f"{self.chain.url} {self.chain.suite}",
                               f"no source package {name}={version} (it has {have})"))

    def entries(self, name: str) -> tuple[BinaryEntry, ...]:
        """The suite's packages called ``name`` for arch:all and the host's arch, newest first."""
        found = [e for e in (_binary_entry(p, self.chain.url, self.architecture)
                             for p in self.packages.paragraphs(name)) if e is not None and e.name == name]
        return tuple(sorted(found, key=lambda b: Version(b.version), reverse=True))

    def built_from(self, source: SourceEntry) -> tuple[BinaryEntry, ...]:
        """Every binary package of that source and version: arch:all and the host's arch."""
        found = {(b.name, b.architecture): b for name in source.binaries for b in reversed(self.entries(name))
                 if b.source == source.name and b.source_version == source.version}
        return tuple(sorted(found.values(), key=lambda b: (b.name, b.architecture)))

    def binary(self, name: str, version: str, architecture: str) -> BinaryEntry | None:
        return next((b for b in self.entries(name) if b.version == version
                     and b.architecture in (architecture, "all")), None)

    def newest(self, name: str) -> BinaryEntry | None:
        return next(iter(self.entries(name)), None)


def open_archive(url: str, suite: str, architecture: str, settings: Settings, cache: ContentCache,
                 keyring: Path = KEYRING) -> Archive:
    if not SUITE.match(suite):
        raise InputError(f"--suite {suite!r}: not a suite name")
    base = url.rstrip("/")
    chain, signed = _release(base, suite, settings, keyring)
    listed = _sha256_list(signed, chain)
    sources = _index(base, suite, f"{COMPONENT}/source/Sources.xz", listed, settings, cache)
    packages = _index(base, suite, f"{COMPONENT}/binary-{architecture}/Packages.xz", listed, settings, cache)
    return Archive(chain, architecture, sources, packages)


def _release(base: str, suite: str, settings: Settings, keyring: Path) -> tuple[ArchiveChain, str]:
    url = f"{base}/dists/{suite}/InRelease"
    if not keyring.is_file():
        raise InputError(where(keyring, "the archive keyring is missing (install debian-archive-keyring)"))
    with tempfile.TemporaryDirectory(prefix="inrelease-", dir=_tmp(settings)) as tmp:
        raw, text = Path(tmp) / "InRelease", Path(tmp) / "signed.txt"
        digest = fetch_unpinned(url, "InRelease", MAX_RELEASE_BYTES, raw, settings)
        run = subprocess.run([require("gpgv"), "--status-fd", "1", "--keyring", str(keyring), "--output", str(text),
                              str(raw)], capture_output=True, text=True, check=False)
        signers = tuple(sorted(set(VALIDSIG.findall(run.stdout))))
        if run.returncode != 0 or not signers or not text.is_file():
            raise IntegrityError(where(url, f"the Release signature does not verify against {keyring}"))
        signed = text.read_text("utf-8", "replace")
    _check_suite(signed, suite, url)
    date = _field(signed, "Date", url)
    return ArchiveChain(base, suite, digest.sha256, date, signers, str(keyring)), signed


def _check_suite(signed: str, suite: str, place: str) -> None:
    """The signed text must be the asked suite's (a validly signed InRelease of another suite,
    served in its place, would otherwise mix that suite's packages into this one)."""
    named = {m.group(2).strip() for m in re.finditer(r"^(Suite|Codename): *(.+)$", signed, re.M)}
    if named and suite not in named:
        raise IntegrityError(where(place, f"the signed Release is for {' / '.join(sorted(named))}, not {suite}"))


def _tmp(settings: Settings) -> Path:
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    return settings.work_dir


def _field(text: str, name: str, place: str) -> str:
    match = re.search(rf"^{name}: *(.+)$", text, re.M)
    if match is None:
        raise IntegrityError(where(place, f"no {name} field in the signed Release text"))
    return match.group(1).strip()


def _sha256_list(signed: str, chain: ArchiveChain) -> dict[str, tuple[str, int]]:
    """path -> (sha256, size), from the SHA256 section of the signed text only."""
    listed: dict[str, tuple[str, int]] = {}
    section = False
    for line in signed.splitlines():
        if not line.startswith(" "):
            section = line.rstrip() == "SHA256:"
            continue
        words = line.split()
        if section and len(words) == 3 and re.fullmatch(r"[0-9a-f]{64}", words[0]) and words[1].isdigit():
            listed[words[2]] = (words[0], int(words[1]))
    return listed


def _index(base: str, suite: str, path: str, listed: dict[str, tuple[str, int]], settings: Settings,
           cache: ContentCache) -> Index:
    if path not in listed:
        raise IntegrityError(where(f"{base}/dists/{suite}/InRelease", f"the signed Release lists no {path}"))
    sha256, size = listed[path]
    pin = PinnedFile(name=f"{suite}/{path}", url=f"{base}/dists/{suite}/{path}", sha256=sha256, size=size)
    cached = fetch_file(pin, cache, settings)  # checked against the signed digest (IntegrityError if not)
    return _read_index(cached.path, pin.url, cache, sha256)


def _read_index(path: Path, place: str, cache: ContentCache, xz_sha256: str) -> Index:
    text = _decompressed(path, place, cache, xz_sha256).decode("utf-8", "replace")
    starts: dict[str, list[int]] = {}
    for match in PACKAGE_LINE.finditer(text):
        starts.setdefault(match.group(1), []).append(match.start())
    return Index(text, {name: tuple(found) for name, found in starts.items()})


def _decompressed(path: Path, place: str, cache: ContentCache, xz_sha256: str) -> bytes:
    """The index decompressed; kept in the cache (by its own digest, re-hashed on use, found
    through the cache's URL index under the compressed file's digest): xz costs seconds."""
    key = f"{DECOMPRESSED}{xz_sha256}"
    known = cache.recall_url(key)
    if known is not None and cache.lookup(known.sha256, known.size, place) is not None:
        return cache.read_verified(known.sha256, known.size, place)
    try:
        data = lzma.LZMADecompressor().decompress(path.read_bytes(), max_length=MAX_INDEX_BYTES + 1)
    except (lzma.LZMAError, EOFError) as exc:
        raise IntegrityError(where(place, f"not a valid xz index ({exc})")) from None
    if len(data) > MAX_INDEX_BYTES:
        raise InputError(where(place, f"index larger than {MAX_INDEX_BYTES} bytes decompressed"))
    cache.remember_url(key, cache.add_bytes(data)[1])
    return data


def _fields(block: str) -> dict[str, str]:
    """One deb822 paragraph as {field: value} (continuation lines joined by LF)."""
    fields: dict[str, str] = {}
    last = ""
    for line in block.split("\n"):
        if not line.strip():
            continue
        if line[0] in " \t":
            if last:
                fields[last] += "\n" + line.strip()
        else:
            key, _, value = line.partition(":")
            last = key
            fields[key] = value.strip()
    return fields


def _source_entry(p: dict[str, str], base: str) -> SourceEntry | None:
    if not {"Package", "Version", "Directory", "Checksums-Sha256"} <= p.keys():
        return None
    files = []
    for line in p["Checksums-Sha256"].splitlines():
        words = line.split()
        if len(words) == 3 and words[1].isdigit() and "/" not in words[2]:
            files.append(PinnedFile(words[2], f"{base}/{p['Directory']}/{words[2]}", words[0], int(words[1])))
    if not any(f.name.endswith(".dsc") for f in files):
        return None
    binaries = tuple(b.strip() for b in p.get("Binary", "").replace("\n", " ").split(",") if b.strip())
    return SourceEntry(p["Package"], p["Version"], p["Directory"], tuple(files), binaries)


def _binary_entry(p: dict[str, str], base: str, architecture: str) -> BinaryEntry | None:
    if not {"Package", "Version", "Architecture", "Filename", "SHA256", "Size"} <= p.keys():
        return None
    if p["Architecture"] not in (architecture, "all") or not p["Size"].isdigit():
        return None
    source, source_version = _source_of(p)
    filename = p["Filename"]
    pin = PinnedFile(filename.rsplit("/", 1)[-1], f"{base}/{filename}", p["SHA256"], int(p["Size"]))
    return BinaryEntry(p["Package"], p["Version"], p["Architecture"], source, source_version, pin)


def _source_of(p: dict[str, str]) -> tuple[str, str]:
    """A Packages entry's ``Source: name (version)``; absent means same name and version."""
    source = p.get("Source", "").strip()
    if not source:
        return p["Package"], p["Version"]
    name, _, rest = source.partition(" ")
    version = rest.strip().strip("()").strip()
    return name, version or p["Version"]

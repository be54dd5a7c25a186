"""A rootfs archive read as data (libarchive, within the unpack budgets), never unpacked
onto the host: each member's metadata and content digest, the installed packages and
which package owns which file (``var/lib/dpkg/info/*.list``), and the normalisation
rules every built environment must meet."""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

import libarchive.entry
import libarchive.exception

from verifier.errors import InputError, where
from verifier.formats.reading import Budget, blocks, link_name, member_name, message, open_archive, text
from verifier.formats.sniff import compression_of
from verifier.settings import UnpackLimits

DPKG_INFO = "var/lib/dpkg/info/"
DPKG_STATUS = "var/lib/dpkg/status"
MUST_BE_EMPTY_DIRS = ("var/lib/apt/lists/", "var/cache/apt/archives/", "var/log/")  # only empty files or lock files here
ALLOWED_EMPTY = ("lock",)
MAX_DPKG_FILE = 64 << 20  # dpkg's status, *.list and *.md5sums files are kept in memory: each is capped


@dataclass(frozen=True)
class Member:
    kind: str  # file | dir | symlink | hardlink | char | block | fifo
    mode: int
    uid: int
    gid: int
    mtime: int
    size: int
    sha256: str  # of the content; "" for non-files
    link: str
    md5: str = ""  # of the content, for dpkg's md5sums; "" for non-files


@dataclass(frozen=True)
class Rootfs:
    members: dict[str, Member]  # by name without the leading "./"
    owners: dict[str, tuple[str, ...]]  # "/usr/bin/hello" -> ("hello",)
    status: bytes  # var/lib/dpkg/status
    md5sums: dict[str, bytes] = field(default_factory=dict)  # package -> var/lib/dpkg/info/PACKAGE.md5sums


def plain(name: str) -> str:
    return name[2:] if name.startswith("./") else name.lstrip("/")


def _kind(entry: libarchive.entry.ArchiveEntry) -> str:
    for kind, test in (("hardlink", entry.islnk), ("symlink", entry.issym), ("dir", entry.isdir),
                       ("file", entry.isfile), ("char", entry.ischr), ("block", entry.isblk), ("fifo", entry.isfifo)):
        if test:
            return kind
    return "other"


def read_rootfs(path: Path, limits: UnpackLimits, label: str | None = None) -> Rootfs:
    """Every member of a (compressed) tar rootfs, with owners and dpkg status; errors name
    ``label`` (e.g. the manifest's name for a cache entry), else the path."""
    budget = Budget(path, label or str(path), limits)
    members: dict[str, Member] = {}
    lists: dict[str, bytes] = {}
    sums: dict[str, bytes] = {}
    status = b""
    try:
        with open_archive(path, "tar", compression_of(path) or "none") as archive:
            for entry in archive:
                budget.member(entry)
                name = plain(text(member_name(entry)))
                kind = _kind(entry)
                h, md5, content = hashlib.sha256(), hashlib.md5(usedforsecurity=False), bytearray()
                keep = name == DPKG_STATUS or (name.startswith(DPKG_INFO) and name.endswith((".list", ".md5sums")))
                if kind == "file":
                    for block in blocks(entry, budget):
                        h.update(block)
                        md5.update(block)
                        if keep:
                            content += block
                            if len(content) > MAX_DPKG_FILE:
                                raise InputError(where(label or path, f"{name}: a dpkg database file larger than "
                                                                      f"{MAX_DPKG_FILE >> 20} MiB"))
                link = text(link_name(entry)) if kind in ("symlink", "hardlink") else ""
                is_file = kind == "file"
                members[name] = Member(kind, entry.mode & 0o7777, entry.uid, entry.gid, int(entry.mtime or 0),
                                       entry.size or 0, h.hexdigest() if is_file else "", link,
                                       md5.hexdigest() if is_file else "")
                if name == DPKG_STATUS:
                    status = bytes(content)
                elif keep:
                    package, _, suffix = name[len(DPKG_INFO):].rpartition(".")
                    (lists if suffix == "list" else sums)[package.split(":")[0]] = bytes(content)
    except libarchive.exception.ArchiveError as exc:
        raise InputError(where(label or path, f"not a readable rootfs tar archive ({message(exc)})")) from None
    listed = Rootfs(members, _owners(lists), status, sums)
    return Rootfs(members, _resolved_owners(listed), status, sums)


def _resolved_owners(rootfs: Rootfs) -> dict[str, tuple[str, ...]]:
    """Owners keyed by the name the archive holds (dpkg's /bin/bash is usr/bin/bash in a merged-/usr rootfs)."""
    owners: dict[str, tuple[str, ...]] = {}
    for name, packages in rootfs.owners.items():
        key = "/" + resolve_dirs(rootfs, name.lstrip("/"))
        owners[key] = tuple(dict.fromkeys((*owners.get(key, ()), *packages)))
    return owners


def _owners(lists: dict[str, bytes]) -> dict[str, tuple[str, ...]]:
    owners: dict[str, list[str]] = {}
    for package, content in sorted(lists.items()):
        for line in content.decode("utf-8", "surrogateescape").splitlines():
            if line.strip() and line != "/.":
                owners.setdefault(line, []).append(package)
    return {name: tuple(pkgs) for name, pkgs in owners.items()}


def altered_files(rootfs: Rootfs) -> dict[str, tuple[str, ...]]:
    """Per package, the files whose content is not what its dpkg md5sums list says (or that
    are gone): a package altered after installation, found without any rebuild. The
    md5sums file could be edited too; the rebuild's comparison catches that."""
    altered: dict[str, tuple[str, ...]] = {}
    for package, content in sorted(rootfs.md5sums.items()):
        bad = []
        for line in content.decode("utf-8", "surrogateescape").splitlines():
            digest, _, name = line.partition("  ")
            member = rootfs.members.get(resolve_dirs(rootfs, name.strip().lstrip("/")))
            if name and (member is None or member.kind == "file" and member.md5 != digest.strip()):
                bad.append(name.strip().lstrip("/"))
        if bad:
            altered[package] = tuple(bad)
    return altered


def resolve_dirs(rootfs: Rootfs, name: str, hops: int = 8) -> str:
    """``name`` with its directories followed through the rootfs's own symlinks, as data
    (merged /usr: dpkg lists ``bin/bash``, the archive holds ``usr/bin/bash``)."""
    parts = name.split("/")
    for i in range(1, len(parts)):
        link = rootfs.members.get("/".join(parts[:i]))
        if link is not None and link.kind == "symlink" and hops > 0:
            base = "" if link.link.startswith("/") else "/".join(parts[:i - 1])
            target = posixpath.normpath(posixpath.join(base, link.link)).lstrip("/")
            return resolve_dirs(rootfs, "/".join([target, *parts[i:]]), hops - 1)
    return name


def owner_of(rootfs: Rootfs, name: str) -> str:
    found = rootfs.owners.get("/" + name.rstrip("/"))
    return ", ".join(found) if found else "no package (made while installing)"


def normalisation_problems(rootfs: Rootfs, source_date_epoch: int) -> list[str]:
    """What makes an archive depend on when and where it was built."""
    problems = []
    for name, m in sorted(rootfs.members.items()):
        if m.mtime > source_date_epoch:
            problems.append(f"{name}: mtime {m.mtime} is after SOURCE_DATE_EPOCH {source_date_epoch}")
        if name == "etc/machine-id" and m.size not in (0,):
            problems.append(f"{name}: a machine id ({m.size} bytes)")
        if (m.kind == "file" and name.startswith(MUST_BE_EMPTY_DIRS) and m.size
                and name.rsplit("/", 1)[-1] not in ALLOWED_EMPTY):
            problems.append(f"{name}: a non-empty list, cache or log file")
    return problems

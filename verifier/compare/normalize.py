"""Normalisers: named, documented kinds of difference a user may choose to accept.

A normaliser removes difference nodes of the kinds it covers from the tree (metadata
fields such as member mtimes, header fields such as the gzip timestamp, member order).
A pair is EQUIVALENT only if nothing is left: content, byte-level and unexplained
differences are never removed, so a normaliser cannot hide a content change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace

from verifier.compare.comparators.rpm import SIGNATURE_TAGS
from verifier.compare.difference import Difference
from verifier.errors import InputError


@dataclass(frozen=True)
class Normalization:
    """What normalising did, for the record: the names applied (in the order given), whether
    nothing was left, and the sha256 of the canonical JSON of the tree that was left."""

    normalizers: tuple[str, ...]
    equivalent: bool
    remaining_tree_sha256: str


@dataclass(frozen=True)
class Normalizer:
    description: str
    kinds: frozenset[str]  # node kinds this normaliser may remove
    fields: frozenset[str]  # field names (node source1) within those kinds; empty: all of the kind


NORMALIZERS: dict[str, Normalizer] = {
    "timestamps": Normalizer("member and entry timestamps (tar/cpio/ar mtime, zip date_time)",
                             frozenset({"metadata"}), frozenset({"mtime", "date_time"})),
    "ownership": Normalizer("member owners (uid, gid, uname, gname)", frozenset({"metadata"}),
                            frozenset({"uid", "gid", "uname", "gname"})),
    "file-order": Normalizer("the order of members in an archive", frozenset({"order"}), frozenset()),
    "gzip-header": Normalizer("gzip header fields (mtime, file name, OS byte, extra flags)",
                              frozenset({"header"}), frozenset({"mtime", "name", "os", "xfl", "flags"})),
    "zip-metadata": Normalizer("zip extra fields, creator system, external attributes, compressed size",
                               frozenset({"metadata"}),
                               frozenset({"extra", "create_system", "external_attr", "compressed_size", "compression"})),
    "cpio-inodes": Normalizer("the inode number, device and link count cpio records per member",
                              frozenset({"metadata"}), frozenset({"inode", "dev", "nlink"})),
    "pyc-header": Normalizer(".pyc header fields (invalidation flags, source mtime and size, source hash); "
                             "the code itself is still compared", frozenset({"header"}),
                             frozenset({"pyc flags", "pyc source mtime", "pyc source size", "pyc source hash"})),
    # "mode" is the nine rwx bits only: setuid/setgid/sticky ("special bits") and "type" are other fields
    "permissions": Normalizer("member rwx permission bits (never setuid, setgid, sticky or the file type)",
                              frozenset({"metadata"}), frozenset({"mode"})),
    "rpm-signature": Normalizer("RPM signature and digest tags (SIGMD5, SHA1/SHA256 header, payload digests, sizes)",
                                frozenset({"field"}), SIGNATURE_TAGS),
    "rpm-buildinfo": Normalizer("RPM BUILDTIME, BUILDHOST and COOKIE", frozenset({"field"}),
                                frozenset({"buildtime", "buildhost", "cookie"})),
}


def check_names(names: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(names)
    unknown = [n for n in chosen if n not in NORMALIZERS]
    if unknown:
        raise InputError(f"--normalize: unknown normaliser {unknown[0]!r} (known: {', '.join(NORMALIZERS)})")
    return chosen


def _covered(node: Difference, chosen: list[Normalizer]) -> bool:
    return any(node.kind in n.kinds and (not n.fields or node.source1 in n.fields) for n in chosen)


def _prune(node: Difference, chosen: list[Normalizer]) -> Difference | None:
    if _covered(node, chosen) and not node.details:
        return None
    children = tuple(c for c in (_prune(child, chosen) for child in node.details) if c is not None)
    if node.details and not children and not node.unified_diff and not node.comments:
        return None  # a container whose every difference was normalised away
    return replace(node, details=children)


def normalize(diff: Difference | None, names: Iterable[str]) -> tuple[Difference | None, Normalization]:
    """The tree left after the chosen normalisers, and a record for the report."""
    chosen_names = check_names(names)
    remaining = _prune(diff, [NORMALIZERS[n] for n in chosen_names]) if diff is not None else None
    canonical = json.dumps(remaining.to_json() if remaining else None, sort_keys=True).encode()
    record = Normalization(tuple(chosen_names), remaining is None, hashlib.sha256(canonical).hexdigest())
    return remaining, record

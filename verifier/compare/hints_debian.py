"""Hints for what Debian rebuilds really hit, each naming the member and what each side has
(docs/hints.md): ELF files whose only differences are the build-id and the debug links
(toolchain or debug-info drift), a changelog.Debian.gz cut differently (debhelper's
changelog trimming), Installed-Size and md5sums differing only as a consequence of the
packaged files, and Depends versions raised or lowered (shlibs from another library).

A rule looks at one node of the finished tree and returns ``(cause, member, detail)``:
``hints.py`` groups them into one hint per cause. "official" is the first side, "rebuild"
the second.
"""

from __future__ import annotations

import re

from debian.debian_support import version_compare

from verifier.compare.difference import Difference

Cause = tuple[str, str, str]

DRIFT = "toolchain or debug-info drift: the build environment differs from the original"
DRIFT_SECTIONS = (".note.gnu.build-id", ".gnu_debuglink", ".gnu_debugaltlink")
DRIFT_FIELDS = ("build-id", "debuglink", "debugaltlink")
CHANGELOG = ("changelog of another length: debhelper's changelog trimming (dh_installchangelogs) differs, "
             "so the build environment's debhelper is not the original's")
CHANGELOGS = ("changelog.Debian.gz", "changelog.gz")
INSTALLED_SIZE = "Installed-Size differs only as a consequence of the packaged files' sizes, not a cause of its own"
SIZE_NOTE = "Installed-Size differs by as much as the packaged files do"
MD5SUMS = "md5sums differs only in the lines of files that differ themselves: a consequence, not a cause of its own"
RAISED = ("Depends: versions raised: dpkg-shlibdeps took them from newer libraries (shlibs/symbols files) "
          "in the build environment, which differs from the original")
LOWERED = ("Depends: versions lowered: dpkg-shlibdeps took them from older libraries (shlibs/symbols files) "
           "in the build environment, which differs from the original")
RELATION_FIELDS = ("Pre-Depends", "Depends")
RELATION_RE = re.compile(r"^\s*(?P<name>[^\s(\[<:]+)(?P<arch>:\S+)?\s*(\((?P<op><<|<=|=|>=|>>)\s*(?P<version>[^)\s]+)\s*\))?\s*$")
DATA_TAR = re.compile(r"^data\.tar(\.\w+)?$")


def member_name(label: str) -> str:
    """The member a node is about: the last ``::`` part of its label (the file itself outside containers)."""
    return label.rsplit("::", 1)[-1]


def _values(diff: str | None) -> tuple[str, str]:
    lines = (diff or "").splitlines()
    old = next((line[1:] for line in lines if line.startswith("-")), "")
    new = next((line[1:] for line in lines if line.startswith("+")), "")
    return old, new


def _header_fields(node: Difference) -> dict[str, str]:
    return {f.source1: f.unified_diff or "" for c in node.details if c.kind == "header" for f in c.details}


def drift(node: Difference) -> list[Cause]:
    """An ELF pair whose only differences are the build-id and the debug links: the code is the
    same, what made the debug info (and so the build-id, and the debug file's CRC) is not."""
    if node.kind != "elf":
        return []
    sections = [c for c in node.details if c.kind == "section"]
    fields = _header_fields(node)
    names = [c.source1.rsplit("(section ", 1)[-1].rstrip(")") for c in sections]
    if (any(c.kind not in ("section", "header") for c in node.details) or not sections
            or any(n not in DRIFT_SECTIONS for n in names) or any(f not in DRIFT_FIELDS for f in fields)):
        return []
    said = "; ".join(f"{k}: official {old}, rebuild {new}" for k, (old, new) in
                     ((k, _values(v)) for k, v in fields.items()))
    return [(DRIFT, member_name(node.source1), f"only the ELF build-id and debug links differ, code identical ({said})")]


# the note dh_installchangelogs (debhelper 13.10+) puts where it cut: not a line of an entry
TRIM_NOTE = re.compile(r"^# (Older entries have been removed from this changelog\.|To read the complete changelog use )")


def _changed_lines(diff: str) -> tuple[list[str], list[str]]:
    lines = [x for x in diff.splitlines() if not TRIM_NOTE.match(x[1:])]
    return [x[1:] for x in lines if x.startswith("-")], [x[1:] for x in lines if x.startswith("+")]


def changelog(node: Difference) -> list[Cause]:
    """A changelog whose text differs only by lines present on one side: entries trimmed."""
    name = member_name(node.source1)
    if not name.endswith(CHANGELOGS) or node.kind in ("content", "metadata"):
        return []
    contents = [n for n in node.walk() if n.kind == "content"]
    if len(contents) != 1 or any(n.kind in ("bytes", "unreadable", "format") for n in node.walk()):
        return []
    removed, added = _changed_lines(contents[0].unified_diff or "")
    if bool(removed) == bool(added):
        return []
    count = f"at least {len(removed or added)}" if any("truncated" in c for c in contents[0].comments) \
        else str(len(removed or added))
    side = "the official one" if removed else "the rebuild's"
    return [(CHANGELOG, name, f"{side} has {count} more lines, the other's are all in it")]


def installed_size(node: Difference) -> list[Cause]:
    if node.kind != "header" or not node.source1.endswith("(control fields)"):
        return []
    field = next((f for f in node.details if f.source1 == "Installed-Size"), None)
    if field is None or not any(c.startswith(SIZE_NOTE) for c in field.comments):
        return []
    old, new = _values(field.unified_diff)
    deb = member_name(node.source1.removesuffix(" (control fields)"))
    return [(INSTALLED_SIZE, deb, f"official {old} KiB, rebuild {new} KiB, as the files in each add up")]


def _relations(value: str) -> list[list[tuple[str, str, str]]] | None:
    """A relation field as lists of alternatives (name with arch, operator, version), or None if unparsed."""
    parsed = []
    for group in value.replace("\\x0a", " ").split(","):  # a folded field, as one_line shows its newlines
        alternatives = []
        for alternative in group.split("|"):
            m = RELATION_RE.match(alternative)
            if m is None:
                return None
            alternatives.append((m["name"] + (m["arch"] or ""), m["op"] or "", m["version"] or ""))
        parsed.append(alternatives)
    return parsed


def _moves(old: str, new: str) -> list[tuple[str, str, int]] | None:
    """Each relation whose version moved (official, rebuild, direction), when nothing else changed."""
    ra, rb = _relations(old), _relations(new)
    if ra is None or rb is None or [[x[:2] for x in g] for g in ra] != [[x[:2] for x in g] for g in rb]:
        return None
    moves = []
    for ga, gb in zip(ra, rb):
        for (name, op, va), (_, _, vb) in zip(ga, gb):
            if va != vb:
                moves.append((f"{name} ({op} {va})", f"{name} ({op} {vb})", version_compare(vb, va)))
    return moves


def depends(node: Difference) -> list[Cause]:
    if node.kind != "header" or not node.source1.endswith("(control fields)"):
        return []
    deb = member_name(node.source1.removesuffix(" (control fields)"))
    causes = []
    for field in (f for f in node.details if f.source1 in RELATION_FIELDS):
        moves = _moves(*_values(field.unified_diff))
        if not moves or len({m[2] > 0 for m in moves}) != 1:
            continue  # another change than versions, or some raised and some lowered
        said = "; ".join(f"official {a}, rebuild {b}" for a, b, _ in moves)
        cause = RAISED if moves[0][2] > 0 else LOWERED
        causes.append((cause.replace("Depends:", f"{field.source1}:", 1), deb, said))
    return causes


def _data_member(label: str) -> str | None:
    """The data.tar member a node is under, from its label (``x.deb::data.tar.xz::(decompressed)::usr/bin/f::…``)."""
    parts = label.split("::")
    for i, part in enumerate(parts):
        if DATA_TAR.match(part):
            rest = [p for p in parts[i + 1:] if p != "(decompressed)"]
            return rest[0].split(" (")[0].removeprefix("./") if rest else None
    return None


def _listed(node: Difference) -> set[str]:
    """Members a data.tar listing node says are only on one side."""
    removed, added = _changed_lines(node.unified_diff or "")
    return {line.rsplit(" (", 1)[0].removeprefix("./") for line in removed + added}


def md5sums(node: Difference) -> list[Cause]:
    """At a .deb: md5sums lines that differ only for files whose content differs in data.tar."""
    if not any(member_name(c.source1).startswith("control.tar") for c in node.details):
        return []  # not a .deb's own node (checked first: the walk below is over the whole package)
    sums = [n for n in node.walk() if n.kind == "content" and member_name(n.source1).removeprefix("./") == "md5sums"
            and "control.tar" in n.source1]
    if len(sums) != 1:
        return []
    if any("truncated" in c for c in sums[0].comments):
        return []  # lines not shown could be for files that do not differ
    removed, added = _changed_lines(sums[0].unified_diff or "")
    files = {line.split(None, 1)[1].strip() for line in removed + added if len(line.split(None, 1)) == 2}
    differing: set[str] = set()
    for n in node.walk():
        if "data.tar" in n.source1 and n.kind == "member":
            differing |= _listed(n)
        elif n.kind not in ("metadata", "order", "member"):
            differing |= {m for m in [_data_member(n.source1)] if m}
    if not files or not files <= differing:
        return []
    shown = ", ".join(sorted(files)[:3]) + (f" and {len(files) - 3} more" if len(files) > 3 else "")
    return [(MD5SUMS, f"{member_name(node.source1)} md5sums",
             f"official and rebuild differ in the lines of {len(files)} file(s) that differ themselves ({shown})")]


RULES = (drift, changelog, installed_size, depends, md5sums)


def causes(node: Difference) -> list[Cause]:
    if not node.details:  # every rule looks at a node's children: leaves (most nodes) have none
        return []
    return [cause for rule in RULES for cause in rule(node)]

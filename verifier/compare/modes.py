"""A member's mode as the fields the comparators report: ``mode`` (the nine rwx permission
bits, which the ``permissions`` normaliser may remove) and ``special bits`` (setuid,
setgid, sticky: no normaliser removes them). The file type is a field of its own (``type``)."""

from __future__ import annotations

import stat

SPECIAL = ((stat.S_ISUID, "setuid"), (stat.S_ISGID, "setgid"), (stat.S_ISVTX, "sticky"))
LS_TYPES = {"-": "reg", "d": "dir", "l": "sym", "c": "chr", "b": "blk", "p": "fifo", "s": "sock"}
LS_SPECIAL = {(3, "s"): stat.S_ISUID, (3, "S"): stat.S_ISUID, (6, "s"): stat.S_ISGID, (6, "S"): stat.S_ISGID,
              (9, "t"): stat.S_ISVTX, (9, "T"): stat.S_ISVTX}


def special_bits(mode: int) -> str:
    """"setuid,sticky", or "none"."""
    return ",".join(name for bit, name in SPECIAL if mode & bit) or "none"


def mode_fields(mode: int) -> dict[str, object]:
    return {"mode": oct(mode & 0o777), "special bits": special_bits(mode)}


def ls_mode(text: str) -> dict[str, object]:
    """``type``, ``mode`` and ``special bits`` of an ``ls -l`` mode string (``-rwsr-xr-x``)."""
    mode = 0
    for i, char in enumerate(text[1:10], start=1):
        mode |= LS_SPECIAL.get((i, char), 0)
        if char not in "-ST":
            mode |= 1 << (9 - i)
    return {"type": LS_TYPES.get(text[:1], "unknown"), **mode_fields(mode)}

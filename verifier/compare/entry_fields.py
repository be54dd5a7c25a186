"""Member fields libarchive reads but libarchive-c does not expose (extended attributes;
cpio's inode, device and link count), read through libarchive's own C API (ctypes)."""

from __future__ import annotations

import ctypes

import libarchive.ffi

MAX_VALUE = 4096
_lib = libarchive.ffi.libarchive
_lib.archive_entry_xattr_reset.argtypes = [ctypes.c_void_p]
_lib.archive_entry_xattr_reset.restype = ctypes.c_int
_lib.archive_entry_xattr_next.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p),
                                          ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)]
_lib.archive_entry_xattr_next.restype = ctypes.c_int
for _name, _type in (("archive_entry_ino64", ctypes.c_int64), ("archive_entry_dev", ctypes.c_uint64),
                     ("archive_entry_nlink", ctypes.c_uint)):
    getattr(_lib, _name).argtypes = [ctypes.c_void_p]
    getattr(_lib, _name).restype = _type


def entry_inode(entry: object) -> dict[str, int]:
    """The inode number, device and link count a cpio header records for a member."""
    pointer = getattr(entry, "_entry_p", None)
    if pointer is None:
        return {}
    return {"inode": _lib.archive_entry_ino64(pointer), "dev": _lib.archive_entry_dev(pointer),
            "nlink": _lib.archive_entry_nlink(pointer)}


def entry_xattrs(entry: object) -> dict[str, str]:
    """name -> value (hex when not printable text), for one libarchive entry."""
    pointer = getattr(entry, "_entry_p", None)
    if pointer is None or _lib.archive_entry_xattr_reset(pointer) <= 0:
        return {}
    found: dict[str, str] = {}
    name, value, size = ctypes.c_char_p(), ctypes.c_void_p(), ctypes.c_size_t()
    while _lib.archive_entry_xattr_next(pointer, ctypes.byref(name), ctypes.byref(value), ctypes.byref(size)) == 0:
        raw = ctypes.string_at(value, min(size.value, MAX_VALUE)) if value.value else b""
        try:
            text = raw.decode("utf-8")
            shown = text if text.isprintable() else raw.hex()
        except UnicodeDecodeError:
            shown = raw.hex()
        found[(name.value or b"").decode("utf-8", "replace")] = shown
    return found

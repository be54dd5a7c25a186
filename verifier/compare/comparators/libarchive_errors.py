"""libarchive's failures read as CorruptArchive/TruncatedArchive, naming the place.

libarchive says *what* went wrong ("Truncated tar archive", "Damaged tar archive") but
not where. When a read fails, the archive's headers are listed again, data skipped,
until the failure: the last member listed and the byte offset reached are the place.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import libarchive.exception

from verifier.compare.interface import CorruptArchive, Side, TruncatedArchive
from verifier.formats.reading import member_name, open_archive
from verifier.printable import one_line

TRUNCATION_WORDS = ("truncat", "no progress is possible", "premature end", "unexpected end", "unexpected eof")
MAX_LOCATE = 100_000  # headers listed at most when looking for the place of a failure
Method = TypeVar("Method", bound=Callable)


def translate(side: Side, exc: libarchive.exception.ArchiveError, place: str) -> CorruptArchive:
    message = " ".join(str(exc.msg).split())
    kind = TruncatedArchive if any(w in message.lower() for w in TRUNCATION_WORDS) else CorruptArchive
    return kind(side.label, message, place)


def locate(side: Side, format_name: str, filter_name: str) -> str:
    """Where reading ``side`` fails: after which member, at which byte of the file."""
    last, offset = None, 0
    try:
        with open_archive(side.path, format_name, filter_name) as archive:
            for count, entry in enumerate(archive):
                last, offset = member_name(entry), archive.bytes_read
                if count >= MAX_LOCATE:
                    break
            offset = archive.bytes_read
    except libarchive.exception.ArchiveError:
        pass  # the failure being located; the last member read is the answer
    size = side.path.stat().st_size
    member = f"in or after member '{one_line(last)}'" if last is not None else "before the first member"
    return f"{member}, near byte {offset} of {size}"


@contextmanager
def reading(side: Side, format_name: str, filter_name: str = "none") -> Iterator[None]:
    """Reading ``side`` with libarchive: its failure becomes a CorruptArchive naming the place."""
    try:
        yield
    except libarchive.exception.ArchiveError as exc:
        raise translate(side, exc, locate(side, format_name, filter_name)) from None


def reads_archive(method: Method) -> Method:
    """``reading`` for a container method ``(self, side, …)`` of a format ``self.format_name``."""

    @functools.wraps(method)
    def wrapper(self, side: Side, *args, **kwargs):  # type: ignore[no-untyped-def]
        with reading(side, self.format_name):
            return method(self, side, *args, **kwargs)

    return wrapper  # type: ignore[return-value]

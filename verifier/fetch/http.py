"""Pinned HTTP(S) downloads: streamed, hashed as they arrive, size-capped, resumable.

The raw bytes are hashed (``Accept-Encoding: identity`` and no content decoding);
redirects are followed by hand, a bounded number of times, never from https to http and
never to another scheme; a body longer than the pin stops at once; interrupted
transfers resume with a Range request (restarting when the server ignores it); every
attempt shares one total deadline. A complete answer (its end announced by Content-Length
or chunking) shorter than the pin is an IntegrityError at once, never retried. The caller
owns the file written into (the cache's partial file, opened without following links).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

import urllib3

from verifier.cache import HashingWriter
from verifier.digests import CHUNK, FileDigest
from verifier.errors import FetchError, IntegrityError, where
from verifier.settings import FetchLimits

Progress = Callable[[int], None]
TRANSIENT_STATUSES = {408, 425, 429, 500, 502, 503, 504}


class TransientError(Exception):
    """Worth another attempt (connection reset, timeout, 5xx, truncated body)."""


class TransferBroken(FetchError):
    """The transfer broke off (attempts or deadline used up): the bytes that arrived may be
    resumed by a later run, so the caller keeps them."""


@dataclass(frozen=True)
class Target:
    url: str
    label: str  # what the user knows this file as, for messages
    size: int  # the pinned size: never read past it
    exact: bool = True  # False: ``size`` is only a cap (an unpinned download)


def pool(limits: FetchLimits) -> urllib3.PoolManager:
    timeout = urllib3.Timeout(connect=limits.connect_timeout, read=limits.read_timeout)
    return urllib3.PoolManager(timeout=timeout, retries=False, headers={"Accept-Encoding": "identity"})


def _follow(http: urllib3.PoolManager, url: str, headers: dict[str, str], limits: FetchLimits,
            label: str) -> urllib3.BaseHTTPResponse:
    for _ in range(limits.max_redirects + 1):
        try:
            response = http.request("GET", url, headers=headers, preload_content=False,
                                    decode_content=False, redirect=False)
        except urllib3.exceptions.HTTPError as exc:
            raise TransientError(_reason(exc)) from None
        if response.status not in (301, 302, 303, 307, 308):
            return response
        location = response.headers.get("Location", "")
        response.drain_conn()
        response.release_conn()
        url = _redirect_target(url, location, label)
    raise FetchError(where(label, f"more than {limits.max_redirects} redirects"))


def _redirect_target(current: str, location: str, label: str) -> str:
    target = urljoin(current, location)
    old, new = urlsplit(current).scheme, urlsplit(target).scheme
    if new not in ("http", "https"):
        raise FetchError(where(label, f"redirect to a {new or 'relative'} URL refused: {target}"))
    if old == "https" and new == "http":
        raise FetchError(where(label, f"redirect from https to http refused: {target}"))
    return target


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "reason", None) or exc)
    if "Connection refused" in text:
        return "connection refused"
    if "timed out" in text.lower():
        return "timed out"
    return text.split(": ")[-1][:200] or type(exc).__name__


def _check_status(response: urllib3.BaseHTTPResponse, target: Target, offset: int) -> int:
    """Return the offset the body starts at (0 when the server ignored our Range)."""
    status = response.status
    if status in TRANSIENT_STATUSES:
        raise TransientError(f"HTTP {status}")
    if status == 206 and offset:
        content_range = response.headers.get("Content-Range", "")
        if content_range.startswith(f"bytes {offset}-"):
            return offset
        return -1
    if status == 416 and offset:
        return -1
    if status != 200:
        raise FetchError(where(target.url, f"HTTP {status} fetching {target.label}"))
    return 0


def _copy_body(response: urllib3.BaseHTTPResponse, out: HashingWriter, target: Target,
               deadline: float, progress: Progress | None) -> int:
    try:
        while chunk := response.read(CHUNK):
            if out.size + len(chunk) > target.size:
                what = "the pinned size" if target.exact else "the size cap"
                raise IntegrityError(where(target.label, f"body longer than {what} {target.size} bytes ({target.url})"))
            out.write(chunk)
            if progress:
                progress(len(chunk))
            if time.monotonic() > deadline:
                raise TransferBroken(where(target.url, "total deadline exceeded"))
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        out.file.flush()
        raise TransientError(_reason(exc)) from None
    return out.size


def _resume(partial: BinaryIO, start: int) -> HashingWriter:
    """Continue ``partial`` at ``start``, its first bytes already hashed (the rest cut off)."""
    partial.seek(0)
    writer = HashingWriter(partial)
    while writer.size < start and (chunk := partial.read(min(CHUNK, start - writer.size))):
        writer.hash.update(chunk)
        writer.size += len(chunk)
    partial.truncate(writer.size)
    partial.seek(writer.size)
    return writer


def _complete(response: urllib3.BaseHTTPResponse) -> bool:
    """Whether the body's end was announced (Content-Length or chunked): urllib3 raises
    when such a body ends early, so one that ended normally is all the server meant to send."""
    encoding = response.headers.get("Transfer-Encoding", "").lower()
    return response.headers.get("Content-Length") is not None or "chunked" in encoding


def download_attempt(http: urllib3.PoolManager, target: Target, partial: BinaryIO, limits: FetchLimits,
                     deadline: float, progress: Progress | None) -> FileDigest:
    """One attempt: resume ``partial`` (or restart it) until it holds ``target.size`` bytes."""
    offset = os.fstat(partial.fileno()).st_size if target.exact else 0
    if offset >= target.size:
        offset = 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    response = _follow(http, target.url, headers, limits, target.label)
    try:
        start = _check_status(response, target, offset)
        if start < 0:  # the server did not honour the range as asked: start over
            partial.truncate(0)
            raise TransientError("server ignored the Range request; restarting")
        writer = _resume(partial, start)
        size = _copy_body(response, writer, target, deadline, progress)
        partial.flush()
        os.fsync(partial.fileno())
        if target.exact and size < target.size:
            if _complete(response):
                raise IntegrityError(where(target.label, f"the server's complete answer ends after {size} of the "
                                                         f"pinned {target.size} bytes ({target.url})"))
            raise TransientError(f"body ended after {size} of {target.size} bytes")
        return writer.digest()
    finally:
        response.release_conn()


def download(http: urllib3.PoolManager, target: Target, partial: BinaryIO, limits: FetchLimits,
             progress: Progress | None = None) -> FileDigest:
    """Download into ``partial`` (open for reading and writing; a pinned download resumes
    after the bytes it already holds) with bounded retries and one total deadline.
    Returns the digest of what arrived (the caller compares it with the pin)."""
    deadline = time.monotonic() + limits.total_deadline
    last, attempt = "no attempt made", 0
    for attempt in range(limits.retries + 1):
        try:
            return download_attempt(http, target, partial, limits, deadline, progress)
        except TransientError as exc:
            last = str(exc)
            if time.monotonic() + 0.5 > deadline:
                break
            time.sleep(min(0.2 * 2**attempt, 2.0))
    raise TransferBroken(where(target.url, f"{last} (after {attempt + 1} attempt(s))"))

"""Pinned HTTP(S) downloads: streamed, hashed as they arrive, size-capped, resumable.

The raw bytes are hashed (``Accept-Encoding: identity`` and no content decoding);
redirects are followed by hand, a bounded number of times, never from https to http and
never to another scheme, each hop's URL and address checked (``addresses.py``); a body
longer than the pin stops at once; interrupted transfers resume with a Range request
(restarting when the server ignores it). Every attempt shares one total deadline, enforced
by the connection watchdog whatever the server does, and a transfer slower than the
minimum rate over its window fails at once. A complete answer (its end announced by Content-Length
or chunking) shorter than the pin is an IntegrityError at once, never retried. The caller
owns the file written into (the cache's partial file, opened without following links).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

import urllib3

from verifier.cache import HashingWriter
from verifier.digests import CHUNK, FileDigest
from verifier.errors import FetchError, InputError, IntegrityError, where
from verifier.fetch.addresses import AddressRefused, check_url
from verifier.fetch.connection import Client
from verifier.settings import FetchLimits
from verifier.urls import redact

Progress = Callable[[int], None]
TRANSIENT_STATUSES = {408, 425, 429, 500, 502, 503, 504}
DEADLINE, HEAD = "deadline", "head"  # why the watchdog fired


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


@dataclass
class RateMeter:
    """Fails a transfer whose average rate over a window falls below the minimum."""

    url: str
    min_rate: float  # bytes per second; 0 turns the check off
    window: float  # seconds
    start: float = field(default_factory=time.monotonic)
    start_bytes: int = 0

    def update(self, received: int) -> None:
        now = time.monotonic()
        if self.min_rate <= 0 or now - self.start < self.window:
            return
        rate = (received - self.start_bytes) / (now - self.start)
        if rate < self.min_rate:
            raise TransferBroken(where(self.url, f"transfer slower than {self.min_rate:g} bytes/s over {self.window:g} s "
                                                 f"({rate:.0f} bytes/s; --min-download-rate sets the minimum)"))
        self.start, self.start_bytes = now, received


def head_bound(limits: FetchLimits, deadline: float) -> tuple[float, str]:
    """Seconds a response head may take to arrive, and what runs out first."""
    remaining = deadline - time.monotonic()
    head = limits.connect_timeout + limits.read_timeout
    return (remaining, DEADLINE) if remaining <= head else (head, HEAD)


def request(http: Client, url: str, headers: dict[str, str], limits: FetchLimits, label: str,
            deadline: float) -> urllib3.BaseHTTPResponse:
    """One GET of a checked URL, its head bounded in time; no redirect followed."""
    check_url(url, label)
    seconds, reason = head_bound(limits, deadline)
    try:
        with http.watchdog.armed(seconds, reason):
            response = http.manager.request("GET", url, headers=headers, preload_content=False,
                                            decode_content=False, redirect=False)
    except AddressRefused as exc:
        raise InputError(where(redact(url), f"{exc} ({label})")) from None
    except urllib3.exceptions.HTTPError as exc:
        raise TransientError(_head_failure(http, seconds) or _reason(exc)) from None
    failure = _head_failure(http, seconds)
    if failure:  # cut off mid-head, which http.client reads as the end of the headers
        response.release_conn()
        raise TransientError(failure)
    return response


def _head_failure(http: Client, seconds: float) -> str | None:
    if http.watchdog.fired == HEAD:
        return f"no complete response head within {seconds:g} s"
    if http.watchdog.fired == DEADLINE:
        return "download deadline exceeded before the response head was complete"
    return None


def _follow(http: Client, url: str, headers: dict[str, str], limits: FetchLimits,
            label: str, deadline: float) -> urllib3.BaseHTTPResponse:
    for _ in range(limits.max_redirects + 1):
        response = request(http, url, headers, limits, label, deadline)
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
        raise InputError(where(label, f"redirect to a {new or 'relative'} URL refused: {redact(target)}"))
    if old == "https" and new == "http":
        raise InputError(where(label, f"redirect from https to http refused: {redact(target)}"))
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
               meter: RateMeter, progress: Progress | None) -> int:
    try:
        while chunk := response.read1(CHUNK, decode_content=False):
            if out.size + len(chunk) > target.size:
                what = "the pinned size" if target.exact else "the size cap"
                raise IntegrityError(where(target.label, f"body longer than {what} {target.size} bytes ({target.url})"))
            out.write(chunk)
            if progress:
                progress(len(chunk))
            meter.update(out.size)
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


def download_attempt(http: Client, target: Target, partial: BinaryIO, limits: FetchLimits,
                     deadline: float, progress: Progress | None) -> FileDigest:
    """One attempt: resume ``partial`` (or restart it) until it holds ``target.size`` bytes."""
    offset = os.fstat(partial.fileno()).st_size if target.exact else 0
    if offset >= target.size:
        offset = 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    response = _follow(http, target.url, headers, limits, target.label, deadline)
    try:
        start = _check_status(response, target, offset)
        if start < 0:  # the server did not honour the range as asked: start over
            partial.truncate(0)
            raise TransientError("server ignored the Range request; restarting")
        writer = _resume(partial, start)
        meter = RateMeter(target.url, limits.min_rate, limits.rate_window, start_bytes=writer.size)
        with http.watchdog.armed(deadline - time.monotonic(), DEADLINE):
            size = _copy_body(response, writer, target, meter, progress)
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


def download(http: Client, target: Target, partial: BinaryIO, limits: FetchLimits,
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
            if http.watchdog.fired == DEADLINE or time.monotonic() + 0.5 > deadline:
                raise deadline_exceeded(target, partial, limits) from None
            time.sleep(min(0.2 * 2**attempt, 2.0, deadline - time.monotonic()))
    raise TransferBroken(where(target.url, f"{last} (after {attempt + 1} attempt(s))"))


def deadline_exceeded(target: Target, partial: BinaryIO, limits: FetchLimits) -> TransferBroken:
    received = os.fstat(partial.fileno()).st_size
    of = f"of {target.size}" if target.exact else f"(at most {target.size})"
    return TransferBroken(where(target.url, f"download deadline of {limits.total_deadline:g} s exceeded for "
                                            f"{target.label} ({received} {of} bytes received; "
                                            "--download-deadline sets it)"))

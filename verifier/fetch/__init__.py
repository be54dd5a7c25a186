"""The fetch step: every pinned input into the content-addressed cache, every pin checked.

``load_manifest`` reads the (unpinned) manifest; ``fetch_inputs`` fetches everything it
pins; ``fetch_file`` fetches one pinned file (http, https or file URL). A pin mismatch is
an IntegrityError naming the input, the expected and the actual digest.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO
from urllib.parse import SplitResult, unquote, urlsplit

import urllib3
from rich.progress import DownloadColumn, Progress as Bar, TransferSpeedColumn

from verifier.cache import ContentCache, HashingWriter
from verifier.digests import CHUNK, FileDigest
from verifier.errors import FetchError, InputError, IntegrityError, VerifierError, where
from verifier.files import open_regular, read_limited
from verifier.fetch.addresses import AddressPolicy, check_url, is_local_address
from verifier.fetch.connection import Client, client
from verifier.fetch.http import (
    DEADLINE, Progress, RateMeter, Target, TransferBroken, TransientError, download, request,
)
from verifier.manifest import MAX_MANIFEST_BYTES, PinnedFile, ReleaseManifest, parse
from verifier.settings import Settings
from verifier.stages import CachedFile, FetchedInputs
from verifier.urls import redact


@dataclass(frozen=True)
class LoadedManifest:
    manifest: ReleaseManifest
    digest: FileDigest
    from_local_address: bool = False  # read over a loopback or private address


def scoped_settings(loaded: LoadedManifest, settings: Settings) -> Settings:
    """The settings for fetching what ``loaded`` names: a manifest that itself came from a
    loopback or private address may name such addresses (docs/network-policy.md)."""
    if not loaded.from_local_address or settings.fetch.allow_private_addresses:
        return settings
    return replace(settings, fetch=replace(settings.fetch, allow_private_addresses=True))


def is_remote(location: str) -> bool:
    return _split(location).scheme in ("http", "https")


def _split(location: str) -> SplitResult:
    """``urlsplit``, a malformed URL (``http://[bad``) being bad input (exit 2), not an internal error."""
    try:
        return urlsplit(location)
    except ValueError as exc:
        raise InputError(where(redact(location), f"not a valid URL ({exc})")) from None


def local_path(url_or_path: str) -> Path:
    """The local file a path or ``file:`` URL names; any other scheme is refused (exit 2)."""
    parts = _split(url_or_path)
    if parts.scheme not in ("", "file"):
        raise InputError(where(redact(url_or_path), f"unsupported URL scheme {parts.scheme!r}: only http, https and file "
                                            "URLs or local paths (write ./ before a path containing ':')"))
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise InputError(where(url_or_path, "file URLs must name a local path"))
        return Path(unquote(parts.path))
    return Path(url_or_path)


def _check_pin(pin: PinnedFile, actual: FileDigest) -> None:
    if (actual.sha256, actual.size) != (pin.sha256, pin.size):
        raise IntegrityError(where(pin.name, f"digest mismatch: expected sha256 {pin.sha256} ({pin.size} bytes), "
                                             f"got sha256 {actual.sha256} ({actual.size} bytes) from {pin.url}"))


def _copy_local(pin: PinnedFile, dest: Path) -> FileDigest:
    path = local_path(pin.url)
    with open_regular(path, pin.name, missing=f"no such file ({pin.name})") as f, \
            open(dest, "wb") as out:
        writer = HashingWriter(out)
        try:
            while chunk := f.read(CHUNK):
                if writer.size + len(chunk) > pin.size:
                    raise IntegrityError(where(pin.name, f"file longer than the pinned size {pin.size} bytes ({path})"))
                writer.write(chunk)
        except OSError as exc:
            raise InputError(where(path, f"cannot read {pin.name}: {exc.strerror}")) from None
        out.flush()
        os.fsync(out.fileno())
        return writer.digest()


def _http(settings: Settings, allow_private: bool | None = None) -> contextlib.AbstractContextManager[Client]:
    private = settings.fetch.allow_private_addresses if allow_private is None else allow_private
    return client(settings.fetch, AddressPolicy(allow_private=private))


def fetch_file(pin: PinnedFile, cache: ContentCache, settings: Settings,
               http: Client | None = None, progress: Progress | None = None) -> CachedFile:
    """The cache entry for ``pin``: re-hashed when present (a corrupt one is removed and
    reported), else fetched and checked. One process at a time downloads a digest; its
    peers wait, then use the entry it committed."""
    found = cache.lookup(pin.sha256, pin.size, pin.name)
    if found is not None:
        return CachedFile(pin, found)
    if settings.offline:
        raise FetchError(where(pin.name, f"not in the cache {cache.root} and --offline was given"))
    if not is_remote(pin.url):
        with cache.temp_file() as tmp:
            digest = _copy_local(pin, tmp)
            _check_pin(pin, digest)
            return CachedFile(pin, cache.commit(tmp, digest))
    with cache.download_slot(pin.sha256, pin.name, settings.fetch.total_deadline) as partial:
        found = cache.lookup(pin.sha256, pin.size, pin.name)  # a peer committed it while we waited
        if found is not None:
            cache.clear_partial(pin.sha256)
            return CachedFile(pin, found)
        with (_http(settings) if http is None else _nullcontext(http)) as manager:
            digest = _download_pinned(pin, cache, manager, partial, settings, progress)
        return CachedFile(pin, cache.commit_partial(pin.sha256, digest))


def _download_pinned(pin: PinnedFile, cache: ContentCache, http: Client, partial: BinaryIO,
                     settings: Settings, progress: Progress | None) -> FileDigest:
    """Download into the pin's partial file and check it. The partial file survives only a
    transfer that broke off (or an interrupt), for the next run to resume. When a download
    that resumed an earlier run's bytes does not match, those bytes may be what is wrong:
    it is fetched once more from the start before the mismatch is reported."""
    target = Target(pin.url, pin.name, pin.size)
    resumed = os.fstat(partial.fileno()).st_size > 0
    try:
        digest = download(http, target, partial, settings.fetch, progress)
        if resumed and digest != FileDigest(pin.sha256, pin.size):
            partial.truncate(0)
            digest = download(http, target, partial, settings.fetch, progress)
        _check_pin(pin, digest)
    except TransferBroken:
        raise
    except VerifierError:
        cache.clear_partial(pin.sha256)
        raise
    return digest


def fetch_unpinned(url: str, label: str, max_size: int, dest: Path, settings: Settings) -> FileDigest:
    """Download a file that has no sha256 pin into ``dest`` (size-capped); the caller checks
    it by other means (an RPM's SIGMD5) before committing it to the cache."""
    if not is_remote(url):
        pin = PinnedFile(label, url, "0" * 64, max_size)
        return _copy_local(pin, dest)
    with _http(settings) as manager, open(dest, "w+b") as out:
        return download(manager, Target(url, label, max_size, exact=False), out, settings.fetch)


@contextmanager
def _nullcontext(value: Client) -> Iterator[Client]:
    yield value


def _read_remote_manifest(location: str, settings: Settings) -> tuple[bytes, bool]:
    """The manifest's bytes, and whether they came from a loopback or private address (the
    user named this URL: such an address is allowed for it, never a link-local one; unless
    ``manifest_url_may_be_private`` is off, as in farm workers)."""
    limits = settings.fetch
    deadline = time.monotonic() + limits.total_deadline
    with _http(settings, allow_private=limits.manifest_url_may_be_private or limits.allow_private_addresses) as http:
        try:
            response = request(http, location, {}, limits, "the manifest", deadline)
        except TransientError as exc:
            raise FetchError(where(location, f"cannot fetch the manifest: {exc}")) from None
        try:
            if response.status != 200:
                raise FetchError(where(location, f"HTTP {response.status} fetching the manifest"))
            peer = getattr(response.connection, "peer_address", None)
            local = peer is not None and is_local_address(peer)
            with http.watchdog.armed(deadline - time.monotonic(), DEADLINE):
                data = _read_capped(response, RateMeter(location, limits.min_rate, limits.rate_window))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if http.watchdog.fired == DEADLINE:
                raise FetchError(where(location, f"download deadline of {limits.total_deadline:g} s exceeded "
                                                 "for the manifest (--download-deadline sets it)")) from None
            raise FetchError(where(location, f"manifest transfer failed: {exc}")) from None
        finally:
            response.release_conn()
    return data, local


def _read_capped(response: urllib3.BaseHTTPResponse, meter: RateMeter) -> bytes:
    data = bytearray()
    while len(data) <= MAX_MANIFEST_BYTES and (chunk := response.read1(CHUNK, decode_content=False)):
        data += chunk
        meter.update(len(data))
    return bytes(data)


def _read_local_manifest(location: str) -> bytes:
    return read_limited(local_path(location), MAX_MANIFEST_BYTES, "manifest")


def load_manifest(location: str, settings: Settings, cache: ContentCache) -> LoadedManifest:
    """Read and validate a manifest; remote ones are cached (by digest) for --offline use."""
    if is_remote(location):
        check_url(location, "manifest")
    if not is_remote(location):
        path = local_path(location).resolve()
        data = _read_local_manifest(location)
        manifest = parse(data, str(path))
        return LoadedManifest(manifest, FileDigest(*_digest(data)))
    if settings.offline:
        known = cache.recall_url(location)
        if known is None or not cache.has(known.sha256):
            raise FetchError(where(location, "manifest not in the cache and --offline was given"))
        data = cache.read_verified(known.sha256, known.size, location)
        local = False
    else:
        data, local = _read_remote_manifest(location, settings)
    manifest = parse(data, location)
    _, digest = cache.add_bytes(data)
    cache.remember_url(location, digest)
    return LoadedManifest(manifest, digest, from_local_address=local)


def _digest(data: bytes) -> tuple[str, int]:
    return hashlib.sha256(data).hexdigest(), len(data)


def fetch_inputs(loaded: LoadedManifest, cache: ContentCache, settings: Settings) -> FetchedInputs:
    m = loaded.manifest
    with _http(settings) as http, progress_for(settings, m) as progress:
        def get(pin: PinnedFile) -> CachedFile:
            return fetch_file(pin, cache, settings, http, progress)

        return FetchedInputs(
            manifest=m,
            manifest_sha256=loaded.digest.sha256,
            manifest_size=loaded.digest.size,
            environment=get(m.environment),
            lockfile=get(m.lockfile) if m.lockfile else None,
            sources=tuple(get(s) for s in m.sources),
            artifacts=tuple(get(a) for a in m.artifacts),
            official_buildinfo=get(m.official_buildinfo) if m.official_buildinfo else None,
            environment_lock=get(m.environment.lock) if m.environment.lock else None,
        )


@contextmanager
def progress_for(settings: Settings, manifest: ReleaseManifest) -> Iterator[Progress | None]:
    """A rich progress bar over all bytes to fetch, on a terminal; None otherwise."""
    if not settings.progress:
        yield None
        return
    pins = [manifest.environment, *([manifest.lockfile] if manifest.lockfile else []),
            *manifest.sources, *manifest.artifacts]
    with Bar(*Bar.get_default_columns(), DownloadColumn(), TransferSpeedColumn(), transient=True) as bar:
        task = bar.add_task("fetching", total=sum(p.size for p in pins))
        yield lambda n: bar.advance(task, n)

"""The package index: pip's own default (or the one the user names), read through the
simple repository API as JSON (PEP 691, upload times of PEP 700).

Never from the find-links, extra indexes, wheelhouses or constraints a machine's pip
configuration adds: the default index URL is pip's built-in constant (pip is not asked to
read any configuration), and every file's sha256 is the one this index publishes.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

import urllib3
from pip._internal.models.index import PyPI  # pip's built-in default index, never its configuration

from verifier.cache import ContentCache
from verifier.errors import FetchError, InputError, where
from verifier.fetch import _http, is_remote
from verifier.fetch.http import DEADLINE, TransientError, request
from verifier.printable import one_line
from verifier.settings import Settings

ACCEPT = "application/vnd.pypi.simple.v1+json"
MAX_PAGE_BYTES = 64 << 20  # the largest projects' pages are a few MB
NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
FILENAME = re.compile(r"^[A-Za-z0-9._+!-]+$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class IndexFile:
    """One file of a release as the index lists it."""

    filename: str
    url: str
    sha256: str
    size: int
    upload_time: datetime | None


@dataclass(frozen=True)
class ProjectPage:
    index_url: str
    project: str  # normalised (PEP 503)
    files: tuple[IndexFile, ...]


def default_index_url() -> str:
    """pip's built-in default index, as pip itself would use it with an empty configuration."""
    return PyPI.simple_url


def normalise(name: str) -> str:
    if not NAME.match(name):
        raise InputError(f"{name!r}: not a valid project name")
    return re.sub(r"[-_.]+", "-", name).lower()


def project_url(index_url: str, project: str) -> str:
    return f"{index_url.rstrip('/')}/{project}/"


def read_page(index_url: str, project: str, settings: Settings, cache: ContentCache) -> ProjectPage:
    """The project's page (cached by digest for ``--offline``), parsed and checked."""
    url = project_url(index_url, project)
    if not is_remote(url):
        raise InputError(where(index_url, "the index must be an http or https URL"))
    if settings.offline:
        known = cache.recall_url(url)
        if known is None or not cache.has(known.sha256):
            raise FetchError(where(url, "index page not in the cache and --offline was given"))
        data = cache.read_verified(known.sha256, known.size, url)
    else:
        data = _download_page(url, project, settings)
        _, digest = cache.add_bytes(data)
        cache.remember_url(url, digest)
    return ProjectPage(index_url, project, parse_page(data, url))


def _download_page(url: str, project: str, settings: Settings) -> bytes:
    limits = settings.fetch
    deadline = time.monotonic() + limits.total_deadline
    with _http(settings) as http:
        try:
            response = request(http, url, {"Accept": ACCEPT}, limits, "the index page", deadline)
        except TransientError as exc:
            raise FetchError(where(url, f"cannot read the index: {exc}")) from None
        try:
            if response.status == 404:
                raise InputError(where(url, f"the index has no project {project!r}"))
            if response.status != 200:
                raise FetchError(where(url, f"HTTP {response.status} reading the index"))
            with http.watchdog.armed(deadline - time.monotonic(), DEADLINE):
                data = response.read(MAX_PAGE_BYTES + 1, decode_content=True)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise FetchError(where(url, f"index page transfer failed: {exc}")) from None
        finally:
            response.release_conn()
    if len(data) > MAX_PAGE_BYTES:
        raise InputError(where(url, f"index page larger than {MAX_PAGE_BYTES} bytes"))
    return data


def parse_page(data: bytes, url: str) -> tuple[IndexFile, ...]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(where(url, f"index page is not JSON (PEP 691): {exc}")) from None
    except RecursionError:
        raise InputError(where(url, "index page is not JSON (PEP 691): nested too deeply")) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise InputError(where(url, "index page has no 'files' list (PEP 691)"))
    return tuple(f for f in (_file(entry, url) for entry in doc["files"]) if f is not None)


def _file(entry: object, url: str) -> IndexFile | None:
    """One file entry; None when it has no sha256 or size (it cannot be checked, so it is never used)."""
    if not isinstance(entry, dict):
        raise InputError(where(url, "index page: a file entry is not an object"))
    name, link, hashes = entry.get("filename"), entry.get("url"), entry.get("hashes")
    if not isinstance(name, str) or not FILENAME.match(name) or not isinstance(link, str):
        raise InputError(where(url, f"index page: a file entry has no valid filename or url ({str(name)[:80]!r})"))
    sha = hashes.get("sha256") if isinstance(hashes, dict) else None
    if not isinstance(sha, str) or not SHA256.match(sha):
        return None
    try:
        target = urljoin(url, link)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise InputError(where(url, f"index page: {name} has an invalid url: {exc}")) from None
    if not is_remote(target):  # never a local file (a wheelhouse) named by a remote page
        raise InputError(where(url, f"index page: {name} is not at an http or https URL ({one_line(target[:80])!r})"))
    size = entry.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return None  # no size (PEP 700): it cannot be pinned, so it is never used
    return IndexFile(name, target, sha, size, _upload_time(entry.get("upload-time")))


def _upload_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        found = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)  # PEP 700: UTC

"""Fake Python releases for `verifier pypi` tests, made with the real tools (tarfile,
zipfile), and a fake package index on a local server serving the PEP 691 JSON pages."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile

from tests.fixtures_http import Server

UPLOAD = "2023-05-14T14:48:49.240000Z"
IN_TREE_PYPROJECT = (b'[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n')


def sdist(root: str, files: dict[str, bytes], mtime: int = 1_684_000_000, extra: list[tarfile.TarInfo] = ()) -> bytes:
    """A .tar.gz with ``root/PKG-INFO`` and ``files`` under ``root/`` (plus raw ``extra`` members)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, data in {"PKG-INFO": b"Metadata-Version: 2.1\nName: demo\n", **files}.items():
            info = tarfile.TarInfo(f"{root}/{name}")
            info.size, info.mtime, info.mode = len(data), mtime, 0o644
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isreg() else None)
    return out.getvalue()


def wheel(dist_info: str, generator: str = "flit 3.9.0", files: dict[str, bytes] | None = None,
          date_time: tuple[int, ...] = (2023, 5, 14, 15, 47, 28)) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in {**(files or {}), f"{dist_info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: {generator}\n"
                           "Root-Is-Purelib: true\nTag: py3-none-any\n".encode()}.items():
            z.writestr(zipfile.ZipInfo(name, date_time), data)
    return out.getvalue()


def serve_release(server: Server, project: str, files: dict[str, bytes], claimed: dict[str, str] | None = None) -> str:
    """Publish ``files`` (file name -> bytes) as one project's page; ``claimed`` overrides a
    file's published sha256. Returns the index URL."""
    entries = []
    for name, data in files.items():
        url = server.add(f"/files/{name}", body=data)
        sha = (claimed or {}).get(name, hashlib.sha256(data).hexdigest())
        entries.append({"filename": name, "url": url, "hashes": {"sha256": sha}, "size": len(data),
                        "upload-time": UPLOAD})
    page = {"meta": {"api-version": "1.1"}, "name": project, "files": entries}
    server.add(f"/simple/{project}/", body=json.dumps(page).encode())
    return server.base + "/simple"

"""What the rebuild needs to know of an official wheel, read as data: its WHEEL file's
``Generator`` (the backend and its version) and its members' zip times."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from verifier.errors import InputError, where

MAX_MEMBERS = 100_000
MAX_WHEEL_FILE = 64 << 10
GENERATOR = re.compile(r"^Generator:\s*(?P<name>[A-Za-z0-9._-]+)\s*\(?\s*(?P<version>[0-9][A-Za-z0-9.+!-]*)?\)?\s*$", re.M)
# the package that pins a generator's version, when it is not the generator's own name
BACKEND_PACKAGES = {"flit": "flit_core", "bdist_wheel": "wheel", "poetry": "poetry-core"}


@dataclass(frozen=True)
class WheelInfo:
    generator: str  # as written, e.g. "flit 3.9.0"; "" when the WHEEL file names none
    backend_pin: str | None  # the requirement pinning it, e.g. "flit_core==3.9.0"
    zip_times: dict[str, int]  # member name -> its zip time read as UTC, epoch seconds


def read_wheel(path: Path, label: str) -> WheelInfo:
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            if len(infos) > MAX_MEMBERS:
                raise InputError(where(label, f"more than {MAX_MEMBERS} members"))
            wheel = [i for i in infos if re.fullmatch(r"[^/]+\.dist-info/WHEEL", i.filename)]
            if len(wheel) != 1 or wheel[0].file_size > MAX_WHEEL_FILE:
                raise InputError(where(label, "not a wheel: no single .dist-info/WHEEL file"))
            text = z.read(wheel[0]).decode("utf-8", "replace")
            times = {i.filename: _epoch(i.date_time) for i in infos if not i.is_dir()}
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(where(label, f"not a readable wheel: {exc}")) from None
    generator, pin = _generator(text)
    return WheelInfo(generator, pin, times)


def _epoch(date_time: tuple[int, int, int, int, int, int]) -> int:
    return int(datetime(*date_time, tzinfo=UTC).timestamp())


def _generator(text: str) -> tuple[str, str | None]:
    found = GENERATOR.search(text)
    if found is None:
        return "", None
    name, version = found["name"], found["version"]
    generator = f"{name} {version}" if version else name
    if not version:
        return generator, None
    return generator, f"{BACKEND_PACKAGES.get(name, name)}=={version}"

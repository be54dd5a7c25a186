"""The write token: read once from a file or the environment, compared in constant time,
never logged, never echoed.

A request authenticates with ``Authorization: Bearer TOKEN``. Without a configured token
the write endpoints are closed (403), never open.
"""

from __future__ import annotations

import hmac
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from verifier.errors import InputError, where
from verifier.files import open_regular

TOKEN_ENV = "VERIFIER_FARM_TOKEN"
MIN_TOKEN_CHARS = 16
MAX_TOKEN_BYTES = 4096


@dataclass(frozen=True)
class WriteToken:
    """A secret that is never shown: its repr hides it, so a log of the config cannot leak it."""

    secret: bytes = field(repr=False)

    def matches(self, header: str | None) -> bool:
        """``header`` is the Authorization header's value; the comparison takes the same
        time wherever the first differing byte is."""
        scheme, _, given = (header or "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode("utf-8", "surrogateescape"), self.secret)


def _checked(secret: bytes, place: str) -> WriteToken:
    token = secret.strip()
    if len(token) < MIN_TOKEN_CHARS:
        raise InputError(where(place, f"the write token must have at least {MIN_TOKEN_CHARS} characters"))
    if any(b < 0x21 or b > 0x7E for b in token):
        raise InputError(where(place, "the write token must be printable ASCII without spaces"))
    return WriteToken(token)


def _read_token_file(path: Path) -> bytes:
    with open_regular(path, "token") as f:
        mode = os.fstat(f.fileno()).st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise InputError(where(path, f"token file is readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it"))
        data = f.read(MAX_TOKEN_BYTES + 1)
    if len(data) > MAX_TOKEN_BYTES:
        raise InputError(where(path, f"token file larger than {MAX_TOKEN_BYTES} bytes"))
    return data


def load_token(path: Path | None, environ: dict[str, str] | None = None) -> WriteToken | None:
    """The token from ``path`` (mode 600) or else from $VERIFIER_FARM_TOKEN; None: no writes."""
    if path is not None:
        return _checked(_read_token_file(path), str(path))
    value = (os.environ if environ is None else environ).get(TOKEN_ENV)
    if value:
        return _checked(value.encode("utf-8", "surrogateescape"), f"${TOKEN_ENV}")
    return None

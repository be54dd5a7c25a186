"""Reading small input documents (manifests, lockfiles, reports, keys) with a size cap."""

from __future__ import annotations

from pathlib import Path

from verifier.errors import InputError, LimitExceeded, where


def read_limited(path: Path, limit: int, what: str, place: object | None = None) -> bytes:
    """The bytes of ``path``; one-line errors for a missing, unreadable or oversized file."""
    label = place if place is not None else path
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError:
        raise InputError(where(label, f"no such {what} file")) from None
    except IsADirectoryError:
        raise InputError(where(label, f"is a directory, not a {what}")) from None
    except OSError as exc:
        raise InputError(where(label, f"cannot read the {what}: {exc.strerror}")) from None
    if len(data) > limit:
        raise LimitExceeded(where(label, f"{what} larger than {limit} bytes"))
    return data

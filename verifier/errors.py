"""The error hierarchy and exit codes.

Every error a user can cause or meet carries a one-line, user-facing message that names
the file, URL or setting involved, and the exit code the CLI returns for it. The CLI
catches ``VerifierError`` once (see ``verifier/cli/app.py``); anything else is a bug and
exits with ``ExitCode.INTERNAL``.
"""

from __future__ import annotations

from enum import IntEnum

from verifier.printable import one_line


class ExitCode(IntEnum):
    """Documented in docs/exit-codes.md; stable across releases."""

    OK = 0  # reproducible / identical / report verified and PASSED
    DIFFERENT = 1  # artifacts differ (or a verified report says FAILED)
    BAD_INPUT = 2  # usage error, invalid manifest/lockfile/archive/key, budget hit
    INCONCLUSIVE = 3  # evidence incomplete: build failed, no artifacts, drift unresolved
    INTEGRITY = 4  # a pin or signature does not match: digest mismatch, tampered report
    INFRASTRUCTURE = 5  # podman missing or failing, network/HTTP error, disk full
    INTERNAL = 70  # a bug in verifier: please report it
    INTERRUPTED = 130  # Ctrl-C


class VerifierError(Exception):
    """Base of every error verifier reports to the user as one line: control characters
    (LF and CR included) and bidi overrides in the message are shown escaped."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = one_line(message)  # a name from an input can never start a line of its own

    def __str__(self) -> str:
        return self.message


class InputError(VerifierError):
    """Something the user gave us (a file, a URL's content, an option) is invalid."""

    exit_code = ExitCode.BAD_INPUT


class LimitExceeded(InputError):
    """An input hit a safety budget. The message names the limit and the option raising it."""


class IntegrityError(VerifierError):
    """Bytes do not match their pin, or a signature does not verify."""

    exit_code = ExitCode.INTEGRITY


class InfrastructureError(VerifierError):
    """The machine or the network failed us: podman, HTTP, disk."""

    exit_code = ExitCode.INFRASTRUCTURE


class FetchError(InfrastructureError):
    """A download failed (HTTP status, timeout, refused connection, truncated body)."""


class SandboxError(InfrastructureError):
    """podman is missing or could not start or run a container."""


class ToolMissing(InfrastructureError):
    """An external tool verifier needs is not installed; the message names its package."""


def where(place: object, problem: str) -> str:
    """Format the one-line message convention: ``<file or URL>: <problem>``."""
    return f"{place}: {problem}"

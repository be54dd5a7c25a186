"""The error hierarchy and exit codes.

Every error a user can cause or meet carries a one-line, user-facing message that names
the file, URL or setting involved. ``EXIT_CODES`` at the end is the one table from what
happened (a command's outcome, see ``verifier/outcome.py``, or an error's class) to the
exit code; nothing else chooses one. The CLI catches ``VerifierError`` once (see
``verifier/cli/app.py``); anything else is a bug and exits with ``ExitCode.INTERNAL``.
"""

from __future__ import annotations

from enum import IntEnum

from verifier.outcome import CommandStatus, CompareStatus, Outcome, Verdict, VerificationResult
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

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = one_line(message)  # a name from an input can never start a line of its own

    def __str__(self) -> str:
        return self.message

    @property
    def exit_code(self) -> ExitCode:
        return exit_code(self)


class InputError(VerifierError):
    """Something the user gave us (a file, a URL's content, an option) is invalid."""


class LimitExceeded(InputError):
    """An input hit a safety budget. The message names the limit and the option raising it."""


class IntegrityError(VerifierError):
    """Bytes do not match their pin, or a signature does not verify."""


class InfrastructureError(VerifierError):
    """The machine or the network failed us: podman, HTTP, disk."""


class FetchError(InfrastructureError):
    """A download failed (HTTP status, timeout, refused connection, truncated body)."""


class SandboxError(InfrastructureError):
    """podman is missing or could not start or run a container."""


class ToolMissing(InfrastructureError):
    """An external tool verifier needs is not installed; the message names its package."""


class BuildFailed(VerifierError):
    """`publish`: the official build did not succeed, so there is nothing to publish."""


def where(place: object, problem: str) -> str:
    """Format the one-line message convention: ``<file or URL>: <problem>``."""
    return f"{place}: {problem}"


# The one table: outcome or error class -> exit code (docs/exit-codes.md). Error classes
# are matched in order, most specific first; every outcome value has exactly one row.
EXIT_CODES: tuple[tuple[Outcome | type[BaseException], ExitCode], ...] = (
    (Verdict.REPRODUCIBLE, ExitCode.OK),
    (Verdict.EQUIVALENT, ExitCode.OK),  # only decided with --accept-equivalent; else DIFFERENT
    (Verdict.DIFFERENT, ExitCode.DIFFERENT),
    (Verdict.INCONCLUSIVE, ExitCode.INCONCLUSIVE),
    (CompareStatus.IDENTICAL, ExitCode.OK),
    (CompareStatus.EQUIVALENT, ExitCode.OK),
    (CompareStatus.DIFFERENT, ExitCode.DIFFERENT),
    (VerificationResult.PASSED, ExitCode.OK),
    (VerificationResult.FAILED, ExitCode.DIFFERENT),
    (CommandStatus.DONE, ExitCode.OK),
    (CommandStatus.NOT_READY, ExitCode.INFRASTRUCTURE),
    (CommandStatus.USAGE_ERROR, ExitCode.BAD_INPUT),
    (CommandStatus.INTERRUPTED, ExitCode.INTERRUPTED),
    (IntegrityError, ExitCode.INTEGRITY),
    (InputError, ExitCode.BAD_INPUT),
    (BuildFailed, ExitCode.INCONCLUSIVE),
    (InfrastructureError, ExitCode.INFRASTRUCTURE),
    (KeyboardInterrupt, ExitCode.INTERRUPTED),
    (BaseException, ExitCode.INTERNAL),  # VerifierError itself, and any bug
)


def exit_code(outcome: Outcome | BaseException) -> ExitCode:
    """The exit code for what happened: a command's outcome, or the error that ended it."""
    if isinstance(outcome, BaseException):
        return next(code for key, code in EXIT_CODES if isinstance(key, type) and isinstance(outcome, key))
    return next(code for key, code in EXIT_CODES if type(key) is type(outcome) and key == outcome)

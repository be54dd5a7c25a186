"""What a command found, as values: the outcomes that ``verifier/errors.py`` maps to exit
codes in its one table (``EXIT_CODES``). Commands return one of these; errors are raised.
"""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """`verify`: the release's verdict (decided in verifier/verdict.py)."""

    REPRODUCIBLE = "REPRODUCIBLE"
    EQUIVALENT = "EQUIVALENT"  # identical after normalisers the user opted into
    DIFFERENT = "DIFFERENT"
    INCONCLUSIVE = "INCONCLUSIVE"


class CompareStatus(StrEnum):
    """`compare`: how the two inputs relate."""

    IDENTICAL = "IDENTICAL"
    EQUIVALENT = "EQUIVALENT"  # identical after the chosen normalisers
    DIFFERENT = "DIFFERENT"


class VerificationResult(StrEnum):
    """`report verify`: the attested result (the signature is already checked)."""

    PASSED = "PASSED"
    FAILED = "FAILED"


class CommandStatus(StrEnum):
    """Every other command, and what the CLI meets around a command."""

    DONE = "DONE"  # fetch, publish, lock, keygen, report render and sign: it did what was asked
    NOT_READY = "NOT_READY"  # doctor: an essential tool or the sandbox runtime is missing
    USAGE_ERROR = "USAGE_ERROR"  # the command line could not be parsed
    INTERRUPTED = "INTERRUPTED"  # Ctrl-C or SIGTERM


Outcome = Verdict | CompareStatus | VerificationResult | CommandStatus

"""Issue 13, item 2: one table from outcome (verdict, comparison, verified report, command
status) or error class to exit code, and nothing else in the code choosing one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from verifier.errors import (
    EXIT_CODES,
    BuildFailed,
    ExitCode,
    FetchError,
    InfrastructureError,
    InputError,
    IntegrityError,
    LimitExceeded,
    SandboxError,
    VerifierError,
    exit_code,
)
from verifier.outcome import CommandStatus, CompareStatus, Verdict, VerificationResult

ROOT = Path(__file__).parent.parent / "verifier"
OUTCOMES = [*Verdict, *CompareStatus, *VerificationResult, *CommandStatus]


def test_every_outcome_has_exactly_one_row() -> None:
    for outcome in OUTCOMES:
        rows = [code for key, code in EXIT_CODES if type(key) is type(outcome) and key == outcome]
        assert len(rows) == 1, outcome


@pytest.mark.parametrize(("outcome", "code"), [
    (Verdict.REPRODUCIBLE, 0), (Verdict.EQUIVALENT, 0), (Verdict.DIFFERENT, 1), (Verdict.INCONCLUSIVE, 3),
    (CompareStatus.IDENTICAL, 0), (CompareStatus.EQUIVALENT, 0), (CompareStatus.DIFFERENT, 1),
    (VerificationResult.PASSED, 0), (VerificationResult.FAILED, 1),
    (CommandStatus.DONE, 0), (CommandStatus.NOT_READY, 5), (CommandStatus.USAGE_ERROR, 2),
    (CommandStatus.INTERRUPTED, 130),
])
def test_documented_codes_for_outcomes(outcome, code: int) -> None:
    assert exit_code(outcome) == code


@pytest.mark.parametrize(("error", "code"), [
    (InputError("x"), ExitCode.BAD_INPUT), (LimitExceeded("x"), ExitCode.BAD_INPUT),
    (IntegrityError("x"), ExitCode.INTEGRITY), (InfrastructureError("x"), ExitCode.INFRASTRUCTURE),
    (FetchError("x"), ExitCode.INFRASTRUCTURE), (SandboxError("x"), ExitCode.INFRASTRUCTURE),
    (BuildFailed("x"), ExitCode.INCONCLUSIVE), (VerifierError("x"), ExitCode.INTERNAL),
    (KeyError("bug"), ExitCode.INTERNAL), (KeyboardInterrupt(), ExitCode.INTERRUPTED),
])
def test_error_classes_map_most_specific_first(error: BaseException, code: ExitCode) -> None:
    assert exit_code(error) == code
    if isinstance(error, VerifierError):
        assert error.exit_code == code


def test_no_other_module_chooses_an_exit_code() -> None:
    choosing = re.compile(r"ExitCode\.|exit_code\s*=|sys\.exit\((?!run\(\))|raise (typer\.)?Exit\(\s*code")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in ROOT.rglob("*.py") if path.name != "errors.py"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if choosing.search(line)]
    assert offenders == []


def test_documented_table_matches(tmp_path: Path) -> None:
    doc = (ROOT.parent / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    for code in ExitCode:
        assert re.search(rf"^\| {int(code)} \| {code.name} \|", doc, re.M), code

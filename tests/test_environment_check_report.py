"""Issue 12: the report's optional ``environment_check`` section (verify --rebuild-env): left
out of the JSON when not asked for (existing reports and golden files unchanged), read back
to the same model, shown by every presenter with hostile names escaped, and the verdict
rule: an environment that rebuilds DIFFERENT is never REPRODUCIBLE."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.test_verdict import OK_PACKAGES, artifact, build
from verifier.manifest import PinnedFile
from verifier.render import render
from verifier.render.formats import ReportFormat
from verifier.report.codec import load_report, parse_report, report_bytes
from verifier.stages import (
    ArtifactStatus,
    EnvironmentCheck,
    EnvironmentFile,
    EnvironmentPackage,
    EnvironmentStatus,
    Verdict,
)
from verifier.verdict import decide

CANONICAL = Path(__file__).parent.parent / "fixtures" / "reports" / "canonical.json"
LOCK = PinnedFile("env.lock.json", "file:///rel/environment/env.lock.json", "c" * 64, 1234)
DIFFERENT = EnvironmentCheck(
    EnvironmentStatus.DIFFERENT, "2 file(s) of the rootfs differ", LOCK, "a" * 64, "b" * 64,
    files=(EnvironmentFile("usr/bin/hello", "hello", "content differs"),
           EnvironmentFile("usr/local/bin/evil\n<script>x</script>", "no package (made while installing)",
                           "only in the published archive (file setuid/setgid, mode 4755)")),
    packages=(EnvironmentPackage("netcat", "amd64", None, "1.0"),),
    rebuild_drift=(EnvironmentPackage("bash", "amd64", "5.2.15-2+b13", "5.2.15-2+b14"),), seconds=21.5)
NOT_CHECKED = EnvironmentCheck(EnvironmentStatus.NOT_CHECKED, "the release names no environment lock", None)
IDENTICAL = EnvironmentCheck(EnvironmentStatus.REBUILT_IDENTICAL, "rebuilt identical", LOCK, "a" * 64, "a" * 64)


def test_no_check_leaves_the_json_as_it_was() -> None:
    report = load_report(CANONICAL)
    assert report.environment_check is None
    assert "environment_check" not in json.loads(report_bytes(report))


@pytest.mark.parametrize("check", [DIFFERENT, NOT_CHECKED, IDENTICAL], ids=lambda c: c.status.value)
def test_the_section_reads_back_to_the_same_model(check: EnvironmentCheck) -> None:
    report = replace(load_report(CANONICAL), environment_check=check)
    data = report_bytes(report)
    assert json.loads(data)["environment_check"]["status"] == check.status.value
    assert parse_report(data, "again") == report


@pytest.mark.parametrize("fmt", [ReportFormat.TEXT, ReportFormat.MARKDOWN, ReportFormat.HTML])
def test_every_presenter_shows_the_section_escaped(fmt: ReportFormat) -> None:
    report = replace(load_report(CANONICAL), environment_check=DIFFERENT)
    shown = render(report, fmt)
    plain = shown.replace("\\", "")  # markdown escapes punctuation
    assert "Environment check" in shown and "usr/bin/hello" in plain and "content differs" in plain
    assert "evil\n" not in shown, "a newline in a member name cannot start a line of its own"
    assert fmt != ReportFormat.HTML or "<script>" not in shown
    assert "netcat" in plain and "5.2.15-2+b14" in plain
    assert "Environment check" not in render(load_report(CANONICAL), fmt)


def test_a_different_environment_makes_a_reproducible_release_different() -> None:
    identical = [artifact("a", ArtifactStatus.IDENTICAL)]
    assert decide(build(), identical, OK_PACKAGES, lockfile_declared=False,
                  environment=IDENTICAL).verdict == Verdict.REPRODUCIBLE
    v = decide(build(), identical, OK_PACKAGES, lockfile_declared=False, environment=DIFFERENT)
    assert v.verdict == Verdict.DIFFERENT
    assert v.reasons[0].startswith("the published environment is not what its lock rebuilds: 2 file(s)")
    assert "usr/bin/hello [package: hello] content differs" in v.reasons[0]
    equivalent = [artifact("a", ArtifactStatus.EQUIVALENT, ("timestamps",))]
    assert decide(build(), equivalent, OK_PACKAGES, lockfile_declared=False, accept_equivalent=True,
                  environment=DIFFERENT).verdict == Verdict.DIFFERENT


def test_an_environment_not_checked_is_inconclusive_never_reproducible() -> None:
    v = decide(build(), [artifact("a", ArtifactStatus.IDENTICAL)], OK_PACKAGES, lockfile_declared=False,
               environment=NOT_CHECKED)
    assert v.verdict == Verdict.INCONCLUSIVE
    assert "not rebuilt from its lock" in v.reasons[0] and "names no environment lock" in v.reasons[0]
    differing = decide(build(), [artifact("a", ArtifactStatus.DIFFERENT)], OK_PACKAGES, lockfile_declared=False,
                       environment=NOT_CHECKED)
    assert differing.verdict == Verdict.DIFFERENT and "not rebuilt" in differing.reasons[-1]


def test_the_attestation_names_the_environment_lock_and_the_rebuilt_level() -> None:
    from verifier.attestation.statement import ENVIRONMENT_LEVEL, REPRODUCED_LEVEL, build_statement

    report = load_report(CANONICAL)
    reproducible = replace(report, verdict=Verdict.REPRODUCIBLE,
                           artifacts=tuple(a for a in report.artifacts if a.status == ArtifactStatus.IDENTICAL))
    checked = build_statement(replace(reproducible, environment_check=IDENTICAL), "d" * 64)
    assert checked.levels == (REPRODUCED_LEVEL, ENVIRONMENT_LEVEL)
    assert (LOCK.url, LOCK.sha256) in [(ref.uri, ref.sha256) for ref in checked.input_attestations]
    assert build_statement(reproducible, "d" * 64).levels == (REPRODUCED_LEVEL,)


def test_junit_has_an_environment_case_failing_when_different() -> None:
    import xml.etree.ElementTree as ET

    def case(check: EnvironmentCheck | None) -> ET.Element | None:
        root = ET.fromstring(render(replace(load_report(CANONICAL), environment_check=check), ReportFormat.JUNIT))
        return root.find(".//testcase[@classname='verifier.environment']")

    assert case(None) is None
    different = case(DIFFERENT)
    assert different is not None and different.find("failure") is not None
    assert "usr/bin/hello" in (different.find("failure").text or "")
    assert case(NOT_CHECKED).find("error") is not None
    assert list(case(IDENTICAL)) == []

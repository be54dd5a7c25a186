"""JUnit XML presenter: one test case per artifact plus one for the package manifest (and,
with ``verify --rebuild-env``, one for the environment check: DIFFERENT is a failure,
NOT-CHECKED an error).

DIFFERENT, MISSING and EXTRA artifacts and package drift are failures; when the verdict
is INCONCLUSIVE, non-identical artifacts are errors (the evidence is incomplete) and an
unchecked package manifest is skipped. XML escaping is ElementTree's, after control
characters (invalid in XML 1.0) and bidi overrides were made visible by ``clean``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from verifier.render import sections as s
from verifier.render.escape import clean, clean_block
from verifier.render.text import tree_lines
from verifier.report.model import Artifact, Report, timestamp
from verifier.stages import ArtifactStatus, EnvironmentStatus, PackageStatus, Verdict

FAILING = {ArtifactStatus.DIFFERENT, ArtifactStatus.MISSING, ArtifactStatus.EXTRA}


def _explanation(a: Artifact) -> str:
    lines = [clean(c) for c in a.comments] + tree_lines(a.difference, "")
    return "\n".join(lines)


def _outcome(case: ET.Element, tag: str, message: str, text: str) -> None:
    child = ET.SubElement(case, tag, {"message": clean(message), "type": clean(message.split(":")[0])})
    child.text = clean_block(text, 200)


def _artifact_case(suite: ET.Element, a: Artifact, inconclusive: bool) -> None:
    status = a.status.value
    case = ET.SubElement(suite, "testcase", {"classname": "verifier.artifacts", "name": clean(a.name)})
    digest = f"official {a.official.sha256 if a.official else '-'}, rebuilt {a.rebuilt.sha256 if a.rebuilt else '-'}"
    if a.status == ArtifactStatus.IDENTICAL:
        return
    if inconclusive:
        _outcome(case, "error", f"{status}: evidence incomplete", digest + "\n" + _explanation(a))
    elif a.status in FAILING:
        _outcome(case, "failure", f"{status}: {digest}", _explanation(a))
    else:
        ET.SubElement(case, "system-out").text = clean_block(f"{status}: {digest}\n{_explanation(a)}", 200)


def _packages_case(suite: ET.Element, report: Report) -> None:
    p = report.packages
    case = ET.SubElement(suite, "testcase", {"classname": "verifier.packages", "name": "package manifest"})
    status, reason = p.status.value, clean(p.reason)
    drift = "\n".join(" ".join(clean(v) for v in row) for row in s.drift_rows(report))
    if p.status == PackageStatus.DRIFT:
        _outcome(case, "failure", f"DRIFT: {reason}", drift)
    elif p.status != PackageStatus.MATCH:
        ET.SubElement(case, "skipped", {"message": clean(f"{status}: {reason}")})


def _environment_case(suite: ET.Element, report: Report) -> None:
    check = report.environment_check
    if check is None:
        return
    case = ET.SubElement(suite, "testcase", {"classname": "verifier.environment", "name": "environment rebuilt from its lock"})
    files, _ = s.environment_file_rows(report)
    packages, _ = s.environment_package_rows(report)
    text = "\n".join(" ".join(clean(v) for v in row if v) for row in [*files, *packages])
    if check.status == EnvironmentStatus.DIFFERENT:
        _outcome(case, "failure", f"DIFFERENT: {check.reason}", text)
    elif check.status == EnvironmentStatus.NOT_CHECKED:
        _outcome(case, "error", f"NOT-CHECKED: {check.reason}", text)


def _count(suite: ET.Element, tag: str) -> str:
    return str(len(suite.findall(f"testcase/{tag}")))


def render_junit(report: Report) -> str:
    inconclusive = report.verdict == Verdict.INCONCLUSIVE
    root = ET.Element("testsuites", {"name": "verifier"})
    suite = ET.SubElement(root, "testsuite", {"name": clean(f"verify {report.title}")})
    props = ET.SubElement(suite, "properties")
    values = {"verdict": report.verdict.value, "started": timestamp(report.started), "finished": timestamp(report.finished)}
    for name, value in values.items():
        ET.SubElement(props, "property", {"name": name, "value": value})
    for a in report.artifacts:
        _artifact_case(suite, a, inconclusive)
    if inconclusive and not report.artifacts:
        case = ET.SubElement(suite, "testcase", {"classname": "verifier.artifacts", "name": "artifacts"})
        _outcome(case, "error", "INCONCLUSIVE: no artifact was compared", "\n".join(map(clean, report.reasons)))
    _packages_case(suite, report)
    _environment_case(suite, report)
    shown, more = s.reasons(report)
    reasons = [f"verdict: {report.verdict.value}"] + [f"- {clean(r)}" for r in shown]
    reasons += [s.more_line(more, "reasons")] if more else []
    ET.SubElement(suite, "system-out").text = "\n".join(reasons)
    counts = {"tests": str(len(suite.findall("testcase"))), "failures": _count(suite, "failure"),
              "errors": _count(suite, "error"), "skipped": _count(suite, "skipped")}
    for element in (root, suite):
        element.attrib.update(counts)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

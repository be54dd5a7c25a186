"""Every presenter against the one canonical report (golden files), plus escaping and bounds.

Regenerate the golden files after an intended change with VERIFIER_UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import json
import os
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from verifier.compare.difference import Difference
from verifier.errors import InputError
from verifier.render import ReportFormat, render, render_badge
from verifier.render.formats import PRESENTERS
from verifier.render.tree import MAX_DEPTH, outline, walk
from verifier.report.codec import load_report, parse_report, report_bytes
from verifier.report.model import Artifact, Packages, RebuiltDigest, Report
from verifier.stages import ArtifactStatus, BuildStatus, PackageStatus, Verdict
from verifier.verdict import artifact_reason

REPORTS = Path(__file__).parent.parent / "fixtures" / "reports"
GOLDEN = REPORTS / "golden"
SUFFIX = {ReportFormat.TEXT: "txt", ReportFormat.MARKDOWN: "md", ReportFormat.HTML: "html",
          ReportFormat.JSON: "json", ReportFormat.JUNIT: "xml"}
HOSTILE = ("<script>", "\u202e", "\x1b", "\x07", "<b>", "<img")
UPDATE = os.environ.get("VERIFIER_UPDATE_GOLDEN") == "1"


@pytest.fixture
def report() -> Report:
    return load_report(REPORTS / "canonical.json")


def with_artifacts(report: Report, *artifacts) -> Report:
    return replace(report, artifacts=tuple(artifacts))


def golden(name: str, actual: str) -> str:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    return path.read_text(encoding="utf-8")


def test_every_format_has_a_presenter_and_a_golden_file() -> None:
    assert set(PRESENTERS) == set(ReportFormat) == set(SUFFIX)


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_presenter_matches_golden(report: Report, fmt: ReportFormat) -> None:
    actual = render(report, fmt)
    assert actual == golden(f"canonical.{SUFFIX[fmt]}", actual)


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_presenter_is_deterministic_and_independent_of_key_order(report: Report, fmt: ReportFormat) -> None:
    doc = json.loads((REPORTS / "canonical.json").read_text(encoding="utf-8"))
    reordered = json.dumps(doc, sort_keys=False, indent=None)
    reordered = json.dumps(json.loads(reordered, object_pairs_hook=lambda pairs: dict(reversed(pairs))))
    again = parse_report(reordered.encode(), "reordered.json")
    assert render(report, fmt) == render(load_report(REPORTS / "canonical.json"), fmt) == render(again, fmt)


@pytest.mark.parametrize("fmt", [f for f in ReportFormat if f != ReportFormat.JSON])
def test_hostile_strings_never_appear_raw(report: Report, fmt: ReportFormat) -> None:
    out = render(report, fmt)
    hostile = HOSTILE[1:4] if fmt == ReportFormat.TEXT else HOSTILE  # markup is inert in plain text
    if fmt == ReportFormat.MARKDOWN:  # ... and inside fenced code blocks
        out = re.sub(r"(?ms)^( *)(`{3,})diff\n.*?^\1\2$", "", out)
    for raw in hostile:
        assert raw not in out, (fmt, raw)
    assert "\\u202e" in out and "\\x1b" in out  # shown, visibly escaped


def test_json_is_the_canonical_report_bytes(report: Report) -> None:
    out = render(report, ReportFormat.JSON)
    assert out == (REPORTS / "canonical.json").read_text(encoding="utf-8") == report_bytes(report).decode()
    assert "\x1b" not in out and parse_report(out.encode(), "again") == report


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)


def test_html_is_self_contained_and_only_uses_expected_markup(report: Report) -> None:
    out = render(report, ReportFormat.HTML)
    parser = _Tags()
    parser.feed(out)
    assert parser.tags <= {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3",
                           "p", "ul", "li", "section", "article", "table", "tr", "th", "td", "span",
                           "details", "summary", "pre", "small", "code", "strong", "footer"}
    assert parser.attrs <= {"lang", "charset", "http-equiv", "content", "name", "id", "class", "open", "title",
                            "colspan"}
    assert "content=\"default-src 'none'; style-src 'unsafe-inline'\"" in out
    assert out.index('id="verdict"') < out.index('id="artifacts"')
    assert "url(" not in out and "@import" not in out


def test_html_difference_tree_nests_details_open_with_hints_first(report: Report) -> None:
    out = render(report, ReportFormat.HTML)
    assert out.count('<details class="difference" open>') == 3 == out.count("</details>")
    outer = out.index("<summary>hello-1.0.tar.gz <small>")  # the artifact named once, not official ↔ rebuilt
    assert out.index('<li class="hint">') < outer < out.index("<summary>hello <small>") < out.index("</details></details>")
    assert '<td class="del">build-id 0123abcd</td><td class="add">build-id 4567ef01</td>' in out


def test_html_opens_differences_only_within_a_budget(report: Report) -> None:
    many = tuple(Difference(f"f{i}", f"f{i}", unified_diff="@@ -1 +1 @@\n" + f"-a{i}\n+b\n" * 30) for i in range(40))
    tree = Difference("r", "r", details=many)
    report = with_artifacts(report, replace(report.artifacts[1], difference=tree))
    out = render(report, ReportFormat.HTML)
    opened = out.count('<details class="difference" open>')
    assert 2 < opened < 41 and '<details class="difference">' in out


def test_junit_cases_and_counts(report: Report) -> None:
    root = ET.fromstring(render(report, ReportFormat.JUNIT))
    suite = root.find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert list(cases) == ["hello-1.0.sha256sums", "hello-1.0.tar.gz", "hello-1.0-manual-ü.pdf", "package manifest"]
    assert len(cases["hello-1.0.sha256sums"]) == 0
    assert cases["hello-1.0.tar.gz"].find("failure").get("type") == "DIFFERENT"
    assert "hint: build path embedded" in cases["hello-1.0.tar.gz"].find("failure").text
    assert cases["hello-1.0-manual-ü.pdf"].find("failure").get("type") == "MISSING"
    assert cases["package manifest"].find("failure").get("type") == "DRIFT"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "3", "0")


def test_junit_inconclusive_gives_errors_and_skips(report: Report) -> None:
    packages = replace(report.packages, status=PackageStatus.NOT_CHECKED, reason="build failed", drift=())
    report = replace(report, verdict=Verdict.INCONCLUSIVE, artifacts=(), packages=packages)
    suite = ET.fromstring(render(report, ReportFormat.JUNIT)).find("testsuite")
    assert suite.find("testcase/error").get("type") == "INCONCLUSIVE"
    assert suite.find("testcase/skipped").get("message") == "NOT_CHECKED: build failed"
    assert (suite.get("errors"), suite.get("skipped"), suite.get("failures")) == ("1", "1", "0")


def test_text_starts_with_verdict_and_indents_the_tree(report: Report) -> None:
    out = render(report, ReportFormat.TEXT)
    assert out.startswith("VERDICT: DIFFERENT  (hello 1.0)\n")
    assert "\n    └─ hello [elf]\n" in out and "hint: build path embedded" in out


def _chain(depth: int) -> Difference:
    node = Difference("leaf", "leaf")
    for i in range(depth):
        node = Difference(f"n{i}", f"n{i}", details=(node,))
    return node


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_deep_and_wide_trees_are_bounded(report: Report, fmt: ReportFormat) -> None:
    wide = Difference("w", "w", details=tuple(Difference(str(i), str(i)) for i in range(5000)))
    tree = Difference("r", "r", details=(_chain(300), wide), unified_diff="+x\n" * 100000)
    report = with_artifacts(report, report.artifacts[0], replace(report.artifacts[1], difference=tree))
    out = render(report, fmt)
    if fmt != ReportFormat.JSON:
        assert len(out) < 200_000
    assert sum(1 for item in walk(outline(tree)) if not isinstance(item, str)) <= 200
    assert any(isinstance(i, str) and f"depth limit {MAX_DEPTH}" in i for i in walk(outline(_chain(50))))


def _malformed(doc: dict, path: tuple, bad: object) -> bytes:
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = bad
    return json.dumps(doc).encode()


MALFORMED_PLACES = [("artifacts",), ("artifacts", 1), ("artifacts", 1, "difference"),
                    ("artifacts", 1, "difference", "details", 0, "hints"), ("artifacts", 1, "status"),
                    ("packages",), ("packages", "drift"), ("inputs",), ("build",), ("reasons",),
                    ("sandbox", "limits"), ("started",), ("verdict",)]
MALFORMED_VALUES = ["x", 7, None, [1, 2], {"k": {}}]
VALID_REPLACEMENTS = [(("artifacts", 1, "difference"), None)]  # null is a valid difference


@pytest.mark.parametrize(("path", "bad"), [(path, bad) for path in MALFORMED_PLACES for bad in MALFORMED_VALUES
                                           if (path, bad) not in VALID_REPLACEMENTS])
def test_malformed_report_is_one_error_naming_the_file_and_field(path: tuple, bad: object, tmp_path: Path) -> None:
    doc = json.loads((REPORTS / "canonical.json").read_text(encoding="utf-8"))
    saved = tmp_path / "bad.json"
    saved.write_bytes(_malformed(doc, path, bad))
    with pytest.raises(InputError) as caught:
        load_report(saved)
    message = caught.value.message
    assert message.startswith(f"{saved}: not a valid verifier report: field ") and message.isprintable()
    assert "/".join(map(str, path[:1])) in message


def test_a_too_deep_difference_tree_is_refused(tmp_path: Path) -> None:
    doc = json.loads((REPORTS / "canonical.json").read_text(encoding="utf-8"))
    node: dict = {"source1": "x", "source2": "x", "kind": "", "comments": [], "hints": [], "unified_diff": None,
                  "details": []}
    for _ in range(300):
        node = dict(node, details=[node])
    doc["artifacts"][1]["difference"] = node
    saved = tmp_path / "deep.json"
    saved.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="deeper than 256 levels"):
        load_report(saved)


@pytest.mark.parametrize(("verdict", "color"), [(Verdict.REPRODUCIBLE, "brightgreen"), (Verdict.EQUIVALENT, "yellowgreen"),
                                                (Verdict.DIFFERENT, "red"), (Verdict.INCONCLUSIVE, "lightgrey")])
def test_badge(report: Report, verdict: Verdict, color: str) -> None:
    badge = json.loads(render_badge(replace(report, verdict=verdict)).json())
    assert badge["schemaVersion"] == 1 and badge["color"] == color and badge["label"]
    if verdict == Verdict.DIFFERENT:
        assert badge == json.loads(golden("badge.json", json.dumps(badge, sort_keys=True) + "\n"))


def test_markdown_fits_a_job_summary_for_a_large_release(report: Report) -> None:
    differing = report.artifacts[1]
    report = with_artifacts(report, *(replace(differing, name=f"a{i}.tar.gz") for i in range(1000)))
    out = render(report, ReportFormat.MARKDOWN)
    assert len(out.encode()) < 512 * 1024
    assert "and 980 more difference trees" in out and "and 700 more artifacts" in out


def _many_outputs(report: Report, count: int) -> Report:
    """The canonical report after a build that produced ``count`` unlisted outputs."""
    extra = [Artifact(f"obj/out-{i:05d}.o", ArtifactStatus.EXTRA, None, RebuiltDigest(f"{i:064x}", i),
                      comments=("not listed in the release",)) for i in range(count)]
    reasons = [f"obj/out-{i:05d}.o: the rebuild produced an output the release does not list" for i in range(count)]
    return replace(report, artifacts=(*report.artifacts, *extra), reasons=(*report.reasons, *reasons))


@pytest.mark.parametrize(("fmt", "limit"), [(ReportFormat.TEXT, 48_000), (ReportFormat.MARKDOWN, 160_000),
                                            (ReportFormat.HTML, 300_000)])
def test_summary_of_20000_outputs_is_capped(report: Report, fmt: ReportFormat, limit: int) -> None:
    """Issue 14 defect 11: the summary names the first outputs and says how many more; the JSON keeps all."""
    many = _many_outputs(report, 20_000)
    started = time.monotonic()
    out = render(many, fmt)
    assert time.monotonic() - started < 5
    assert len(out.encode()) < limit
    plain = out.replace("\\", "")  # Markdown escapes punctuation
    assert "more artifacts" in out and "20,000 extra outputs not listed in the release" in plain
    assert "JSON report" in out
    assert "hello-1.0.tar.gz" in plain and "obj/out-00000.o" in plain and "out-19999.o" not in plain
    assert "out-19999.o" in render(many, ReportFormat.JSON)


def _one_pinned_among_outputs(report: Report, count: int) -> Report:
    """A release whose only pinned artifact rebuilt identically, among ``count - 1`` unlisted outputs
    that were compared (and given reasons) first."""
    pinned = Artifact("out.bin", ArtifactStatus.IDENTICAL, report.artifacts[0].official, report.artifacts[0].rebuilt)
    extra = [Artifact(f"obj/out-{i:05d}.o", ArtifactStatus.EXTRA, None, RebuiltDigest(f"{i:064x}", i))
             for i in range(count - 1)]
    reasons = tuple(artifact_reason(a.name, a.status) for a in extra)
    return replace(report, verdict=Verdict.DIFFERENT, artifacts=(*extra, pinned), reasons=reasons)


def _row_with(out: str, fmt: ReportFormat, name: str) -> str:
    """The artifacts table's row naming ``name``, one line of text whatever the format."""
    if fmt == ReportFormat.HTML:
        rows = re.findall(r"<tr>.*?</tr>", out)
    else:
        rows = out.replace("\\", "").split("\n")
    found = [row for row in rows if name in row and ("IDENTICAL" in row or "EXTRA" in row)]
    assert found, (fmt, name)
    return found[0]


@pytest.mark.parametrize("fmt", [ReportFormat.TEXT, ReportFormat.MARKDOWN, ReportFormat.HTML])
def test_the_pinned_artifact_is_shown_before_thousands_of_extra_outputs(report: Report, fmt: ReportFormat) -> None:
    """Reviewer finding on issue 14 defect 11: the cap hid the release's only pinned artifact."""
    out = render(_one_pinned_among_outputs(report, 3000), fmt)
    plain = out.replace("\\", "")
    assert "IDENTICAL" in _row_with(out, fmt, "out.bin")
    assert plain.index("out.bin") < plain.index("obj/out-00000.o")
    assert "2,999 extra outputs not listed in the release, see the JSON report" in plain
    assert "the rebuild produced an output the release does not list" not in plain  # not one reason each
    assert "more reasons" not in plain
    assert re.search(r"more artifacts \([\d,]+ EXTRA\), see the JSON report", plain)  # says what it leaves out


def test_text_tables_fit_100_columns(report: Report) -> None:
    long_source = replace(report.inputs.sources[0], name="a-very-long-source-archive-name-" * 3 + ".tar.gz",
                          url="https://example.invalid/" + "deep/" * 30 + "x.tar.gz")
    report = replace(report, inputs=replace(report.inputs, sources=(long_source, *report.inputs.sources[1:])),
                     build=replace(report.build, command="make " + "VERY_LONG_VARIABLE=value " * 20))
    report = _many_outputs(with_artifacts(report, report.artifacts[0], replace(
        report.artifacts[1], name="an-artifact-with-a-rather-long-name-" * 3 + ".tar.gz"), *report.artifacts[2:]), 3)
    text = render(report, ReportFormat.TEXT)
    tables = text.split("\nArtifacts\n", 1)[1].split("\nDifferences\n")[0] + text.split("\nPackages\n", 1)[1]
    assert [line for line in tables.split("\n") if len(line) > 100] == []
    assert "a-very-long-source" in text and "VERY_LONG_VARIABLE" in text  # wrapped, not dropped


def test_text_tables_never_cut_a_size_in_two(report: Report) -> None:
    environment = replace(report.inputs.environment, size=116_637_327_001)
    a = report.artifacts[1]
    big = replace(a, official=replace(a.official, size=1_234_567_890), rebuilt=replace(a.rebuilt, size=1_234_567_891))
    report = with_artifacts(replace(report, inputs=replace(report.inputs, environment=environment)),
                            report.artifacts[0], big, *report.artifacts[2:])
    text = render(report, ReportFormat.TEXT)
    assert "116637327001" in text and "1234567890/1234567891" in text
    assert all(len(line) <= 100 for line in text.split("\n") if "116637327001" in line or "1234567890/" in line)


def test_empty_fields_are_left_out(report: Report) -> None:
    report = replace(report, build=replace(report.build, variables={}, reason="", unmatched_globs=()),
                     packages=Packages(PackageStatus.NOT_CHECKED, "", None, (), None))
    for fmt in (ReportFormat.TEXT, ReportFormat.MARKDOWN, ReportFormat.HTML):
        out = render(report, fmt)
        assert "variables" not in out and "unmatched" not in out and "(none)" not in out, fmt
        assert "Packages" not in out and "Package manifest" not in out, fmt
        assert not re.search(r"^reason\b", out, re.M) and ">reason<" not in out, fmt


def test_text_of_a_failed_build_ends_its_build_section_with_the_log_tail(report: Report) -> None:
    tail = "\n".join(f"line {i}" for i in range(30)) + "\nmake: *** [dist] Error 1\x1b[31m\n"
    failed = replace(report.build, status=BuildStatus.FAILED, exit_status=2, reason="exited with status 2", log_tail=tail)
    out = render(replace(report, verdict=Verdict.INCONCLUSIVE, build=failed), ReportFormat.TEXT)
    build = out[out.index("\nBuild\n"):out.index("\nInputs\n")]
    assert "last lines of the build log" in build and "make: *** [dist] Error 1\\x1b[31m" in build
    assert "line 20" not in build and "line 21" in build  # the last ten lines
    assert "last lines" not in render(report, ReportFormat.TEXT)  # not for a build that succeeded

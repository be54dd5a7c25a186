"""The verify report: a versioned JSON document built from the stages' results."""

from verifier.report.document import REPORT_VERSION, build_report, dump_report, load_report

__all__ = ["REPORT_VERSION", "build_report", "dump_report", "load_report"]

"""The verify report: a typed model (``model.py``) built from the stages' results
(``document.py``), written as and read back from versioned JSON in one place (``codec.py``)."""

from verifier.report.codec import REPORT_VERSION, dump_report, load_report, report_bytes
from verifier.report.document import ReportEvidence, build_report
from verifier.report.model import Report

__all__ = ["REPORT_VERSION", "Report", "ReportEvidence", "build_report", "dump_report", "load_report", "report_bytes"]

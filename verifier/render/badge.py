"""A shields.io endpoint badge (https://shields.io/badges/endpoint-badge), schemaVersion 1."""

from __future__ import annotations

import json
from dataclasses import dataclass

from verifier.render.sections import VERDICT_COLOR
from verifier.report.model import Report
from verifier.stages import Verdict

MESSAGE = {Verdict.REPRODUCIBLE: "reproducible", Verdict.EQUIVALENT: "equivalent",
           Verdict.DIFFERENT: "not reproducible", Verdict.INCONCLUSIVE: "inconclusive"}


@dataclass(frozen=True)
class Badge:
    label: str
    message: str
    color: str

    def json(self) -> str:
        """The endpoint document shields.io reads (sorted keys, one line and a newline)."""
        doc = {"schemaVersion": 1, "label": self.label, "message": self.message, "color": self.color}
        return json.dumps(doc, sort_keys=True) + "\n"


def render_badge(report: Report) -> Badge:
    return Badge("rebuild", MESSAGE[report.verdict], VERDICT_COLOR[report.verdict.value])

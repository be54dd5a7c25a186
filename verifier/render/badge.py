"""A shields.io endpoint badge (https://shields.io/badges/endpoint-badge), schemaVersion 1."""

from __future__ import annotations

from typing import Any

from verifier.render.escape import clean
from verifier.render.sections import VERDICT_COLOR

MESSAGE = {"REPRODUCIBLE": "reproducible", "EQUIVALENT": "equivalent",
           "DIFFERENT": "not reproducible", "INCONCLUSIVE": "inconclusive"}


def render_badge(report: dict[str, Any]) -> dict[str, Any]:
    verdict = str(report.get("verdict"))
    return {"schemaVersion": 1, "label": "rebuild",
            "message": MESSAGE.get(verdict, clean(verdict, 40).lower()),
            "color": VERDICT_COLOR.get(verdict, "lightgrey")}

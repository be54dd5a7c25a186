"""The dashboard's Jinja2 environment: templates are package data, autoescape is on for
every template, and every value a template prints first goes through ``clean`` (control,
bidi and separator characters made visible, length bounded), so a package name can neither
open markup nor forge a line or reorder what is shown.
"""

from __future__ import annotations

from datetime import datetime

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from verifier.farm.web.documents import release_path, when
from verifier.farm.web.views import STATES
from verifier.render.escape import clean
from verifier.render.values import duration

MAX_SHOWN = 2000


def _finalize(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value  # template-made markup, numbers
    return clean(value, MAX_SHOWN)


def _when(value: datetime | None) -> str:
    return (when(value) or "").replace("T", " ")


def _seconds(value: float | None) -> str:
    """``42.0 s`` under a minute, else its two largest units: ``2 h 18 min``."""
    if value is None:
        return ""
    return f"{value:.1f} s" if value < 60 else duration(int(value)).lstrip("+")


def environment() -> Environment:
    env = Environment(loader=PackageLoader("verifier.farm.web", "templates"), autoescape=True,
                      undefined=StrictUndefined, finalize=_finalize, trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = _when
    env.filters["seconds"] = _seconds
    env.globals["release_path"] = release_path
    env.globals["states"] = STATES
    return env

"""What every handler of one app shares: the configuration it was created with (reader,
writer, token, keys), the parsed-report cache and the template environment. One per app,
passed through ``app.state``; nothing global."""

from __future__ import annotations

from dataclasses import dataclass, field

from jinja2 import Environment
from starlette.exceptions import HTTPException
from starlette.requests import Request

from verifier.farm.web.auth import WriteToken
from verifier.farm.web.keys import PublicKeyFile
from verifier.farm.web.results import Reports
from verifier.farm.web.templating import environment
from verifier.farm.web.views import STATES, FarmReader, FarmWriter

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True)
class WebConfig:
    reader: FarmReader
    writer: FarmWriter | None = None
    token: WriteToken | None = None
    keys: tuple[PublicKeyFile, ...] = ()
    refresh_seconds: int = 30  # the dashboard reloads itself this often (0: never)
    allowed_hosts: tuple[str, ...] = ("*",)  # Host header values answered (others: 400; DNS rebinding)


@dataclass(frozen=True)
class Farm:
    config: WebConfig
    reports: Reports = field(default_factory=Reports)
    templates: Environment = field(default_factory=environment)

    @property
    def reader(self) -> FarmReader:
        return self.config.reader


def farm_of(request: Request) -> Farm:
    farm: Farm = request.app.state.farm
    return farm


def limit_of(request: Request) -> int:
    text = request.query_params.get("limit", str(DEFAULT_LIMIT))
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise HTTPException(400, f"limit: a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def state_of(request: Request) -> str | None:
    state = request.query_params.get("state")
    if state is not None and state not in STATES:
        raise HTTPException(400, f"state: one of {', '.join(STATES)}")
    return state


def release_of(request: Request) -> tuple[str, str | None]:
    name = request.query_params.get("name")
    if not name:
        raise HTTPException(400, "name: the release's name is required")
    return name, request.query_params.get("version")

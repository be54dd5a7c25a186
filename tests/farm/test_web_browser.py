"""The dashboard in headless Chromium (the same CDP-over-pipe client as the HTML report's
browser test), against a real uvicorn: nothing runs, nothing is loaded from elsewhere,
hostile names are shown as text, the stylesheet applies, the verdict is on the first screen
and the rendered report loads in its sandboxed frame."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_tool
from tests.farm.web_server import HOSTILE, TOKEN, Filled, filled_farm, running
from tests.test_html_browser import Cdp
from verifier.farm.web.auth import WriteToken
from verifier.farm.web.context import WebConfig
from verifier.farm.web.keys import load_keys

pytestmark = [pytest.mark.browser, pytest.mark.timeout(90)]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[tuple[Cdp, str, str, Filled]]:
    binary = require_tool("chromium")
    filled = filled_farm(tmp_path)
    config = WebConfig(filled.reader, filled.gate, WriteToken(TOKEN.encode()), load_keys(list(filled.keys)))
    with running(config) as url:
        cdp = Cdp(binary, tmp_path / "profile")
        try:
            session = cdp.new_page()
            yield cdp, session, url, filled
        finally:
            cdp.close()
            filled.db.dispose()


def _open(cdp: Cdp, session: str, url: str) -> None:
    cdp.events.clear()
    cdp.send("Page.navigate", {"url": url}, session)
    cdp.wait_event("Page.loadEventFired")
    cdp.evaluate(session, "new Promise(r => setTimeout(r, 300))")


def _problems(cdp: Cdp) -> list[dict[str, Any]]:
    return [e for e in cdp.events if e.get("method") in ("Runtime.exceptionThrown", "Runtime.consoleAPICalled")
            or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]


def _requests(cdp: Cdp) -> list[str]:
    """What the page loaded, without the icon a browser asks for on its own."""
    return [e["params"]["request"]["url"] for e in cdp.events if e.get("method") == "Network.requestWillBeSent"
            and not e["params"]["request"]["url"].endswith("/favicon.ico")]


def test_dashboard_shows_hostile_names_as_text_and_runs_nothing(browser: tuple[Cdp, str, str, Filled]) -> None:
    cdp, session, url, _ = browser
    _open(cdp, session, url + "/")
    assert _problems(cdp) == []
    assert sorted(_requests(cdp)) == [url + "/", url + "/static/farm.css"]
    state = cdp.evaluate(session, """(() => ({scripts: document.scripts.length, images: document.images.length,
        text: document.body.innerText, rows: document.querySelectorAll('#releases tr').length,
        nav: getComputedStyle(document.getElementById('nav')).backgroundColor}))()""")
    assert state["scripts"] == 0 and state["images"] == 0
    assert "evil<script>alert('x')</script>\"'&\\x1b[31m\\x0aVERDICT: REPRODUCIBLE\\u202e" in state["text"]
    assert state["rows"] == 1 + 3  # header and the three releases verified
    assert state["nav"] == "rgb(36, 41, 47)"  # the stylesheet applied


def test_job_page_verdict_first_and_report_in_a_sandboxed_frame(browser: tuple[Cdp, str, str, Filled]) -> None:
    cdp, session, url, filled = browser
    page = f"{url}/jobs/{filled.hostile}"
    _open(cdp, session, page)
    assert _problems(cdp) == []
    assert sorted(_requests(cdp)) == sorted([page, f"{url}/static/farm.css", f"{page}/report.html"])
    verdict = cdp.evaluate(session, """(() => { const h = document.getElementById('verdict');
        const r = h.getBoundingClientRect(); const hit = document.elementFromPoint(r.left + 20, r.top + 10);
        const f = document.querySelector('iframe.report');
        return {top: r.top, bottom: r.bottom, hit: h.contains(hit), text: h.querySelector('h1').innerText,
                color: getComputedStyle(h).backgroundColor, sandbox: f.getAttribute('sandbox'),
                diff: document.querySelector('pre.diff').innerText}; })()""")
    assert verdict["text"] == "DIFFERENT" and verdict["hit"] and 0 <= verdict["top"] and verdict["bottom"] < 800
    assert verdict["color"] == "rgb(180, 35, 24)" and verdict["sandbox"] == ""
    assert " <b>unchanged</b>" in verdict["diff"]
    responses = {e["params"]["response"]["url"]: e["params"]["response"]["status"] for e in cdp.events
                 if e.get("method") == "Network.responseReceived"}
    assert responses[f"{page}/report.html"] == 200
    _open(cdp, session, f"{page}/report.html")  # the embedded report on its own: the HTML presenter's page
    assert _problems(cdp) == [] and _requests(cdp) == [f"{page}/report.html"]
    report = cdp.evaluate(session, """[document.scripts.length, document.getElementById('verdict').innerText.trim(),
        document.body.innerText.includes("evil<script>alert('x')</script>")]""")
    assert report[0] == 0 and report[1].startswith("DIFFERENT") and report[2]


def test_policy_blocks_injected_scripts_and_foreign_loads(browser: tuple[Cdp, str, str, Filled]) -> None:
    cdp, session, url, _ = browser
    _open(cdp, session, url + "/")
    violations = cdp.evaluate(session, """new Promise(resolve => { const seen = [];
        document.addEventListener('securitypolicyviolation', e => seen.push(e.violatedDirective));
        const s = document.createElement('script'); s.textContent = 'window.ran = 1'; document.body.appendChild(s);
        const img = document.createElement('img'); img.src = 'http://127.0.0.2:9/pixel.png'; document.body.appendChild(img);
        setTimeout(() => resolve({seen: seen.sort(), ran: window.ran === 1}), 1500); })""")
    assert violations == {"seen": ["img-src", "script-src-elem"], "ran": False}
    assert "http://127.0.0.2:9/pixel.png" not in _requests(cdp) or any(
        e["params"].get("blockedReason") == "csp" for e in cdp.events if e.get("method") == "Network.loadingFailed")
    assert HOSTILE  # the fixture's names are the hostile ones of tests/farm/web_server.py

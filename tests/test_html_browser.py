"""The HTML report in a real browser: Debian's chromium, headless, driven over the Chrome
DevTools Protocol through ``--remote-debugging-pipe`` (no port, no websocket library).

Checked: no console errors or exceptions, the verdict is visible at the top, a difference
<details> opens on a real mouse click on its summary, nothing is requested from the
network, and the Content-Security-Policy blocks a load injected afterwards.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_tool
from verifier.render import ReportFormat, render
from verifier.report.codec import load_report

REPORTS = Path(__file__).parent.parent / "fixtures" / "reports"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions", "--remote-debugging-pipe"]
pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]


class Cdp:
    """A minimal CDP client over chromium's pipe: fd 3 carries commands, fd 4 replies,
    each message a JSON document followed by a NUL byte."""

    def __init__(self, binary: str, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        originals = (to_chrome_r, from_chrome_w)
        to_chrome_r, from_chrome_w = (os.dup(fd) for fd in (to_chrome_r, from_chrome_w))  # above 4
        move = f'exec "$@" 3<&{to_chrome_r} 4>&{from_chrome_w} {to_chrome_r}<&- {from_chrome_w}>&-'
        self.proc = subprocess.Popen(
            ["/bin/bash", "-c", move, "bash", binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(to_chrome_r, from_chrome_w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for fd in (to_chrome_r, from_chrome_w, *originals):
            os.close(fd)
        self._buffer, self._next_id, self.events = b"", 0, []

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_chrome], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None,
             timeout: float = 15) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                assert "error" not in reply, reply
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True}, session)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def close(self) -> None:
        try:
            os.write(self._to_chrome, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        finally:
            os.close(self._to_chrome)
            os.close(self._from_chrome)


@pytest.fixture
def page(tmp_path: Path):
    binary = require_tool("chromium")
    report = load_report(REPORTS / "canonical.json")
    html = tmp_path / "report.html"
    html.write_text(render(report, ReportFormat.HTML), encoding="utf-8")
    cdp = Cdp(binary, tmp_path / "profile")
    try:
        target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            cdp.send(f"{domain}.enable", {}, session)
        cdp.send("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 800, "deviceScaleFactor": 1,
                                                        "mobile": False}, session)
        cdp.send("Page.navigate", {"url": html.as_uri()}, session)
        cdp.wait_event("Page.loadEventFired")
        cdp.evaluate(session, "new Promise(r => setTimeout(r, 200))")  # let late events arrive
        yield cdp, session, html
    finally:
        cdp.close()


def _events(cdp: Cdp, *methods: str) -> list[dict[str, Any]]:
    return [e for e in cdp.events if e.get("method") in methods]


def test_html_report_in_chromium(page: tuple[Cdp, str, Path]) -> None:
    cdp, session, html = page
    problems = [e for e in _events(cdp, "Runtime.exceptionThrown", "Runtime.consoleAPICalled", "Log.entryAdded")
                if e.get("method") != "Log.entryAdded" or e["params"]["entry"]["level"] == "error"]
    assert problems == []
    requests = [e["params"]["request"]["url"] for e in _events(cdp, "Network.requestWillBeSent")]
    assert requests == [html.as_uri()]  # only the page itself

    verdict = cdp.evaluate(session, """(() => { const h = document.getElementById('verdict');
        const r = h.getBoundingClientRect(), s = getComputedStyle(h);
        return {top: r.top, height: r.height, text: h.querySelector('h1').innerText,
                visible: s.visibility === 'visible' && s.display !== 'none',
                first: document.body.firstElementChild === h}; })()""")
    assert verdict["text"] == "DIFFERENT" and verdict["visible"] and verdict["first"]
    assert verdict["top"] < 50 and verdict["height"] > 20
    markup = cdp.evaluate(session, "[document.scripts.length, document.images.length, document.body.innerText.includes(\"<script>alert('x')</script>\")]")
    assert markup == [0, 0, True]  # the hostile string is shown as text, not run


def test_difference_tree_expands_on_click(page: tuple[Cdp, str, Path]) -> None:
    cdp, session, _ = page
    box = cdp.evaluate(session, """(() => { const s = document.querySelector('details.difference > summary');
        s.scrollIntoView(); const r = s.getBoundingClientRect();
        return {x: r.left + 5, y: r.top + r.height / 2, open: s.parentElement.open}; })()""")
    assert box["open"] is False
    for kind in ("mousePressed", "mouseReleased"):
        cdp.send("Input.dispatchMouseEvent", {"type": kind, "x": box["x"], "y": box["y"], "button": "left",
                                              "clickCount": 1}, session)
    state = cdp.evaluate(session, """(() => { const d = document.querySelector('details.difference');
        const inner = d.querySelector('details.difference');
        return [d.open, inner.getBoundingClientRect().height > 0, inner.open]; })()""")
    assert state == [True, True, False]


def test_content_security_policy_blocks_injected_loads(page: tuple[Cdp, str, Path]) -> None:
    cdp, session, _ = page
    violation = cdp.evaluate(session, """new Promise(resolve => {
        document.addEventListener('securitypolicyviolation', e => resolve(e.violatedDirective));
        const img = document.createElement('img'); img.src = 'http://127.0.0.1:9/pixel.png';
        document.body.appendChild(img); setTimeout(() => resolve('no violation'), 3000); })""")
    assert violation == "img-src"
    urls = [e["params"]["request"]["url"] for e in _events(cdp, "Network.requestWillBeSent")]
    assert "http://127.0.0.1:9/pixel.png" not in urls or any(
        e["params"].get("blockedReason") == "csp" for e in _events(cdp, "Network.loadingFailed"))

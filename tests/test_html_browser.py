"""The HTML report in a real browser: Debian's chromium, headless, driven over the Chrome
DevTools Protocol through ``--remote-debugging-pipe`` (no port, no websocket library).

Checked: no console errors or exceptions, the verdict is visible at the top, the verdict,
the first difference and its hint are on screen at 1280x800 without scrolling (bounding
boxes, hit-testing and the pixels of a screenshot), a difference <details> closes and opens
on a real mouse click on its summary, nothing is requested from the network, and the
Content-Security-Policy blocks a load injected afterwards.
"""

from __future__ import annotations

import base64
import json
import os
import select
import struct
import subprocess
import time
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_tool
from verifier.render import ReportFormat, render
from verifier.report.codec import load_report
from verifier.report.model import Report

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

    def new_page(self) -> str:
        """A blank 1280x800 page with its Page, Runtime, Log and Network events on: its session id."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", {}, session)
        self.send("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 800, "deviceScaleFactor": 1,
                                                         "mobile": False}, session)
        return session

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


def _busy(report: Report) -> Report:
    """The canonical report with 30 differing artifacts and as many reasons."""
    differing = report.artifacts[1]
    return replace(report, artifacts=tuple(replace(differing, name=f"lib{i}.tar.gz") for i in range(30)),
                   reasons=tuple(f"lib{i}.tar.gz: rebuilt bytes differ from the official artifact" for i in range(30)))


VARIANTS = {"canonical": lambda report: report, "busy": _busy}


@pytest.fixture(params=["canonical"])
def page(tmp_path: Path, request: pytest.FixtureRequest):
    binary = require_tool("chromium")
    report = VARIANTS[request.param](load_report(REPORTS / "canonical.json"))
    html = tmp_path / "report.html"
    html.write_text(render(report, ReportFormat.HTML), encoding="utf-8")
    cdp = Cdp(binary, tmp_path / "profile")
    try:
        session = cdp.new_page()
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


def _click(cdp: Cdp, session: str, x: float, y: float) -> None:
    for kind in ("mousePressed", "mouseReleased"):
        cdp.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
                 session)


def test_difference_tree_is_open_and_toggles_on_click(page: tuple[Cdp, str, Path]) -> None:
    cdp, session, _ = page
    box = cdp.evaluate(session, """(() => { const s = document.querySelector('details.difference > summary');
        s.scrollIntoView(); const r = s.getBoundingClientRect();
        return {x: r.left + 5, y: r.top + r.height / 2, open: s.parentElement.open}; })()""")
    assert box["open"] is True  # differences are open by default (within a size budget)
    state = """(() => { const d = document.querySelector('details.difference');
        const inner = d.querySelector('details.difference');
        return [d.open, inner.checkVisibility()]; })()"""
    _click(cdp, session, box["x"], box["y"])
    assert cdp.evaluate(session, state) == [False, False]
    _click(cdp, session, box["x"], box["y"])
    assert cdp.evaluate(session, state) == [True, True]


def _png_pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered rows of an 8-bit RGB(A), non-interlaced PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        header = data if kind == b"IHDR" else header
        chunks += [data] if kind == b"IDAT" else []
        pos += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0
    bpp, raw, rows = 3 if color == 2 else 4, zlib.decompress(b"".join(chunks)), []
    stride, previous = width * bpp, bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left, up = line[i - bpp] if i >= bpp else 0, previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(bytes(line[j] for j in range(stride) if j % bpp < 3))
        previous = line
    return width, height, rows


def _pixel(rows: list[bytes], x: float, y: float) -> tuple[int, ...]:
    row, col = rows[int(y)], int(x) * 3
    return tuple(row[col:col + 3])


@pytest.mark.parametrize("page", ["canonical", "busy"], indirect=True)
def test_verdict_first_difference_and_hint_fit_the_first_screen(page: tuple[Cdp, str, Path], tmp_path: Path) -> None:
    cdp, session, _ = page
    boxes = cdp.evaluate(session, """(() => {
        const box = el => { const r = el.getBoundingClientRect();
            const hit = document.elementFromPoint(r.left + Math.min(4, r.width / 2), r.top + r.height / 2);
            return {top: r.top, bottom: r.bottom, left: r.left, height: r.height, hit: el.contains(hit)}; };
        const first = document.querySelector('article.artifact');
        return {verdict: box(document.getElementById('verdict')),
                difference: box(first.querySelector('details.difference > summary')),
                hint: box(first.querySelector('.hint')),
                scroll: window.scrollY, size: [innerWidth, innerHeight]}; })()""")
    assert boxes["scroll"] == 0 and boxes["size"] == [1280, 800]
    for name in ("verdict", "difference", "hint"):
        b = boxes[name]
        assert b["height"] > 0 and 0 <= b["top"] and b["bottom"] <= 800 and b["hit"], (name, b)
    shot = base64.b64decode(cdp.send("Page.captureScreenshot", {"format": "png"}, session)["data"])
    (tmp_path / "first-screen.png").write_bytes(shot)
    width, height, rows = _png_pixels(shot)
    assert (width, height) == (1280, 800)
    verdict, hint = boxes["verdict"], boxes["hint"]
    assert _pixel(rows, 640, verdict["top"] + 4) == (0xB4, 0x23, 0x18)  # the DIFFERENT band, painted
    assert _pixel(rows, hint["left"] - 2, hint["top"] + hint["height"] / 2) == (0xDD, 0xF4, 0xFF)  # the hint box


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

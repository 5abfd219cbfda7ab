"""The web page in Debian's headless chromium, driven over the DevTools protocol (aiohttp's
websocket client): the live view shows changing pictures, settings changes from the form
(a text and a list of motion regions) reach the daemon, a malformed list is refused on the page,
and a screenshot is taken."""

from __future__ import annotations

import asyncio
import base64
import io
import itertools
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.streamer_common import PASSWORD, USER, Daemon, http_request, small_config

pytest.importorskip("gi", reason="the rtsp extra (PyGObject) is not installed")
aiohttp = pytest.importorskip("aiohttp", reason="the rtsp extra (aiohttp) is not installed")
pytestmark = pytest.mark.timeout(300)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1280,900",
]


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[int]:
    """A fresh headless chromium; yields its DevTools port."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (tools/setup/streamer-deps.sh installs it)")
    profile = tmp_path / "profile"
    proc = subprocess.Popen(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            assert proc.poll() is None, "chromium exited at start"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.2)
        yield int(port_file.read_text().split()[0])
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Cdp:
    """Just enough of the Chrome DevTools protocol: numbered calls on one page's websocket."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        n = next(self.ids)
        await self.ws.send_str(json.dumps({"id": n, "method": method, "params": params}))
        while True:
            msg = json.loads((await self.ws.receive(timeout=30)).data)
            if msg.get("id") == n:
                assert "error" not in msg, msg
                return dict(msg["result"])

    async def js(self, expression: str) -> Any:
        r = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return r["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = await self.js(expression)
            if value:
                return value
            await asyncio.sleep(0.2)
        raise AssertionError(f"page never satisfied {expression!r}")


async def _drive(devtools: int, url: str, shot: Path) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{devtools}/json/list") as r:
            pages = [t for t in await r.json() if t["type"] == "page"]
        async with http.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            cdp = Cdp(ws)
            token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            await cdp.call("Network.enable")
            await cdp.call(
                "Network.setExtraHTTPHeaders", headers={"Authorization": f"Basic {token}"}
            )
            await cdp.call("Page.enable")
            await cdp.call("Page.navigate", url=url)
            # Live view: the MJPEG <img> decodes and its pictures keep changing.
            width = await cdp.wait_for("document.querySelector('#live').naturalWidth")
            seen = await cdp.wait_for(
                "Number(document.querySelector('#frames').textContent) > 3"
                " && document.querySelector('#frames').textContent"
            )
            # Settings: the form is filled from the API; change the OSD text and apply.
            await cdp.wait_for("document.querySelector('#bitrate0').value === '800'")
            await cdp.wait_for("document.querySelector('#rois').value === '[]'")
            await cdp.js(
                "document.querySelector('#rois').value = '[[0, 90'; "
                "document.querySelector('#apply').click(); true"
            )
            refused = await cdp.wait_for(
                "document.querySelector('#status').className === 'err' && "
                "document.querySelector('#status').textContent"
            )
            await cdp.js(
                "document.querySelector('#osdtext').value = 'FROM THE WEB PAGE';"
                "document.querySelector('#rois').value = '[[0, 90, 320, 60]]';"
                "document.querySelector('#apply').click(); true"
            )
            status = await cdp.wait_for(
                "document.querySelector('#status').textContent.startsWith('applied') && "
                "document.querySelector('#status').textContent"
            )
            png = base64.b64decode((await cdp.call("Page.captureScreenshot"))["data"])
            shot.write_bytes(png)
            return {"width": width, "seen": seen, "status": status, "refused": refused}


def test_web_page_in_headless_chromium(tmp_path: Path, chromium: int) -> None:
    d = Daemon(small_config(tmp_path), tmp_path).start().warm_up(25)
    try:
        shot = tmp_path / "streamer-page.png"
        result = asyncio.run(_drive(chromium, f"{d.http}/", shot))
        settings = json.loads(http_request(f"{d.http}/api/settings")[2])
    finally:
        assert d.stop() == 0, "".join(d.lines)
    assert result["width"] == 320  # jpeg.channel = 1: 320x180
    assert int(result["seen"]) > 3
    assert result["refused"].startswith("motion.rois: not JSON"), result
    assert sorted(result["status"].removeprefix("applied: ").split(", ")) == [
        "motion.rois",
        "osd.text",
    ], result
    assert settings["osd"]["text"] == "FROM THE WEB PAGE"
    assert settings["motion"]["rois"] == [[0, 90, 320, 60]]
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(shot.read_bytes())).convert("L"))
    assert img.shape[1] == 1280 and img.shape[0] > 500, img.shape
    assert img.std() > 10, "the screenshot is blank"
    keep = os.environ.get("IMP_STREAMER_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)

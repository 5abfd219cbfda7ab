"""HTTP on aiohttp: snapshots, MJPEG, the settings API, clips, metrics and the web page.

The server runs its own asyncio loop on a thread. JPEG pictures arrive from the encoder's output
thread through ``loop.call_soon_threadsafe``; every MJPEG viewer has a 2-picture queue that
drops its oldest picture when the viewer reads slowly, so a stalled viewer never holds up the
camera or another viewer. With ``[http] username``/``password`` every route asks for HTTP Digest
or Basic credentials (httpauth.py; compared in constant time); at most ``[http] max_clients``
requests are served at once (an MJPEG viewer counts while it watches), the next ones get 503.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from importlib import resources
from typing import Any, Protocol

from aiohttp import web
from multidict import CIMultiDict

from imp.streamer.camera import Packet
from imp.streamer.config import ConfigError
from imp.streamer.httpauth import HttpAuth

__all__ = ["HttpServer", "StreamerControl"]

_log = logging.getLogger("imp.streamer.http")

BOUNDARY = "impframe"
VIEWER_QUEUE = 2


class StreamerControl(Protocol):
    """What the HTTP side needs from the daemon (see :class:`imp.streamer.app.Streamer`)."""

    def public_settings(self) -> dict[str, Any]: ...
    def apply(self, changes: dict[str, Any]) -> list[str]: ...
    def request_idr(self, stream: int) -> None: ...
    def metrics_text(self) -> str: ...
    def clips(self) -> list[dict[str, Any]]: ...
    def clip_path(self, name: str) -> Any: ...
    def events(self) -> list[dict[str, Any]]: ...


class _JpegHub:
    """The newest JPEG plus the viewers' queues; touched only on the server's loop."""

    def __init__(self) -> None:
        self.latest: Packet | None = None
        self.viewers: set[asyncio.Queue[Packet]] = set()
        self.fresh = asyncio.Event()

    def publish(self, frame: Packet) -> None:
        self.latest = frame
        self.fresh.set()
        self.fresh = asyncio.Event()
        for q in self.viewers:
            if q.full():
                q.get_nowait()  # drop the oldest: this viewer reads slowly
            q.put_nowait(frame)


class HttpServer:
    def __init__(self, control: StreamerControl, camera: Any, settings: dict[str, Any]) -> None:
        self.control = control
        self.camera = camera
        self.cfg = settings["http"]
        self.jpeg_fps = settings["jpeg"]["fps"]
        self.has_jpeg = "jpeg" in camera.streams
        self.loop = asyncio.new_event_loop()
        self.hub: _JpegHub | None = None
        self.port = 0
        self.requests = 0
        self.refused_auth = 0
        self.refused_busy = 0
        self.inflight = 0  # requests being handled (an MJPEG viewer counts while it watches)
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        user, password = self.cfg["username"], self.cfg["password"]
        self._auth_check = HttpAuth(user, password) if user else None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="streamer-http", daemon=True)
        self._thread.start()
        self._started.wait(15)
        if self._error is not None:
            raise self._error
        if self.has_jpeg:
            self.camera.subscribe("jpeg", self._on_jpeg)

    def queued_bytes(self) -> int:
        """The JPEG memory the HTTP side holds: the newest picture (for snapshots) and what waits
        in the MJPEG viewers' queues, each entry counted at the newest picture's size (the
        queues share their pictures, so this is an upper bound)."""
        hub = self.hub
        latest = hub.latest if hub is not None else None
        if hub is None or latest is None:
            return 0
        return len(latest.data) * (1 + sum(q.qsize() for q in list(hub.viewers)))

    def _on_jpeg(self, frame: Packet) -> None:
        if self.hub is not None and not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(self.hub.publish, frame)
            except RuntimeError:
                pass  # the loop is closing

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._setup())
        except BaseException as exc:
            self._error = OSError(
                f"HTTP server cannot listen on {self.cfg['host']}:{self.cfg['port']}: {exc}"
            )
            self._started.set()
            return
        self._started.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self._teardown())
        self.loop.close()

    async def _setup(self) -> None:
        self.hub = _JpegHub()
        app = web.Application(middlewares=[self._auth], client_max_size=64 * 1024)
        app.add_routes(
            [
                web.get("/", self.index),
                web.get("/snapshot.jpg", self.snapshot),
                web.get("/mjpeg", self.mjpeg),
                web.get("/api/settings", self.get_settings),
                web.patch("/api/settings", self.patch_settings),
                web.post("/api/idr", self.idr),
                web.get("/api/clips", self.list_clips),
                web.get("/api/events", self.list_events),
                web.get("/clips/{name}", self.clip),
                web.get("/metrics", self.metrics),
                web.get("/api/clock", self.clock),
            ]
        )
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, self.cfg["host"], self.cfg["port"], backlog=self.cfg["max_clients"]
        )
        await site.start()
        server = site._server  # aiohttp exposes the bound port only through the asyncio server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.cfg["port"]

    async def _teardown(self) -> None:
        if self.hub is not None:
            for q in list(self.hub.viewers):
                if q.full():
                    q.get_nowait()
                q.put_nowait(_END)
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        if self.has_jpeg:
            self.camera.unsubscribe("jpeg", self._on_jpeg)
        if self._thread is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
        self._thread = None

    # -- auth ------------------------------------------------------------------------------------
    @web.middleware
    async def _auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests += 1
        if self.inflight >= self.cfg["max_clients"]:  # the bound on connections being served
            self.refused_busy += 1
            return _error(503, "too many requests in progress; try again")
        if self._auth_check is not None:
            header = request.headers.get("Authorization", "")
            if not self._auth_check.check(request.method, request.raw_path, header):
                self.refused_auth += 1
                return web.Response(
                    status=401,
                    text="credentials required\n",
                    headers=CIMultiDict(self._auth_check.challenges()),
                )
        self.inflight += 1
        try:
            result: web.StreamResponse = await handler(request)
        finally:
            self.inflight -= 1
        return result

    # -- routes ----------------------------------------------------------------------------------
    async def index(self, request: web.Request) -> web.Response:
        page = resources.files("imp.streamer").joinpath("web/index.html").read_text()
        return web.Response(text=page, content_type="text/html")

    async def snapshot(self, request: web.Request) -> web.Response:
        """The next JPEG the camera encodes (at most one JPEG period old)."""
        if not self.has_jpeg or self.hub is None:
            return _error(404, "JPEG is disabled ([jpeg] enabled = false)")
        try:
            await asyncio.wait_for(self.hub.fresh.wait(), timeout=3.0 + 2.0 / self.jpeg_fps)
        except TimeoutError:
            return _error(503, "no JPEG picture from the camera")
        frame = self.hub.latest
        assert frame is not None
        return web.Response(
            body=frame.data,
            content_type="image/jpeg",
            headers={"Cache-Control": "no-store", "X-Capture-Timestamp": str(frame.pts)},
        )

    async def mjpeg(self, request: web.Request) -> web.StreamResponse:
        if not self.has_jpeg or self.hub is None:
            return _error(404, "JPEG is disabled ([jpeg] enabled = false)")
        resp = web.StreamResponse(
            headers={
                "Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}",
                "Cache-Control": "no-store",
            }
        )
        queue: asyncio.Queue[Packet] = asyncio.Queue(VIEWER_QUEUE)
        self.hub.viewers.add(queue)
        try:
            await resp.prepare(request)
            while True:
                frame = await queue.get()
                if frame is _END:
                    break
                head = (
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(frame.data)}\r\n"
                    f"X-Capture-Timestamp: {frame.pts}\r\n\r\n"
                ).encode()
                await resp.write(head + frame.data + b"\r\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.hub.viewers.discard(queue)
        return resp

    async def get_settings(self, request: web.Request) -> web.Response:
        return web.json_response(self.control.public_settings())

    async def patch_settings(self, request: web.Request) -> web.Response:
        try:
            changes = json.loads(await request.text())
        except (ValueError, UnicodeDecodeError) as exc:
            return _error(400, f"the body is not JSON: {exc}")
        try:
            applied = self.control.apply(changes)
        except ConfigError as exc:
            return _error(400, str(exc))
        except NotImplementedError as exc:
            return _error(409, str(exc))
        return web.json_response({"applied": applied, "settings": self.control.public_settings()})

    async def idr(self, request: web.Request) -> web.Response:
        raw = request.query.get("stream", "0")
        if raw not in ("0", "1"):
            return _error(400, f"stream={raw!r}: use 0 or 1")
        try:
            self.control.request_idr(int(raw))
        except KeyError:
            return _error(404, f"stream{raw} is disabled")
        return web.json_response({"idr": int(raw)})

    async def list_clips(self, request: web.Request) -> web.Response:
        return web.json_response(self.control.clips())

    async def list_events(self, request: web.Request) -> web.Response:
        return web.json_response(self.control.events())

    async def clip(self, request: web.Request) -> web.StreamResponse:
        path = self.control.clip_path(request.match_info["name"])
        if path is None:
            return _error(404, "no such clip")
        return web.FileResponse(path, headers={"Content-Type": "video/mp4"})

    async def clock(self, request: web.Request) -> web.Response:
        """The capture clock next to this host's CLOCK_MONOTONIC (µs): lets a client on the
        same host turn capture timestamps into its own time (glass-to-client latency)."""
        before = time.monotonic_ns()
        capture = self.camera.timestamp()
        after = time.monotonic_ns()
        return web.json_response({"capture_us": capture, "monotonic_us": (before + after) // 2000})

    async def metrics(self, request: web.Request) -> web.Response:
        text = self.control.metrics_text()
        return web.Response(
            text=text,
            content_type="text/plain",
            charset="utf-8",
            headers={"X-Prometheus-Format": "0.0.4"},
        )


_END: Any = object()  # tells MJPEG viewers to finish


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)

"""RTSP on GStreamer's RTSP server (GstRtspServer through PyGObject).

One shared media per path (``/ch0``, ``/ch1``): ``appsrc ! h264parse/h265parse ! rtph26Xpay``.
The camera's drain thread pushes each access unit into the appsrc with a PTS taken from its
capture timestamp (so RTP timestamps follow the capture clock, 90 kHz); GStreamer does the
RTSP/RTP/RTCP work, TCP-interleaved and UDP transports, per-client queues and digest auth.
A client's PLAY asks the encoder for an IDR so it starts decoding at once; connections beyond
``max_clients`` are closed as they arrive.

Why GStreamer: it is maintained, interoperates with standard clients, does digest auth and the
ONVIF backchannel (``GstRTSPOnvifServer``), none of which we want to hand-write.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from imp.streamer.audio import backchannel_codec
from imp.streamer.camera import Packet

__all__ = ["RtspServer", "RtspUnavailable", "load_gstreamer"]

_log = logging.getLogger("imp.streamer.rtsp")

MISSING_HELP = (
    "the RTSP engine is not installed: run tools/setup/streamer-deps.sh (Debian packages "
    "gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-{good,bad,ugly}, gstreamer1.0-rtsp) and "
    "pip install 'imp[rtsp]' (PyGObject < 3.51)"
)


class RtspUnavailable(RuntimeError):
    """GStreamer, its RTSP server or PyGObject is missing; the message says what to install."""


def load_gstreamer() -> tuple[Any, Any, Any, Any]:
    """(GLib, Gst, GstRtsp, GstRtspServer), initialised; RtspUnavailable says what is missing."""
    try:
        import gi
    except ImportError:
        raise RtspUnavailable(f"PyGObject (module gi) is missing; {MISSING_HELP}") from None
    try:
        gi.require_version("Gst", "1.0")
        gi.require_version("GstRtsp", "1.0")
        gi.require_version("GstRtspServer", "1.0")
        from gi.repository import GLib, Gst, GstRtsp, GstRtspServer
    except (ValueError, ImportError) as exc:
        raise RtspUnavailable(f"{exc}; {MISSING_HELP}") from None
    Gst.init(None)
    for element in ("appsrc", "h264parse", "h265parse", "rtph264pay", "rtph265pay"):
        if Gst.ElementFactory.find(element) is None:
            raise RtspUnavailable(f"GStreamer element {element} is missing; {MISSING_HELP}")
    return GLib, Gst, GstRtsp, GstRtspServer


class _MediaClock:
    """One media's mapping of capture time to pipeline running time, shared by its video and
    audio feeds so that both tracks' RTP timestamps come from the same capture clock."""

    def __init__(self) -> None:
        self.offset_ns: int | None = None


class _Feed:
    """One appsrc (``element``) of a path's shared media, fed from a camera thread."""

    def __init__(self, gst: Any, element: str, clock: _MediaClock, lock: threading.Lock) -> None:
        self.gst = gst
        self.element = element
        self.clock = clock
        self.lock = lock  # the media's: both feeds move its clock
        self.appsrc: Any = None
        self.waiting_for_key = True
        self.pushed = 0
        self.dropped = 0

    def attach(self, media: Any) -> None:
        with self.lock:
            self.appsrc = media.get_element().get_by_name(self.element)
            self.clock.offset_ns = None
            self.waiting_for_key = True

    def resync(self) -> None:
        """After a pipeline rebuild the capture clock may restart: map it anew, from an IDR."""
        with self.lock:
            self.clock.offset_ns = None
            self.waiting_for_key = True

    def detach(self) -> None:
        with self.lock:
            self.appsrc = None

    def queued_bytes(self) -> int:
        """Bytes waiting in the appsrc for its streaming thread (bounded by max-bytes)."""
        src = self.appsrc
        return int(src.get_property("current-level-bytes")) if src is not None else 0

    def push(self, packet: Packet) -> None:
        gst = self.gst
        with self.lock:
            src = self.appsrc
            if src is None:
                return
            if self.waiting_for_key and not packet.keyframe:
                self.dropped += 1
                return
            self.waiting_for_key = False
            if self.clock.offset_ns is None:
                running = _running_time(src)
                if running is None:
                    return
                self.clock.offset_ns = running - packet.pts * 1000
            pts = packet.pts * 1000 + self.clock.offset_ns
            if pts < 0:
                return
            buf = gst.Buffer.new_wrapped(packet.data)
            buf.pts = pts
            buf.dts = pts
            if not packet.keyframe:
                buf.set_flags(gst.BufferFlags.DELTA_UNIT)
            ret = src.emit("push-buffer", buf)
            if ret == gst.FlowReturn.OK:
                self.pushed += 1
            else:
                self.dropped += 1


def _no_delay(client: Any) -> None:
    """TCP_NODELAY on a client's connection: with Nagle's algorithm the tail of each picture
    sent interleaved over RTSP/TCP waits for the client's delayed ACK (up to 40 ms on Linux);
    GStreamer leaves the option off."""
    import socket

    try:
        sock = client.get_connection().get_read_socket()
        sock.set_option(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except Exception as exc:  # not a TCP socket, or an old GLib: latency only
        _log.debug("RTSP: TCP_NODELAY not set: %s", exc)


def _running_time(src: Any) -> int | None:
    clock = src.get_clock()
    if clock is None:
        return None
    return int(clock.get_time() - src.get_base_time())


BACKCHANNEL_LAUNCH = {
    codec: (
        f'( capsfilter caps="application/x-rtp,media=audio,payload={pt},clock-rate=8000,'
        f'encoding-name={name}" name=depay_backchannel ! {depay} '
        "! appsink name=backchannel emit-signals=true sync=false async=false max-buffers=50 )"
    )
    for codec, pt, name, depay in (
        ("g711u", 0, "PCMU", "rtppcmudepay"),
        ("g711a", 8, "PCMA", "rtppcmadepay"),
    )
}

AUDIO_LAUNCH = {
    "g711u": "caps=audio/x-mulaw,rate=8000,channels=1 ! rtppcmupay name=pay1 pt=0",
    "g711a": "caps=audio/x-alaw,rate=8000,channels=1 ! rtppcmapay name=pay1 pt=8",
    # ADTS frames from AENC; aacparse turns them into the raw AAC that RFC 3640 carries.
    "aac": "caps=audio/mpeg,mpegversion=4,stream-format=adts,rate=16000,channels=1 "
    "! aacparse ! rtpmp4gpay name=pay1 pt=97",
    "opus": "caps=audio/x-opus,channel-mapping-family=0,channels=1,rate=16000 "
    "! rtpopuspay name=pay1 pt=98",
}


class RtspServer:
    """``rtsp://HOST:PORT/ch0`` and ``/ch1`` for the enabled streams of ``camera``."""

    def __init__(self, camera: Any, settings: dict[str, dict[str, Any]]) -> None:
        self.GLib, self.Gst, self.GstRtsp, self.GstRtspServer = load_gstreamer()
        self.camera = camera
        self.cfg = settings["rtsp"]
        self.feeds: dict[str, _Feed] = {}
        self.audio_feeds: dict[str, _Feed] = {}
        self.clients: dict[str, int] = {"stream0": 0, "stream1": 0}
        self.connections = 0
        self.refused = 0
        self._client_paths: dict[int, str] = {}
        self._lock = threading.Lock()
        self._context = self.GLib.MainContext.new()
        self._loop = self.GLib.MainLoop.new(self._context, False)
        self._thread: threading.Thread | None = None
        # The ONVIF server: plain RTSP for every client, plus the audio backchannel for those
        # that ask for it (Require: www.onvif.org/ver20/backchannel).
        self.server = self.GstRtspServer.RTSPOnvifServer.new()
        self.server.set_address(self.cfg["host"])
        self.server.set_service(str(self.cfg["port"]))
        self.server.connect("client-connected", self._on_client)
        mounts = self.server.get_mount_points()
        for i in (0, 1):
            name = f"stream{i}"
            if name in camera.streams:
                clock, lock = _MediaClock(), threading.Lock()
                feeds = [_Feed(self.Gst, f"video{i}", clock, lock)]
                self.feeds[name] = feeds[0]
                camera.subscribe(name, feeds[0].push)
                audio = camera.audio_codec if "audio" in camera.streams else None
                if audio is not None:
                    feeds.append(_Feed(self.Gst, f"audio{i}", clock, lock))
                    self.audio_feeds[name] = feeds[1]
                    camera.subscribe("audio", feeds[1].push)
                codec = settings[name]["codec"]
                mounts.add_factory(f"/ch{i}", self._factory(i, codec, audio, feeds))
        if self.cfg["username"]:
            self._set_auth()
        self.port = 0

    def _factory(self, i: int, codec: str, audio: str | None, feeds: list[_Feed]) -> Any:
        # The appsrcs are named after their stream: GStreamer names each one's streaming thread
        # ELEMENT:PAD (video0:src), which is how /metrics attributes its CPU (usage.gst_owner).
        hx = "h265" if codec == "h265" else "h264"
        launch = (
            f"( appsrc name=video{i} is-live=true format=time do-timestamp=false "
            f"max-bytes=4000000 block=false "
            f"caps=video/x-{hx},stream-format=byte-stream,alignment=au "
            f"! {hx}parse config-interval=-1 ! rtp{hx}pay name=pay0 pt=96 config-interval=-1 "
        )
        if audio is not None:
            launch += (
                f"appsrc name=audio{i} is-live=true format=time do-timestamp=false "
                f"max-bytes=200000 block=false {AUDIO_LAUNCH[audio]} "
            )
        launch += ")"
        srv = self.GstRtspServer
        if audio is not None:
            factory = srv.RTSPOnvifMediaFactory.new()
            factory.set_backchannel_launch(BACKCHANNEL_LAUNCH[backchannel_codec(audio)])
            factory.set_media_gtype(srv.RTSPOnvifMedia.__gtype__)
        else:
            factory = srv.RTSPMediaFactory.new()
        factory.set_launch(launch)
        factory.set_shared(True)
        factory.set_suspend_mode(self.GstRtspServer.RTSPSuspendMode.NONE)
        factory.set_protocols(self.GstRtsp.RTSPLowerTrans.TCP | self.GstRtsp.RTSPLowerTrans.UDP)
        factory.connect("media-configure", self._on_media, f"stream{i}", feeds)
        if self.cfg["username"]:
            perms = self.GstRtspServer.RTSPPermissions()
            perms.add_permission_for_role("viewer", "media.factory.access", True)
            perms.add_permission_for_role("viewer", "media.factory.construct", True)
            factory.set_permissions(perms)
        return factory

    def _set_auth(self) -> None:
        srv = self.GstRtspServer
        auth = srv.RTSPAuth()
        token = srv.RTSPToken()
        token.set_string("media.factory.role", "viewer")
        auth.add_digest(self.cfg["username"], self.cfg["password"], token)
        auth.set_supported_methods(self.GstRtsp.RTSPAuthMethod.DIGEST)
        self.server.set_auth(auth)

    # -- signals (GLib thread) -------------------------------------------------------------------
    def _on_media(self, _factory: Any, media: Any, name: str, feeds: list[_Feed]) -> None:
        for feed in feeds:
            feed.attach(media)
        media.connect("unprepared", self._on_unprepared, feeds)
        for i in range(media.n_streams()):
            # "Rate control" (on by default) makes the RTSP/TCP appsink hold each packet until
            # its running time, as _on_element undoes for the UDP sinks: with PTS from the
            # capture clock, every packet would wait as long as the media's first (an IDR:
            # the slowest to encode) took to arrive.
            media.get_stream(i).set_rate_control(False)
        pipeline = media.get_element().get_parent()
        if pipeline is not None:
            pipeline.connect("deep-element-added", self._on_element)
        sink = media.get_element().get_by_name("backchannel")
        if sink is not None:  # this client talks: its audio goes to the speaker
            sink.connect("new-sample", self._on_talk)
        self.camera.request_idr(name)

    def _on_talk(self, sink: Any) -> Any:
        sample = sink.emit("pull-sample")
        speaker = self.camera.speaker
        if sample is not None and speaker is not None:
            buf = sample.get_buffer()
            ok, info = buf.map(self.Gst.MapFlags.READ)
            if ok:
                speaker.feed(bytes(info.data))
                buf.unmap(info)
        return self.Gst.FlowReturn.OK

    @staticmethod
    def _on_element(_pipeline: Any, _bin: Any, element: Any) -> None:
        """The server's per-stream sinks sync to the clock by default, holding each packet
        until its running time: with our capture-time PTS that would add whatever latency the
        first packet had to all later ones. The camera paces the packets already: send at once."""
        factory = element.get_factory()
        if factory is not None and factory.get_name() in ("appsink", "multiudpsink", "udpsink"):
            element.set_property("sync", False)

    @staticmethod
    def _on_unprepared(_media: Any, feeds: list[_Feed]) -> None:
        for feed in feeds:
            feed.detach()

    def _on_client(self, _server: Any, client: Any) -> None:
        with self._lock:
            if self.connections >= self.cfg["max_clients"]:
                self.refused += 1
                _log.warning("RTSP: %d connections already; refusing another", self.connections)
                client.close()
                return
            self.connections += 1
        _no_delay(client)
        client.connect("play-request", self._on_play)
        client.connect("closed", self._on_closed)

    def _on_play(self, client: Any, ctx: Any) -> None:
        path = ctx.uri.abspath if ctx.uri is not None else ""
        name = {"/ch0": "stream0", "/ch1": "stream1"}.get(path.rstrip("/"))
        if name is None or name not in self.feeds:
            return
        with self._lock:
            if id(client) not in self._client_paths:
                self._client_paths[id(client)] = name
                self.clients[name] += 1
        self.camera.request_idr(name)  # a joining client gets an IDR on the next frame

    def _on_closed(self, client: Any) -> None:
        with self._lock:
            self.connections = max(0, self.connections - 1)
            name = self._client_paths.pop(id(client), None)
            if name is not None:
                self.clients[name] = max(0, self.clients[name] - 1)

    def queued_bytes(self) -> dict[str, int]:
        """Bytes queued in the appsrcs, by stream (the audio feeds of both paths: "audio")."""
        out = {name: feed.queued_bytes() for name, feed in self.feeds.items()}
        if self.audio_feeds:
            out["audio"] = sum(feed.queued_bytes() for feed in self.audio_feeds.values())
        return out

    def resync(self) -> None:
        for name, feed in self.feeds.items():
            feed.resync()
            self.camera.request_idr(name)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        source_id = self.server.attach(self._context)
        if source_id == 0:
            raise RtspUnavailable(
                f"cannot listen on {self.cfg['host']}:{self.cfg['port']} (port in use?)"
            )
        self.port = int(self.server.get_bound_port())
        self._thread = threading.Thread(target=self._loop.run, name="streamer-rtsp", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        for name, feed in self.feeds.items():
            self.camera.unsubscribe(name, feed.push)
            feed.detach()
        for feed in self.audio_feeds.values():
            self.camera.unsubscribe("audio", feed.push)
            feed.detach()
        if self._thread is not None:
            self._context.invoke_full(self.GLib.PRIORITY_DEFAULT, self._shutdown)
            self._thread.join(timeout=5)
            self._thread = None

    def _shutdown(self) -> bool:
        pool = self.server.get_session_pool()
        self.server.client_filter(lambda _s, _c: self.GstRtspServer.RTSPFilterResult.REMOVE)
        pool.cleanup()
        self._loop.quit()
        return False

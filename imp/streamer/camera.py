"""The camera side of the streamer: the only module that talks to imp.

Builds prudynt's graph with the Pythonic API and hands encoded pictures and motion results to
subscribers (RTSP, HTTP, the clip recorder) as plain :class:`EncodedFrame` objects::

    FS0 -> OSD0 -> ENC group: stream0 (H.264/H.265) [+ JPEG when jpeg.channel = 0]
    FS1 -> OSD1 -> ENC group: stream1               [+ JPEG when jpeg.channel = 1]
    FS<motion.stream> output 1 -> IVS group 0 -> MoveDetector

Keeping every imp call here lets the rest of the streamer follow changes to the Pythonic
layer by editing one file. Gaps in the public API this needed are listed in docs/STATUS.md
(the OSD insert between FrameSource and encoder uses System bind/unbind directly).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import imp
from imp import ivs
from imp.capi import DEV_ID_ENC, DEV_ID_FS
from imp.streamer.overlay import StreamOverlay
from imp.system import get_system

__all__ = ["CameraPipeline", "EncodedFrame", "MotionSample", "StreamCounters"]

_log = logging.getLogger("imp.streamer.camera")

IMAGE_CONTROLS = ("brightness", "contrast", "saturation", "sharpness", "hue", "hflip", "vflip")


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    """One access unit (Annex-B with start codes; an IDR carries its parameter sets) or one
    JPEG file, stamped with its capture time (µs, IMP clock)."""

    data: bytes
    pts: int
    keyframe: bool
    codec: str  # "h264" | "h265" | "jpeg"
    seq: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class MotionSample:
    """One analysed frame of the motion stream."""

    pts: int
    motion: bool
    regions: tuple[bool, ...]


@dataclass
class StreamCounters:
    """What /metrics reports per stream; updated by the drain thread."""

    frames: int = 0
    bytes: int = 0
    errors: int = 0
    recent: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=256))

    def add(self, size: int) -> None:
        self.frames += 1
        self.bytes += size
        self.recent.append((time.monotonic(), size))

    def rates(self, window: float = 2.0) -> tuple[float, float]:
        """(frames/s, kbit/s) over the last ``window`` seconds of arrivals."""
        now = time.monotonic()
        items = [(t, n) for t, n in list(self.recent) if now - t <= window]
        if len(items) < 2:
            return 0.0, 0.0
        span = max(items[-1][0] - items[0][0], 1e-3)
        return (len(items) - 1) / span, sum(n for _, n in items[1:]) * 8 / span / 1000


Subscriber = Callable[[EncodedFrame], None]


class _Drain:
    """A thread taking pictures from one encoder channel and passing them to subscribers."""

    def __init__(
        self, name: str, handle: Any, codec: str, size: tuple[int, int],
        subscribers: list[Subscriber], counters: StreamCounters,
    ) -> None:
        self.name, self.handle, self.codec, self.size = name, handle, codec, size
        self.subscribers = subscribers  # owned by the pipeline: they outlive a restart
        self.counters = counters
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"streamer-{name}", daemon=True)
        self.last_picture = time.monotonic()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                stream = self.handle.get_stream(timeout=0.5)
            except imp.Timeout:
                continue
            except imp.ImpError as exc:
                if self._stop.is_set():
                    return
                self.counters.errors += 1
                _log.warning("%s: %s", self.name, exc)
                self._stop.wait(0.1)
                continue
            with stream:
                frame = EncodedFrame(
                    stream.data, stream.timestamp, bool(stream.keyframe), self.codec,
                    stream.seq, *self.size,
                )
            self.counters.add(len(frame.data))
            self.last_picture = time.monotonic()
            for fn in list(self.subscribers):
                try:
                    fn(frame)
                except Exception:  # one broken consumer must not stop the camera
                    _log.exception("%s: subscriber %r failed", self.name, fn)


class CameraPipeline:
    """prudynt's pipeline over the Pythonic API; ``start()`` / ``stop()``, live setters."""

    def __init__(self, settings: dict[str, dict[str, Any]]) -> None:
        self.settings = settings
        s = settings
        self.streams = [f"stream{i}" for i in (0, 1) if s[f"stream{i}"]["enabled"]]
        if s["jpeg"]["enabled"]:
            self.streams.append("jpeg")
        self.subscribers: dict[str, list[Subscriber]] = {n: [] for n in self.streams}
        self.counters = {n: StreamCounters() for n in self.streams}
        self.motion_subscribers: list[Callable[[MotionSample], None]] = []
        self.restarts = 0
        self.started_at = time.monotonic()
        self._reset()

    def _reset(self) -> None:
        """Run state: fresh for each start (a restart rebuilds the whole graph)."""
        self.cam: Any = None
        self.drains: dict[str, _Drain] = {}
        self.overlays: dict[int, StreamOverlay] = {}
        self._handles: dict[str, Any] = {}
        self._binds: list[tuple[tuple[int, int, int], tuple[int, int, int]]] = []
        self._ivs: list[Any] = []
        self._motion_thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        s = self.settings
        self.cam = imp.open(sensor=s["camera"]["sensor"])
        self.cam.__enter__()
        try:
            self._build()
        except BaseException:
            self.stop()
            raise

    def _build(self) -> None:
        s = self.settings
        channels = {}
        for i in (0, 1):
            cfg = s[f"stream{i}"]
            if cfg["enabled"]:
                channels[i] = self.cam.framesource(
                    i, size=(cfg["width"], cfg["height"]), fps=cfg["fps"], nr_vbs=3, enable=False
                )
        for i, fs in channels.items():
            cfg = s[f"stream{i}"]
            settings_cls = imp.H265 if cfg["codec"] == "h265" else imp.H264
            enc = self.cam.encoder(
                fs, settings_cls(bitrate_kbps=cfg["bitrate"], gop=cfg["gop"], rc="cbr")
            )
            self._handles[f"stream{i}"] = enc
            size = (cfg["width"], cfg["height"])
            self.drains[f"stream{i}"] = self._drain(f"stream{i}", enc, cfg["codec"], size)
            if s["jpeg"]["enabled"] and s["jpeg"]["channel"] == i:
                jpeg = self.cam.encoder(
                    enc, imp.JPEG(quality=s["jpeg"]["quality"], fps=s["jpeg"]["fps"])
                )
                self._handles["jpeg"] = jpeg
                self.drains["jpeg"] = self._drain("jpeg", jpeg, "jpeg", size)
            if s["osd"]["enabled"]:
                self._insert_osd(i, enc.group, size)
        if s["motion"]["enabled"]:
            self._start_motion()
        for drain in self.drains.values():
            drain.start()
        for fs in channels.values():
            fs.enable()
        self.apply_image(s["image"])

    def _drain(self, name: str, handle: Any, codec: str, size: tuple[int, int]) -> _Drain:
        return _Drain(name, handle, codec, size, self.subscribers[name], self.counters[name])

    def restart(self) -> None:
        """Tear the graph down and build it again (after a fault); subscribers stay."""
        self.stop()
        self._reset()
        self.restarts += 1
        self.start()

    def stalled_for(self) -> float:
        """Seconds since the video stream that delivered least recently gave a picture."""
        now = time.monotonic()
        ages = [now - d.last_picture for n, d in self.drains.items() if n != "jpeg"]
        return max(ages, default=0.0)

    def _insert_osd(self, chn: int, enc_group: int, size: tuple[int, int]) -> None:
        """FS -> ENC becomes FS -> OSD -> ENC (the encoder handle bound FS -> ENC itself)."""
        overlay = StreamOverlay(chn, size, self.settings["osd"], self.started_at)
        self.overlays[chn] = overlay
        system = get_system()
        fs_cell, enc_cell = (DEV_ID_FS, chn, 0), (DEV_ID_ENC, enc_group, 0)
        system.unbind(fs_cell, enc_cell)
        for src, dst in ((fs_cell, overlay.cell), (overlay.cell, enc_cell)):
            system.bind(src, dst)
            self._binds.append((src, dst))

    def _motion_params(self, sensitivity: int) -> Any:
        m = self.settings["motion"]
        cfg = self.settings[f"stream{m['stream']}"]
        w, h = cfg["width"], cfg["height"]
        rects = m["rois"] or [[0, h // 8, w, h - h // 8]]  # see docs: skips a burned-in clock
        rois = tuple(
            ivs.Roi(x, y, min(w, x + rw) - 1, min(h, y + rh) - 1, sensitivity)
            for x, y, rw, rh in rects
        )
        return ivs.MoveParams(w, h, rois, m["skip_frames"])

    def _start_motion(self) -> None:
        m = self.settings["motion"]
        grp = ivs.create_group(0)
        self._ivs.append(("group", 0))
        detector = ivs.MoveDetector(self._motion_params(m["sensitivity"]))
        chn = ivs.create_channel(0, detector)
        self._ivs.append(("channel", chn))
        ivs.register(0, 0)
        chn.start()
        src = (DEV_ID_FS, m["stream"], 1)
        get_system().bind(src, grp.cell)
        self._binds.append((src, grp.cell))
        self._motion_thread = threading.Thread(
            target=self._motion_loop, args=(chn,), name="streamer-motion", daemon=True
        )
        self._motion_thread.start()

    def _motion_loop(self, chn: Any) -> None:
        while not self._stop.is_set():
            try:
                with chn.result(0.5) as r:
                    sample = MotionSample(r.timestamp, bool(r.motion), tuple(r.regions))
            except imp.Timeout:
                continue
            except imp.ImpError:
                return  # the channel stopped receiving
            for fn in list(self.motion_subscribers):
                try:
                    fn(sample)
                except Exception:
                    _log.exception("motion subscriber %r failed", fn)

    def stop(self) -> None:
        """Stop threads, undo binds, close channels and the camera (every buffer returned)."""
        self._stop.set()
        for drain in self.drains.values():
            drain.stop()
        for kind, obj in reversed(self._ivs):
            if kind == "channel":
                obj.stop()
        if self._motion_thread is not None:
            self._motion_thread.join(timeout=5)
        system = get_system()
        for src, dst in reversed(self._binds):
            _quietly(system.unbind, src, dst)
        self._binds.clear()
        for kind, obj in reversed(self._ivs):
            if kind == "channel":
                _quietly(ivs.unregister, obj.num)
                _quietly(ivs.destroy_channel, obj.num)
            else:
                _quietly(ivs.destroy_group, obj)
        self._ivs.clear()
        for overlay in self.overlays.values():
            overlay.close()
        for handle in reversed(list(self._handles.values())):
            _quietly(handle.close)
        self._handles.clear()
        if self.cam is not None:
            cam, self.cam = self.cam, None
            cam.__exit__(None, None, None)

    # -- subscriptions ---------------------------------------------------------------------------
    def subscribe(self, stream: str, fn: Subscriber) -> None:
        self.subscribers[stream].append(fn)

    def unsubscribe(self, stream: str, fn: Subscriber) -> None:
        subs = self.subscribers[stream]
        if fn in subs:
            subs.remove(fn)

    def timestamp(self) -> int:
        """Now on the capture clock (µs)."""
        return int(self.cam.timestamp())

    # -- live changes --------------------------------------------------------------------------
    def _handle(self, stream: str) -> Any:
        """The encoder handle, or None while the pipeline is being rebuilt (the new value is
        in the settings already and the rebuild uses it)."""
        return self._handles.get(stream)

    def request_idr(self, stream: str) -> None:
        if (h := self._handle(stream)) is not None:
            h.request_idr()

    def set_bitrate(self, stream: str, kbps: int) -> None:
        if (h := self._handle(stream)) is not None:
            h.set_bitrate(kbps)

    def set_gop(self, stream: str, gop: int) -> None:
        if (h := self._handle(stream)) is not None:
            h.set_gop(gop)

    def set_fps(self, stream: str, fps: int) -> None:
        if (h := self._handle(stream)) is not None:
            h.set_fps(fps)

    def encoder_drops(self, stream: str) -> int:
        handle = self._handle(stream)
        if handle is None:
            return 0
        st = handle.stats
        return int(st.dropped_behind + st.dropped_full)

    def apply_image(self, image: dict[str, Any]) -> None:
        if self.cam is None:
            return
        for name in IMAGE_CONTROLS:
            if name in image:
                self.cam.set_control(name, int(image[name]))
        if "running_mode" in image:
            self.cam.set_control("running_mode", 1 if image["running_mode"] == "night" else 0)

    def set_osd_text(self, text: str) -> None:
        for overlay in self.overlays.values():
            overlay.set_text(text)

    def set_motion_sensitivity(self, sensitivity: int) -> None:
        for kind, obj in self._ivs:
            if kind == "channel":
                obj.set_param(self._motion_params(sensitivity))


def _quietly(fn: Callable[..., Any], *args: Any) -> None:
    """Clean-up goes on past a failing step: the remaining resources still need freeing."""
    try:
        fn(*args)
    except Exception as exc:
        _log.warning("clean-up: %s: %s", getattr(fn, "__name__", fn), exc)


def configure_simulator(settings: dict[str, dict[str, Any]]) -> None:
    """Point imp at the simulated T31 with the scene and sensor size of ``[sim]``."""
    import os

    from imp.kernel import sim_overrides
    from imp.streamer.scenes import register_streamer_scenes

    os.environ["IMP_PLATFORM"] = "sim"
    sim = settings["sim"]
    register_streamer_scenes()
    sim_overrides(
        clock=sim["clock"],
        sensor=f"synthetic:{sim['scene']}",
        sensor_size=(sim["sensor_width"], sim["sensor_height"]),
    )

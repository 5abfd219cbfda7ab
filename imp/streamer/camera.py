"""The camera side of the streamer: with overlay.py, the only modules that talk to imp.

Builds prudynt's graph from the Pythonic pipeline's nodes and hands every encoded picture (an
:class:`imp.output.Packet`) and motion event to subscribers (RTSP, HTTP, the clip recorder)::

    FS0 -> Overlay -> encoder stream0 (H.264/H.265) [+ JPEG when jpeg.channel = 0] -> fan-out
    FS1 -> Overlay -> encoder stream1               [+ JPEG when jpeg.channel = 1] -> fan-out
    FS<motion.stream> -> MotionDetector -> events

Each encoder writes into a :class:`_Fanout`, an ``imp.output`` Output whose ``write`` runs on
the encoder's output thread and passes the packet to the subscribers (none of them blocks).
Keeping every imp call here lets the rest follow changes of the Pythonic layer.
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
from imp.output import Packet
from imp.streamer.audio import (
    RTSP_AUDIO_CODECS,
    AudioSource,
    SpeakerSink,
    backchannel_codec,
)
from imp.streamer.overlay import StreamOverlay
from imp.streamer.subscribers import deliver
from imp.streamer.usage import Owner, ThreadCpu

__all__ = ["CameraPipeline", "MotionSample", "Packet", "StreamCounters"]

_log = logging.getLogger("imp.streamer.camera")

IMAGE_CONTROLS = ("brightness", "contrast", "saturation", "sharpness", "hue", "hflip", "vflip")


@dataclass(frozen=True, slots=True)
class MotionSample:
    """A frame of the motion stream in which something moved."""

    pts: int
    regions: tuple[int, ...]


@dataclass
class StreamCounters:
    """What /metrics reports per stream; updated on the encoder's output thread."""

    frames: int = 0
    bytes: int = 0
    last_picture: float = field(default_factory=time.monotonic)
    recent: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=256))

    def add(self, size: int) -> None:
        self.frames += 1
        self.bytes += size
        self.last_picture = now = time.monotonic()
        self.recent.append((now, size))

    def rates(self, window: float = 2.0) -> tuple[float, float]:
        """(frames/s, kbit/s) over the last ``window`` seconds of arrivals."""
        now = time.monotonic()
        items = [(t, n) for t, n in list(self.recent) if now - t <= window]
        if len(items) < 2:
            return 0.0, 0.0
        span = max(items[-1][0] - items[0][0], 1e-3)
        return (len(items) - 1) / span, sum(n for _, n in items[1:]) * 8 / span / 1000


Subscriber = Callable[[Packet], None]


class _Fanout:
    """An ``imp.output`` Output passing each packet to the stream's subscribers."""

    def __init__(
        self, name: str, subscribers: list[Subscriber], counters: StreamCounters, cpu: ThreadCpu
    ) -> None:
        self.name = name
        self.subscribers = subscribers  # owned by the pipeline: they outlive a restart
        self.counters = counters
        self.cpu = cpu
        self.owner: Owner = (name, "output")

    def write(self, packet: Packet) -> None:
        self.cpu.note(self.owner)  # this is the encoder's output thread: its CPU is ours
        self.counters.add(len(packet.data))
        deliver(self.subscribers, packet, self.name)

    def close(self) -> None:
        pass  # the subscribers are closed by their owners


class CameraPipeline:
    """prudynt's pipeline over the Pythonic API; ``start()`` / ``stop()``, live setters."""

    def __init__(self, settings: dict[str, dict[str, Any]]) -> None:
        self.settings = settings
        s = settings
        self.streams = [f"stream{i}" for i in (0, 1) if s[f"stream{i}"]["enabled"]]
        if s["jpeg"]["enabled"]:
            self.streams.append("jpeg")
        self.audio_codec = s["audio"]["codec"] if s["audio"]["enabled"] else None
        if self.audio_codec is not None and self.audio_codec not in RTSP_AUDIO_CODECS:
            _log.warning(
                "audio.codec = %s: the audio track carries %s so far; serving video only",
                self.audio_codec,
                " or ".join(RTSP_AUDIO_CODECS),
            )
            self.audio_codec = None
        if self.audio_codec is not None:
            self.streams.append("audio")
        self.subscribers: dict[str, list[Subscriber]] = {n: [] for n in self.streams}
        self.counters = {n: StreamCounters() for n in self.streams}
        self.motion_subscribers: list[Callable[[MotionSample], None]] = []
        self.cpu = ThreadCpu()
        self.restarts = 0
        self.started_at = time.monotonic()
        self._reset()

    def _reset(self) -> None:
        """Run state: fresh for each start (a restart rebuilds the whole graph)."""
        self.cam: Any = None
        self.overlays: dict[int, StreamOverlay] = {}
        self._handles: dict[str, Any] = {}
        self._sources: dict[int, Any] = {}
        self._motion: Any = None
        self._audio: AudioSource | None = None
        self.speaker: SpeakerSink | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        self.cam = imp.open(sensor=self.settings["camera"]["sensor"])
        self.cam.__enter__()
        try:
            self._build()
        except BaseException:
            self.stop()
            raise

    def _build(self) -> None:
        s, cam = self.settings, self.cam
        for i in (0, 1):
            cfg = s[f"stream{i}"]
            if not cfg["enabled"]:
                continue
            size = (cfg["width"], cfg["height"])
            # [camera] buffers, 6 by default: imp.camera's 4 plus 2, because here each frame
            # also passes the OSD and, on the JPEG's or the motion stream, a second consumer.
            # With 4, a 300 s bench/streamer_load run at load average 6 lost 17 of 7500 stream0
            # frames for want of an empty buffer (/metrics sim_frames_lost cause "no_buffer").
            fs = cam.framesource(i, size=size, fps=cfg["fps"], nr_vbs=s["camera"]["buffers"])
            self._sources[i] = fs
            source = fs
            if s["osd"]["enabled"]:
                overlay = StreamOverlay(cam.overlay(fs), size, s["osd"], self.started_at)
                self.overlays[i] = overlay
                source = overlay.node
            codec = imp.H265 if cfg["codec"] == "h265" else imp.H264
            enc = cam.encoder(
                source,
                codec(bitrate_kbps=cfg["bitrate"], gop=cfg["gop"], rc="cbr"),
                output=self._fanout(f"stream{i}"),
            )
            self._handles[f"stream{i}"] = enc
            if s["jpeg"]["enabled"] and s["jpeg"]["channel"] == i:
                self._handles["jpeg"] = cam.encoder(
                    enc,
                    imp.JPEG(quality=s["jpeg"]["quality"], fps=s["jpeg"]["fps"]),
                    output=self._fanout("jpeg"),
                )
        if s["motion"]["enabled"]:
            self._start_motion(s["motion"]["sensitivity"])
        if self.audio_codec is not None:
            self._audio = AudioSource(self.audio_codec, self.subscribers["audio"])
            self._audio.start()
            self.speaker = SpeakerSink(backchannel_codec(self.audio_codec), self._audio.rate)
            self.speaker.start()
        self.apply_image(s["image"])

    def _fanout(self, name: str) -> _Fanout:
        self.counters[name].last_picture = time.monotonic()
        return _Fanout(name, self.subscribers[name], self.counters[name], self.cpu)

    def _start_motion(self, sensitivity: int) -> None:
        m = self.settings["motion"]
        self._motion = self.cam.motion(
            self._sources[m["stream"]],
            rois=self._motion_rois(m["rois"]),
            sense=sensitivity,
            skip_frames=m["skip_frames"],
        )
        self._motion.on_motion(self._on_motion)

    def _motion_rois(self, rois: list[list[int]]) -> list[tuple[int, int, int, int]]:
        """``[motion] rois`` as (x, y, width, height) boxes; empty: all but the top eighth of the
        analysed stream, where a burned-in clock (on the simulator: the frame mark) would count
        as motion in every frame."""
        cfg = self.settings[f"stream{self.settings['motion']['stream']}"]
        w, h = cfg["width"], cfg["height"]
        return [(r[0], r[1], r[2], r[3]) for r in rois] or [(0, h // 8, w, h - h // 8)]

    def _on_motion(self, event: Any) -> None:
        deliver(
            self.motion_subscribers, MotionSample(int(event.timestamp), tuple(event.rois)), "motion"
        )

    def stop(self) -> None:
        """Close every node (the camera does it consumers first) and the camera itself."""
        if self._audio is not None:
            self._audio.stop()
            self._audio = None
        if self.speaker is not None:
            self.speaker.stop()
            self.speaker = None
        for overlay in self.overlays.values():
            try:
                overlay.close()
            except Exception as exc:  # its node may be gone already
                _log.warning("closing the OSD: %s", exc)
        if self.cam is not None:
            cam, self.cam = self.cam, None
            try:
                cam.__exit__(None, None, None)
            except Exception as exc:  # a faulty device: the rest is torn down regardless
                _log.warning("closing the camera: %s", exc)

    def restart(self) -> None:
        """Tear the graph down and build it again (after a fault); subscribers stay."""
        self.stop()
        self._reset()
        self.cpu.forget_noted()
        self.start()
        self.restarts += 1

    def stalled_for(self) -> float:
        """Seconds since the video stream that delivered least recently gave a picture."""
        now = time.monotonic()
        return max(
            (now - c.last_picture for n, c in self.counters.items() if n.startswith("stream")),
            default=0.0,
        )

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

    def drops(self) -> dict[str, dict[str, int]]:
        """Frames lost per pipeline node and cause (``Camera.drops``)."""
        return dict(self.cam.drops()) if self.cam is not None else {}

    # -- usage (/metrics) -------------------------------------------------------------------------
    def thread_owners(self) -> dict[str, Owner]:
        """imp's threads that work for one stream, by Python thread name (imp names them after
        their channel: imp-fs<chn>, imp-osd<group>, imp-enc<chn>, imp-ivs<chn>)."""
        out: dict[str, Owner] = {}
        for i in list(self._sources):  # list(): a rebuild may be filling these dicts
            out[f"imp-fs{i}"] = (f"stream{i}", "capture")
        for i, overlay in list(self.overlays.items()):
            out[f"imp-osd{overlay.node.num}"] = (f"stream{i}", "osd")
        for name, handle in list(self._handles.items()):
            out[f"imp-enc{handle.chn}"] = (name, "encoder")
        if self._motion is not None:
            m = self._motion
            out[f"imp-motion{m.chn}"] = out[f"imp-ivs{m.chn}"] = ("motion", "motion")
        if self._audio is not None:  # the streamer is the only audio user of its process
            for t in threading.enumerate():
                if t.name == "streamer-audio" or t.name.startswith(("imp-ai", "imp-dmic")):
                    out[t.name] = ("audio", "capture")
                elif t.name == "streamer-speaker" or t.name.startswith("imp-ao"):
                    out[t.name] = ("audio", "backchannel")
        return out

    def cpu_seconds(self) -> dict[Owner, float]:
        """CPU seconds per (stream, thread role); ("shared", "other") for the rest."""
        return self.cpu.totals(self.thread_owners())

    def buffer_bytes(self) -> dict[str, int]:
        """Bytes of the buffers each video stream owns: its FrameSource frames (NV12) and its
        encoder's stream buffer (rmem). The JPEG channel: its stream buffer only (it encodes
        its group's frames)."""
        from imp.encoder.attr import default_stream_buffer_size

        out: dict[str, int] = {}
        for name, handle in list(self._handles.items()):
            try:
                size = default_stream_buffer_size(handle.attr)
            except imp.ImpError:  # closed by a rebuild in progress
                continue
            if name.startswith("stream"):
                cfg = self.settings[name]
                size += self.settings["camera"]["buffers"] * cfg["width"] * cfg["height"] * 3 // 2
            out[name] = size
        return out

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
        h = self._handle(stream)
        return sum(h.drops.values()) if h is not None else 0

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
        """The running detector takes the new sensitivity from its next frame (no rebuild: it
        keeps its background and its subscribers)."""
        if self._motion is not None and self.cam is not None:
            self._motion.set_sensitivity(sensitivity)

    def set_motion_rois(self, rois: list[list[int]]) -> None:
        """The running detector watches ``rois`` (``[motion] rois``; empty: the default band)
        from its next frame on, keeping its background, sensitivity and subscribers; events
        then number the new regions. A box starting outside the analysed stream raises
        ImpError; one reaching past its edge is clipped."""
        if self._motion is not None and self.cam is not None:
            self._motion.set_rois(self._motion_rois(rois))


def configure_simulator(settings: dict[str, dict[str, Any]]) -> None:
    """Point imp at the simulated T31 with the scene and sensor size of ``[sim]``."""
    import os

    from imp.kernel import sim_overrides
    from imp.streamer.scenes import register_streamer_scenes

    os.environ["IMP_PLATFORM"] = "sim"
    sim = settings["sim"]
    register_streamer_scenes()
    sensor = sim["sensor"] or os.environ.get("IMP_SIM_SENSOR", "").strip()
    picture: dict[str, Any] = (
        {"sensor": sensor}
        if sensor
        else {
            "sensor": f"synthetic:{sim['scene']}",
            "sensor_size": (sim["sensor_width"], sim["sensor_height"]),
        }
    )  # a file or a camera keeps its own size: fit the streams to it
    sim_overrides(clock=sim["clock"], mic=sim["mic"], speaker=sim["speaker"] or "null", **picture)


def simulator_losses() -> dict[tuple[str, str], int]:
    """On the simulator: frames its sensor lost before imp got them, by (channel, cause).

    ``no_buffer``: the channel had no empty buffer queued when a frame came (the streamer's
    FrameSource buffer count, or a consumer holding frames too long); ``other``: the rest of the
    channel's losses, which are the engine's overruns (the simulator fell more than a few frame
    periods behind real time on a loaded machine). A simulator that does not tell the two
    apart gives ``lost``: all of them. Empty on a board or before the sensor runs.
    """
    from imp.kernel import current_kernel

    isp = getattr(current_kernel(), "isp", None)
    out: dict[tuple[str, str], int] = {}
    for ch in getattr(isp, "channels", ()):
        if ch.delivered or ch.dropped:
            name = ch.path.removeprefix("/dev/")
            no_buffer = getattr(ch, "no_buffer", None)
            if no_buffer is None:
                out[name, "lost"] = ch.dropped
            else:
                out[name, "no_buffer"] = no_buffer
                out[name, "other"] = ch.dropped - no_buffer
    return out

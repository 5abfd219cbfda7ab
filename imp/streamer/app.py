"""The daemon: camera pipeline + RTSP + HTTP + motion, live settings and metrics."""

from __future__ import annotations

import copy
import itertools
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import imp
from imp.streamer import config as cfgmod
from imp.streamer.camera import CameraPipeline
from imp.streamer.camera import simulator_losses as camera_sim_losses
from imp.streamer.config import ConfigError, Settings
from imp.streamer.motion import MotionRecorder

__all__ = ["Streamer"]

_log = logging.getLogger("imp.streamer")

_CLK_TCK = os.sysconf("SC_CLK_TCK")


class Streamer:
    """``Streamer(settings).start()``; ``stop()`` undoes everything (idempotent)."""

    def __init__(self, settings: Settings, sim: bool = False) -> None:
        self.settings = settings
        self.sim = sim
        self.camera = CameraPipeline(settings)
        self.rtsp: Any = None
        self.http: Any = None
        self.motion: MotionRecorder | None = None
        self._lock = threading.Lock()
        self._camera_lock = threading.RLock()  # live changes vs. a pipeline rebuild
        self._stopped = False
        self._halt = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        from imp.streamer.rtsp import RtspServer, load_gstreamer

        load_gstreamer()  # fail before the camera starts when the engine is missing
        from imp.streamer.http import HttpServer

        if self.sim:
            from imp.streamer.camera import configure_simulator

            configure_simulator(self.settings)
        try:
            self.camera.start()
            m = self.settings["motion"]
            if m["enabled"]:
                self.motion = MotionRecorder(m)
                self.camera.subscribe(f"stream{m['record_stream']}", self.motion.on_frame)
                if "audio" in self.camera.streams:
                    self.camera.subscribe("audio", self.motion.on_audio)
                self.camera.motion_subscribers.append(self.motion.on_sample)
            self.rtsp = RtspServer(self.camera, self.settings)
            self.rtsp.start()
            self.http = HttpServer(self, self.camera, self.settings)
            self.http.start()
            self._spawn(self._watchdog, "streamer-watchdog")
            if self.sim and self.settings["sim"]["fault_at"] > 0:
                self._spawn(self._sim_fault, "streamer-sim-fault")
        except BaseException:
            self.stop()
            raise

    def _spawn(self, target: Any, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(t)
        t.start()

    def _watchdog(self) -> None:
        """Rebuild the pipeline when a video stream has given no picture for ``restart_after``
        seconds (a sensor that vanished, a stuck driver); retry with a growing pause. Also
        samples the threads' CPU every 2 s."""
        limit = self.settings["camera"]["restart_after"]
        pause = 1.0
        for tick in itertools.count():
            if self._halt.wait(0.5):
                return
            if tick % 4 == 0:
                # Per-thread CPU is read from live threads: reading every 2 s keeps the CPU of
                # short-lived ones (an RTSP media's streaming thread) in their stream's total.
                try:
                    self.camera.cpu_seconds()
                except Exception:  # never let accounting stop the watchdog
                    _log.exception("reading the threads' CPU")
            if self.camera.cam is not None and self.camera.stalled_for() < limit:
                pause = 1.0
                continue
            _log.error(
                "no pictures for %.1f s: rebuilding the camera pipeline", self.camera.stalled_for()
            )
            try:
                with self._camera_lock:
                    self.camera.restart()
                if self.rtsp is not None:
                    self.rtsp.resync()
                _log.warning("camera pipeline rebuilt (restart %d)", self.camera.restarts)
            except Exception as exc:
                _log.error("rebuilding the pipeline failed: %s; next try in %.0f s", exc, pause)
                self._halt.wait(pause)
                pause = min(pause * 2, 30.0)

    def _sim_fault(self) -> None:
        """``[sim] fault_at``: the simulated sensor's frame channels vanish for a while."""
        from imp.kernel import current_kernel

        sim = self.settings["sim"]
        if self._halt.wait(sim["fault_at"]):
            return
        faults = current_kernel().faults  # type: ignore[attr-defined]
        _log.warning(
            "simulated fault: the sensor's frame channels vanish for %.1f s", sim["fault_seconds"]
        )
        faults.unplug("/dev/framechan*")
        self._halt.wait(sim["fault_seconds"])
        faults.replug("/dev/framechan*")

    def addresses(self, host: str | None = None) -> dict[str, str]:
        shown = host or _display_host(self.settings["rtsp"]["host"])
        web_host = host or _display_host(self.settings["http"]["host"])
        out = {
            f"rtsp{name[-1]}": f"rtsp://{shown}:{self.rtsp.port}/ch{name[-1]}"
            for name in self.rtsp.feeds
        }
        out["web"] = f"http://{web_host}:{self.http.port}/"
        return out

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        self._halt.set()
        for t in self._threads:
            t.join(timeout=30)
        for part in (self.http, self.rtsp):
            if part is not None:
                try:
                    part.stop()
                except Exception:
                    _log.exception("stopping %s", type(part).__name__)
        self.camera.stop()
        if self.motion is not None:
            self.motion.close()

    # -- control (HTTP thread) ----------------------------------------------------------------
    def public_settings(self) -> dict[str, Any]:
        out = copy.deepcopy(self.settings)
        for sec in ("rtsp", "http"):
            if out[sec]["password"]:
                out[sec]["password"] = "********"
        return out

    def apply(self, changes: dict[str, Any]) -> list[str]:
        """Validate ``changes`` (partial settings) and apply them to the running pipeline."""
        with self._camera_lock:
            new, changed = cfgmod.merge(self.settings, changes)
            fixed = [k for k in changed if k not in cfgmod.live_keys()]
            if fixed:
                raise NotImplementedError(
                    f"{', '.join(fixed)} cannot change while running: edit the config file "
                    "and restart the streamer"
                )
            for name in changed:
                sec, key = name.split(".")
                self._apply_one(sec, key, new[sec][key])
                self.settings[sec][key] = new[sec][key]
            return changed

    def _apply_one(self, sec: str, key: str, value: Any) -> None:
        cam = self.camera
        if sec.startswith("stream"):
            if sec not in cam.streams:
                raise ConfigError(f"{sec}.{key}: {sec} is disabled")
            {"bitrate": cam.set_bitrate, "gop": cam.set_gop, "fps": cam.set_fps}[key](sec, value)
        elif sec == "jpeg" and key == "fps":
            if "jpeg" in cam.streams:
                cam.set_fps("jpeg", value)
                if self.http is not None:
                    self.http.jpeg_fps = value
        elif sec == "image":
            cam.apply_image({key: value})
        elif sec == "osd" and key == "text":
            cam.set_osd_text(value)
        elif sec == "motion" and key == "sensitivity":
            cam.set_motion_sensitivity(value)
        elif sec == "motion" and key == "rois":
            try:
                cam.set_motion_rois(value)
            except imp.ImpError as exc:
                raise ConfigError(f"motion.rois: {exc}") from exc

    def request_idr(self, stream: int) -> None:
        name = f"stream{stream}"
        if name not in self.camera.streams:
            raise KeyError(name)
        self.camera.request_idr(name)

    def clips(self) -> list[dict[str, Any]]:
        return self.motion.list_clips() if self.motion else []

    def clip_path(self, name: str) -> Path | None:
        return self.motion.clip_path(name) if self.motion else None

    def events(self) -> list[dict[str, Any]]:
        return self.motion.list_events() if self.motion else []

    # -- metrics ------------------------------------------------------------------------------
    def metrics_text(self) -> str:
        """Prometheus text format 0.0.4 (a few lines; no client library needed for that)."""
        lines: list[str] = []

        def metric(name: str, kind: str, help_: str, samples: Sequence[tuple[str, float]]) -> None:
            lines.append(f"# HELP {name} {help_}")
            lines.append(f"# TYPE {name} {kind}")
            lines.extend(f"{name}{labels} {value:g}" for labels, value in samples)

        drains = self.camera.counters
        rates = {n: c.rates() for n, c in drains.items()}
        lab = {n: f'{{stream="{n}"}}' for n in drains}
        metric(
            "imp_streamer_fps",
            "gauge",
            "Pictures per second over the last 2 s",
            [(lab[n], rates[n][0]) for n in drains],
        )
        metric(
            "imp_streamer_bitrate_kbps",
            "gauge",
            "Encoded kbit/s over the last 2 s",
            [(lab[n], rates[n][1]) for n in drains],
        )
        metric(
            "imp_streamer_frames_total",
            "counter",
            "Pictures taken from the encoder",
            [(lab[n], c.frames) for n, c in drains.items()],
        )
        metric(
            "imp_streamer_bytes_total",
            "counter",
            "Encoded bytes",
            [(lab[n], c.bytes) for n, c in drains.items()],
        )
        drops = []
        for n in drains:
            rtsp_drops = self.rtsp.feeds[n].dropped if self.rtsp and n in self.rtsp.feeds else 0
            drops.append((lab[n], self.camera.encoder_drops(n) + rtsp_drops))
        metric(
            "imp_streamer_drops_total",
            "counter",
            "Pictures dropped (encoder behind or buffer full, RTSP feed refused)",
            drops,
        )
        node_drops = [
            (f'{{node="{_label(_node_name(node))}",cause="{_label(cause)}"}}', n)
            for node, causes in self.camera.drops().items()
            for cause, n in causes.items()
        ]
        metric(
            "imp_streamer_pipeline_drops_total",
            "counter",
            "Frames lost inside the camera pipeline, by node and cause",
            node_drops,
        )
        clients = []
        if self.rtsp is not None:
            clients += [
                (f'{{stream="{n}",protocol="rtsp"}}', c)
                for n, c in self.rtsp.clients.items()
                if n in drains
            ]
        if self.http is not None and self.http.hub is not None:
            clients.append(('{stream="jpeg",protocol="mjpeg"}', len(self.http.hub.viewers)))
        metric("imp_streamer_clients", "gauge", "Connected viewers", clients)
        cpu, rss = _process_usage()
        metric(
            "imp_streamer_restarts_total",
            "counter",
            "Pipeline rebuilds after a fault",
            [("", self.camera.restarts)],
        )
        metric(
            "process_cpu_seconds_total", "counter", "User + system CPU of the daemon", [("", cpu)]
        )
        metric(
            "imp_streamer_cpu_seconds_total",
            "counter",
            "CPU of the threads working for one stream, by thread role (shared: the rest)",
            [
                (f'{{stream="{s}",thread="{r}"}}', v)
                for (s, r), v in sorted(self.camera.cpu_seconds().items())
            ],
        )
        metric(
            "process_resident_memory_bytes",
            "gauge",
            "Resident set size of the whole daemon (not split: see buffer_bytes)",
            [("", rss)],
        )
        metric(
            "imp_streamer_buffer_bytes",
            "gauge",
            "Buffer memory a stream owns: frames, stream buffer, RTSP and MJPEG queues",
            [(f'{{stream="{n}"}}', v) for n, v in sorted(self._buffer_bytes().items())],
        )
        if self.sim:
            metric(
                "imp_streamer_sim_frames_lost_total",
                "counter",
                "Frames the simulated sensor lost before imp got them, by channel and cause",
                [
                    (f'{{channel="{ch}",cause="{cause}"}}', n)
                    for (ch, cause), n in sorted(camera_sim_losses().items())
                ],
            )
        if self.motion is not None:
            metric(
                "imp_streamer_motion_events_total",
                "counter",
                "Motion events",
                [("", len(self.motion.events))],
            )
        return "\n".join(lines) + "\n"

    def _buffer_bytes(self) -> dict[str, int]:
        out = self.camera.buffer_bytes()
        queued = self.rtsp.queued_bytes() if self.rtsp is not None else {}
        if self.http is not None:
            queued["jpeg"] = self.http.queued_bytes()
        for name, n in queued.items():
            out[name] = out.get(name, 0) + n
        return out


def _process_usage() -> tuple[float, float]:
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / _CLK_TCK
    rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    return cpu, float(rss)


def _node_name(text: str) -> str:
    """A stable name from a node's repr: "<EncoderHandle chn=0 ... running>" -> its first two
    words (the rest, such as the state, changes over time and would split the series)."""
    return " ".join(text.strip("<>").split()[:2])


def _label(text: str) -> str:
    """A Prometheus label value: backslash, double quote and newline escaped."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host

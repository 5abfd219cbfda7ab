"""Motion events and clips: IVS results -> events (script hook, web page) -> MP4 with pre-roll.

An event starts at the first analysed frame that moved (once ``cooldown`` has passed since the
last event ended) and ends ``post_roll`` seconds after the last frame that moved, or after
``max_length``. Clips come from ``imp.output.CircularOutput`` (the pre-roll ring, engineer B's
module): the ring always holds >= ``pre_roll`` seconds of the recorded stream from an IDR, and
``start(path)`` writes them ahead of the live pictures. Retention keeps at most ``max_clips``
files and ``max_bytes`` bytes (0: no limit), deleting the oldest first.
"""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from imp.streamer.camera import MotionSample, Packet

__all__ = ["MotionRecorder"]

_log = logging.getLogger("imp.streamer.motion")

EVENT_LOG = 100
# A motion event reaches the recorder some frames after the first frame that moved (the detector
# analyses on its own thread, the event is then dispatched); the ring counts its pre-roll back from
# the newest packet when the clip starts, so it keeps this much more for the clip to begin at least
# ``pre_roll`` before the moving frame.
REACTION_MARGIN_S = 1.0


def _circular_output(seconds: float) -> Any:
    """imp.output.CircularOutput, or None (with the reason logged) while it is not available."""
    try:
        from imp.output import CircularOutput
    except ImportError as exc:
        _log.warning("motion clips are off: imp.output.CircularOutput is missing (%s)", exc)
        return None
    return CircularOutput(seconds=seconds)


class MotionRecorder:
    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.clips_dir = Path(cfg["clips_dir"]).expanduser()
        self.clips_dir.mkdir(parents=True, exist_ok=True)
        self.events: deque[dict[str, Any]] = deque(maxlen=EVENT_LOG)
        self.ring = _circular_output(max(cfg["pre_roll"], 0.5) + REACTION_MARGIN_S)
        self.active: dict[str, Any] | None = None
        self.last_motion_pts = 0
        self.last_end_wall = -1e18
        self.motion_samples = 0
        self._lock = threading.Lock()
        self._scripts: list[subprocess.Popen[bytes]] = []
        # File and process work happens here, never on the camera's threads.
        self._jobs: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="streamer-clips", daemon=True)
        self._worker.start()

    # -- camera callbacks (camera threads; quick) ----------------------------------------------
    def on_frame(self, packet: Packet) -> None:
        """Every picture of the recorded stream: into the ring; its time ends events."""
        if self.ring is not None:
            self.ring.write(packet)
        with self._lock:
            ev = self.active
            if ev is None:
                return
            quiet = packet.pts - self.last_motion_pts > self.cfg["post_roll"] * 1e6
            too_long = packet.pts - ev["start_pts"] > self.cfg["max_length"] * 1e6
            if quiet or too_long:
                self.active = None
                self.last_end_wall = time.monotonic()
                ev["end"], ev["end_pts"] = time.time(), packet.pts
                ev["ended_because"] = "quiet" if quiet else "max_length"
                self._jobs.put(("end", ev))

    def on_audio(self, packet: Packet) -> None:
        """Audio goes into the ring too: clips carry it (Mp4Output makes AAC of G.711)."""
        if self.ring is not None:
            self.ring.write(packet)

    def on_sample(self, sample: MotionSample) -> None:
        """A frame of the analysed stream in which something moved."""
        with self._lock:
            self.motion_samples += 1
            self.last_motion_pts = sample.pts
            if self.active is not None:
                return
            if time.monotonic() - self.last_end_wall < self.cfg["cooldown"]:
                return
            name = time.strftime("motion-%Y%m%d-%H%M%S", time.localtime()) + f"-{sample.pts}.mp4"
            ev: dict[str, Any] = {
                "start": time.time(),
                "start_pts": sample.pts,
                "end": None,
                "end_pts": None,
                "clip": name if self.ring is not None else None,
                "regions": list(sample.regions),
            }
            self.active = ev
            self.events.append(ev)
            self._jobs.put(("begin", ev))

    # -- events (worker thread) ---------------------------------------------------------------
    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            action, ev = job
            try:
                self._begin(ev) if action == "begin" else self._end(ev)
            except Exception:
                _log.exception("motion %s", action)

    def _begin(self, ev: dict[str, Any]) -> None:
        name = ev["clip"]
        if self.ring is not None and name is not None:
            try:
                self.ring.start(str(self.clips_dir / name))
            except Exception as exc:
                _log.error("motion clip %s: %s", name, exc)
                ev["clip"] = None
        _log.info("motion started (clip %s)", ev["clip"])
        self._run_script("start", ev)

    def _end(self, ev: dict[str, Any]) -> None:
        if self.ring is not None and ev["clip"] is not None:
            try:
                self.ring.stop()
            except Exception as exc:
                _log.error("motion clip %s: %s", ev["clip"], exc)
        _log.info("motion stopped (%s)", ev["ended_because"])
        self._run_script("stop", ev)
        self._apply_retention()

    def _run_script(self, action: str, ev: dict[str, Any]) -> None:
        """``SCRIPT start|stop`` like prudynt's /usr/sbin/motion, without waiting for it."""
        script = self.cfg["script"]
        self._scripts = [p for p in self._scripts if p.poll() is None]  # reap finished ones
        if not script:
            return
        env = dict(os.environ, MOTION_CLIP=str(self.clips_dir / ev["clip"]) if ev["clip"] else "")
        try:
            self._scripts.append(
                subprocess.Popen([script, action], env=env, stdin=subprocess.DEVNULL)
            )
        except OSError as exc:
            _log.error("motion.script %s: %s", script, exc)

    def _apply_retention(self) -> None:
        clips = sorted(self.clips_dir.glob("motion-*.mp4"), key=lambda p: p.stat().st_mtime)
        current = self.active["clip"] if self.active else None
        clips = [p for p in clips if p.name != current]
        total = sum(p.stat().st_size for p in clips)
        limit_n, limit_b = self.cfg["max_clips"], self.cfg["max_bytes"]
        while clips and ((limit_n and len(clips) > limit_n) or (limit_b and total > limit_b)):
            old = clips.pop(0)
            total -= old.stat().st_size
            old.unlink(missing_ok=True)

    # -- queries ------------------------------------------------------------------------------
    def list_events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(ev) for ev in self.events]

    def list_clips(self) -> list[dict[str, Any]]:
        current = self.active["clip"] if self.active else None
        out = []
        for p in sorted(self.clips_dir.glob("motion-*.mp4")):
            st = p.stat()
            out.append(
                {
                    "name": p.name,
                    "bytes": st.st_size,
                    "mtime": st.st_mtime,
                    "recording": p.name == current,
                }
            )
        return out

    def clip_path(self, name: str) -> Path | None:
        if (
            "/" in name
            or "\\" in name
            or not name.startswith("motion-")
            or not name.endswith(".mp4")
        ):
            return None
        path = self.clips_dir / name
        return path if path.is_file() else None

    def close(self) -> None:
        """Finish a clip in progress, stop the worker, wait briefly for hook scripts."""
        with self._lock:
            ev, self.active = self.active, None
        if ev is not None:
            ev["end"], ev["ended_because"] = time.time(), "shutdown"
            self._jobs.put(("end", ev))
        self._jobs.put(None)
        self._worker.join(timeout=30)
        if self.ring is not None:
            self.ring.close()
        for p in self._scripts:
            try:
                p.wait(timeout=2)
            except subprocess.TimeoutExpired:
                p.kill()

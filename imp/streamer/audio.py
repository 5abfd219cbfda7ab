"""The audio side (camera side, an imp user like camera.py): microphone -> AENC -> subscribers.

prudynt's audio thread on the Pythonic API: ``imp.audio.Microphone`` (AI device 1, 40 ms
frames; 8 kHz for G.711 as prudynt forces it) feeds an AENC channel; every encoded frame goes
out as an ``imp.output.Packet`` (``kind="audio"``, capture timestamp) to the subscribers: the
RTSP audio track and the motion clips.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

import imp
from imp.output import Packet
from imp.streamer.subscribers import close_quietly, deliver

__all__ = ["RTSP_AUDIO_CODECS", "AudioSource"]

_log = logging.getLogger("imp.streamer.audio")

RTSP_AUDIO_CODECS = ("g711a", "g711u", "aac", "opus")
RATES = {"g711a": 8000, "g711u": 8000, "aac": 16000, "opus": 16000}  # prudynt's choices
FRAME_MS = 40


def backchannel_codec(track_codec: str) -> str:
    """What the backchannel accepts: the track's G.711 law, else PCMU (as prudynt offers)."""
    return track_codec if track_codec in ("g711a", "g711u") else "g711u"


class AudioSource:
    """Microphone + AENC on a thread; ``start()``/``stop()``; ``subscribers`` get Packets."""

    def __init__(self, codec: str, subscribers: list[Callable[[Packet], None]]) -> None:
        self.codec = codec
        self.rate = RATES[codec]
        self.subscribers = subscribers
        self.frames = 0
        self.errors = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._mic: Any = None
        self._enc: Any = None

    def start(self) -> None:
        from imp.audio import Microphone
        from imp.audio.aenc import open_encoder
        from imp.audio.codecs import PayloadType

        self._mic = Microphone(rate=self.rate, frame_ms=FRAME_MS).open()
        try:
            if self.codec == "aac":
                from imp.audio.codecs.pyav import AacEncoder

                self._enc = open_encoder(0, encoder=AacEncoder(self.rate))
            elif self.codec == "opus":
                from imp.audio.codecs.pyav import OpusEncoder

                self._enc = open_encoder(0, encoder=OpusEncoder(self.rate, frame_ms=FRAME_MS))
            else:
                pt = {"g711a": PayloadType.G711A, "g711u": PayloadType.G711U}[self.codec]
                self._enc = open_encoder(0, pt)
        except BaseException:
            self._mic.close()
            raise
        self._thread = threading.Thread(target=self._run, name="streamer-audio", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        mic, enc = self._mic, self._enc
        while not self._stop.is_set():
            try:
                chunk = mic.read(0.5)
            except imp.Timeout:
                continue
            except imp.ImpError as exc:
                if self._stop.is_set():
                    return
                self.errors += 1
                _log.warning("microphone: %s", exc)
                self._stop.wait(0.2)
                continue
            try:
                enc.send(chunk.samples, chunk.timestamp, self.rate)
            finally:
                chunk.release()
            while True:
                try:
                    stream = enc.get(0)
                except imp.Timeout:
                    break
                with stream:
                    packet = stream.packet(self.rate)
                self.frames += 1
                deliver(self.subscribers, packet, "audio")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        close_quietly((self._enc, self._mic), "the microphone")
        self._enc = self._mic = None


class SpeakerSink:
    """The backchannel's end: G.711 payloads -> ADEC -> ``imp.audio.Speaker`` (AO device 0).

    ``feed()`` is called on a GStreamer streaming thread and only queues; a thread of its own
    decodes and plays, dropping the oldest payloads if the speaker falls behind.
    """

    QUEUE = 50  # 50 payloads of 20-40 ms: 1-2 s

    def __init__(self, codec: str, rate: int = 8000) -> None:
        import queue

        self.codec = codec
        self.rate = rate  # the codec's clock is shared: the speaker runs at the mic's rate
        self.played = 0
        self.dropped = 0
        self._queue: queue.Queue[bytes | None] = queue.Queue(self.QUEUE)
        self._thread: threading.Thread | None = None
        self._spk: Any = None
        self._dec: Any = None

    def start(self) -> None:
        from imp.audio import Speaker
        from imp.audio.adec import open_decoder
        from imp.audio.codecs import PayloadType

        pt = {"g711a": PayloadType.G711A, "g711u": PayloadType.G711U}[self.codec]
        self._spk = Speaker(rate=self.rate, frame_ms=FRAME_MS).open()
        try:
            self._dec = open_decoder(0, pt)
        except BaseException:
            self._spk.close()
            raise
        self._thread = threading.Thread(target=self._run, name="streamer-speaker", daemon=True)
        self._thread.start()

    def feed(self, payload: bytes) -> None:
        import queue

        try:
            self._queue.put_nowait(payload)
        except queue.Full:
            self.dropped += 1

    def _run(self) -> None:
        while (payload := self._queue.get()) is not None:
            try:
                if not self._dec.send(payload, 0, 1.0):
                    continue
                while True:
                    try:
                        decoded = self._dec.get(0)
                    except imp.Timeout:
                        break
                    with decoded:
                        pcm = _resample(decoded.samples, 8000, self.rate)
                    self._spk.play(pcm, block=True)
                    self.played += pcm.size
            except imp.ImpError as exc:
                _log.warning("speaker: %s", exc)

    def stop(self) -> None:
        import queue

        if self._thread is not None:
            while True:  # make room for the stop mark: what is queued is not played
                try:
                    self._queue.put_nowait(None)
                    break
                except queue.Full:
                    self._queue.get_nowait()
            self._thread.join(timeout=5)
        close_quietly((self._dec, self._spk), "the speaker")
        self._dec = self._spk = None


def _resample(samples: np.ndarray, src: int, dst: int) -> np.ndarray:
    """G.711's 8 kHz to the speaker's rate: linear interpolation is enough for talk-back."""
    if src == dst:
        return samples.copy()
    n = len(samples) * dst // src
    x = np.arange(n) * (src / dst)
    return np.interp(x, np.arange(len(samples)), samples.astype(np.float32)).astype(np.int16)

"""The Pythonic speaker: hand it int16 arrays or files; it queues them on AO.

    with imp.audio.Speaker(rate=16000) as spk:
        spk.play(np.int16 array)        # blocks while the queue is full
        spk.play_file("greeting.wav")   # anything PyAV decodes, or raw s16le .pcm
        spk.flush()                     # returns when everything was played

Built on the same AO device and channel as ``IMP_AO_*`` (device 0 by default).
"""

from __future__ import annotations

import os

import numpy as np

from imp.audio import levels
from imp.audio.ao import get_ao
from imp.audio.endpoint import Endpoint
from imp.errors import InvalidArgument

__all__ = ["Speaker"]


class Speaker(Endpoint):
    """An AO device and channel, enabled on :meth:`open` (or ``with``), disabled on close
    (a ``with`` block that ends normally flushes first)."""

    kind = "speaker"

    def __init__(
        self,
        rate: int = 16000,
        frame_ms: int = 40,
        *,
        device: int = 0,
        volume: int = levels.VOLUME_UNITY,
        gain: int = levels.GAIN_UNITY,
        queue: int = 20,
    ) -> None:
        super().__init__(rate, frame_ms, queue, device, volume, gain)

    def _start(self) -> None:
        ao = get_ao()
        ao.set_pub_attr(self.device, self.attr)
        ao.enable(self.device)
        try:
            ao.enable_chn(self.device, 0)
            ao.set_volume(self.device, 0, self._volume)
            ao.set_gain(self.device, 0, self._gain)
        except BaseException:
            ao.disable(self.device)
            raise

    def _stop(self) -> None:
        """Queued sound not played yet is dropped (flush() first, as a with block does)."""
        get_ao().disable(self.device)

    def _finish(self) -> None:
        self.flush()

    def _apply_volume(self, value: int) -> None:
        get_ao().set_volume(self.device, 0, value)

    def _apply_gain(self, value: int) -> None:
        get_ao().set_gain(self.device, 0, value)

    def play(self, samples: np.ndarray, block: bool = True) -> None:
        """Queue mono int16 ``samples`` (any length; cut into frames)."""
        self._require_open()
        data = np.asarray(samples)
        if data.dtype != np.int16 or data.ndim != 1:
            raise InvalidArgument(
                f"play() takes a 1-D int16 array, got {data.dtype} with shape {data.shape}"
            )
        step = self.attr.numPerFrm
        ao = get_ao()
        for start in range(0, len(data), step):
            chunk = np.ascontiguousarray(data[start : start + step])
            ao.send(self.device, 0, chunk, chunk.nbytes, block)

    def play_file(self, path: str) -> None:
        """Play a file: raw s16le mono at the speaker's rate (``.pcm``/``.raw``), or anything
        PyAV decodes (resampled to mono at the speaker's rate)."""
        if not os.path.isfile(path):
            raise InvalidArgument(f"{path}: no such file")
        if path.lower().endswith((".pcm", ".raw")):
            self.play(np.fromfile(path, dtype="<i2").astype(np.int16))
            return
        import av

        resampler = av.AudioResampler(format="s16", layout="mono", rate=self.attr.samplerate)
        with av.open(path) as container:
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    self.play(out.to_ndarray().reshape(-1).astype(np.int16))
            for out in resampler.resample(None):
                self.play(out.to_ndarray().reshape(-1).astype(np.int16))

    def pause(self) -> None:
        get_ao().pause(self.device, 0, True)

    def resume(self) -> None:
        get_ao().pause(self.device, 0, False)

    def clear(self) -> int:
        """Drop what is queued and not played yet; returns the frames dropped."""
        return get_ao().clear(self.device, 0)

    def flush(self) -> None:
        """Return once everything queued was played."""
        get_ao().flush(self.device, 0)

    @property
    def queued(self) -> int:
        """Frames waiting to be played (QueryChnStat's busy count)."""
        return get_ao().status(self.device, 0)[2]

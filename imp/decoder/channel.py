"""One decoder channel: a graph source (device DEC) fed with encoded units by the program.

``SendStreamTimeout`` queues one access unit (up to ``nrKeepStream`` wait); a worker thread
decodes it through the codec seam into an NV12 frame from the channel's rmem pool and publishes
it zero-copy: to every group bound to the channel's output (OSD, encoder, IVS...) when it is
bound, otherwise to the queue ``PollingFrame``/``GetFrame`` read. A bound channel does not also
fill that queue: nothing would read it and its frames would starve the pool.

Back-pressure, never loss: when every pool buffer is held (a slow consumer, frames not released)
the worker waits, the unit queue fills and ``SendStreamTimeout`` times out; the caller sends the
unit again. Bound, the worker also waits for the consumers to finish each picture before it
hands on the next, so a recorded stream reaches an encoder whole (an encoder's input keeps only
the newest picture when a source outruns it). Nothing is dropped silently; undecodable units
are counted and logged.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from imp import log
from imp.codec.decode import DecodedPicture, DecoderBackend, open_decoder, write_nv12
from imp.core.fifo import Fifo
from imp.core.graph import DEV_ID_DEC
from imp.core.vbm import Frame
from imp.decoder.attr import DecoderAttr
from imp.errors import (
    DeviceError,
    ImpError,
    InvalidArgument,
    InvalidState,
    Timeout,
)
from imp.framesource.handout import HandedOut
from imp.framesource.softpool import SoftPool
from imp.system import get_system

_log = log.get("dec")

_JOIN = 2.0  # bound on the worker finishing the unit in hand at StopRecvPic
# Bound, the worker hands on the next picture once the consumers are done with the previous one
# (every picture of a stream reaches them; an encoder keeps only the newest of those it has not
# started); this bounds the wait for a consumer that holds a frame for good.
_PACE_WAIT = 10.0
_EXTRA_BUFFERS = 2  # beyond nrKeepStream: the one being decoded and one with a consumer


@dataclass
class DecoderStats:
    units: int = 0  # access units taken by SendStreamTimeout
    decoded: int = 0  # pictures produced
    errors: int = 0  # units the decoder rejected
    oversize: int = 0  # pictures larger than maxWidth x maxHeight (not delivered)


@dataclass(frozen=True)
class _Unit:
    data: bytes
    pts: int


class DecoderChannel:
    """Graph node (DEC, chn) with one output."""

    device = DEV_ID_DEC
    num_outputs = 1

    def __init__(self, chn: int, attr: DecoderAttr) -> None:
        self.group = chn
        self.attr = attr
        self.stats = DecoderStats()
        self.receiving = False
        self._lock = threading.RLock()
        self._units: Fifo[_Unit] = Fifo(attr.nr_keep_stream)
        self._ready: Fifo[Frame] = Fifo(attr.nr_keep_stream + _EXTRA_BUFFERS)
        self._backend: DecoderBackend | None = None
        self._pool: SoftPool | None = None
        self._old_pools: list[SoftPool] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._user_frames = HandedOut()  # frames the application holds (GetFrame)
        self._seq = 0

    # -- graph node: a source has no input ----------------------------------------------------
    def on_frame(self, frame: Frame) -> None:
        frame.release()

    # -- StartRecvPic / StopRecvPic --------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self.receiving:
                return
            self._backend = open_decoder(self.attr.codec)
            self._stop = stop = threading.Event()
            self._units.reset()
            self._ready.reset()
            self.receiving = True
            self._thread = threading.Thread(
                target=self._run, args=(stop,), name=f"imp-dec{self.group}", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            if not self.receiving:
                return
            self.receiving = False
            self._stop.set()
            thread, self._thread = self._thread, None
        self._units.abort()
        self._ready.abort()  # a worker waiting to queue a frame for GetFrame gives it back
        if thread is not None:
            thread.join(timeout=_JOIN)
        self._units.drain()
        for frame in self._ready.drain():
            frame.release()
        with self._lock:
            if self._backend is not None:
                self._backend.close()
                self._backend = None

    def destroy(self) -> None:
        self.stop()
        with self._lock:
            held = self._user_frames.forget_all()
            pools = self._old_pools + ([self._pool] if self._pool is not None else [])
            self._pool, self._old_pools = None, []
        for pool in pools:
            for frame in pool.pool.frames:  # what the application still holds goes too
                for _ in range(held.get(id(frame), 0)):
                    frame.release()
            pool.close()

    # -- SendStreamTimeout -------------------------------------------------------------------------
    def send(self, data: bytes, pts: int, timeout: float) -> None:
        if not self.receiving:
            raise InvalidState(
                f"SendStreamTimeout({self.group}): call StartRecvPic first (channel not receiving)"
            )
        if not data:
            raise InvalidArgument(f"SendStreamTimeout({self.group}): the stream unit is empty")
        try:
            self._units.put(_Unit(bytes(data), int(pts)), timeout)
        except Timeout as exc:
            raise Timeout(
                f"SendStreamTimeout({self.group}): {self.attr.nr_keep_stream} unit(s) still "
                f"waiting to be decoded after {timeout} s (frames not released?)"
            ) from exc
        self.stats.units += 1

    # -- worker ------------------------------------------------------------------------------------
    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                unit = self._units.get(None)
            except (InvalidState, Timeout):
                return  # aborted by StopRecvPic
            backend = self._backend
            if backend is None:
                return
            try:
                pictures = backend.decode(unit.data, unit.pts)
            except DeviceError as exc:
                self.stats.errors += 1
                _log.warning("channel %d: %s", self.group, exc)
                continue
            except Exception:
                self.stats.errors += 1
                _log.exception("channel %d: decoder failed", self.group)
                continue
            for picture in pictures:
                try:
                    self._deliver(picture, stop)
                except InvalidState:
                    return  # stopped while waiting for a buffer
                except ImpError as exc:
                    self.stats.errors += 1
                    _log.error("channel %d: %s", self.group, exc)

    def _pool_for(self, width: int, height: int) -> SoftPool:
        with self._lock:
            pool = self._pool
            if pool is not None and pool.size == (width, height):
                return pool
            if pool is not None:
                self._old_pools.append(pool)  # freed at destroy, once its frames are back
            self._pool = SoftPool(
                f"dec{self.group}",
                self.attr.nr_keep_stream + _EXTRA_BUFFERS,
                width,
                height,
                self.attr.pixfmt,
            )
            return self._pool

    def _deliver(self, picture: DecodedPicture, stop: threading.Event) -> None:
        w, h = picture.width, picture.height
        if w > self.attr.max_width or h > self.attr.max_height or w % 2 or h % 2:
            self.stats.oversize += 1
            raise InvalidArgument(
                f"decoded picture {w}x{h} exceeds maxWidth x maxHeight "
                f"{self.attr.max_width}x{self.attr.max_height} (or is odd); not delivered"
            )
        pool = self._pool_for(w, h)
        frame = pool.take(None, stop)
        try:
            write_nv12(picture, frame.y, frame.uv)
        except Exception:
            pool.give_back(frame)
            raise
        self._seq += 1
        pool.publish(frame, picture.pts, self._seq)
        with frame.handing_on():  # drops the reference publish took, once handed on
            graph = get_system().graph
            bound = bool(graph.targets((self.device, self.group, 0)))
            if bound:
                graph.dispatch((self.device, self.group, 0), frame)
            else:
                frame.acquire()
                if not self._ready.put(frame, None):
                    frame.release()
            self.stats.decoded += 1
        if bound and not pool.wait_consumed(_PACE_WAIT, stop) and not stop.is_set():
            _log.warning(
                "channel %d: bound consumers held a frame for over %.0f s; going on",
                self.group,
                _PACE_WAIT,
            )

    # -- PollingFrame / GetFrame / ReleaseFrame --------------------------------------------------
    def poll(self, timeout: float) -> None:
        if not self.receiving:
            raise InvalidState(f"PollingFrame({self.group}): channel is not receiving")
        if not self._ready.peek_ready(timeout):
            raise Timeout(f"PollingFrame({self.group}): no decoded frame within {timeout} s")

    def get_frame(self) -> Frame:
        if not self.receiving:
            raise InvalidState(f"GetFrame({self.group}): channel is not receiving")
        try:
            frame = self._ready.get(0)
        except Timeout as exc:
            raise Timeout(
                f"GetFrame({self.group}): no decoded frame ready; PollingFrame first"
            ) from exc
        return self._user_frames.add(frame)

    def release_frame(self, frame: Frame, generation: int | None = None) -> None:
        """ReleaseFrame of a GetFrame hand-out (``generation``: which fill, by default the
        frame's current one)."""
        self._user_frames.give_back(frame, str(self.group), generation)

    def find_user_frame(
        self, index: int, phys: int, timestamp: int | None = None
    ) -> tuple[Frame, int]:
        with self._lock:
            pools = self._old_pools + ([self._pool] if self._pool is not None else [])
        return self._user_frames.find(
            (p.pool for p in pools), index, phys, str(self.group), timestamp
        )

"""An IVS channel: one algorithm, one worker thread, a bounded frame queue and a result signal.

Frames arrive from the group on the FrameSource capture thread, which must never wait: each is
put in a small queue (the oldest is dropped and counted when the algorithm falls behind) and a
worker thread (``imp-ivsN``) locks it, calls ``preProcessSync`` and ``processAsync``. Every
``processAsync`` that returns 0 makes one result available to ``PollingResult``.

``preProcessSync`` runs on the worker too, just before ``processAsync``, not on the frame path
as its name suggests: an algorithm's code must not be able to stall the encoder's frames.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from imp import log
from imp.core.fifo import Fifo
from imp.errors import Busy, ImpError, InvalidArgument, InvalidState, Timeout
from imp.ivs.algorithm import PROCESSED, RESULT_DEPTH, SKIPPED, Algorithm, IvsAlgorithm
from imp.ivs.frames import LOCKS, FrameView
from imp.ivs.results import ResultTable, param_address

if TYPE_CHECKING:
    from imp.core.vbm import Frame
    from imp.ivs.group import IvsGroup

_log = log.get("ivs")

# Frames waiting for the worker. A frame can only arrive while the FrameSource has a free
# buffer, so a depth >= the channel's nrVBs (2-3 in practice) never drops: an algorithm that
# falls behind then holds buffers and the source itself slows down (the virtual clock waits
# for it). Frames are dropped here only when the source has more buffers than that.
DEFAULT_QUEUE_DEPTH = 3
_STOP_WAIT = 5.0
_C_OBJECTS: tuple[type, ...] = (
    ctypes.Structure,
    ctypes.Union,
    ctypes.Array,
    ctypes._Pointer,
    ctypes.c_void_p,
)


@dataclass
class IvsChannelStats:
    received: int = 0  # frames offered by the group while receiving
    dropped: int = 0  # frames dropped because the algorithm was behind
    processed: int = 0  # processAsync calls
    results: int = 0  # processAsync returned 0 (a result)
    skipped: int = 0  # processAsync returned 1
    errors: int = 0  # preProcessSync/processAsync failed
    max_process_ms: float = 0.0


class IvsChannel:
    """``IMP_IVS_CreateChn``: the unit that runs one algorithm instance."""

    def __init__(self, num: int, algorithm: IvsAlgorithm, queue_depth: int = DEFAULT_QUEUE_DEPTH):
        if queue_depth < 1:
            raise InvalidArgument(f"queue depth {queue_depth} must be >= 1")
        self.num = num
        self.algorithm = algorithm
        self.group: IvsGroup | None = None
        self.stats = IvsChannelStats()
        self.c_results = ResultTable()  # what C callers of GetResult hold
        self._lock = threading.Lock()
        # Owner of StartRecvPic/StopRecvPic/UnRegisterChn/DestroyChn, held from check to end
        # (including the worker's join): a start slipping into a stop used to reset the queue
        # the stop had just aborted, leaving two workers and the stop waiting 5 s.
        self.lifecycle = threading.RLock()
        self.closed = False  # DestroyChn / System_Exit took it out of the table
        self._signal = threading.Condition()
        self._ready = 0
        self._receiving = False
        self._queue: Fifo[Frame] = Fifo(queue_depth, on_drop=self._drop, drop_oldest=True)
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<IvsChannel {self.num} {type(self.algorithm).__name__}>"

    @property
    def receiving(self) -> bool:
        return self._receiving

    def hold_frames(self, depth: int) -> None:
        """Keep up to ``depth`` frames waiting instead of dropping the oldest beyond the queue
        depth (the Pythonic layer under the virtual clock, where consumers pace the sensor)."""
        self._queue.resize(max(depth, 1))

    # -- frames in ------------------------------------------------------------------------------
    def offer(self, frame: Frame) -> None:
        """Called by the group for every frame; takes its own reference; never blocks."""
        if not self._receiving:
            return
        frame.acquire()
        self.stats.received += 1
        self._queue.put(frame)  # drop_oldest: the evicted (or refused) frame goes to _drop

    def _drop(self, frame: Frame) -> None:
        self.stats.dropped += 1
        frame.release()

    # -- start / stop ---------------------------------------------------------------------------
    def start(self) -> None:
        """``IMP_IVS_StartRecvPic``."""
        with self.lifecycle, self._lock:
            if self.closed:
                raise InvalidState(f"StartRecvPic({self.num}): the channel was destroyed")
            if self.group is None:
                raise InvalidState(
                    f"StartRecvPic({self.num}): the channel is not registered to a group; "
                    "call IMP_IVS_RegisterChn first"
                )
            if self._receiving:
                return
            self._queue.reset()
            self._receiving = True
            thread = threading.Thread(target=self._run, name=f"imp-ivs{self.num}", daemon=True)
            self._thread = thread
            thread.start()
        _log.info("channel %d: receiving pictures", self.num)

    def stop(self) -> None:
        """``IMP_IVS_StopRecvPic``: join the worker, hand back every frame it still holds."""
        with self.lifecycle:
            self._stop()

    def _stop(self) -> None:
        with self._lock:
            if not self._receiving:
                return
            self._receiving = False
            thread, self._thread = self._thread, None
            self._queue.abort()
        if thread is not None and thread is not threading.current_thread():
            thread.join(_STOP_WAIT)
            if thread.is_alive():
                _log.error("channel %d: the algorithm did not return within %ss", self.num, 5)
        for frame in self._queue.drain():
            frame.release()
        try:
            self.algorithm.flush_frame()
        except ImpError as exc:
            _log.warning("channel %d: flushFrame: %s", self.num, exc)
        leaked = LOCKS.release_owner(self)
        if leaked:
            _log.warning(
                "channel %d: the algorithm kept %d frame(s) without IMP_IVS_ReleaseData; "
                "released them",
                self.num,
                leaked,
            )
        with self._signal:
            self._signal.notify_all()  # pollers learn that nothing more will come
        _log.info("channel %d: stopped (%s)", self.num, self.stats)

    @contextmanager
    def receiving_pictures(self) -> Iterator[IvsChannel]:
        """``with chn.receiving_pictures():`` StartRecvPic ... StopRecvPic."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    # -- the worker -----------------------------------------------------------------------------
    def _run(self) -> None:
        LOCKS.set_thread_owner(self)
        while True:
            try:
                frame = self._queue.get(None)
            except InvalidState:
                return  # aborted by stop()
            self._process(frame)

    def _process(self, frame: Frame) -> None:
        LOCKS.lock(frame, self)  # the queue's reference becomes the algorithm's lock

        def release() -> None:
            LOCKS.release(frame.addr, self)

        view = FrameView.of_frame(frame, release)
        t0 = time.perf_counter()
        try:
            if self.algorithm.preprocess_sync(view) < 0:
                self.stats.errors += 1
                view.release()
                return
            ret = self.algorithm.process_async(view)
        except Exception as exc:  # a Python algorithm's bug must not kill the channel
            self.stats.errors += 1
            _log.error("channel %d: algorithm failed: %s", self.num, exc)
            view.release()
            return
        finally:
            self.stats.max_process_ms = max(
                self.stats.max_process_ms, (time.perf_counter() - t0) * 1e3
            )
        self.stats.processed += 1
        if ret == PROCESSED:
            self.stats.results += 1
            with self._signal:
                self._ready = min(self._ready + 1, RESULT_DEPTH)
                self._signal.notify_all()
        elif ret == SKIPPED:
            self.stats.skipped += 1
        else:
            self.stats.errors += 1

    # -- results --------------------------------------------------------------------------------
    def poll(self, timeout: float | None) -> None:
        """``IMP_IVS_PollingResult``: wait for a fresh result (None: forever, 0: don't wait).

        Raises :class:`Timeout`, or :class:`InvalidState` when the channel is not (or stops)
        receiving and nothing is left to read.
        """
        if timeout is not None and timeout < 0:
            raise InvalidArgument(f"timeout must be None, 0 or > 0 s, got {timeout}")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._signal:
            while self._ready == 0:
                if not self._receiving:
                    raise InvalidState(
                        f"PollingResult({self.num}): the channel is not receiving pictures; "
                        "call IMP_IVS_StartRecvPic"
                    )
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise Timeout(f"PollingResult({self.num}): no result within {timeout} s")
                self._signal.wait(remaining)
            self._ready -= 1

    def get_result(self) -> Any:
        """``IMP_IVS_GetResult``: fresh after a successful :meth:`poll`, else the last one."""
        return self.algorithm.get_result()

    def release_result(self, result: Any) -> None:
        """``IMP_IVS_ReleaseResult``."""
        self.algorithm.release_result(result)

    @contextmanager
    def result(self, timeout: float | None = None) -> Iterator[Any]:
        """``with chn.result(1.0) as r:`` poll, get, and release when the block ends."""
        self.poll(timeout)
        res = self.get_result()
        try:
            yield res
        finally:
            self.release_result(res)

    def results(self, limit: int | None = None, timeout: float | None = None) -> Iterator[Any]:
        """Yield fresh results (each released when the loop asks for the next one).

        Ends after ``limit`` results, or when the channel stops receiving; a ``timeout``
        without a result raises :class:`Timeout`.
        """
        count = 0
        while limit is None or count < limit:
            try:
                self.poll(timeout)
            except InvalidState:
                return
            res = self.get_result()
            try:
                yield res
            finally:
                self.release_result(res)
            count += 1

    # -- parameters -----------------------------------------------------------------------------
    def get_param(self, into: Any = None) -> Any:
        """The algorithm's parameters: a Python algorithm's ``params``; or, for any algorithm,
        filled into the ctypes struct ``into`` (``IMP_IVS_GetParam``)."""
        if into is None:
            if isinstance(self.algorithm, Algorithm):
                return self.algorithm.params
            raise InvalidArgument("a C algorithm's parameters need a struct to fill: get_param(s)")
        self.algorithm.get_param(param_address(into, self._param_type()))
        return into

    def set_param(self, value: Any) -> None:
        """Change parameters at run time: a ctypes struct (``IMP_IVS_SetParam``) or, for a
        Python algorithm, its parameter object (for a C algorithm an int is an address)."""
        c_like = _C_OBJECTS + (() if isinstance(self.algorithm, Algorithm) else (int,))
        if isinstance(value, c_like) or hasattr(value, "_obj"):  # hasattr: byref(struct)
            self.algorithm.set_param(param_address(value, self._param_type()))
        elif isinstance(self.algorithm, Algorithm):
            self.algorithm.configure(value)
        else:
            raise InvalidArgument("a C algorithm takes its parameters as a ctypes struct")

    def _param_type(self) -> type | None:
        return self.algorithm.param_type if isinstance(self.algorithm, Algorithm) else None

    # -- lifecycle ------------------------------------------------------------------------------
    def check_idle(self, what: str) -> None:
        if self._receiving:
            raise Busy(f"{what}({self.num}): the channel is receiving; call StopRecvPic first")


__all__ = ["DEFAULT_QUEUE_DEPTH", "IvsChannel", "IvsChannelStats"]

"""Motion detection as a node: an IVS group running the move detector, yielding events.

    motion = cam.motion(lores, sense=3)
    for event in motion.events(limit=5):            # or motion.on_motion(callback)
        print(event.seq, event.timestamp, event.rois)

``fileno()`` is readable while events wait, so one ``selectors`` loop serves encoder streams
and motion alike. The IVS group passes every frame on (it is a source for another node).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from imp.core.fifo import Fifo
from imp.core.graph import DEV_ID_IVS, Cell
from imp.encoder.readyfd import ReadyFd
from imp.errors import InvalidArgument, InvalidState, Timeout
from imp.framesource import MAX_VBS
from imp.ivs import MoveDetector, MoveParams, MoveResult, Roi, get_ivs
from imp.pipeline.events import DEFAULT_TIMEOUT, Event, EventBus, EventKind, State
from imp.pipeline.node import Node

log = logging.getLogger("imp.pipeline")

EVENT_DEPTH = 64  # unread events kept; older ones go (counted in events_lost)
_POLL = 0.1


@dataclass(frozen=True)
class MotionEvent:
    """Motion in one analysed frame: which regions moved, when, in which frame."""

    rois: tuple[int, ...]  # indices of the regions with motion
    regions: tuple[Roi, ...]  # those regions
    timestamp: int  # capture time of the frame, µs on the IMP clock
    seq: int  # the frame's sequence number


MotionCallback = Callable[[MotionEvent], None]


class MotionDetector(Node):
    """IVS group ``group`` with channel ``chn`` running :class:`~imp.ivs.MoveDetector`."""

    kind = "motion"

    def __init__(
        self, group: int, chn: int, params: MoveParams, bus: EventBus | None = None
    ) -> None:
        super().__init__(bus)
        self.num, self.chn = group, chn
        self.params = params.validated()
        ivs = get_ivs()
        self._group = ivs.create_group(group)
        try:
            self._channel = ivs.create_channel(chn, MoveDetector(self.params))
        except BaseException:
            ivs.destroy_group(group)
            raise
        ivs.register(group, chn)
        # Hold frames rather than drop them (the encoder does the same): stalls are absorbed
        # by the source's buffers, and under the virtual clock nothing is lost.
        self._channel.hold_frames(MAX_VBS)
        self._events: Fifo[MotionEvent] = Fifo(
            EVENT_DEPTH, on_drop=self._event_dropped, drop_oldest=True
        )
        self._fd = ReadyFd()
        self._callbacks: tuple[MotionCallback, ...] = ()
        self.events_lost = 0  # unread events pushed out by newer ones (not frame drops)
        self.analysed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return (
            f"<MotionDetector group={self.num} chn={self.chn} "
            f"{self.params.width}x{self.params.height} {self._state.value}>"
        )

    # -- node -----------------------------------------------------------------------------------
    def input_cell(self) -> Cell:
        return (DEV_ID_IVS, self.num, 0)

    def output_cell(self, output: int = 0) -> Cell:
        self.check()
        return (DEV_ID_IVS, self.num, output)

    def _alive(self) -> bool:
        return get_ivs().groups.get(self.num) is self._group

    def _teardown(self) -> None:
        self._halt()
        ivs = get_ivs()
        if self._channel.group is not None:
            ivs.unregister(self.chn)
        ivs.destroy_channel(self.chn)
        ivs.destroy_group(self.num)
        self._events.abort()
        self._fd.close()

    # -- running --------------------------------------------------------------------------------
    def start(self) -> None:
        self.check()
        self._channel.start()
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name=f"imp-motion{self.chn}", daemon=True
            )
            self._thread.start()
        self._set_state(State.RUNNING)

    def stop(self) -> None:
        self.check()
        self._halt()
        self._set_state(State.PAUSED)

    def _halt(self) -> None:
        self._stop.set()
        self._channel.stop()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _run(self) -> None:
        chn = self._channel
        while not self._stop.is_set():
            try:
                chn.poll(_POLL)
            except Timeout:
                continue
            except InvalidState:
                return  # stopped
            result: MoveResult = chn.get_result()
            try:
                self.analysed += 1
                if self.analysed % 25 == 0:
                    _ = self.drops  # warns once per cause, posts new counts on the bus
                if result.motion:
                    self._publish(result)
            finally:
                chn.release_result(result)

    def _publish(self, result: MoveResult) -> None:
        rois = self.params.rois  # a set_rois() between analysis and here: the new boxes
        moving = tuple(i for i, m in enumerate(result.regions) if m and i < len(rois))
        event = MotionEvent(moving, tuple(rois[i] for i in moving), result.timestamp, result.seq)
        self._events.put(event)
        self._fd.post()
        self.bus.post(Event(EventKind.MOTION, repr(self), f"rois {list(moving)} seq {event.seq}"))
        for callback in self._callbacks:
            try:
                callback(event)
            except Exception:
                log.exception("%r: motion callback %r failed", self, callback)

    def _event_dropped(self, event: MotionEvent) -> None:
        self.events_lost += 1
        self._fd.take()

    # -- parameters at run time (IMP_IVS_SetParam) ------------------------------------------------
    @property
    def sensitivity(self) -> tuple[int, ...]:
        """Each region's sensitivity, 0 (least) .. 4 (most)."""
        return tuple(r.sense for r in self.params.rois)

    def set_sensitivity(self, sense: int) -> None:
        """Give every region sensitivity ``sense`` (0..4); the next analysed frame uses it,
        the detector keeps running and keeps its background (no rebuild)."""
        rois = tuple(replace(r, sense=sense) for r in self.params.rois)
        self._configure(replace(self.params, rois=rois))

    def set_rois(
        self, rois: list[tuple[int, int, int, int]] | None, sense: int | None = None
    ) -> None:
        """Watch other regions, (x, y, width, height) boxes (None: the whole frame), at
        ``sense`` (None: the current sensitivity of the first region) from the next frame on;
        the background learnt so far is kept. Events number the new regions."""
        if sense is None:
            sense = self.sensitivity[0] if self.params.rois else 3
        size = (self.params.width, self.params.height)
        self._configure(move_params(size, rois, sense, self.params.skip_frames))

    def _configure(self, params: MoveParams) -> None:
        self.check()
        checked = params.validated()  # InvalidArgument says which value is out of range
        if not checked.rois:
            raise InvalidArgument("a motion detector needs at least one region")
        self._channel.set_param(checked)
        self.params = checked

    # -- reading --------------------------------------------------------------------------------
    def on_motion(self, callback: MotionCallback) -> None:
        """Call ``callback(event)`` on the detector's thread for every event (keep it short)."""
        self._callbacks = (*self._callbacks, callback)

    def get_event(self, timeout: float | None = DEFAULT_TIMEOUT) -> MotionEvent:
        """The oldest unread event; :class:`~imp.errors.Timeout` if none comes in time."""
        self.check()
        try:
            event = self._events.get(timeout)
        except InvalidState as exc:
            raise InvalidState(f"{self!r}: no more events: {exc}") from None
        self._fd.take()
        return event

    def events(
        self, limit: int | None = None, timeout: float | None = DEFAULT_TIMEOUT
    ) -> Iterator[MotionEvent]:
        """Yield events (``limit`` of them, or until a ``timeout`` passes without one)."""
        count = 0
        while limit is None or count < limit:
            try:
                yield self.get_event(timeout)
            except Timeout:
                return
            count += 1

    def flush(self) -> int:
        """Forget the events not read yet (e.g. those from before a scene change); returns how
        many."""
        self.check()
        dropped = self._events.drain()
        for _ in dropped:
            self._fd.take()
        return len(dropped)

    def fileno(self) -> int:
        """An fd readable while events wait (for select/poll/selectors)."""
        self.check()
        return self._fd.fd

    @property
    def drops(self) -> dict[str, int]:
        s = self._channel.stats
        return self.note_drops({"behind": s.dropped})


def move_params(
    size: tuple[int, int],
    rois: list[tuple[int, int, int, int]] | None,
    sense: int,
    skip_frames: int,
) -> MoveParams:
    """Regions as (x, y, width, height) boxes (None: the whole frame)."""
    w, h = size
    if not rois:
        return MoveParams.whole_frame(w, h, sense=sense, skip_frames=skip_frames)
    return MoveParams(
        w,
        h,
        tuple(Roi(x, y, x + bw - 1, y + bh - 1, sense) for x, y, bw, bh in rois),
        skip_frames,
    )


__all__ = ["MotionCallback", "MotionDetector", "MotionEvent", "move_params"]

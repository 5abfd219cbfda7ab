"""One encoder channel: frames in, pictures out through its stream buffer.

Life cycle (imp_encoder.h): CreateChn -> RegisterChn (into a group) -> StartRecvPic -> ... ->
StopRecvPic -> UnRegisterChn (resets the channel, discards its streams) -> DestroyChn.

Data path. The group's ``on_frame`` (the FrameSource capture thread) calls :meth:`offer`, which
never blocks: the frame-rate gate decides whether this channel wants the frame, and the frame
reference goes into a small queue (the oldest waiting frame is dropped, and counted, when the
channel falls behind). The channel's worker thread (``imp-encN``) encodes one frame at a time,
hands the frame back to its pool as soon as the codec returned, and copies the pictures into
the stream buffer. A full stream buffer drops new pictures, never blocks anything upstream:
before encoding when the buffer obviously has no room (so the codec state stays consistent), or
after encoding when a picture turned out bigger than the room left, in which case the next
picture is forced to be an IDR (the decoder lost a reference).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from imp.codec import EncodedPicture
from imp.core.fifo import Fifo
from imp.core.vbm import Frame
from imp.encoder.attr import EncoderAttr
from imp.encoder.codec_control import CodecControl
from imp.encoder.gil import switch_interval
from imp.encoder.pacing import BitrateMeter, FrameRateGate, PictureRecord
from imp.encoder.picture import StoredPicture, store_picture
from imp.encoder.readyfd import ReadyFd
from imp.encoder.ring import StreamRing
from imp.errors import InvalidArgument, InvalidState, Timeout
from imp.framesource import MAX_VBS

log = logging.getLogger("imp.encoder")

INPUT_DEPTH = 2  # frames waiting for the codec; more would only starve the source's buffers
_STOP_WAIT = 10.0  # s: bound on waiting for an encode in progress at StopRecvPic


@dataclass
class EncoderChannelStats:
    """Counters of one channel (what Query does not report)."""

    offered: int = 0  # frames the group handed over while receiving
    skipped: int = 0  # not taken: the channel's frame rate is lower than the source's
    dropped_behind: int = 0  # evicted from the input queue: the codec was too slow
    dropped_full: int = 0  # pictures lost to a full stream buffer
    encoded: int = 0  # pictures stored in the stream buffer
    bytes: int = 0
    errors: int = 0


class EncoderChannel(CodecControl):
    """State and worker of one channel. Thread-safe. Its codec and run-time parameters:
    :class:`~imp.encoder.codec_control.CodecControl`."""

    def __init__(
        self,
        chn: int,
        attr: EncoderAttr,
        ring: StreamRing,
        notify: Callable[[], None] | None = None,
        backend: str | None = None,
    ) -> None:
        self.chn = chn
        self.attr = attr
        self.group: int | None = None
        self.receiving = False
        self.stats = EncoderChannelStats()
        self._ring = ring
        self._notify_module = notify
        self._backend_name = backend
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        # Owner of StartRecvPic/StopRecvPic/UnRegisterChn/DestroyChn, held from check to end
        # (including the worker's join): a start slipping into a stop used to clear the abort
        # the stop had just set, leaving two workers on the channel and the stop waiting 10 s.
        # Taken before the module's and this channel's _lock.
        self.lifecycle = threading.RLock()
        # Why frames cannot be encoded (e.g. the crop does not fit the bound source's frames):
        # GetStream/PollingStream say it instead of timing out with no reason.
        self.input_error: str | None = None
        self._pictures: deque[StoredPicture] = deque()
        self._taken = 0  # pictures handed out and not released: a prefix of _pictures
        self._generation = 0  # bumped when waiters must give up (stop, reset, destroy)
        self._fd: ReadyFd | None = None
        self._input: Fifo[Frame] = Fifo(INPUT_DEPTH, on_drop=self._drop_behind, drop_oldest=True)
        self._input.abort()  # nothing is accepted before StartRecvPic
        self._lossless = False
        self._worker: threading.Thread | None = None
        self._gate = FrameRateGate(attr.fps)
        self._codec_lock = threading.Lock()
        self._codec = None
        self._fitter = None
        self._encoding = False
        self._force_idr = False
        self._until_idr = False  # after FlushStream: store nothing before the next IDR
        self._seq = 0
        self._meter = BitrateMeter()
        # Sizes of the pictures of about the last two GOPs: the next one needs room for their
        # largest (the IDR) before the codec is bothered.
        self._recent_sizes: deque[int] = deque(maxlen=2 * max(attr.gop.length, 1) + 1)
        self._last_taken: StoredPicture | None = None
        self._destroyed = False
        self._open_codec()  # fail CreateChn, not the first frame, if the codec cannot run

    # -- properties ------------------------------------------------------------------------------
    @property
    def lossless(self) -> bool:
        """Hold frames and wait for stream-buffer room instead of dropping (the Pythonic layer
        sets it under the virtual clock, where the slowest consumer paces the sensor)."""
        return self._lossless

    @lossless.setter
    def lossless(self, value: bool) -> None:
        self._lossless = value
        self.hold_frames(MAX_VBS if value else INPUT_DEPTH)

    def hold_frames(self, depth: int) -> None:
        """Let up to ``depth`` frames wait for the codec before the oldest is dropped. Every
        waiting frame holds a source buffer, so ``MAX_VBS`` means "never drop here": a codec
        that falls behind then makes the *source* run out of buffers instead."""
        self._input.resize(max(depth, 1))

    @property
    def ring(self) -> StreamRing:
        return self._ring

    @property
    def registered(self) -> bool:
        return self.group is not None

    @property
    def meter(self) -> BitrateMeter:
        return self._meter

    @property
    def last_taken(self) -> StoredPicture | None:
        return self._last_taken

    def request_idr(self) -> None:
        """The next picture encoded is an IDR (with parameter sets)."""
        with self._lock:
            self._force_idr = True

    # -- group side ------------------------------------------------------------------------------
    def offer(self, frame: Frame) -> None:
        """A frame reached this channel's group. Never blocks; takes its own reference."""
        if not self.receiving:
            return
        self.stats.offered += 1
        if not self._gate.accept(frame.timestamp):
            self.stats.skipped += 1
            return
        frame.acquire()
        self._input.put(frame)  # drop_oldest: never waits; an aborted fifo releases it at once

    def _drop_behind(self, frame: Frame) -> None:
        if self.receiving:
            self.stats.dropped_behind += 1
        frame.release()

    # -- receiving -------------------------------------------------------------------------------
    def start(self) -> None:
        """StartRecvPic."""
        with self.lifecycle:
            self._start()

    def _start(self) -> None:
        with self._lock:
            self._check_alive()
            if self.group is None:
                raise InvalidState(
                    f"StartRecvPic({self.chn}): the channel is not registered to a group; call "
                    "RegisterChn first"
                )
            if self.receiving:
                return
            self._force_idr = True  # whoever starts reading needs a decodable start
            self.input_error = None
            self._gate.reset()
            self._input.reset()
            self.receiving = True
            worker = threading.Thread(target=self._run, name=f"imp-enc{self.chn}", daemon=True)
            self._worker = worker
        switch_interval.acquire()
        worker.start()

    def stop(self) -> None:
        """StopRecvPic: no new pictures; the stream buffer keeps what it has. Idempotent."""
        with self.lifecycle:
            self._stop()

    def _stop(self) -> None:
        with self._lock:
            worker, self._worker = self._worker, None
            self.receiving = False
            self._generation += 1
            self._changed.notify_all()
        self._input.abort()
        if worker is not None:
            switch_interval.release()
        if worker is not None and worker is not threading.current_thread():
            worker.join(_STOP_WAIT)
            if worker.is_alive():
                log.error("channel %d: the encoder thread did not stop", self.chn)
        for frame in self._input.drain():
            frame.release()

    def _run(self) -> None:
        while True:
            try:
                frame = self._input.get(None)
            except InvalidState:
                return  # aborted: StopRecvPic
            try:
                pictures = self._encode(frame)
            except InvalidArgument as exc:  # the frames do not suit the channel's attributes
                self.stats.errors += 1
                if self.input_error is None:
                    log.error("channel %d: %s", self.chn, exc)
                with self._lock:
                    self.input_error = str(exc)
                    self._changed.notify_all()
                continue
            except Exception as exc:
                self.stats.errors += 1
                if self.stats.errors <= 3:
                    log.error("channel %d: encoding frame %d failed: %s", self.chn, frame.seq, exc)
                continue
            for picture in pictures:
                self._store(picture)

    def _encode(self, frame: Frame) -> list[EncodedPicture]:
        """Encode one frame, giving it back once the codec no longer reads it; [] if dropped."""
        released = False

        def give_back() -> None:
            nonlocal released
            if not released:
                released = True
                frame.release()

        try:
            with self._lock:
                while self._lossless and self.receiving and not self._ring.fits(self._reserve()):
                    self._changed.wait(0.05)  # ReleaseStream makes room; we keep the frame
                if not self._ring.fits(self._reserve()):
                    self.stats.dropped_full += 1
                    return []
                force, self._force_idr = self._force_idr, False
                self._encoding = True
            y, uv = self._fit(frame)
            with self._codec_lock:
                codec = self._open_codec()
                return codec.encode(y, uv, frame.timestamp, force_idr=force, input_done=give_back)
        except BaseException:
            with self._lock:
                self._force_idr = True  # whatever the codec saw last, restart cleanly
            raise
        finally:
            self._encoding = False
            give_back()  # as soon as the codec has it: the source needs its buffers back

    def _store(self, picture: EncodedPicture) -> None:
        with self._lock:
            if self._destroyed or self._ring.closed:
                return
            if self._until_idr:
                if not picture.keyframe:
                    return  # coded before the flush took effect: it references discarded ones
                self._until_idr = False
            stored = store_picture(self._ring, picture, self._seq)
            if stored is None:
                self.stats.dropped_full += 1
                self._force_idr = True  # the next picture must not reference the lost one
                return
            self._seq += 1
            self._pictures.append(stored)
            self.stats.encoded += 1
            self.stats.bytes += stored.size
            self._meter.add(
                PictureRecord(stored.timestamp, stored.size, stored.keyframe, stored.qp)
            )
            self._recent_sizes.append(stored.size)
            if self._fd is not None:
                self._fd.post()
            self._changed.notify_all()
        if self._notify_module is not None:
            self._notify_module()

    # -- reader side -----------------------------------------------------------------------------
    @property
    def ready_count(self) -> int:
        with self._lock:
            return len(self._pictures) - self._taken

    def _next_ready(self) -> StoredPicture | None:
        if self._taken < len(self._pictures):
            return self._pictures[self._taken]
        return None

    def take(self, timeout: float | None) -> StoredPicture:
        """GetStream: the oldest picture not handed out yet.

        ``timeout`` None blocks until one is encoded, 0 does not wait. Raises Timeout, or
        InvalidState when the channel stops (or is not receiving and has nothing left).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._check_alive()
            generation = self._generation
            while True:
                picture = self._next_ready()
                if picture is not None:
                    picture.taken = True
                    self._taken += 1
                    self._last_taken = picture
                    if self._fd is not None:
                        self._fd.take()
                    return picture
                self._raise_input_error("GetStream")
                if timeout == 0:
                    raise Timeout(f"GetStream({self.chn}): no stream ready (non-blocking call)")
                if not self.receiving:
                    raise InvalidState(
                        f"GetStream({self.chn}): no stream and the channel is not receiving "
                        "pictures; call StartRecvPic first"
                    )
                if generation != self._generation:
                    raise InvalidState(f"GetStream({self.chn}): the channel was stopped")
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise Timeout(f"GetStream({self.chn}): no stream within {timeout:g} s")
                self._changed.wait(remaining)

    def release(self, picture: StoredPicture) -> None:
        """ReleaseStream, in any order: the picture is marked released, and the stream buffer
        frees pictures oldest first as soon as every earlier one is back too."""
        with self._lock:
            self._check_alive()
            if not self._outstanding(picture):
                raise InvalidArgument(
                    f"ReleaseStream({self.chn}): stream seq {picture.seq} is not outstanding: "
                    "released already, or discarded by UnRegisterChn (each ReleaseStream must "
                    "match one GetStream)"
                )
            picture.released = True
            picture.c_packs = None
            while self._taken and self._pictures[0].released:
                oldest = self._pictures.popleft()
                self._taken -= 1
                self._ring.release_oldest(oldest.region)
            if self._lossless:
                self._changed.notify_all()  # a worker may wait for this room

    def _outstanding(self, picture: StoredPicture) -> bool:
        # Caller holds the lock.
        return not picture.released and any(
            p is picture for p in islice(self._pictures, self._taken)
        )

    def holds(self, picture: StoredPicture) -> bool:
        """True while ``picture`` is handed out and not released (nor discarded by a reset)."""
        with self._lock:
            return self._outstanding(picture)

    def oldest_taken(self) -> StoredPicture | None:
        """The oldest picture handed out and not released yet."""
        with self._lock:
            return next((p for p in islice(self._pictures, self._taken) if not p.released), None)

    def find_taken(self, seq: int) -> StoredPicture:
        """The outstanding picture with ``seq`` (for a C caller's IMPEncoderStream, whose seq is
        32 bits); seq never repeats on a channel, so a stale copy of a released stream cannot
        name a newer one."""
        seq &= 0xFFFFFFFF
        with self._lock:
            for p in islice(self._pictures, self._taken):
                if p.seq & 0xFFFFFFFF == seq and not p.released:
                    return p
        raise InvalidArgument(
            f"ReleaseStream({self.chn}): stream seq {seq} is not outstanding on this channel "
            "(released already, or discarded by UnRegisterChn)"
        )

    def _raise_input_error(self, what: str) -> None:
        # Caller holds the lock.
        if self.input_error is not None:
            raise InvalidArgument(
                f"{what}({self.chn}): no picture can be encoded: {self.input_error}; fix the "
                "channel attributes (DestroyChn and CreateChn)"
            )

    def poll(self, timeout: float | None) -> bool:
        """PollingStream: wait until a stream is ready; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._check_alive()
            generation = self._generation
            while self._next_ready() is None:
                self._raise_input_error("PollingStream")
                if generation != self._generation or self._destroyed:
                    return False
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def fd(self) -> int:
        """GetFd: readable while streams are ready."""
        with self._lock:
            self._check_alive()
            if self._fd is None:
                self._fd = ReadyFd()
                for _ in range(len(self._pictures) - self._taken):
                    self._fd.post()
            return self._fd.fd

    def flush(self) -> int:
        """FlushStream: discard the pictures nobody fetched yet; restart with an IDR."""
        with self._lock:
            self._check_alive()
            discarded = 0
            while len(self._pictures) > self._taken:
                picture = self._pictures.pop()
                self._ring.discard_newest(picture.region)
                discarded += 1
            if self._fd is not None:
                self._fd.reset()
            self._force_idr = True
            self._until_idr = not self.attr.is_jpeg
            return discarded

    def query(self) -> dict[str, int]:
        """IMPEncoderChnStat fields."""
        with self._lock:
            ready = list(self._pictures)[self._taken :]
            busy = 1 if self._encoding else 0
            return {
                "registered": int(self.group is not None),
                "leftPics": len(self._input) + busy,
                "leftStreamBytes": sum(p.size for p in ready),
                "leftStreamFrames": len(ready),
                "curPacks": ready[0].pack_count if ready else 0,
                "work_done": 0 if self.receiving or busy else 1,
            }

    def reset(self) -> None:
        """UnRegisterChn: drop every stream (outstanding ones become invalid), fresh codec."""
        with self._lock:
            if self.receiving:
                raise InvalidState(
                    f"UnRegisterChn({self.chn}): the channel still receives pictures; call "
                    "StopRecvPic first"
                )
            self._pictures.clear()
            self._taken = 0
            self._ring.clear()
            if self._fd is not None:
                self._fd.reset()
            self._generation += 1
            self._changed.notify_all()
            self._meter.clear()
            self._recent_sizes.clear()
            self._last_taken = None
        self._close_codec()  # the next StartRecvPic begins a new stream

    def destroy(self) -> None:
        """DestroyChn / System_Exit: stop, drop everything, free the stream buffer and the fd."""
        with self.lifecycle:
            self._destroy()

    def _destroy(self) -> None:
        self._stop()
        with self._lock:
            self._destroyed = True
            self._pictures.clear()
            self._taken = 0
            self._generation += 1
            self._changed.notify_all()
            fd, self._fd = self._fd, None
        self._close_codec()
        self._ring.close()
        if fd is not None:
            fd.close()

    def _check_alive(self) -> None:
        if self._destroyed:
            raise InvalidState(f"encoder channel {self.chn} was destroyed")


__all__ = ["INPUT_DEPTH", "EncoderChannel", "EncoderChannelStats"]

"""The Pythonic face: a camera and the pipeline you compose from it.

>>> import imp
>>> from imp.output import Mp4Output
>>> with imp.open() as cam:                                          # doctest: +SKIP
...     main = cam.framesource(size=(1920, 1080))
...     osd = cam.overlay(main)
...     osd.clock()
...     h264 = cam.encoder(osd, imp.H264(bitrate_kbps=2000), output=Mp4Output("clip.mp4"))
...     cam.run(seconds=10)

Each call returns a node (:class:`~imp.pipeline.Node`) that is the source of the next; the
camera closes them all, consumers first, when its ``with`` block ends. Everything here drives
the same state machines as :mod:`imp.capi`; errors are :class:`~imp.errors.ImpError`
subclasses with messages that say what to fix.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, TypeGuard, TypeVar

from imp import isp as _isp
from imp.errors import ImpError, InvalidArgument, InvalidState, Timeout
from imp.framesource import (
    FS_EXT_CHANNEL,
    FS_PHY_CHANNEL,
    MAX_CHANNELS,
    PHYSICAL_CHANNELS,
    ChannelAttr,
    get_framesource,
)
from imp.ivs import get_ivs
from imp.osd import get_osd
from imp.pipeline.events import EventBus
from imp.pipeline.motion import MotionDetector, move_params
from imp.pipeline.node import Node, close_all
from imp.pipeline.overlay import Overlay
from imp.pipeline.source import CapturedFrame, FrameSourceChannel, sensor_format
from imp.system import get_system

if TYPE_CHECKING:  # types only: the encoder and the ISP tuning load when first used
    from imp.encoder.api import Fps, Settings
    from imp.encoder.handle import EncoderHandle
    from imp.isp import IspTuning
    from imp.output.packet import Output
    from imp.pipeline.events import Event

DEFAULT_NR_VBS = 4
"""Buffers per FrameSource channel on the board: one being filled, one in the encoder, one
queued for it and one spare. Two (libimp's sample value) lost 5-15 of 250 1080p frames on a
loaded host."""
SIM_NR_VBS = 6
"""Buffers per FrameSource channel on the simulator: x265 in software holds a 1080p picture far
longer than the T31's encoder, and with 4 buffers the main channel still lost 3 of 250 frames
for want of a free one (bench/pipeline_drops.py, load average 3; 0 with 6). Costs 2 x 3 MiB of
(simulated) DMA memory more per 1080p channel."""

N = TypeVar("N", Overlay, MotionDetector)


def _is_encoder(node: Node) -> TypeGuard[EncoderHandle]:
    """Whether ``node`` is an encoder handle, without loading the encoder for a camera that
    has none (imp.encoder.handle is imported by the first cam.encoder())."""
    handle = sys.modules.get("imp.encoder.handle")
    return handle is not None and isinstance(node, handle.EncoderHandle)


def _free(used: set[int], limit: int, what: str) -> int:
    for n in range(limit):
        if n not in used:
            return n
    raise InvalidState(f"no free {what}: all {limit} are in use; close one first")


class Camera:
    """ISP + System lifecycle as a context manager, and the factory of pipeline nodes."""

    def __init__(
        self, sensor: str = "gc2053", i2c_addr: int = 0x37, fps: int | None = None
    ) -> None:
        self.sensor = _isp.SensorInfo(name=sensor, i2c_addr=i2c_addr)
        self.fps = fps
        self.bus = EventBus()
        self._nodes: list[Node] = []
        self._open = False

    def __repr__(self) -> str:
        state = "open" if self._open else "closed"
        return f"<Camera {self.sensor.name} {state} nodes={len(self._nodes)}>"

    def __enter__(self) -> Camera:
        isp = _isp.get_isp()
        isp.open()
        try:
            isp.add_sensor(self.sensor)
            isp.enable_sensor()
            get_system().init()
            isp.enable_tuning()
            if self.fps is not None:
                isp.set_sensor_fps(self.fps, 1)
        except BaseException:
            self._teardown()
            raise
        self._open = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every node (consumers before their sources), then the System and the ISP."""
        self._open = False
        try:
            close_all(self._nodes)
        finally:
            self._nodes.clear()
            self._teardown()

    def _teardown(self) -> None:
        isp, system = _isp.get_isp(), get_system()
        try:
            if system.initialized:
                system.exit()
        finally:  # a second Ctrl-C inside System_Exit must not leave the ISP open
            if isp.txisp is not None:
                isp.close()  # disables tuning and the sensor and removes it on the way

    def _check_open(self) -> None:
        if not self._open:
            raise InvalidState("use the camera inside its 'with' block")

    def _connect(self, node: N, source: Node) -> N:
        """Attach a new ``node`` to ``source`` and start it; closed again if either fails."""
        try:
            node.attach(source)
            node.start()
        except BaseException:
            node.close()
            raise
        self._keep(node)
        return node

    def _keep(self, node: Node) -> None:
        self._nodes = [n for n in self._nodes if not n.closed]
        self._nodes.append(node)

    # -- sensor ---------------------------------------------------------------------------------
    @property
    def sensor_size(self) -> tuple[int, int]:
        size = _isp.get_isp().sensor_size()
        if size is None:
            raise InvalidState("the sensor size is unknown: is the sensor added?")
        return size

    @property
    def sensor_fps(self) -> tuple[int, int]:
        return _isp.get_isp().sensor_fps()

    @property
    def isp(self) -> IspTuning:
        """The ISP tuning object (``imp.isp.tuning()``): picture controls, 3A, statistics."""
        return _isp.tuning()

    def set_control(self, name: str, value: int) -> None:
        """ISP tuning by name: brightness, contrast, saturation, sharpness, hue, hflip, ..."""
        _isp.get_isp().set_control(name, value)

    def get_control(self, name: str) -> int:
        return _isp.get_isp().get_control(name)

    def timestamp(self) -> int:
        return get_system().timestamp()

    # -- nodes ----------------------------------------------------------------------------------
    def framesource(
        self,
        chn: int | None = None,
        size: tuple[int, int] | None = None,
        fps: Fps | None = None,
        nr_vbs: int | None = None,
        crop: tuple[int, int, int, int] | None = None,
        enable: bool = True,
        rotate: int = 0,
    ) -> FrameSourceChannel:
        """FrameSource channel ``chn`` (None: the lowest free) at ``size`` (None: the sensor's),
        ``fps`` (None: the sensor's), created and by default enabled. ``nr_vbs`` buffers (None:
        `DEFAULT_NR_VBS` on the board, `SIM_NR_VBS` on the simulator).

        The scaler is switched on when ``size`` differs from the (cropped) sensor picture.
        Channels 0..2 are physical; higher numbers become extension channels. ``rotate`` (90
        or 270 degrees clockwise) turns the delivered frames: ``size`` is the picture before
        the turn, the channel's ``size`` and what it feeds the turned one.
        """
        self._check_open()
        (w, h), rate = sensor_format(size, fps, crop)
        src = (crop[2], crop[3]) if crop is not None else self.sensor_size
        fs = get_framesource()
        if chn is None:
            chn = _free(set(fs.channels), PHYSICAL_CHANNELS, "physical FrameSource channel")
        if not 0 <= chn < MAX_CHANNELS:
            raise InvalidArgument(f"FrameSource channel {chn} must be 0..{MAX_CHANNELS - 1}")
        attr = ChannelAttr(
            width=w,
            height=h,
            crop=crop,
            scaler=(w, h) if (w, h) != src else None,
            fps=rate,
            nr_vbs=nr_vbs if nr_vbs is not None else _default_nr_vbs(),
            type=FS_PHY_CHANNEL if chn < PHYSICAL_CHANNELS else FS_EXT_CHANNEL,
        )
        fs.create(chn, attr)
        channel = FrameSourceChannel(chn, self.bus)
        self._keep(channel)
        if rotate:
            try:
                channel.rotate(rotate)
            except ImpError:
                channel.close()  # a refused rotation leaves no channel behind
                raise
        if enable:
            channel.enable()
        return channel

    def streams(
        self,
        main: tuple[int, int] | None = None,
        lores: tuple[int, int] | None = (640, 360),
        fps: Fps | None = None,
    ) -> tuple[FrameSourceChannel, FrameSourceChannel | None]:
        """Stream roles in one call (picamera2's main/lores): a full-size ``main`` channel and
        an optional low-resolution one for analysis or a second stream."""
        first = self.framesource(size=main, fps=fps)
        second = self.framesource(size=lores, fps=fps) if lores is not None else None
        return first, second

    def overlay(self, source: Node, group: int | None = None) -> Overlay:
        """An OSD group drawing into ``source``'s frames; a source for an encoder."""
        self._check_open()
        num = get_osd().groups.free() if group is None else group
        return self._connect(Overlay(num, self.bus), source)

    def encoder(
        self,
        source: Node,
        settings: Settings,
        output: Output | Sequence[Output] | None = None,
        **options: int | bool | str | None,
    ) -> EncoderHandle:
        """Encode ``source`` (any node; an encoder handle shares its group) with
        ``imp.H264(...)``, ``imp.H265(...)`` or ``imp.JPEG(...)``, writing to ``output`` (an
        :mod:`imp.output` object or several; without one, read ``.streams()``).

        ``options`` are those of :func:`imp.encoder.open_encoder` (chn, group, source_output,
        start, wrap, backend).
        """
        self._check_open()
        from imp.encoder.handle import open_encoder  # the encoder loads when first used

        handle = open_encoder(source, settings, output=output, bus=self.bus, **options)  # type: ignore[arg-type]
        self._keep(handle)
        return handle

    def motion(
        self,
        source: Node,
        rois: list[tuple[int, int, int, int]] | None = None,
        sense: int = 3,
        skip_frames: int = 0,
    ) -> MotionDetector:
        """A motion detector on ``source``'s frames (best on a low-resolution channel).

        ``rois``: (x, y, width, height) boxes, None for the whole frame; ``sense`` 0..4.
        """
        self._check_open()
        size, _ = source.frame_format()
        ivs = get_ivs()
        params = move_params(size, rois, sense, skip_frames)
        node = MotionDetector(ivs.groups.free(), ivs.channels.free(), params, self.bus)
        return self._connect(node, source)

    # -- running --------------------------------------------------------------------------------
    @property
    def nodes(self) -> tuple[Node, ...]:
        return tuple(n for n in self._nodes if not n.closed)

    def drops(self) -> dict[str, dict[str, int]]:
        """Every node's drop counters, by node."""
        return {repr(n): n.drops for n in self.nodes if hasattr(n, "drops")}

    def _deadline(self, seconds: float, timeout: float | None) -> float:
        return time.monotonic() + (4 * seconds + 10 if timeout is None else timeout)

    def wait(self, seconds: float, timeout: float | None = None) -> list[Event]:
        """Let ``seconds`` of capture time pass (sensor time: also right under the virtual
        clock, which runs as fast as the slowest consumer); returns the events posted."""
        self._check_open()
        sources = [n for n in self.nodes if isinstance(n, FrameSourceChannel) and n.enabled]
        if not sources:
            raise InvalidState("no FrameSource channel is enabled: nothing measures time")

        def captured() -> int:
            return max(s.stats.last_timestamp for s in sources)

        deadline = self._deadline(seconds, timeout)
        events: list[Event] = []
        start: int | None = None
        while start is None or captured() - start < seconds * 1e6:
            if start is None and captured():
                start = captured()
            if time.monotonic() > deadline:
                raise Timeout(f"{seconds} s of capture time did not pass in time")
            event = self.bus.get(timeout=0.02)
            if event is not None:
                events.append(event)
        return events

    def run(self, seconds: float, timeout: float | None = None) -> list[Event]:
        """Let every encoder with outputs write ``seconds`` of video (``seconds`` x its frame
        rate pictures), then stop writing; returns the events posted meanwhile. ``timeout``:
        wall-time bound (default 4 x ``seconds`` + 10 s)."""
        self._check_open()
        encoders = [n for n in self.nodes if _is_encoder(n) and n.outputs]
        if not encoders:
            raise InvalidState("no encoder writes to an output: pass output=... to encoder()")
        for enc in encoders:
            num, den = enc.attr.fps
            enc.limit_pictures(round(seconds * num / den))
        deadline = self._deadline(seconds, timeout)
        events: list[Event] = []
        while not all(e.reached_limit() for e in encoders):
            if time.monotonic() > deadline:
                raise Timeout(
                    f"the encoders did not produce {seconds} s of video in time: "
                    + ", ".join(f"{e!r}: {e.pictures}" for e in encoders)
                )
            event = self.bus.get(timeout=0.02)
            if event is not None:
                events.append(event)
        return events


def open(sensor: str = "gc2053", i2c_addr: int = 0x37, fps: int | None = None) -> Camera:
    """A :class:`Camera` to use in a ``with`` block."""
    return Camera(sensor=sensor, i2c_addr=i2c_addr, fps=fps)


def _default_nr_vbs() -> int:
    from imp.kernel import platform

    return SIM_NR_VBS if platform() == "sim" else DEFAULT_NR_VBS


__all__ = ["DEFAULT_NR_VBS", "SIM_NR_VBS", "Camera", "CapturedFrame", "FrameSourceChannel", "open"]

"""The simulated ISP's per-frame state: 3A decisions and the settings of the frame's pipeline.

:class:`Isp3a` belongs to one synthetic sensor and reads the tuning node's control store.
When the first channel of sensor frame ``n`` is rendered it runs AE and AWB on the statistics
of frame ``n - 1`` (as the hardware does: a frame's statistics decide the next exposure),
publishes exposure, AE state and AWB gains into the store, and fixes :class:`ChainParams` for
frame ``n``. The renderer hands back the statistics of the delivered frame. A custom AE/AWB
algorithm (``SetAeAlgoFunc``/``SetAwbAlgoFunc``) replaces the built-in loop: its decision,
published through the store, is what the next frames are exposed with.
"""

from __future__ import annotations

import math
import struct
import threading
from collections.abc import Callable

import numpy as np

from kernel_stubs.devices.controls import AeState, ControlStore, Exposure
from kernel_stubs.devices.isp_stats import Statistics
from kernel_stubs.sensor.base import ChannelGeometry

from .ae import ae_step
from .awb import ONE, awb_step, cct_of_gains
from .board import IR_LED_GPIO, IRCUT_GPIO, Gpios
from .chain import ChainParams, illuminant_rb
from .lighting import Lighting
from .physics import SensorExposure, line_timing

__all__ = ["Isp3a"]

_LUX_STEP = math.log(1.02)
_NIGHT_VISIBLE = 0.2  # share of visible light reaching the sensor at night (IR-cut out, dusk)


def _quantised(lux: float) -> float:
    """Lux in 2 % steps: a slow ramp (dusk) then rebuilds the frame's tables every few frames,
    not every frame; AE's own dead band is 2 % too."""
    if lux <= 0:
        return 0.0
    return math.exp(round(math.log(lux) / _LUX_STEP) * _LUX_STEP)


def _ccm_saturation(store: ControlStore) -> float:
    """How much a manual CCM boosts colour: 1 for identity, > 1 for a saturating matrix."""
    manual, _, m = store.ccm()
    if not manual:
        return 1.0
    trace = float(np.trace(m))
    off = float(m.sum()) - trace
    return max(0.0, (trace - off / 2) / 3)


class Isp3a:
    """3A loops and pipeline settings of one synthetic sensor under ``lighting``."""

    def __init__(
        self,
        store: ControlStore,
        lighting: Lighting,
        height: int,
        gpios: Gpios,
        wdr: Callable[[], bool] = lambda: False,
    ) -> None:
        self.store = store
        self.gpios = gpios
        self.wdr = wdr
        self.front_crop: tuple[int, int, int, int] | None = None
        # Which frame channel a destination plane belongs to (the privacy mask is per channel);
        # set by the tx-isp core, None when unknown.
        self.channel_of: Callable[[np.ndarray], int | None] = lambda plane: None
        self.lighting = lighting
        self.height = height
        self._lock = threading.Lock()
        timing = line_timing(height, *store.fps())
        self.exposure = SensorExposure(round(timing.lines(0.01)), 2048, line_s=timing.line_s)
        self.gains = (float(ONE), float(ONE))  # AWB (rgain, bgain), 256 = 1x
        self._frame = -1
        self._params: ChainParams | None = None
        self._stats: Statistics | None = None
        self._stats_frame = -1

    def params(self, frame_no: int) -> ChainParams:
        """The pipeline settings of sensor frame ``frame_no`` (3A runs on its first call)."""
        with self._lock:
            if frame_no != self._frame or self._params is None:
                self._params = self._advance(frame_no)
                self._frame = frame_no
            return self._params

    def geometry(self, geometry: ChannelGeometry, width: int, height: int) -> ChannelGeometry:
        """The channel's geometry under the front crop (SetFrontCrop), when it fits the sensor:
        the crop is what every channel then scales from."""
        crop = self.front_crop
        if crop is None:
            return geometry
        left, top, w, h = crop
        if left + w > width or top + h > height:
            return geometry
        return ChannelGeometry(geometry.out_width, geometry.out_height, crop, scale=True)

    def wants_statistics(self, frame_no: int) -> bool:
        return self._stats_frame != frame_no

    def publish(self, stats: Statistics) -> None:
        """The delivered frame's statistics: the next frame's 3A input, and the node's."""
        with self._lock:
            self._stats, self._stats_frame = stats, stats.frame
        self.store.publish_statistics(stats)

    # -- one ISP cycle ------------------------------------------------------------------------
    def _advance(self, frame_no: int) -> ChainParams:
        store = self.store
        stats = self._stats
        timing = line_timing(self.height, *store.fps())
        if store.custom_ae:
            ex = store.exposure
            it = min(max(1, ex.integration_time), timing.it_max)
            self.exposure = SensorExposure(it, ex.again, ex.dgain, ex.isp_dgain, timing.line_s)
        else:
            zones = stats.ae_zone if stats else None
            decision = ae_step(self.exposure, zones, store, timing)
            self.exposure = ex2 = decision.exposure
            store.publish_exposure(
                Exposure(ex2.integration_time, ex2.again, ex2.dgain, ex2.isp_dgain)
            )
            store.publish_ae_state(AeState(decision.stable, decision.target, round(decision.mean)))
        self._white_balance(stats)
        enable, top, left, width, height = struct.unpack("<?3xIIII", store.blob("front_crop"))
        self.front_crop = (left, top, width, height) if enable and width and height else None
        night = store.night
        lux = _quantised(self.lighting.lux_at(frame_no))
        ir, ib = illuminant_rb(self.lighting.cct)
        cast = (1.0, 1.0) if night else (ir * self.gains[0] / ONE, ib * self.gains[1] / ONE)
        # The IR-cut filter blocks infrared; out of the path it lets the IR LED's light in (and
        # tints a colour picture red) and, as a night filter would, dims the visible light.
        if self.gpios.level(IRCUT_GPIO, default=night):
            infrared = self.lighting.ir_led_lux if self.gpios.level(IR_LED_GPIO, night) else 0.0
            lux = lux * _NIGHT_VISIBLE + infrared
            if not night and lux > 0:
                cast = (cast[0] * (1 + infrared / lux), cast[1])
        return ChainParams(
            lux=lux,
            exposure=self.exposure,
            controls=store.picture(),
            gamma=tuple(int(v) for v in store.gamma()),
            blc=store.blc()[0],
            drc=store.get_named("drc_strength") & 0xFF if store.get_named("drc_enable") else 0,
            defog=store.defog_strength() if store.get_named("defog_enable") else 0,
            denoise=(store.get_named("sinter_strength") + store.get_named("temper_strength")),
            ccm_saturation=_ccm_saturation(store),
            wdr=self.wdr(),
            cast_rb=cast,
        )

    def _white_balance(self, stats: Statistics | None) -> None:
        store = self.store
        mode, r, b = store.wb()
        if store.custom_awb:
            r_pub, b_pub, _ = store.awb_gains()
            self.gains = (float(r_pub), float(b_pub))
            return
        if mode != 0:  # manual WB: the user's gains
            self.gains = (float(r), float(b))
        elif stats is not None and not store.night:
            self.gains = awb_step(self.gains, stats.awb_r, stats.awb_g, stats.awb_b)
        rg, bg = self.gains
        store.publish_awb(round(rg), round(bg), cct_of_gains(rg, bg))

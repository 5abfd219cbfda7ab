"""The ISP core's tuning state (``/dev/isp-m0``): the one place where each control id's value lives.

Every id of ``imp.kernel.abi_isp.CONTROLS`` has its value here: an int for scalar ids, the
exact bytes the kernel copies for pointer ids (sizes from isp_tuning_ids.md). The tuning node
reads and writes them by id (:meth:`ControlStore.get` / :meth:`set` / :meth:`get_blob` /
:meth:`set_blob`); a sensor/ISP model reads the settings through typed accessors
(:meth:`level`, :meth:`gamma`, :meth:`ae_weights`, :meth:`wb`, :meth:`ccm`, ...) and publishes what
a real ISP measures with :meth:`publish_exposure`, :meth:`publish_ae_state`, :meth:`publish_awb`
and :meth:`publish_statistics`. Until a model publishes, read-only values are derived from the
settings and from the newest delivered picture (``stats_fallback``).

Units of the live values (chosen; the references do not give them): integration time in sensor
lines; analog/digital/ISP gains linear with 1024 = 1x; ``total_gain`` = again x dgain x isp_dgain
in the same unit; ``*_log2`` fields are log2(gain) x 32 (so MaxAgain 160 = 32x, as prudynt's
default reads); AE luma/target/mean 0..255.
"""

from __future__ import annotations

import math
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from imp.kernel.abi_isp import BY_ID, CCM_ONE, CONTROLS, ZONES
from kernel_stubs.devices.isp_stats import Statistics
from kernel_stubs.sensor import IspControls

__all__ = ["AeState", "ControlStore", "Exposure"]

_LEVELS = ("brightness", "contrast", "saturation", "sharpness", "hue")


@dataclass(frozen=True)
class Exposure:
    """What the sensor and ISP apply this frame (published by a model)."""

    integration_time: int = 1000  # lines
    again: int = 1024  # 1024 = 1x
    dgain: int = 1024
    isp_dgain: int = 1024

    @property
    def total_gain(self) -> int:
        return self.again * self.dgain // 1024 * self.isp_dgain // 1024


@dataclass(frozen=True)
class AeState:
    stable: bool = True
    target: int = 0  # 0: derived from AeComp
    mean: int = -1  # -1: from the statistics


def _u32s(*values: int) -> bytes:
    return struct.pack(f"<{len(values)}I", *(v & 0xFFFFFFFF for v in values))


def _default_blobs() -> dict[str, bytes]:
    gamma = [round(4095 * (i / 128) ** (1 / 2.2)) for i in range(129)]
    ident = [CCM_ONE if r == c else 0 for r in range(3) for c in range(3)]
    return {
        "wb": struct.pack("<IHH", 0, 256, 256),
        "rgb_coefft": struct.pack("<3H", 256, 256, 256),
        "awb_ct": _u32s(5000),
        "gamma": struct.pack("<129H", *gamma),
        "ae_weight": bytes([1]) * 225,
        "ae_roi": bytes(225),
        "af_weight": bytes([1]) * 225,
        "ae_hist": bytes([32, 96, 160, 224]) + bytes(10) + bytes([ZONES, ZONES]),
        "ae_min": _u32s(1, 1024, 1, 1024),
        "ae_target_list": _u32s(*([96] * 10)),
        "defog_strength": bytes([128]),
        "af_hist": bytes(16) + bytes([1]) + bytes(11) + bytes([0, 0, ZONES, ZONES]) + bytes(56),
        "blc_attr": _u32s(256, 256, 256, 256, 0),
        "csc_attr": _u32s(1) + bytes(60),
        "ccm_attr": bytes([0, 1, 0, 0]) + _u32s(*ident),
    }


class ControlStore:
    """Every tuning value the core holds, plus the derived picture state (thread-safe)."""

    def __init__(self, fps: int) -> None:
        self._lock = threading.RLock()
        ints = {c.cid: 0 for c in CONTROLS.values() if "int" in (c.set, c.get)}
        for name in _LEVELS:
            ints[CONTROLS[name].cid] = 128
        for name, value in (
            ("sensor_fps", (fps << 16) | 1),
            ("ae_comp", 128),
            ("max_again", 160),
            ("max_dgain", 80),
            ("ae_it_max", 0xFFFF),  # no limit below the frame period
            ("dpc_strength", 128),
            ("drc_strength", 128),
            ("temper_strength", 128),
            ("sinter_strength", 128),
        ):
            ints[CONTROLS[name].cid] = value
        self._ints = ints
        defaults = _default_blobs()
        self._blobs: dict[int, bytes] = {
            c.cid: defaults.get(c.name, bytes(c.size)) for c in CONTROLS.values() if c.size
        }
        self.exposure = Exposure()
        self.ae = AeState()
        self._awb: tuple[int, int, int] | None = None  # published (rgain, bgain, ct)
        # A custom AE/AWB algorithm (SetAe/AwbAlgoFunc) is open: its SETs decide exposure/gains.
        self.custom_ae = False
        self.custom_awb = False
        self._stats: Statistics | None = None
        # Set by the tuning node: statistics of the newest delivered picture, when no model
        # publishes any.
        self.stats_fallback: Callable[[], Statistics | None] | None = None
        self._picture = self._derive()

    # -- by id (the tuning node) ------------------------------------------------------------
    def get(self, cid: int) -> int:
        with self._lock:
            return self._ints.get(cid, 0)

    def set(self, cid: int, value: int) -> None:
        """Store an integer control (the node validated it)."""
        with self._lock:
            self._ints[cid] = value
            if cid in (CONTROLS["hflip"].cid, CONTROLS["vflip"].cid):
                h, v = self.get_named("hflip") & 1, self.get_named("vflip") & 1
                self._ints[CONTROLS["hvflip"].cid] = h | (v << 1)
            elif cid == CONTROLS["hvflip"].cid:
                self._ints[CONTROLS["hflip"].cid] = value & 1
                self._ints[CONTROLS["vflip"].cid] = (value >> 1) & 1
            self._picture = self._derive()

    def get_blob(self, cid: int) -> bytes:
        with self._lock:
            return self._blobs[cid]

    def set_blob(self, cid: int, data: bytes) -> None:
        with self._lock:
            size = BY_ID[cid].size
            if len(data) != size:
                raise ValueError(f"control {cid:#x} holds {size} bytes, got {len(data)}")
            self._blobs[cid] = bytes(data)

    # -- typed accessors (a model reads its settings here) ------------------------------------
    def get_named(self, name: str) -> int:
        return self.get(CONTROLS[name].cid)

    def blob(self, name: str) -> bytes:
        return self.get_blob(CONTROLS[name].cid)

    def level(self, name: str) -> int:
        """A u8 level (brightness, contrast, saturation, sharpness, hue): 128 is neutral."""
        return self.get_named(name) & 0xFF

    def fps(self) -> tuple[int, int]:
        packed = self.get_named("sensor_fps") & 0xFFFFFFFF
        return packed >> 16, packed & 0xFFFF

    @property
    def night(self) -> bool:
        return bool(self.get_named("running_mode") & 1)

    def wb(self) -> tuple[int, int, int]:
        """(mode, rgain, bgain) as SetWB gave them."""
        mode, r, b = struct.unpack("<IHH", self.blob("wb"))
        return mode, r, b

    def gamma(self) -> np.ndarray:
        """The 129-point curve (u16, 0..4095 over 12 bits)."""
        return np.frombuffer(self.blob("gamma"), dtype="<u2").copy()

    def _weights(self, name: str) -> np.ndarray:
        return np.frombuffer(self.blob(name), dtype=np.uint8).reshape(ZONES, ZONES).copy()

    def ae_weights(self) -> np.ndarray:
        return self._weights("ae_weight")

    def ae_roi(self) -> np.ndarray:
        return self._weights("ae_roi")

    def af_weights(self) -> np.ndarray:
        return self._weights("af_weight")

    def ae_target_list(self) -> list[int]:
        return list(struct.unpack("<10I", self.blob("ae_target_list")))

    def ae_min(self) -> tuple[int, int]:
        """(min integration time in lines, min again 1024 = 1x)."""
        it, again, _, _ = struct.unpack("<4I", self.blob("ae_min"))
        return it, again

    def ae_frozen(self) -> bool:
        return bool(self.get_named("ae_freeze"))

    def manual_exposure(self, line_us: float = 0.0) -> int | None:
        """The integration time SetExpr fixed, in lines (a time given in µs is divided by the
        line time ``line_us`` when one is given), None in auto mode."""
        mode, unit, time = struct.unpack("<IIH", self.blob("expr")[:10])
        if mode != 1:
            return None
        return max(1, round(time / line_us)) if unit == 1 and line_us > 0 else time

    def ccm(self) -> tuple[bool, bool, np.ndarray]:
        """(manual, saturation-linked, 3x3 float matrix) of the 40-B kernel CCM."""
        raw = self.blob("ccm_attr")
        words = np.frombuffer(raw[4:], dtype="<u4").astype(np.int64)
        signed = np.where(words >= 1 << 31, words - (1 << 32), words)
        return bool(raw[0]), bool(raw[1]), (signed / CCM_ONE).reshape(3, 3)

    def blc(self) -> tuple[int, ...]:
        values: tuple[int, ...] = struct.unpack("<5I", self.blob("blc_attr"))
        return values

    def defog_strength(self) -> int:
        return self.blob("defog_strength")[0]

    # -- live values (a model publishes them) ------------------------------------------------
    def publish_exposure(self, exposure: Exposure) -> None:
        with self._lock:
            self.exposure = exposure

    def publish_ae_state(self, state: AeState) -> None:
        with self._lock:
            self.ae = state

    def publish_awb(self, rgain: int, bgain: int, ct: int) -> None:
        """The gains AWB applies (256 = 1x) and the colour temperature it estimates (K)."""
        with self._lock:
            self._awb = (rgain, bgain, ct)

    def publish_statistics(self, stats: Statistics) -> None:
        with self._lock:
            self._stats = stats

    def statistics(self) -> Statistics:
        """The published statistics, else those of the newest delivered picture, else zeros."""
        with self._lock:
            if self._stats is not None:
                return self._stats
            fallback = self.stats_fallback
        stats = fallback() if fallback is not None else None
        return stats if stats is not None else Statistics()

    def ae_target(self) -> int:
        """The AE luma target: the published one, else AeComp (128 = the 96 default)."""
        if self.ae.target:
            return self.ae.target
        return min(255, self.ae_target_list()[0] * self.get_named("ae_comp") // 128)

    def ae_state(self) -> AeState:
        mean = self.ae.mean if self.ae.mean >= 0 else self.statistics().mean_luma
        return replace(self.ae, target=self.ae_target(), mean=mean)

    def awb_gains(self) -> tuple[int, int, int]:
        """(rgain, bgain, ct): published by AWB, else manual WB, else gray world; ct as
        SetAwbCt left it until an AWB model publishes one."""
        with self._lock:
            if self._awb is not None:
                return self._awb
        mode, r, b = self.wb()
        ct = int.from_bytes(self.blob("awb_ct"), "little")
        if mode != 0:
            return r, b, ct
        rm, gm, bm = self.statistics().rgb_means()
        if min(rm, gm, bm) <= 0:
            return 256, 256, ct
        return round(256 * gm / rm), round(256 * gm / bm), ct

    def log2_gain(self, linear: int) -> int:
        return round(32 * math.log2(max(linear, 1) / 1024))

    # -- the picture the sensor model renders -------------------------------------------------
    def picture(self) -> IspControls:
        """The controls as the sensor model renders them (fixed for one frame)."""
        return self._picture

    def _derive(self) -> IspControls:
        # Levels are u8: the 1.1.6 kernel keeps only the low byte (isp_tuning_ids.md §5).
        levels = {name: self.get_named(name) & 0xFF for name in _LEVELS}
        return IspControls(
            **levels,
            hflip=bool(self.get_named("hflip") & 1),
            vflip=bool(self.get_named("vflip") & 1),
            night=self.night,
        )

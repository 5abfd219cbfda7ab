"""The light on the simulated scene: illuminance (lux) over sensor frames and a colour temperature.

A :class:`Lighting` is part of a :class:`~kernel_stubs.sensor.Scene` (scripted: dusk, a light
switched on, a backlit window) or comes from the environment: ``IMP_SIM_LUX=N`` for a constant
illuminance and ``IMP_SIM_CCT=K`` for the colour temperature. Either turns the synthetic sensor's
physics model on.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from itertools import pairwise

__all__ = ["CCT_RANGE", "LUX_RANGE", "Lighting", "lighting_from_env"]

LUX_RANGE = (0.0, 200_000.0)  # moonless night .. bright sunlight
CCT_RANGE = (1500, 15000)  # candle .. blue sky, K


@dataclass(frozen=True)
class Lighting:
    """Illuminance keys ``(frame, lux)`` (piecewise linear in log lux, held after the last key),
    the colour temperature in K, and a scene-wide IR illuminance the IR LED adds at night."""

    keys: tuple[tuple[int, float], ...] = ((0, 400.0),)
    cct: int = 5000
    ir_led_lux: float = 30.0

    def __post_init__(self) -> None:
        if not self.keys:
            raise ValueError("lighting needs at least one (frame, lux) key")
        for frame, lux in self.keys:
            if not LUX_RANGE[0] <= lux <= LUX_RANGE[1]:
                raise ValueError(f"lux {lux} at frame {frame}: must be within {LUX_RANGE}")
        if any(b[0] <= a[0] for a, b in pairwise(self.keys)):
            raise ValueError("lighting keys need strictly increasing frame numbers")
        if not CCT_RANGE[0] <= self.cct <= CCT_RANGE[1]:
            raise ValueError(f"colour temperature {self.cct} K: must be within {CCT_RANGE}")

    def lux_at(self, frame_no: int) -> float:
        keys = self.keys
        if frame_no <= keys[0][0]:
            return keys[0][1]
        for (f0, l0), (f1, l1) in pairwise(keys):
            if f0 <= frame_no < f1:
                if l0 <= 0 or l1 <= 0:  # a step to or from darkness: no log interpolation
                    return l0
                t = (frame_no - f0) / (f1 - f0)
                return math.exp(math.log(l0) + (math.log(l1) - math.log(l0)) * t)
        return keys[-1][1]

    # -- scripts ---------------------------------------------------------------------------
    @classmethod
    def constant(cls, lux: float, cct: int = 5000) -> Lighting:
        return cls(((0, float(lux)),), cct)

    @classmethod
    def steps(cls, steps: tuple[tuple[int, float], ...], cct: int = 5000) -> Lighting:
        """A light switched on/off: ``lux`` changes abruptly at each ``frame``."""
        keys: list[tuple[int, float]] = []
        for (frame, lux), nxt in zip(steps, (*steps[1:], None), strict=True):
            keys.append((frame, float(lux)))
            if nxt is not None and nxt[0] - 1 > frame:
                keys.append((nxt[0] - 1, float(lux)))
        return cls(tuple(keys), cct)

    @classmethod
    def dusk(cls, start_lux: float, end_lux: float, frames: int, cct: int = 5000) -> Lighting:
        """An exponential fall from ``start_lux`` to ``end_lux`` over ``frames`` frames."""
        return cls(((0, float(start_lux)), (frames, float(end_lux))), cct)

    def with_cct(self, cct: int) -> Lighting:
        return replace(self, cct=cct)


def _number(name: str, text: str, lo: float, hi: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}={text!r}: not a number") from None
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ValueError(f"{name}={text!r}: must be a number within {lo:g}..{hi:g}")
    return value


def lighting_from_env(
    base: Lighting | None, environ: Mapping[str, str] | None = None
) -> Lighting | None:
    """``base`` with ``IMP_SIM_LUX`` / ``IMP_SIM_CCT`` applied; None if neither is set and
    there is no base. Malformed values raise ValueError naming the variable."""
    env = os.environ if environ is None else environ
    lux_text = env.get("IMP_SIM_LUX", "").strip()
    cct_text = env.get("IMP_SIM_CCT", "").strip()
    lighting = base
    if lux_text:
        lux = _number("IMP_SIM_LUX", lux_text, *LUX_RANGE)
        lighting = Lighting.constant(lux, base.cct if base is not None else 5000)
    if cct_text:
        cct = round(_number("IMP_SIM_CCT", cct_text, *CCT_RANGE))
        lighting = (lighting or Lighting()).with_cct(cct)
    return lighting

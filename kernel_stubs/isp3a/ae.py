"""Auto exposure of the simulated ISP: meter the linear (pre-gamma) AE zones, move the exposure.

Each frame the weighted mean of the previous frame's 15x15 AE zones is compared with the target
(``AeTargetList`` by gain level, scaled by ``AeComp``, 128 = 1x); the exposure product
(lines x gain) moves by ``(target / mean) ** 0.8`` — a damped step that never overshoots on
a linear scene, so a 4x light step settles in a few frames without oscillating. The product is
split into integration time first (up to the frame period and ``AeItMax``; whole flicker
half-periods under 50/60 Hz anti-flicker), then analog gain (``MaxAgain``), then digital gain
(``MaxDgain``); ``AeMin`` bounds it from below, ``AeFreeze`` holds it, ``SetExpr`` fixes the time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from kernel_stubs.devices.controls import ControlStore

from .physics import LineTiming, SensorExposure, log2_to_gain

__all__ = ["AeDecision", "ae_step", "metered_mean", "split_exposure", "target_of"]

DAMPING = 0.8
MAX_STEP = 8.0
STABLE_TOLERANCE = 0.05
DEADBAND = 0.02


@dataclass(frozen=True)
class AeDecision:
    exposure: SensorExposure
    mean: float  # metered (weighted linear zone mean, 0..255)
    target: int
    stable: bool


def metered_mean(zones: np.ndarray, store: ControlStore) -> float:
    """The weighted zone mean: the ROI when one is set, else the AE weights."""
    roi = store.ae_roi().astype(np.float64)
    weights = roi if roi.any() else store.ae_weights().astype(np.float64)
    if not weights.any():
        weights = np.ones_like(weights)
    return float((zones * weights).sum() / weights.sum())


def target_of(store: ControlStore, gain: float) -> int:
    """AeTargetList[entry for this gain level] x AeComp / 128."""
    targets = store.ae_target_list()
    level = min(len(targets) - 1, max(0, int(math.log2(max(gain, 1.0)))))
    return max(1, min(255, targets[level] * store.get_named("ae_comp") // 128))


def _limits(store: ControlStore, timing: LineTiming) -> tuple[int, int, int, float, float]:
    """(min lines, max lines, flicker half-period in lines or 0, max again, max dgain)."""
    it_max = timing.it_max
    user_max = store.get_named("ae_it_max")
    if 0 < user_max < it_max:
        it_max = user_max
    it_min, _ = store.ae_min()
    hz = {1: 50, 2: 60}.get(store.get_named("anti_flicker"), 0)
    flicker = round(timing.lines(1 / (2 * hz))) if hz else 0
    max_again = log2_to_gain(store.get_named("max_again")) / 1024
    max_dgain = log2_to_gain(store.get_named("max_dgain")) / 1024
    return max(1, it_min), max(1, it_max), flicker, max(1.0, max_again), max(1.0, max_dgain)


def split_exposure(product: float, store: ControlStore, timing: LineTiming) -> SensorExposure:
    """Lines x gain -> (lines, again, dgain) within the sensor's and the user's limits."""
    it_min, it_max, flicker, max_again, max_dgain = _limits(store, timing)
    _, again_min = store.ae_min()
    manual = store.manual_exposure(timing.line_s * 1e6)
    it: float
    if manual is not None:
        it = min(max(manual, 1), it_max)
    else:
        it = min(product, it_max)
        if flicker and it_max >= flicker and it >= flicker:
            it = flicker * math.floor(it / flicker)
        # Down to whole lines (the gain, >= 1x, makes up the rest), never beyond the frame.
        it = min(max(it_min, math.floor(it)), it_max)
    rest = product / it
    again = min(max(rest, again_min / 1024, 1.0), max_again)
    dgain = min(max(rest / again, 1.0), max_dgain)
    return SensorExposure(int(it), round(again * 1024), round(dgain * 1024), 1024, timing.line_s)


def ae_step(
    current: SensorExposure, zones: np.ndarray | None, store: ControlStore, timing: LineTiming
) -> AeDecision:
    """The exposure for the next frame from the statistics of the last one."""
    current = replace(current, line_s=timing.line_s)  # the frame rate may have changed
    target = target_of(store, current.gain)
    if zones is None:
        return AeDecision(current, 0.0, target, False)
    mean = metered_mean(zones, store)
    stable = abs(mean - target) <= STABLE_TOLERANCE * target
    manual = store.manual_exposure(timing.line_s * 1e6)
    if store.ae_frozen():
        if manual is not None and manual != current.integration_time:  # SetExpr while frozen
            current = replace(current, integration_time=min(manual, timing.it_max))
        return AeDecision(current, mean, target, stable)
    factor = MAX_STEP if mean < 0.5 else (target / mean) ** DAMPING
    if abs(mean - target) <= DEADBAND * target:
        # Inside the dead band the product holds (no hunting on noise); it is split again so
        # that a changed limit (anti-flicker, IT max, max gains, SetExpr) applies at once.
        factor = 1.0
    factor = min(max(factor, 1 / MAX_STEP), MAX_STEP)
    product = current.integration_time * current.gain * factor
    return AeDecision(split_exposure(product, store, timing), mean, target, stable)

"""Turning the physics model on for a registered sensor (called by the tx-isp core)."""

from __future__ import annotations

from collections.abc import Callable

from kernel_stubs.devices.controls import ControlStore
from kernel_stubs.sensor import SensorModel, SyntheticSensor

from .board import Gpios
from .lighting import lighting_from_env
from .model import Isp3a

__all__ = ["attach_physics"]


def attach_physics(
    model: SensorModel,
    store: ControlStore,
    gpios: Gpios | None = None,
    wdr: Callable[[], bool] = lambda: False,
) -> Isp3a | None:
    """Give a synthetic sensor whose scene is lit (or with IMP_SIM_LUX/IMP_SIM_CCT set) the
    physics model and 3A over ``store``; other models keep their reference pictures.

    Raises ValueError (naming the variable) for a malformed IMP_SIM_LUX / IMP_SIM_CCT.
    """
    if not isinstance(model, SyntheticSensor):
        return None
    lighting = lighting_from_env(model.scene.lighting)
    if lighting is None:
        return None
    isp = Isp3a(store, lighting, model.height, gpios or Gpios(), wdr)
    model.attach_isp(isp)
    return isp

"""The Pythonic ISP tuning object: ``imp.isp.tuning()`` (``Camera.isp``).

One process-wide :class:`IspTuning` wraps the ISP device: properties for every readable setting,
setters or methods for the rest, statistics as numpy arrays. Errors raise
:class:`~imp.errors.ImpError` subclasses whose message says what to fix (InvalidArgument for a
bad value, InvalidState before ``IMP_ISP_EnableTuning``, DeviceError when the driver refuses).
"""

from __future__ import annotations

from imp.isp.board import BoardControls
from imp.isp.device import Isp, get_isp
from imp.isp.picture import PictureControls
from imp.isp.threea import ThreeAControls

__all__ = ["IspTuning", "tuning"]


class IspTuning(PictureControls, ThreeAControls, BoardControls):
    """Image tuning of the T31 ISP (``IMP_ISP_Tuning_*`` and the other ISP calls).

    Needs an open ISP with tuning enabled (``imp.open()`` / ``Camera`` does it). Example::

        isp = imp.isp.tuning()
        isp.brightness = 140
        isp.anti_flicker_hz = 50
        zones = isp.ae_zones()  # numpy uint32 (15, 15)
    """

    def __init__(self, isp: Isp) -> None:
        self._isp = isp

    @property
    def enabled(self) -> bool:
        """Whether tuning calls can be made now (``IMP_ISP_EnableTuning`` was called)."""
        return self._isp.tuning is not None

    def __repr__(self) -> str:
        return f"<IspTuning {'enabled' if self.enabled else 'not enabled'}>"


_tuning = IspTuning(get_isp())


def tuning() -> IspTuning:
    """The process-wide ISP tuning object."""
    return _tuning

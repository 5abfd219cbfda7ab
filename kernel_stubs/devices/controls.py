"""The ISP core's tuning controls (``/dev/isp-m0``): stored values and what the picture uses.

Integer controls keep the value as given. Struct-valued controls carry a user pointer in
``value``; the driver copies a fixed, per-id number of bytes from or to it. The kernel's own
struct sizes are not in the references, so the sizes below are those of the libimp 1.1.6
structs user space passes (``imp_api.json``), except WB attr, which the kernel keeps as three
words {mode, rgain, bgain}.
"""

from __future__ import annotations

from imp.kernel import abi
from kernel_stubs.sensor import IspControls

__all__ = ["POINTER_CONTROL_SIZES", "ControlStore"]

POINTER_CONTROL_SIZES: dict[int, int] = {
    abi.CID_WB_ATTR: 12,  # {u32 mode, u32 rgain, u32 bgain}
    abi.CID_EXPR: 12,  # IMPISPExpr (union of the set and get views)
    abi.CID_AE_ATTR: 72,  # IMPISPAEAttr
    abi.CID_GAMMA: 258,  # IMPISPGamma: 129 u16 curve points
    abi.CID_CCM_ATTR: 44,  # IMPISPCCMAttr
    abi.CID_BLC_ATTR: 20,  # IMPISPBlcAttr
    abi.CID_CSC_ATTR: 64,  # IMPISPCscAttr
}

_LEVEL_IDS = {
    abi.CID_BRIGHTNESS: "brightness",
    abi.CID_CONTRAST: "contrast",
    abi.CID_SATURATION: "saturation",
    abi.CID_SHARPNESS: "sharpness",
    abi.CID_HUE: "hue",
}

_WB_DEFAULT = (0).to_bytes(4, "little") + (256).to_bytes(4, "little") * 2  # auto, unity gains


def _default_blob(cid: int) -> bytes:
    size = POINTER_CONTROL_SIZES[cid]
    if cid == abi.CID_WB_ATTR:
        return _WB_DEFAULT
    if cid == abi.CID_GAMMA:
        # The identity curve: 129 points spread over 12 bits.
        return b"".join(min(i * 32, 4095).to_bytes(2, "little") for i in range(129))
    return bytes(size)


class ControlStore:
    """Every control value the core holds, plus the derived picture state."""

    def __init__(self, fps: int) -> None:
        self._values: dict[int, int] = {
            **dict.fromkeys(_LEVEL_IDS, 128),
            abi.CID_HFLIP: 0,
            abi.CID_VFLIP: 0,
            abi.CID_RUNNING_MODE: 0,
            abi.CID_SENSOR_FPS: (fps << 16) | 1,
            abi.CID_POWER_LINE_FREQUENCY: 0,
            abi.CID_WB_STATS: (256 << 16) | 256,
        }
        self._blobs: dict[int, bytes] = {}
        self._picture = IspControls()

    @staticmethod
    def is_pointer(cid: int) -> bool:
        return cid in POINTER_CONTROL_SIZES

    def get(self, cid: int) -> int:
        return self._values.get(cid, 0)

    def set(self, cid: int, value: int) -> None:
        """Store an integer control (the caller validated it)."""
        self._values[cid] = value
        self._picture = self._derive()

    def get_blob(self, cid: int) -> bytes:
        return self._blobs.get(cid) or _default_blob(cid)

    def set_blob(self, cid: int, data: bytes) -> None:
        self._blobs[cid] = bytes(data)

    def fps(self) -> tuple[int, int]:
        packed = self._values[abi.CID_SENSOR_FPS] & 0xFFFFFFFF
        return packed >> 16, packed & 0xFFFF

    @property
    def night(self) -> bool:
        return bool(self._values[abi.CID_RUNNING_MODE])

    def picture(self) -> IspControls:
        """The controls as the sensor model renders them (fixed for one frame)."""
        return self._picture

    def _derive(self) -> IspControls:
        # Levels are u8; libimp's daemon re-sends contrast as (total_gain << 8) | contrast.
        levels = {name: self._values[cid] & 0xFF for cid, name in _LEVEL_IDS.items()}
        return IspControls(
            **levels,
            hflip=bool(self._values[abi.CID_HFLIP]),
            vflip=bool(self._values[abi.CID_VFLIP]),
            night=self.night,
        )

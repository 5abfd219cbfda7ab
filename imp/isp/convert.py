"""Header struct <-> kernel layout for the two controls whose libimp conversion is unknown.

isp_tuning_ids.md rows 116-119: the 1.1.6 kernel copies a 40-B CCM (u8 ManualEn, u8 SatEn, pad,
u32 matrix[9]) and a 152-B AE manual attribute, while the header structs are 44 B (floats) and
72 B. How libimp converts was not seen in any binary, so `imp` chooses (docs/STATUS.md):

- CCM: each float coefficient as signed fixed point with 10 fractional bits (1.0 = 1024),
  two's complement in the u32.
- AE attr: the 18 words of IMPISPAEAttr in header order, then zeros up to 152 B.

On the board each choice is logged once (warning), because the picture may not follow it.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np

from imp import log
from imp.errors import InvalidArgument
from imp.kernel import platform
from imp.kernel.abi_isp import CCM_ONE, KernelAeManual, KernelCCM
from imp.types import IMPISPAEAttr, IMPISPCCMAttr

_log = log.get("isp")
_warned: set[str] = set()
_warned_lock = threading.Lock()


def _warn_once_on_board(what: str, message: str) -> None:
    if platform() != "t31":
        return
    with _warned_lock:
        if what in _warned:
            return
        _warned.add(what)
    _log.warning("%s: %s", what, message)


def ccm_to_kernel(manual: bool, saturation: bool, matrix: np.ndarray) -> bytes:
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape not in ((3, 3), (9,)):
        raise InvalidArgument(f"CCM matrix must be 3x3 (or 9 values), got shape {m.shape}")
    if not np.all(np.isfinite(m)) or np.abs(m).max() >= 2**21:
        raise InvalidArgument("CCM coefficients must be finite and within +-2097151")
    _warn_once_on_board(
        "SetCCMAttr", "float->kernel conversion is imp's choice (x1024 fixed point), unverified"
    )
    k = KernelCCM(manual_en=int(bool(manual)), sat_en=int(bool(saturation)))
    for i, v in enumerate(np.rint(m.ravel() * CCM_ONE).astype(np.int64)):
        k.matrix[i] = int(v) & 0xFFFFFFFF
    return bytes(k)


def ccm_from_kernel(data: bytes) -> tuple[bool, bool, np.ndarray]:
    k = KernelCCM.from_buffer_copy(data)
    words = np.array(list(k.matrix), dtype=np.int64)
    signed = np.where(words >= 1 << 31, words - (1 << 32), words)
    return bool(k.manual_en), bool(k.sat_en), (signed / CCM_ONE).reshape(3, 3)


def ccm_header_to_kernel(attr: IMPISPCCMAttr) -> bytes:
    return ccm_to_kernel(bool(attr.ManualEn), bool(attr.SatEn), np.array(list(attr.ColorMatrix)))


def ccm_kernel_to_header(data: bytes, attr: IMPISPCCMAttr) -> None:
    manual, sat, matrix = ccm_from_kernel(data)
    attr.ManualEn, attr.SatEn = int(manual), int(sat)
    for i, v in enumerate(matrix.ravel()):
        attr.ColorMatrix[i] = float(v)


def ae_attr_to_kernel(attr: IMPISPAEAttr) -> bytes:
    _warn_once_on_board(
        "SetAeAttr", "the 152-B kernel layout is imp's choice (header words first), unverified"
    )
    k = KernelAeManual()
    ctypes.memmove(ctypes.addressof(k), ctypes.addressof(attr), ctypes.sizeof(IMPISPAEAttr))
    return bytes(k)


def ae_attr_from_kernel(data: bytes, attr: IMPISPAEAttr) -> None:
    ctypes.memmove(ctypes.addressof(attr), data, ctypes.sizeof(IMPISPAEAttr))

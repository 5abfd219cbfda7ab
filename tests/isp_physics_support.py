"""Shared helpers of the ISP physics tests: a lit scene on a running system, frames with their
sensor frame number, and the delivered picture taken back to the linear (pre-gamma) domain."""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from imp import runtime
from imp.capi import (
    PIX_FMT_NV12,
    IMP_FrameSource_CreateChn,
    IMP_FrameSource_DestroyChn,
    IMP_FrameSource_DisableChn,
    IMP_FrameSource_EnableChn,
    IMP_FrameSource_GetFrame,
    IMP_FrameSource_ReleaseFrame,
    IMP_FrameSource_SetFrameDepth,
    IMPFrameInfo,
    IMPFSChnAttr,
)
from kernel_stubs import read_frame_mark
from kernel_stubs.devices.controls import ControlStore
from kernel_stubs.sensor import Scene, mark_band_height, register_scene, unregister_scene
from tests.conftest import running_system

W, H = 640, 360
BAND = mark_band_height(W)
STEP = 8  # the statistics grid
FIRST_ZONE_ROW = -(-BAND * 15 // H)  # first zone row below the frame mark
# The default gamma curve of the tuning node (129 points over 12 bits).
GAMMA = np.array([round(4095 * (i / 128) ** (1 / 2.2)) for i in range(129)], dtype=float)


def store() -> ControlStore:
    kernel = runtime.kernel()
    controls: ControlStore = kernel.isp.controls  # type: ignore[attr-defined]
    return controls


@contextmanager
def lit_system(
    scene: Scene, name: str = "physics-test", sim: dict[str, object] | None = None
) -> Iterator[None]:
    """A running system whose sensor shows ``scene``, channel 0 streaming NV12 W x H;
    ``sim``: more simulator settings (``sim_overrides``)."""
    register_scene(name, scene)
    try:
        with running_system(
            "virtual", sensor=f"synthetic:{name}", sensor_size=(W, H), **(sim or {})
        ):
            a = IMPFSChnAttr()
            a.picWidth, a.picHeight, a.pixFmt, a.nrVBs = W, H, PIX_FMT_NV12, 2
            a.outFrmRateNum, a.outFrmRateDen = 25, 1
            assert IMP_FrameSource_CreateChn(0, a) == 0
            assert IMP_FrameSource_SetFrameDepth(0, 2) == 0
            assert IMP_FrameSource_EnableChn(0) == 0
            try:
                yield
            finally:
                assert IMP_FrameSource_DisableChn(0) == 0
                assert IMP_FrameSource_DestroyChn(0) == 0
    finally:
        unregister_scene(name)


class Held:
    """A frame taken with GetFrame and not yet released (planes copied)."""

    def __init__(self) -> None:
        self.ptr = ctypes.POINTER(IMPFrameInfo)()
        assert IMP_FrameSource_GetFrame(0, self.ptr) == 0
        info = self.ptr.contents
        y = np.ctypeslib.as_array((ctypes.c_uint8 * (W * H)).from_address(info.virAddr))
        self.y = y.reshape(H, W).copy()
        uv_addr = info.virAddr + W * ((H + 15) & ~15)
        uv = np.ctypeslib.as_array((ctypes.c_uint8 * (W * H // 2)).from_address(uv_addr))
        self.uv = uv.reshape(H // 2, W).copy()
        self.n = read_frame_mark(self.y)

    def release(self) -> None:
        assert IMP_FrameSource_ReleaseFrame(0, self.ptr) == 0


def frame() -> tuple[np.ndarray, np.ndarray, int]:
    """The next frame: (Y, UV, sensor frame number)."""
    held = Held()
    held.release()
    return held.y, held.uv, held.n


def frames_until(n: int) -> list[tuple[np.ndarray, np.ndarray, int]]:
    """Every frame up to sensor frame ``n`` (bounded)."""
    out = []
    for _ in range(4 * n + 50):
        f = frame()
        out.append(f)
        if f[2] >= n:
            return out
    raise AssertionError(f"sensor frame {n} never came")


def linear(y: np.ndarray) -> np.ndarray:
    """Delivered luma back to the linear pre-gamma value 0..255 (default gamma, no DRC)."""
    g = (y.astype(float) - 16) / 219 * 4095
    return np.interp(g, GAMMA, np.arange(129) / 128 * 255)


def zone_means(plane: np.ndarray) -> np.ndarray:
    rows, cols = plane.shape[0] // 15 * 15, plane.shape[1] // 15 * 15
    blocks = plane[:rows, :cols].reshape(15, rows // 15, 15, cols // 15)
    means: np.ndarray = blocks.mean(axis=(1, 3))
    return means


def pixel_zones(plane: np.ndarray) -> np.ndarray:
    """15x15 means over every pixel, zone edges at i * size // 15 (the AE zones' layout)."""
    rows = np.arange(plane.shape[0]) * 15 // plane.shape[0]
    cols = np.arange(plane.shape[1]) * 15 // plane.shape[1]
    index = (rows[:, None] * 15 + cols[None, :]).ravel()
    sums = np.bincount(index, weights=plane.ravel().astype(float), minlength=225)
    means: np.ndarray = (sums / np.bincount(index, minlength=225)).reshape(15, 15)
    return means


def metered(y: np.ndarray) -> float:
    """The linear mean over the AE zones below the frame mark."""
    return float(pixel_zones(linear(y))[FIRST_ZONE_ROW:].mean())


def chroma(uv: np.ndarray) -> float:
    return float(np.abs(uv[BAND // 2 :].astype(int) - 128).mean())

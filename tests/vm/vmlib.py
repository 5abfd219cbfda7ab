"""Helpers of the VM tier's tests: figures for the summary, picture metrics, device control."""

from __future__ import annotations

import time

import av
import numpy as np

from imp.v4l2.device import V4L2Device
from kernel_stubs.sensor import mark_band_height, read_frame_mark

VIVID = "/dev/video0"
LOOP_IN = "/dev/video10"
LOOP_OUT = "/dev/video11"


def report(text: str) -> None:
    """One line of the tier's printed summary (tools/vm/run-tier collects them)."""
    print(f"\nVM-CHECK: {text}", flush=True)


def luma(frame: av.VideoFrame) -> np.ndarray:
    """The Y plane as coded (no range expansion, unlike a conversion to "gray")."""
    if frame.format.name not in ("yuv420p", "nv12"):
        frame = frame.reformat(format="yuv420p")
    plane: np.ndarray = frame.to_ndarray()[: frame.height]
    return plane


def below_mark(y: np.ndarray) -> np.ndarray:
    return y[mark_band_height(y.shape[1]) :].astype(np.float64)


def mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(below_mark(a) - below_mark(b)).mean())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((below_mark(a) - below_mark(b)) ** 2).mean())
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def mark_or_none(y: np.ndarray) -> int | None:
    try:
        return read_frame_mark(y)
    except ValueError:
        return None


def open_when_free(path: str, timeout: float = 15.0) -> V4L2Device:
    """Open ``path``, waiting while the previous test's sensor still holds it (idle release)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return V4L2Device(path)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def vivid_text_off() -> None:
    """vivid's moving counters off, so its test pattern is static (a plain control write)."""
    with open_when_free(VIVID) as dev:
        ctrl = dev.find_control("OSD Text Mode")
        assert ctrl is not None, "vivid has no 'OSD Text Mode' control"
        dev.set_control(int(ctrl.id), int(ctrl.maximum))


def vivid_disconnect() -> None:
    """vivid's 'Disconnect' button: every call on its open files fails with ENODEV from now
    on, as on an unplugged camera; vivid re-registers once its last user closes the node."""
    with V4L2Device(VIVID) as dev:
        ctrl = dev.find_control("Disconnect")
        assert ctrl is not None, "vivid has no 'Disconnect' control"
        dev.set_control(int(ctrl.id), 1)


def sensor_model():  # type: ignore[no-untyped-def]
    """The simulator's V4L2 sensor object (for device sequence numbers and error counts)."""
    from imp.kernel import current_kernel

    kernel = current_kernel()
    return kernel.isp.sensors[0].model  # type: ignore[attr-defined]

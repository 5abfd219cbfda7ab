"""The FrameSource pipeline over ``kernel_stubs`` in a MIPS32 process.

The same user-space code as on the camera (``imp.capi`` -> FrameSource -> framechan/tx-isp
drivers -> the kernel seam) runs against the in-process fake kernel, with real 32-bit
addresses in ``IMPFrameInfo.virAddr`` and the 32-bit branch of ``imp.kernel.lowmem``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

FRAMES = 10  # per channel; the sample saves frame FRAMES // 2 of each
# libimp's GetFrame gives up after 2 s. Under qemu the simulated ISP needs ~30 s for its first
# 640x360 frame: it prepares each scaled channel once with float32 matrix products
# (kernel_stubs/sensor/resample.py), which run on Debian's reference BLAS with emulated FPU
# instructions, ~700x slower than on the host. Later frames take milliseconds.
EMULATED_GETFRAME_TIMEOUT = 300.0


def test_imp_is_the_package_of_the_checkout() -> None:
    """Python 3.11 still has a stdlib ``imp``; PYTHONPATH must put the checkout first."""
    import imp

    assert hasattr(imp, "__path__"), f"stdlib imp was imported: {imp.__file__}"
    assert (Path(imp.__path__[0]) / "capi").is_dir()


def test_capi_imports() -> None:
    import imp.capi

    for name in ("IMP_System_Init", "IMP_FrameSource_GetFrame", "IMP_ISP_AddSensor"):
        assert callable(getattr(imp.capi, name)), name


def _kernel_stubs_or_skip() -> None:
    try:
        import kernel_stubs  # noqa: F401
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == "av":
            pytest.skip(
                "kernel_stubs cannot be imported without PyAV: kernel_stubs/sensor/__init__.py "
                "imports .file, which imports av at module level; PyAV is not in the MIPS root, "
                "so the synthetic-sensor pipeline cannot run here"
            )
        raise


def _pipeline_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(("imp-", "sim-", "kstub"))]


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("IMP_PLATFORM", "sim")
    monkeypatch.setenv("IMP_SIM_CLOCK", "virtual")
    _kernel_stubs_or_skip()
    from imp.kernel import set_kernel, sim_overrides

    sim_overrides()
    yield
    sim_overrides()
    set_kernel(None)
    for t in _pipeline_threads():
        t.join(timeout=5)
    assert not _pipeline_threads(), f"threads left running: {_pipeline_threads()}"


def _luma(path: Path, width: int, height: int) -> np.ndarray:
    data = np.fromfile(path, dtype=np.uint8)
    return data[: width * height].reshape(height, width)


@pytest.mark.usefixtures("sim")
def test_framesource_sample_over_kernel_stubs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imp.framesource import FsChannel
    from imp.samples import framesource
    from kernel_stubs import read_frame_mark

    monkeypatch.setattr(FsChannel.get_frame, "__defaults__", (EMULATED_GETFRAME_TIMEOUT,))
    files = framesource.run(str(tmp_path), frames=FRAMES)
    big, small = tmp_path / "frame1920x1080.nv12", tmp_path / "frame640x360.nv12"
    assert sorted(files) == sorted([str(big), str(small)])
    assert big.stat().st_size == 1920 * 1080 * 3 // 2 == 3110400
    assert small.stat().st_size == 640 * 360 * 3 // 2 == 345600

    n_big = read_frame_mark(_luma(big, 1920, 1080))
    n_small = read_frame_mark(_luma(small, 640, 360))
    print(f"frame mark: {n_big} in frame1920x1080.nv12, {n_small} in frame640x360.nv12")
    assert n_big == n_small
    assert n_big >= FRAMES // 2

"""kernel_stubs: an in-process fake of the T31 kernel drivers libimp talks to.

``SimKernel(SimConfig(...))`` implements the ``imp.kernel.seam.Kernel`` protocol: the literal
MIPS ioctl numbers, the 32-bit little-endian structs, physical addresses into a fake rmem arena,
and the drivers' state machines and error numbers (shared/reference/kernel_abi.md). Frames come
from a sensor model (:mod:`kernel_stubs.sensor`) carrying a frame mark that
:func:`read_frame_mark` reads back.
"""

from __future__ import annotations

from kernel_stubs.config import SimConfig
from kernel_stubs.faults import FaultPlan
from kernel_stubs.kernel import SimKernel
from kernel_stubs.sensor import read_frame_mark

__all__ = ["FaultPlan", "SimConfig", "SimKernel", "read_frame_mark"]

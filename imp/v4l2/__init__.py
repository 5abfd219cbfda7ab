"""Linux V4L2 devices from Python: a small ioctl layer of our own (host ``_IOC`` rules), MMAP
capture, write()-based output, pixel conversions, and the v4l2loopback publisher.

Used by the simulator's ``v4l2:`` sensor (:mod:`kernel_stubs.sensor.v4l2`) and by
``imp-loopback`` (:mod:`imp.loopback`). Not used on the T31 itself.
"""

from imp.v4l2.device import Backend, CapturedBuffer, Syscalls, V4L2Device, V4L2Error

__all__ = ["Backend", "CapturedBuffer", "Syscalls", "V4L2Device", "V4L2Error"]

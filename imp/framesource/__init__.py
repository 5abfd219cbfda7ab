"""FrameSource: ISP output channels delivering NV12 frames (``IMP_FrameSource_*``).

A channel is a graph group (device FS, group = channel number) with two outputs. Enabling it
opens its ``/dev/framechanN``, allocates ``nrVBs`` buffers from rmem and runs one capture thread
that blocks in DQBUF and publishes every frame, zero-copy, to

- every group bound to its outputs (fan-out: each gets its own reference), and
- the channel's depth FIFO read by ``GetFrame`` (``SetFrameDepth``; the oldest frame is dropped
  when full).

A buffer goes back to the driver (QBUF) only when the last holder released it (:mod:`imp.core.vbm`).

Driver faults never hang a caller and never lose a buffer (docs/ROBUSTNESS.md): DQBUF errors are
retried with a back-off, a dead node ends capture and wakes every waiter with the reason, a
re-QBUF that fails keeps the buffer aside and tries it again, and DisableChn does not wait for a
capture thread stuck in a driver call that STREAMOFF cannot end.

Modules:

- :mod:`~imp.framesource.attr` — attributes and constants;
- :mod:`~imp.framesource.channel` — one channel; :mod:`~imp.framesource.capture` — its capture
  thread and fan-out; :mod:`~imp.framesource.module` — the channel table;
- :mod:`~imp.framesource.extension` / :mod:`~imp.framesource.convert` — extension channels fed
  by SetSource (RGBA/BGRA/HSV) and SetChnRotate; :mod:`~imp.framesource.timed` —
  GetTimedFrame;
- :mod:`~imp.framesource.emulated` — EmuFrameSource channels;
- :mod:`~imp.framesource.softpool` — frames filled by software; :mod:`~imp.framesource.handout`
  — frames an application holds (GetFrame).
"""

from __future__ import annotations

from imp.core.graph import DEV_ID_FS
from imp.framesource.attr import (
    DEFAULT_GETFRAME_TIMEOUT,
    FS_EXT_CHANNEL,
    FS_PHY_CHANNEL,
    MAX_CHANNELS,
    MAX_VBS,
    NUM_OUTPUTS,
    PHYSICAL_CHANNELS,
    PIX_FMT_NV12,
    ChannelAttr,
    ChannelStats,
    FifoAttr,
    Rect,
    attr_replace,
)
from imp.framesource.channel import FsChannel
from imp.framesource.module import FrameSource, get_framesource

__all__ = [
    "DEFAULT_GETFRAME_TIMEOUT",
    "DEV_ID_FS",
    "FS_EXT_CHANNEL",
    "FS_PHY_CHANNEL",
    "MAX_CHANNELS",
    "MAX_VBS",
    "NUM_OUTPUTS",
    "PHYSICAL_CHANNELS",
    "PIX_FMT_NV12",
    "ChannelAttr",
    "ChannelStats",
    "FifoAttr",
    "FrameSource",
    "FsChannel",
    "Rect",
    "attr_replace",
    "get_framesource",
]

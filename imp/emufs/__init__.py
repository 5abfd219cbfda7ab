"""EmuFrameSource: FrameSource channels fed by the program (``IMP_EmuFrameSource_*``).

- :mod:`imp.framesource.emulated` — the channel (a FrameSource channel with a feeder);
- :mod:`imp.emufs.sources` — numpy arrays, raw NV12 files, any video file PyAV reads;
- :mod:`imp.emufs.api` — :class:`EmuSource`, the Pythonic handle.

A decoder channel bound to an emulated channel's input feeds it too (DEC -> FS).
"""

from __future__ import annotations

from imp.emufs.api import EmuSource
from imp.emufs.sources import from_arrays, from_raw_nv12, from_video, open_source
from imp.framesource.emulated import EmuChannel

__all__ = ["EmuChannel", "EmuSource", "from_arrays", "from_raw_nv12", "from_video", "open_source"]

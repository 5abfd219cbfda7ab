"""Outputs of encoded streams (picamera2's Encoder/Output split): an encoder hands every
:class:`Packet` it produces to each :class:`Output` attached to it.

- :class:`FileOutput`: raw Annex-B H.264/H.265, concatenated JPEGs, or a file per packet.
- :class:`Mp4Output`: an MP4 (or MOV) file through PyAV's muxer, timestamps from the capture
  clock, an audio track when audio packets arrive.
- :class:`CircularOutput`: a bounded ring of the last N seconds (from an IDR) that
  ``start(path)`` turns into a file beginning with those seconds and continuing live.
"""

from __future__ import annotations

from imp.output.circular import CircularOutput
from imp.output.file import FileOutput
from imp.output.mp4 import Mp4Output
from imp.output.packet import Output, Packet

__all__ = ["CircularOutput", "FileOutput", "Mp4Output", "Output", "Packet"]

"""imp-streamer: a prudynt-class camera daemon on imp's Pythonic API.

RTSP (``rtsp://HOST:8554/ch0`` and ``/ch1``, GStreamer's RTSP server, with audio and the ONVIF
backchannel), HTTP (``/snapshot.jpg``, ``/mjpeg``, ``/api/settings``, ``/metrics``, a web page;
aiohttp), OSD, motion events and clips with pre-roll. Run ``imp-streamer --sim`` (or
``python -m imp.streamer --sim``); the configuration is a TOML file, see
``imp/streamer/example.toml``.

Only :mod:`imp.streamer.camera`, :mod:`imp.streamer.overlay` and :mod:`imp.streamer.audio` use
imp itself (the public Pythonic API); the rest sees packets and motion samples.
"""

from __future__ import annotations

from imp.streamer.config import ConfigError, load

__all__ = ["ConfigError", "load"]

"""The T31 ``/dev/dsp`` ABI (OSS "xb_snd"): literal ioctl numbers and argument layouts.

Facts from ``shared/reference/kernel_abi.md`` §6. As in :mod:`imp.kernel.abi`, the numbers are
written out literally (MIPS encodes the direction bits differently from the host) and the layouts
use fixed-width little-endian fields, so they have their MIPS o32 size on every host. The stream
arguments carry *user pointers* (32-bit on the board): the kernel copies the samples from/to
there.
"""

from __future__ import annotations

import ctypes
from ctypes import c_uint32

DSP_PATH = "/dev/dsp"

# -- open flags (MIPS values; O_RDONLY is 0 everywhere) -----------------------------------------
O_RDONLY = 0x0  # capture (AI, DMIC)
O_WRONLY = 0x1  # playback (AO)
O_RDWR = 0x2  # refused with EPERM
MAX_OPENS_PER_DIRECTION = 16

# -- standard OSS ------------------------------------------------------------------------------
SNDCTL_DSP_SPEED = 0xC0045002  # int rate, stored; applied at ENABLE_STREAM
SNDCTL_DSP_STEREO = 0xC0045003  # int 0/1
SNDCTL_DSP_SETFMT = 0xC0045005  # int format; AFMT_QUERY returns the current one
SNDCTL_DSP_CHANNELS = 0xC0045006  # int 1 or 2
SNDCTL_DSP_GETFMTS = 0x4004500B  # int out: supported formats

AFMT_QUERY = 0x00000000
AFMT_S16_LE = 0x00000010

# -- Ingenic extensions ------------------------------------------------------------------------
SNDCTL_EXT_SET_REPLAY_VOLUME = 0x4004505A  # int 0..31: DAC gain ("AO gain")
SNDCTL_EXT_SET_RECORD_VOLUME = 0x4004505B  # int 0..31 = -18..+28.5 dB (0..7 in ALC mode)
SNDCTL_EXT_DISABLE_AEC = 0x40045064  # AI fd only
SNDCTL_EXT_ENABLE_AEC = 0x40045065  # AI fd only
SNDCTL_EXT_ENABLE_STREAM = 0x40045066
SNDCTL_EXT_DISABLE_STREAM = 0x40045067
SNDCTL_EXT_GET_AI_STREAM = 0x400C5068  # AiStreamArg
SNDCTL_EXT_SET_AO_STREAM = 0x40085069  # AoStreamArg
SNDCTL_EXT_FLUSH_STREAM = 0x4004506A  # AO only: wait <= 500 ms for the pipe to drain
SNDCTL_EXT_SYNC_STREAM = 0x4004506B  # AO only: sleep (pending fragments + 1) * 10 ms
SNDCTL_EXT_ENABLE_DMIC_STREAM = 0x40045070
SNDCTL_EXT_DISABLE_DMIC_STREAM = 0x40045071

FLUSH_TIMEOUT_S = 0.5
RECORD_VOLUME_MAX = 31
RECORD_VOLUME_ALC_MAX = 7
REPLAY_VOLUME_MAX = 31
TRANSFER_BUDGET = 4096  # one GET/SET step moves <= floor(4096 / frag) * frag bytes
DMIC_CHANNELS = 4  # the simulated array's microphones (interleaved in GET_AI_STREAM)

IOCTL_NUMBERS: dict[str, int] = {
    name: value
    for name, value in dict(globals()).items()
    if name.startswith("SNDCTL_") and isinstance(value, int)
}


class AiStreamArg(ctypes.LittleEndianStructure):
    """``SNDCTL_EXT_GET_AI_STREAM``: ``{u32 data, u32 aec, u32 size}`` (12 bytes)."""

    _pack_ = 4
    _fields_ = [("data", c_uint32), ("aec", c_uint32), ("size", c_uint32)]


class AoStreamArg(ctypes.LittleEndianStructure):
    """``SNDCTL_EXT_SET_AO_STREAM``: ``{u32 data, u32 size}`` (8 bytes)."""

    _pack_ = 4
    _fields_ = [("data", c_uint32), ("size", c_uint32)]


def fragment_bytes(rate: int, channels: int, bytes_per_sample: int = 2) -> int:
    """10 ms of audio in bytes: the driver's fragment (bytes_per_sample * channels * rate/100)."""
    return bytes_per_sample * channels * rate // 100


def transfer_step(rate: int, channels: int, bytes_per_sample: int = 2) -> int:
    """The most one GET_AI_STREAM/SET_AO_STREAM step moves: ``floor(4096/frag) * frag``."""
    frag = fragment_bytes(rate, channels, bytes_per_sample)
    return max(1, TRANSFER_BUDGET // frag) * frag


def int_arg(value: int) -> bytearray:
    """A 4-byte little-endian ``int`` ioctl argument."""
    return bytearray(int(value).to_bytes(4, "little", signed=True))


def arg_int(arg: bytearray | bytes) -> int:
    """The ``int`` in a 4-byte ioctl argument."""
    return int.from_bytes(bytes(arg[:4]), "little", signed=True)


__all__ = [name for name in dict(globals()) if name.isupper()] + [
    "AiStreamArg",
    "AoStreamArg",
    "arg_int",
    "fragment_bytes",
    "int_arg",
    "transfer_step",
]

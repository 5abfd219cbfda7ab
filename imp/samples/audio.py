"""Port of sample-Audio: record from AI, encode with a registered G.711A encoder, decode it back.

The generic Ingenic sample-Audio (usage.md §2.17) registers ``MY_G711A`` as a C-style AENC
encoder and decoder, encodes ``record_file.pcm`` in 800-byte chunks to ``record_file.g711``,
then decodes that through ADEC. The vendor sample expects ``/tmp/record_file.pcm`` to exist;
this port records it first from AI device 1 at 8 kHz (``--seconds``; the simulator's mic is
``IMP_SIM_MIC``) unless ``--input`` names a file. ``--out`` replaces ``/tmp``. Output:
``record_file.pcm`` (s16le 8 kHz mono), ``record_file.g711`` (one A-law byte per sample) and
``record_file_decode.pcm`` (s16le 8 kHz mono).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import sys
from typing import Any

import numpy as np

from imp.audio.codecs.g711 import alaw_decode, alaw_encode
from imp.capi import (
    ADEC_MODE_PACK,
    IMP_ADEC_ClearChnBuf,
    IMP_ADEC_CreateChn,
    IMP_ADEC_DestroyChn,
    IMP_ADEC_GetStream,
    IMP_ADEC_PollingStream,
    IMP_ADEC_RegisterDecoder,
    IMP_ADEC_ReleaseStream,
    IMP_ADEC_SendStream,
    IMP_ADEC_UnRegisterDecoder,
    IMP_AENC_CreateChn,
    IMP_AENC_DestroyChn,
    IMP_AENC_GetStream,
    IMP_AENC_PollingStream,
    IMP_AENC_RegisterEncoder,
    IMP_AENC_ReleaseStream,
    IMP_AENC_SendFrame,
    IMP_AENC_UnRegisterEncoder,
    IMP_AI_Enable,
    IMP_AI_EnableChn,
    IMP_AI_GetFrame,
    IMP_AI_PollingFrame,
    IMP_AI_ReleaseFrame,
    IMP_AI_SetChnParam,
    IMP_AI_SetGain,
    IMP_AI_SetPubAttr,
    IMP_AI_SetVol,
    IMPAudioDecChnAttr,
    IMPAudioDecDecoder,
    IMPAudioEncChnAttr,
    IMPAudioEncEncoder,
    IMPAudioFrame,
    IMPAudioIChnParam,
    IMPAudioStream,
    IMPBlock,
)
from imp.samples import audio_common as ac
from imp.samples import common
from imp.samples.common import check

RATE = 8000  # G.711
CHUNK = 800  # bytes of PCM per SendFrame (400 samples, 50 ms), as the C sample reads them
ENC_NAME = b"MY_G711A"


# -- the sample's own codec, as C functions behind the registration structs ------------------------
@IMPAudioEncEncoder._fields_[4][1]
def _my_g711a_encode(encoder: int, data: Any, outbuf: Any, out_len: Any) -> int:
    frame = data.contents
    n = frame.len // 2
    pcm = np.ctypeslib.as_array(ctypes.cast(frame.virAddr, ctypes.POINTER(ctypes.c_int16)), (n,))
    coded = alaw_encode(pcm)
    ctypes.memmove(outbuf, coded, len(coded))
    out_len[0] = len(coded)
    return 0


@IMPAudioDecDecoder._fields_[3][1]
def _my_g711a_decode(
    decoder: int, inbuf: Any, in_len: int, outbuf: Any, out_len: Any, chns: Any
) -> int:
    pcm = alaw_decode(ctypes.string_at(inbuf, in_len))
    ctypes.memmove(outbuf, pcm.tobytes(), pcm.nbytes)
    out_len[0] = pcm.nbytes
    chns[0] = 1
    return 0


def record(path: str, seconds: float) -> str:
    """AI device 1 at 8 kHz, 40 ms frames, to ``path`` (the sample's input file)."""
    frames = max(1, round(seconds * 25))
    attr = ac.io_attr(40, num_per_frm=RATE // 25, rate=RATE)
    check(IMP_AI_SetPubAttr(ac.AI_DEV, attr), "IMP_AI_SetPubAttr")
    check(IMP_AI_Enable(ac.AI_DEV), "IMP_AI_Enable")
    check(
        IMP_AI_SetChnParam(ac.AI_DEV, ac.AI_CHN, IMPAudioIChnParam(usrFrmDepth=40)),
        "IMP_AI_SetChnParam",
    )
    check(IMP_AI_EnableChn(ac.AI_DEV, ac.AI_CHN), "IMP_AI_EnableChn")
    check(IMP_AI_SetVol(ac.AI_DEV, ac.AI_CHN, 60), "IMP_AI_SetVol")
    check(IMP_AI_SetGain(ac.AI_DEV, ac.AI_CHN, 12), "IMP_AI_SetGain")  # unity: 0 dB
    try:
        with open(path, "wb") as f:
            for _ in common.until_stopped(frames):
                check(IMP_AI_PollingFrame(ac.AI_DEV, ac.AI_CHN, 1000), "IMP_AI_PollingFrame")
                frm = IMPAudioFrame()
                check(IMP_AI_GetFrame(ac.AI_DEV, ac.AI_CHN, frm, IMPBlock.BLOCK), "IMP_AI_GetFrame")
                ac.write_frame(f, frm.virAddr, frm.len)
                check(IMP_AI_ReleaseFrame(ac.AI_DEV, ac.AI_CHN, frm), "IMP_AI_ReleaseFrame")
    finally:
        ac.ai_stop()
    return path


def encode(src: str, dst: str) -> str:
    """The sample's encode half: RegisterEncoder, CreateChn, per chunk Send/Poll/Get/Release."""
    handle = ctypes.c_int()
    enc = IMPAudioEncEncoder()
    enc.maxFrmLen, enc.name, enc.encoderFrm = 1024, ENC_NAME, _my_g711a_encode
    check(IMP_AENC_RegisterEncoder(ctypes.byref(handle), enc), "IMP_AENC_RegisterEncoder")
    attr = IMPAudioEncChnAttr()
    attr.type, attr.bufSize = handle.value, 20
    check(IMP_AENC_CreateChn(0, attr), "IMP_AENC_CreateChn")
    buf = (ctypes.c_uint8 * CHUNK)()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while (n := fin.readinto(buf)) == CHUNK:  # the C sample stops at a short read
            frm = IMPAudioFrame()
            frm.bitwidth, frm.len = 16, n
            frm.virAddr = ctypes.cast(buf, ctypes.POINTER(ctypes.c_uint32))
            check(IMP_AENC_SendFrame(0, frm), "IMP_AENC_SendFrame")
            check(IMP_AENC_PollingStream(0, 1000), "IMP_AENC_PollingStream")
            stream = IMPAudioStream()
            check(IMP_AENC_GetStream(0, stream, IMPBlock.BLOCK), "IMP_AENC_GetStream")
            fout.write(ctypes.string_at(stream.stream, stream.len))
            check(IMP_AENC_ReleaseStream(0, stream), "IMP_AENC_ReleaseStream")
    check(IMP_AENC_UnRegisterEncoder(ctypes.byref(handle)), "IMP_AENC_UnRegisterEncoder")
    check(IMP_AENC_DestroyChn(0), "IMP_AENC_DestroyChn")
    return dst


def decode(src: str, dst: str) -> str:
    """The sample's decode half: RegisterDecoder, CreateChn (PACK), ClearChnBuf, per chunk
    SendStream/PollingStream/GetStream/ReleaseStream."""
    handle = ctypes.c_int()
    dec = IMPAudioDecDecoder()
    dec.name, dec.decodeFrm = ENC_NAME, _my_g711a_decode
    check(IMP_ADEC_RegisterDecoder(ctypes.byref(handle), dec), "IMP_ADEC_RegisterDecoder")
    attr = IMPAudioDecChnAttr()
    attr.type, attr.bufSize, attr.mode = handle.value, 20, ADEC_MODE_PACK
    check(IMP_ADEC_CreateChn(0, attr), "IMP_ADEC_CreateChn")
    check(IMP_ADEC_ClearChnBuf(0), "IMP_ADEC_ClearChnBuf")
    chunk = CHUNK // 2  # one A-law byte per sample
    buf = (ctypes.c_uint8 * chunk)()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while (n := fin.readinto(buf)) > 0:
            stream = IMPAudioStream()
            stream.stream, stream.len = ctypes.cast(buf, ctypes.POINTER(ctypes.c_uint8)), n
            check(IMP_ADEC_SendStream(0, stream, IMPBlock.BLOCK), "IMP_ADEC_SendStream")
            check(IMP_ADEC_PollingStream(0, 1000), "IMP_ADEC_PollingStream")
            out = IMPAudioStream()
            check(IMP_ADEC_GetStream(0, out, IMPBlock.BLOCK), "IMP_ADEC_GetStream")
            fout.write(ctypes.string_at(out.stream, out.len))
            check(IMP_ADEC_ReleaseStream(0, out), "IMP_ADEC_ReleaseStream")
    check(IMP_ADEC_UnRegisterDecoder(ctypes.byref(handle)), "IMP_ADEC_UnRegisterDecoder")
    check(IMP_ADEC_DestroyChn(0), "IMP_ADEC_DestroyChn")
    return dst


def run(out_dir: str = ".", seconds: float = 5.0, source: str | None = None) -> list[str]:
    os.makedirs(out_dir, exist_ok=True)
    pcm = os.path.join(out_dir, "record_file.pcm")
    if source is None:
        record(pcm, seconds)
    elif os.path.abspath(source) != os.path.abspath(pcm):
        shutil.copyfile(source, pcm)
    g711 = encode(pcm, os.path.join(out_dir, "record_file.g711"))
    decoded = decode(g711, os.path.join(out_dir, "record_file_decode.pcm"))
    return [pcm, g711, decoded]


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seconds", type=float, default=5.0, help="length of the AI recording")
    p.add_argument("--input", default=None, help="s16le 8 kHz mono PCM to use instead of AI")


def main(argv: list[str] | None = None) -> int:
    return common.sample_main(
        __doc__, lambda a: run(a.out, a.seconds, a.input), _args, name="sample-Audio", argv=argv
    )


if __name__ == "__main__":
    sys.exit(main())

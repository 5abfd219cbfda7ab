"""One encoded picture as it sits in a channel's stream buffer: its bytes and its packs.

A pack is one NAL unit (SPS, PPS, VPS, SEI and each slice separately, each starting with the
4-byte start code), or for JPEG the whole JPEG file: the ``IMPEncoderPack`` list of 1.1.6.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from imp.codec import EncodedPicture
from imp.encoder.ring import Region, StreamRing


class PackInfo(NamedTuple):
    """``IMPEncoderPack``. ``offset`` is from the buffer base; in the wrapping layout a pack with
    ``offset + length > streamSize`` continues at the base. (A tuple: made for every NAL.)"""

    offset: int
    length: int
    nal_type: int
    timestamp: int
    frame_end: bool
    slice_type: int


@dataclass(eq=False, slots=True)
class StoredPicture:
    """A picture in the stream buffer, from encode until ReleaseStream."""

    seq: int
    region: Region
    packs: tuple[PackInfo, ...]
    keyframe: bool
    slice_type: int
    timestamp: int
    qp: float | None
    taken: bool = False  # handed out by GetStream, waiting for ReleaseStream
    # ReleaseStream came, but an earlier picture is still out: the ring frees oldest first, so
    # this one's bytes go back when the earlier ones do (releases are accepted in any order).
    released: bool = False
    c_packs: Any = None  # the IMPEncoderPack array a C caller points at, alive until release

    @property
    def size(self) -> int:
        return self.region.length

    @property
    def pack_count(self) -> int:
        return len(self.packs)


def store_picture(ring: StreamRing, picture: EncodedPicture, seq: int) -> StoredPicture | None:
    """Copy ``picture`` into ``ring``; None when the buffer has no room for it."""
    nals = [nal for nal in picture.nals if nal.data]
    total = sum(len(nal.data) for nal in nals)
    if total == 0:
        return None
    region = ring.allocate(total)
    if region is None:
        return None
    packs = []
    offset = 0
    slice_type = int(picture.slice_type)
    for i, nal in enumerate(nals):
        ring.write(region, offset, nal.data)
        packs.append(
            PackInfo(
                offset=ring.position(region, offset),
                length=len(nal.data),
                nal_type=int(nal.nal_type),
                timestamp=int(picture.pts),
                frame_end=i == len(nals) - 1,
                slice_type=slice_type,
            )
        )
        offset += len(nal.data)
    return StoredPicture(
        seq=seq,
        region=region,
        packs=tuple(packs),
        keyframe=bool(picture.keyframe),
        slice_type=slice_type,
        timestamp=int(picture.pts),
        qp=picture.qp,
    )


__all__ = ["PackInfo", "StoredPicture", "store_picture"]

"""Encoded pictures as the Pythonic layer hands them out (``IMPEncoderStream``)."""

from __future__ import annotations

from dataclasses import dataclass

from imp.codec import CodecType
from imp.encoder.channel import EncoderChannel
from imp.encoder.picture import StoredPicture


@dataclass(frozen=True)
class Pack:
    """One NAL unit (with its 4-byte start code) or one whole JPEG file."""

    data: bytes
    nal_type: int
    timestamp: int
    frame_end: bool
    slice_type: int


class EncodedStream:
    """One encoded picture (``IMPEncoderStream``). Release it (or use ``with``) when done, in
    any order: the stream buffer frees pictures in the order they were fetched, each once every
    earlier one is released too."""

    def __init__(self, channel: EncoderChannel, picture: StoredPicture, codec: CodecType) -> None:
        self._picture: StoredPicture | None = picture
        self.codec = codec
        self.seq = picture.seq
        self.timestamp = picture.timestamp
        self.keyframe = picture.keyframe
        self.slice_type = picture.slice_type
        self.qp = picture.qp
        self._channel = channel
        ring = self._channel.ring
        self.packs = [
            Pack(
                ring.read(picture.region, (p.offset - picture.region.start) % ring.size, p.length),
                p.nal_type,
                p.timestamp,
                p.frame_end,
                p.slice_type,
            )
            for p in picture.packs
        ]

    @property
    def data(self) -> bytes:
        """The whole picture: its packs back to back (Annex-B, or the JPEG file)."""
        return b"".join(p.data for p in self.packs)

    @property
    def size(self) -> int:
        return sum(len(p.data) for p in self.packs)

    @property
    def nal_types(self) -> list[int]:
        return [p.nal_type for p in self.packs]

    def release(self) -> None:
        picture = self._picture
        if picture is None:
            return
        # After UnRegisterChn or DestroyChn the channel dropped it already: nothing to free.
        if self._channel.holds(picture):
            self._channel.release(picture)
        self._picture = None

    def __enter__(self) -> EncodedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        kind = "key" if self.keyframe else "delta"
        return (
            f"<EncodedStream {self.codec.name} seq={self.seq} ts={self.timestamp} {kind} "
            f"{self.size} B nals={self.nal_types}>"
        )


__all__ = ["EncodedStream", "Pack"]

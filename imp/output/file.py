"""``FileOutput``: packets written as they are — a raw Annex-B stream, concatenated JPEGs, or one
file per packet (a JPEG every second) with a ``{seq}``/``{pts}`` name pattern."""

from __future__ import annotations

import os
from pathlib import Path
from string import Formatter
from typing import BinaryIO

from imp.errors import InvalidArgument
from imp.output.base import OutputCounters, check_writable
from imp.output.packet import Packet

__all__ = ["FileOutput"]


def _is_pattern(target: str | os.PathLike[str]) -> bool:
    """True when the name has replacement fields (``{seq}``...); "{{" stays a literal brace."""
    try:
        return any(field is not None for _, field, _, _ in Formatter().parse(os.fspath(target)))
    except ValueError:  # a lone brace: not a pattern, an odd but legal file name
        return False


class FileOutput(OutputCounters):
    """Write the packets of one kind to a file, a file object or one file per packet.

    ``target``: a path (created or truncated now), a writable binary file object (flushed but
    not closed by :meth:`close`: it stays the caller's), or a path pattern with ``{seq}`` and/or
    ``{pts}`` fields (``"snap-{seq:05d}.jpg"``), which writes every packet to its own file.
    ``kind``: "video" or "audio"; packets of the other kind are skipped (counted).
    ``wait_keyframe``: video files begin at the first keyframe (an IDR with its parameter sets),
    so they decode from their first byte; earlier packets are skipped.
    """

    def __init__(
        self,
        target: str | os.PathLike[str] | BinaryIO,
        *,
        kind: str = "video",
        wait_keyframe: bool = True,
    ) -> None:
        if kind not in ("video", "audio"):
            raise InvalidArgument(f"kind {kind!r} must be 'video' or 'audio'")
        self._pattern: str | None = None
        self._file: BinaryIO | None = None
        self._owns_file = False
        if isinstance(target, str | os.PathLike):
            if _is_pattern(target):
                self._pattern = os.fspath(target)
                try:
                    sample = Path(self._pattern.format(seq=0, pts=0))
                except (KeyError, IndexError, ValueError) as exc:
                    raise InvalidArgument(
                        f"file name pattern {self._pattern!r} may use only {{seq}} and {{pts}} "
                        f"fields: {exc}"
                    ) from exc
                check_writable(sample)
            else:
                path = check_writable(target)
                try:
                    self._file = open(path, "wb")  # noqa: SIM115 - closed by close()
                except OSError as exc:
                    raise InvalidArgument(f"cannot write {path}: {exc.strerror}") from exc
                self._owns_file = True
            name = os.fspath(target)
        else:
            if not hasattr(target, "write"):
                raise InvalidArgument(
                    f"target must be a path or a writable binary file, not {type(target).__name__}"
                )
            self._file = target
            name = getattr(target, "name", type(target).__name__)
        super().__init__(f"FileOutput({name!s})")
        self.kind = kind
        self._wait_keyframe = wait_keyframe and kind == "video"
        self._started = False
        self._closed = False

    def write(self, packet: Packet) -> None:
        with self._lock:
            if self._closed or packet.kind != self.kind:
                self.skipped += 1
                return
            if self._wait_keyframe and not self._started and not packet.keyframe:
                self.skipped += 1
                return
            self._started = True
            try:
                if self._pattern is not None:
                    path = self._pattern.format(seq=packet.seq, pts=packet.pts)
                    with open(path, "wb") as f:
                        f.write(packet.data)
                elif self._file is not None:
                    self._file.write(packet.data)
            except (OSError, ValueError) as exc:  # ValueError: a file object closed under us
                self._failed("write failed", exc)
                return
            self.written += 1

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._file is None:
                return
            try:
                self._file.flush()
                if self._owns_file:
                    self._file.close()
            except (OSError, ValueError) as exc:
                self._failed("close failed", exc)

    def __enter__(self) -> FileOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{self.name} {self.kind} {state} {self._stats()}>"

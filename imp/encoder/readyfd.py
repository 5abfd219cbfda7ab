"""A real file descriptor that select/poll see readable while a channel has streams to fetch.

``IMP_Encoder_GetFd`` promises an fd for ``select()``; applications (the vendor ``byGetFd``
sample) wait on several channels at once with it and then call GetStream. The fd counts ready
pictures: one unit per picture encoded, one taken back per GetStream, so it is readable exactly
while the count is positive. An eventfd in semaphore mode does that in one object; elsewhere a
pipe with one byte per picture does the same.
"""

from __future__ import annotations

import os


class ReadyFd:
    """Counter of ready streams exposed as a pollable fd."""

    def __init__(self) -> None:
        self._pipe_w: int | None = None
        self.fd: int
        eventfd = getattr(os, "eventfd", None)
        if eventfd is not None:
            self.fd = eventfd(0, os.EFD_SEMAPHORE | os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        else:  # pragma: no cover - non-Linux development hosts
            r, w = os.pipe()
            os.set_blocking(r, False)
            os.set_blocking(w, False)
            self.fd, self._pipe_w = r, w

    def post(self) -> None:
        """One more picture is ready."""
        if self._pipe_w is not None:  # pragma: no cover
            os.write(self._pipe_w, b"\x01")
        else:
            os.eventfd_write(self.fd, 1)

    def take(self) -> None:
        """One ready picture was handed out (no-op if the count is already 0)."""
        try:
            if self._pipe_w is not None:  # pragma: no cover
                os.read(self.fd, 1)
            else:
                os.eventfd_read(self.fd)
        except BlockingIOError:
            pass

    def reset(self) -> None:
        """Back to zero (pictures discarded)."""
        try:
            while True:
                if self._pipe_w is not None:  # pragma: no cover
                    if not os.read(self.fd, 4096):
                        return
                else:
                    os.eventfd_read(self.fd)
        except BlockingIOError:
            pass

    def close(self) -> None:
        for fd in (self.fd, self._pipe_w):
            if fd is not None and fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.fd, self._pipe_w = -1, None


__all__ = ["ReadyFd"]

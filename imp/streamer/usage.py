"""Per-stream CPU for /metrics: which threads work for which stream, and their CPU time.

Linux accounts CPU per thread (``/proc/self/task/TID/stat``), so a stream's CPU is the sum over
the threads that do only its work, each with its role (``capture``, ``osd``, ``encoder``,
``output``, ``rtsp``, ``motion``, ``audio``). The threads are found three ways:

- imp's threads by their Python name, which carries the channel number (``imp-fs0``,
  ``imp-enc1``, ``imp-osd0``, ``imp-ivs0``): the pipeline says which names belong to which
  stream (:meth:`CameraPipeline.thread_streams`);
- threads that call the streamer back (an encoder's output pump delivering packets) note
  themselves with :meth:`ThreadCpu.note` the first time they deliver for a stream;
- GStreamer's streaming threads by their OS name, ``ELEMENT:PAD``: each path's appsrc is named
  after its stream (``video0``, ``audio1``), so its thread is ``video0:src``.

What no stream owns (the simulated sensor and ISP, the RTSP server's client pool, HTTP, the
interpreter's main thread) is reported as ``shared``. A thread that exits keeps its CPU in its
stream's total, so every total only grows (a Prometheus counter).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator

__all__ = ["SHARED", "Owner", "ThreadCpu", "gst_owner"]

Owner = tuple[str, str]  # (stream, role)
SHARED: Owner = ("shared", "other")
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def _tasks() -> Iterator[tuple[int, str, float]]:
    """(thread id, OS thread name, user + system CPU seconds) of every thread of this process."""
    for entry in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{entry}/stat") as f:
                text = f.read()
        except OSError:  # the thread ended between listdir and open
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        # fields[0] is field 3 (state): utime and stime are fields 14 and 15
        yield int(entry), comm, (int(fields[11]) + int(fields[12])) / _CLK_TCK


def gst_owner(comm: str) -> Owner | None:
    """The owner of a GStreamer streaming thread (OS name ``ELEMENT:PAD``, 15 characters at
    most) from the element names rtsp.py gives each path's appsrc: ``video0``, ``audio1``."""
    element = comm.split(":", 1)[0]
    if element in ("video0", "video1"):
        return f"stream{element[-1]}", "rtsp"
    if element in ("audio0", "audio1"):
        return "audio", "rtsp"
    return None


class ThreadCpu:
    """CPU seconds per stream, from the threads' own accounting."""

    def __init__(self, gst_owner: Callable[[str], Owner | None] = gst_owner) -> None:
        self._gst_owner = gst_owner  # OS thread name -> owner (GStreamer threads)
        self._noted: dict[int, Owner] = {}
        self._last: dict[int, tuple[Owner, float]] = {}  # tid -> (owner, CPU) at the last read
        self._retired: dict[Owner, float] = {}  # CPU of threads that ended
        self._lock = threading.Lock()

    def note(self, owner: Owner) -> None:
        """Called on a thread that works for ``owner`` (cheap enough for every packet)."""
        tid = threading.get_native_id()
        if self._noted.get(tid) != owner:
            self._noted[tid] = owner

    def forget_noted(self) -> None:
        """After a pipeline rebuild: the old pumps are gone and their ids may be reused."""
        self._noted = {}

    def totals(self, by_name: dict[str, Owner]) -> dict[Owner, float]:
        """CPU seconds per (stream, role), ``SHARED`` for the rest; ``by_name``: Python thread
        name -> owner."""
        python_names = {t.native_id: t.name for t in threading.enumerate()}
        with self._lock:
            now: dict[int, tuple[Owner, float]] = {}
            for tid, comm, cpu in _tasks():
                owner = self._noted.get(tid) or by_name.get(python_names.get(tid, ""))
                now[tid] = (owner or self._gst_owner(comm) or SHARED, cpu)
            for tid, (owner, cpu) in self._last.items():
                if tid not in now or now[tid][0] != owner:  # ended (or its id was reused)
                    self._retired[owner] = self._retired.get(owner, 0.0) + cpu
            self._last = now
            totals = dict(self._retired)
            for owner, cpu in now.values():
                totals[owner] = totals.get(owner, 0.0) + cpu
            return totals

"""The IVS algorithm contract (``IMPIVSInterface``) and a base class for algorithms in Python.

A channel runs exactly one algorithm and talks to it only through :class:`IvsAlgorithm`: the
nine members of ``IMPIVSInterface`` with Python calling conventions (errors are exceptions,
``process_async`` keeps the C meaning of its return value: 0 = a result was produced, 1 = the
frame was skipped, -1 = error). Two kinds of objects fulfil it:

- :class:`Algorithm` subclasses (the built-in move detectors, user code): implement
  :meth:`Algorithm.analyse`; the base class releases frames, queues results and pairs
  GetResult/ReleaseResult;
- :class:`imp.ivs.cinterface.CAlgorithm`: a C-style ``IMPIVSInterface`` struct with CFUNCTYPE
  callbacks, as sample-Encoder-video-IVS-exalgo builds one.
"""

from __future__ import annotations

import ctypes
import threading
from collections import deque
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from imp import log
from imp.errors import ImpError, InvalidArgument, NotFound, NotSupported
from imp.ivs.frames import PIX_FMT_NV12, FrameView

_log = log.get("ivs")

RESULT_DEPTH = 8
"""Results kept for PollingResult/GetResult; older unread ones are dropped."""

P = TypeVar("P")
R = TypeVar("R")

PROCESSED, SKIPPED, FAILED = 0, 1, -1


class AlgorithmError(ImpError, RuntimeError):
    """An algorithm callback reported failure (returned < 0) or raised."""


@runtime_checkable
class IvsAlgorithm(Protocol):
    """``IMPIVSInterface`` as a channel calls it (see the module docstring)."""

    @property
    def pixfmt(self) -> int: ...

    def init(self) -> None: ...

    def exit(self) -> None: ...

    def preprocess_sync(self, frame: FrameView) -> int: ...

    def process_async(self, frame: FrameView) -> int: ...

    def get_result(self) -> Any: ...

    def release_result(self, result: Any) -> None: ...

    def get_param(self, dst: int) -> None: ...

    def set_param(self, src: int) -> None: ...

    def flush_frame(self) -> None: ...

    def c_result(self, result: Any) -> Any:
        """What GetResult hands a C caller: an address (int) or a ctypes object to point at."""
        ...


class Algorithm(Generic[P, R]):
    """Base class for IVS algorithms written in Python.

    Subclasses implement :meth:`analyse` (one frame in, a result or None out) and may override
    :meth:`validate`, :meth:`setup`, :meth:`teardown`, :meth:`preprocess`; for the C API's
    GetParam/SetParam also :attr:`param_type`, :meth:`params_from_c` and :meth:`params_to_c`.
    Thread-safe: frames arrive on the channel's worker thread while the application reads
    results and changes parameters on its own.
    """

    pixfmt: int = PIX_FMT_NV12
    param_type: type[ctypes.Structure] | None = None
    """The C struct ``IMP_IVS_GetParam``/``SetParam`` exchange, if any."""

    def __init__(self, params: P) -> None:
        self._lock = threading.RLock()
        self._params = self.validate(params)
        self._ready: deque[R] = deque(maxlen=RESULT_DEPTH)
        self._latest: R | None = None
        self._held: dict[int, list[Any]] = {}  # id(result) -> [result, times handed out]
        self._interface: Any = None  # the IMPIVSInterface exported for it, once made
        self._failures = 0

    # -- to override --------------------------------------------------------------------------
    def validate(self, params: P) -> P:
        """Check (and normalise) parameters; raise :class:`InvalidArgument` if unusable."""
        return params

    def setup(self) -> None:
        """Start from scratch (``init``): forget models built from earlier frames."""

    def teardown(self) -> None:
        """Free what :meth:`setup` built (``exit``)."""

    def preprocess(self, frame: FrameView) -> None:
        """``preProcessSync``: look at a frame before :meth:`analyse` (optional)."""

    def analyse(self, frame: FrameView) -> R | None:
        """Analyse one frame; return a result, or None when the frame is skipped."""
        raise NotImplementedError

    def params_from_c(self, address: int) -> P:
        """Parameters from the :attr:`param_type` struct at ``address`` (SetParam)."""
        raise NotSupported(f"{type(self).__name__} has no C parameter struct")

    def params_to_c(self, params: P, address: int) -> None:
        """Write ``params`` into the :attr:`param_type` struct at ``address`` (GetParam)."""
        raise NotSupported(f"{type(self).__name__} has no C parameter struct")

    def c_result(self, result: R) -> Any:
        """The C view of a result: ctypes objects as they are, anything else boxed in a
        ``py_object`` (a C caller gets its address; ``cast(p, POINTER(py_object))`` reads it)."""
        if isinstance(result, ctypes.Structure | ctypes.Union | ctypes.Array):
            return result
        return ctypes.py_object(result)

    # -- parameters -----------------------------------------------------------------------------
    @property
    def params(self) -> P:
        with self._lock:
            return self._params

    def configure(self, params: P) -> None:
        """Replace the parameters at run time (``SetParam``); takes effect with the next frame."""
        checked = self.validate(params)
        with self._lock:
            self._params = checked

    # -- the IMPIVSInterface contract ----------------------------------------------------------
    def init(self) -> None:
        with self._lock:
            self._ready.clear()
            self._latest = None
            self.setup()

    def exit(self) -> None:
        with self._lock:
            self.teardown()

    def preprocess_sync(self, frame: FrameView) -> int:
        self.preprocess(frame)
        return 0

    def process_async(self, frame: FrameView) -> int:
        try:
            result = self.analyse(frame)
        except Exception as exc:
            self._log_failure(exc)
            return FAILED
        finally:
            frame.release()  # IMP_IVS_ReleaseData: the frame is not needed any more
        if result is None:
            return SKIPPED
        with self._lock:
            self._ready.append(result)
            self._latest = result
        return PROCESSED

    def _log_failure(self, exc: Exception) -> None:
        # The same mistake (e.g. a frame size that does not match) repeats every frame: say it
        # a few times, then only now and then.
        self._failures += 1
        if self._failures <= 3 or self._failures % 250 == 0:
            name = type(self).__name__
            if isinstance(exc, ImpError):
                _log.error("%s: %s (failure %d)", name, exc, self._failures)
            else:
                _log.error("%s: analyse failed (failure %d)", name, self._failures, exc_info=exc)

    def get_result(self) -> R:
        """The oldest unread result, else the latest one again (stale: nothing new arrived)."""
        with self._lock:
            result = self._ready.popleft() if self._ready else self._latest
            if result is None:
                raise NotFound("no result yet: the algorithm has not analysed a frame")
            entry = self._held.setdefault(id(result), [result, 0])
            entry[1] += 1
            return result

    def release_result(self, result: R) -> None:
        with self._lock:
            entry = self._held.get(id(result))
            if entry is None or entry[0] is not result:
                raise InvalidArgument("ReleaseResult: this result was not obtained by GetResult")
            entry[1] -= 1
            if entry[1] == 0:
                del self._held[id(result)]

    def get_param(self, dst: int) -> None:
        if not dst:
            raise InvalidArgument("param is NULL")
        self.params_to_c(self.params, dst)

    def set_param(self, src: int) -> None:
        if not src:
            raise InvalidArgument("param is NULL")
        self.configure(self.params_from_c(src))

    def flush_frame(self) -> None:
        """Nothing to flush: :meth:`process_async` never keeps a frame."""

    def as_interface(self) -> Any:
        """This algorithm as a ``POINTER(IMPIVSInterface)`` for ``IMP_IVS_CreateChn`` (made once;
        its callbacks call this object). It stays registered until
        ``imp.ivs.cinterface.unexport(ptr)``."""
        from imp.ivs.cinterface import export_interface  # cinterface builds on this module

        with self._lock:
            return self._interface if self._interface is not None else export_interface(self)

    @property
    def results_held(self) -> int:
        """Results handed out by GetResult and not released yet."""
        with self._lock:
            return sum(count for _, count in self._held.values())


__all__ = [
    "FAILED",
    "PROCESSED",
    "RESULT_DEPTH",
    "SKIPPED",
    "Algorithm",
    "AlgorithmError",
    "IvsAlgorithm",
]

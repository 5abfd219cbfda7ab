"""Loading the native DSP libraries the processing classes drive through ctypes.

- ``libspeexdsp`` (Debian ``libspeexdsp1``): the echo canceller and its residual-echo
  suppressor.
- ``libimp_webrtc_apm.so``: a C ABI over Debian's ``libwebrtc-audio-processing`` (WebRTC APM
  0.3, the library the vendor's libimp builds its NS/AGC on). WebRTC only has a C++ API, so
  ``tools/setup/audio-deps.sh`` compiles ``tools/setup/webrtc_apm_shim.cc`` (glue only, no DSP)
  into a cache directory outside the checkout.

Both are installed by ``tools/setup/audio-deps.sh`` (called by ``tools/bootstrap.sh``); a
missing library raises :class:`~imp.errors.NotSupported` naming that script.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from pathlib import Path

from imp.errors import NotSupported

SHIM_ENV = "IMP_WEBRTC_APM_SHIM"
CACHE_DIR_ENV = "IMP_AUDIO_CACHE"
DEFAULT_CACHE_DIR = "/var/cache/imp-audio"
SHIM_NAME = "libimp_webrtc_apm.so"
SETUP_HINT = "run tools/setup/audio-deps.sh (tools/bootstrap.sh does) to install it"

_lock = threading.Lock()
_speex: ctypes.CDLL | None = None
_webrtc: ctypes.CDLL | None = None

_P = ctypes.c_void_p
_I = ctypes.c_int


def shim_path() -> Path:
    """Where the WebRTC shim is: $IMP_WEBRTC_APM_SHIM, else the setup script's cache
    ($IMP_AUDIO_CACHE, /var/cache/imp-audio, or ~/.cache/imp-audio when not run as root)."""
    explicit = os.environ.get(SHIM_ENV)
    if explicit:
        return Path(explicit)
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV]) / SHIM_NAME
    system = Path(DEFAULT_CACHE_DIR) / SHIM_NAME
    user = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "imp-audio"
    return system if system.exists() or not (user / SHIM_NAME).exists() else user / SHIM_NAME


def speexdsp() -> ctypes.CDLL:
    """``libspeexdsp`` with the prototypes used here (loaded once)."""
    global _speex
    with _lock:
        if _speex is None:
            name = ctypes.util.find_library("speexdsp") or "libspeexdsp.so.1"
            try:
                lib = ctypes.CDLL(name)
            except OSError as exc:
                raise NotSupported(f"libspeexdsp is not installed ({exc}); {SETUP_HINT}") from exc
            lib.speex_echo_state_init.restype = _P
            lib.speex_echo_state_init.argtypes = [_I, _I]
            lib.speex_echo_state_destroy.argtypes = [_P]
            lib.speex_echo_state_reset.argtypes = [_P]
            lib.speex_echo_cancellation.argtypes = [_P, _P, _P, _P]
            lib.speex_echo_ctl.argtypes = [_P, _I, _P]
            lib.speex_preprocess_state_init.restype = _P
            lib.speex_preprocess_state_init.argtypes = [_I, _I]
            lib.speex_preprocess_state_destroy.argtypes = [_P]
            lib.speex_preprocess_ctl.argtypes = [_P, _I, _P]
            lib.speex_preprocess_run.argtypes = [_P, _P]
            _speex = lib
        return _speex


def webrtc_apm() -> ctypes.CDLL:
    """The WebRTC APM shim with its prototypes (loaded once)."""
    global _webrtc
    with _lock:
        if _webrtc is None:
            path = shim_path()
            try:
                lib = ctypes.CDLL(str(path))
            except OSError as exc:
                raise NotSupported(
                    f"the WebRTC audio processing shim {path} cannot be loaded ({exc}); "
                    f"{SETUP_HINT}"
                ) from exc
            lib.imp_apm_create.restype = _P
            lib.imp_apm_create.argtypes = [_I]
            lib.imp_apm_destroy.argtypes = [_P]
            lib.imp_apm_enable_ns.argtypes = [_P, _I]
            lib.imp_apm_enable_agc.argtypes = [_P, _I, _I, _I, _I]
            lib.imp_apm_enable_hpf.argtypes = [_P]
            lib.imp_apm_enable_aec.argtypes = [_P, _I]
            lib.imp_apm_process_reverse.argtypes = [_P, _I, _P, _I]
            lib.imp_apm_process.argtypes = [_P, _I, _P, _I, _I]
            _webrtc = lib
        return _webrtc

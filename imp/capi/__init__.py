"""C-style drop-in API: ``from imp.capi import *`` gives every IMP_* function, struct and constant of libimp 1.1.6."""  # noqa: E501

# Import order is semantic (later modules override the stubs), so isort stays out (I001);
# the F403 markers are redundant with the per-file ignores but kept as a signpost (RUF100).
# ruff: noqa: I001, RUF100
import typing as _typing

import imp.types as _types

if _typing.TYPE_CHECKING:  # the structs, enums and constants as imp/types.pyi declares them
    from imp.types import *  # noqa: F403
from imp.capi._unimplemented import *  # noqa: F403

# implemented modules override the stubs (keep below this line)
from imp.capi.system import *  # noqa: F403
from imp.capi.isp import *  # noqa: F403
from imp.capi.framesource import *  # noqa: F403
from imp.capi.ivs import *  # noqa: F403
from imp.capi.encoder import *  # noqa: F403
from imp.capi.osd import *  # noqa: F403
from imp.capi.audio_io import *  # noqa: F403
from imp.capi.audio_codec import *  # noqa: F403
from imp.capi.log import *  # noqa: F403
from imp.capi.utils import *  # noqa: F403
from imp.capi.decoder import *  # noqa: F403
from imp.capi.emufs import *  # noqa: F403


def __getattr__(name: str) -> _typing.Any:
    """The generated structs, enums and constants of :mod:`imp.types`, each built on first use
    (``import imp.capi`` builds none; ``from imp.capi import *`` builds them all)."""
    if name in _types.__all__:
        value = getattr(_types, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _public_names() -> list[str]:
    """``__all__``: every public name imported above (functions, structs, enums, constants)."""
    from types import ModuleType

    defined = {
        name
        for name, value in globals().items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    return sorted(defined | set(_types.__all__))


__all__ = _public_names()

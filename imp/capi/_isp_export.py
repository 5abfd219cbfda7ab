"""Publishing table-generated ``IMP_ISP_*`` functions into a capi module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from imp.capi._common import c_function


def define(
    namespace: dict[str, Any], exports: list[str], name: str, fn: Callable[..., int], doc: str
) -> None:
    """Make ``fn`` the C function ``name`` of the module whose globals are ``namespace``:
    error containment (:func:`c_function`), its name and docstring, and ``__all__``."""
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    namespace[name] = c_function()(fn)
    exports.append(name)

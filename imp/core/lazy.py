"""Package names imported on first use (PEP 562), so a package's ``__init__`` costs nothing.

On a camera with 64 MB for everything, every module loaded is heap for good (its code objects,
dicts and classes): ``imp.encoder``, ``imp.isp``, ``imp.osd`` and ``imp.ivs`` re-export names
of their submodules through :func:`lazy_exports` instead of importing them all, so a
FrameSource + OSD + IVS pipeline never loads the encoder, the ISP tuning controls or the
C-algorithm interface (docs/STATUS.md, "Hostile callers", memory).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any


class _LazyPackage(ModuleType):
    """A lazy package whose exported name is also a submodule's (``imp.isp.tuning``, a function
    in ``imp.isp.tuning``): the import system binds a submodule to its parent's attribute once
    loaded, which would replace the exported value; the eager ``__init__`` rebound it after,
    this keeps it so."""

    _lazy_table: dict[str, str]

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            isinstance(value, ModuleType)
            and value.__name__ == f"{self.__name__}.{name}"
            and name in self.__dict__.get("_lazy_table", ())
        ):
            return  # the exported value stays (resolved by __getattr__ on first use)
        super().__setattr__(name, value)


def lazy_exports(package: str, table: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``table`` maps a name to the module defining
    it, or to ``"module:attr"`` where the package's name differs from the module's. The value
    is imported on first use and kept in the package's namespace (the next lookup is a plain
    attribute). A submodule of the package used as an attribute is imported too."""

    def __getattr__(name: str) -> Any:
        where = table.get(name)
        if where is not None:
            module, _, attr = where.partition(":")
            value = getattr(importlib.import_module(module), attr or name)
        else:
            try:
                value = importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        setattr(sys.modules[package], name, value)
        return value

    module = sys.modules[package]
    module._lazy_table = table  # type: ignore[attr-defined]
    module.__class__ = _LazyPackage
    return __getattr__


def exports_of(module: str, *names: str) -> dict[str, str]:
    """``{name: module}`` for names defined in ``module`` (entries of :func:`lazy_exports`)."""
    return dict.fromkeys(names, module)

"""The numbered things of a module (groups, channels, region handles): one table shape.

Every media module keeps its groups and channels in tables indexed by the numbers the C API
uses. :class:`Registry` is such a table (a ``dict`` from number to object, so modules and tests
keep using it as one) plus what each module used to write again: the range check, the lookup
whose error says which call creates the thing, and the lowest free number the Pythonic layer
picks when the caller gives none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from imp.core.graph import GroupNode

from imp.errors import AlreadyExists, Busy, InvalidArgument, NotFound

T = TypeVar("T")
N = TypeVar("N", bound="GroupNode")


class Registry(dict[int, T]):
    """``what`` 0..``limit``-1, created by the C call ``create`` (named in error messages)."""

    def __init__(self, what: str, limit: int, create: str) -> None:
        super().__init__()
        self.what = what
        self.limit = limit
        self.create = create
        self._destroyed: set[int] = set()  # numbers that existed: "destroyed" says more

    def __setitem__(self, num: int, item: T) -> None:
        self._destroyed.discard(num)
        super().__setitem__(num, item)

    def __delitem__(self, num: int) -> None:
        super().__delitem__(num)
        self._destroyed.add(num)

    def clear(self) -> None:
        self._destroyed.update(self)
        super().clear()

    def __repr__(self) -> str:
        return f"<Registry {self.what} 0..{self.limit - 1}: {sorted(self)}>"

    def check(self, num: object) -> int:
        """``num`` if it is a valid number for this table, else InvalidArgument."""
        if not isinstance(num, int) or isinstance(num, bool) or not 0 <= num < self.limit:
            raise InvalidArgument(f"{self.what} {num!r} must be 0..{self.limit - 1}")
        return num

    def lookup(self, num: object) -> T:
        """The object with number ``num``; NotFound says which call creates it."""
        item = self.get(self.check(num))
        if item is None:
            if num in self._destroyed:
                raise NotFound(
                    f"{self.what} {num} was destroyed (it is closed); call {self.create} to "
                    "create it again"
                )
            raise NotFound(f"{self.what} {num} does not exist; call {self.create} first")
        return item

    def free(self) -> int:
        """The lowest number not in use."""
        for n in range(self.limit):
            if n not in self:
                return n
        raise Busy(f"no free {self.what}: all {self.limit} are in use; destroy one first")

    def create_node(
        self: Registry[N],
        num: int,
        lock: AbstractContextManager[object],
        call: str,
        make: Callable[[], N],
        on_exit: Callable[[], None],
        device: int,
        validate: Callable[[], None] | None = None,
    ) -> N:
        """Create group/channel ``num`` of a module whose nodes sit in the bind graph: the
        range check, ``call`` (e.g. "IVS CreateGroup") refused before System_Init,
        ``validate()``, AlreadyExists, ``make()`` registered in the graph, and the module's
        System_Exit hook ``on_exit`` placed by the graph (``device``)."""
        from imp.system import get_system  # imp.system builds on imp.core

        self.check(num)
        system = get_system()
        system.require_init(f"{call}({num})")
        if validate is not None:
            validate()
        with lock:
            if num in self:
                raise AlreadyExists(f"{self.what} {num} exists already")
            node = make()
            try:
                system.graph.register(node)
            except BaseException:
                close = getattr(node, "close", None)
                if close is not None:
                    close()  # what make() started (an OSD group's thread) does not linger
                raise
            self[num] = node
            system.on_exit(on_exit, device=device)
            return node

    def destroy_all(
        self,
        lock: AbstractContextManager[object],
        destroy: Callable[[T], object],
        log: logging.Logger,
    ) -> None:
        """System_Exit of a module: empty the table under the module's ``lock``, then
        ``destroy`` each item outside it (a teardown may wait for threads that take the lock);
        an item that fails is logged and the others still go."""
        with lock:
            items = list(self.items())
            self.clear()
        for num, item in items:
            try:
                destroy(item)
            except Exception as exc:
                log.error("%s %d: teardown: %s", self.what, num, exc)


__all__ = ["Registry"]

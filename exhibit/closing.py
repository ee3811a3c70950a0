"""``with`` for the objects that hold a device, a socket or a file and have ``close()``.

Why one mixin: every sink, source and store of the service closes the same way on leaving a
``with`` block (on an error too), and a copy in each class drifts.

Example:
    >>> class Lamp(Closing):
    ...     def close(self) -> None:
    ...         print("off")
    >>> with Lamp() as lamp:
    ...     pass
    off
"""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Closing:
    """``__enter__`` returns the object, ``__exit__`` calls its ``close()``."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

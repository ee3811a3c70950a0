"""The bounded outbox for health and fault messages while the broker is away.

Bounded in messages and in bytes. When a new message does not fit, the oldest *health* message
goes first (a newer one says the same thing better); only when no health message is left does
the oldest fault go. Every drop is counted. Session summaries never enter this buffer: they stay
unsent in the session store until the broker acknowledged them, so none can be dropped.

Example:
    >>> box = Outbox(max_messages=2, max_bytes=1000)
    >>> box.add(Outgoing("health", "x/health", b"1"))
    >>> box.add(Outgoing("fault", "x/faults", b"2"))
    >>> box.add(Outgoing("health", "x/health", b"3"))
    >>> [m.payload for m in box.items()], box.dropped
    ([b'2', b'3'], {'health': 1, 'fault': 0})
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Literal

MessageKind = Literal["health", "fault"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message waiting for the broker."""

    kind: MessageKind
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False

    @property
    def size_bytes(self) -> int:
        return len(self.payload) + len(self.topic)


class Outbox:
    """A thread-safe FIFO with the drop rule above (``add`` from any thread, ``pop`` from the
    publisher's)."""

    def __init__(self, max_messages: int, max_bytes: int) -> None:
        if max_messages < 1 or max_bytes < 1:
            raise ValueError("the outbox needs room for at least one message")
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self._items: deque[Outgoing] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self.dropped: dict[str, int] = {"health": 0, "fault": 0}

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    @property
    def size_bytes(self) -> int:
        with self._lock:
            return self._bytes

    def items(self) -> list[Outgoing]:
        """A snapshot, oldest first."""
        with self._lock:
            return list(self._items)

    def add(self, message: Outgoing) -> None:
        """Append ``message``, dropping old ones until everything fits (a message larger than
        the whole byte bound is dropped itself, and counted)."""
        with self._lock:
            if message.size_bytes > self.max_bytes:
                self._count(message)
                return
            self._items.append(message)
            self._bytes += message.size_bytes
            while len(self._items) > self.max_messages or self._bytes > self.max_bytes:
                self._drop_one()

    def _drop_one(self) -> None:
        victim = next((m for m in self._items if m.kind == "health"), None)
        if victim is None:
            victim = self._items[0]
        self._items.remove(victim)
        self._bytes -= victim.size_bytes
        self._count(victim)

    def _count(self, message: Outgoing) -> None:
        self.dropped[message.kind] += 1

    def pop(self) -> Outgoing | None:
        """The oldest message, or ``None``."""
        with self._lock:
            if not self._items:
                return None
            message = self._items.popleft()
            self._bytes -= message.size_bytes
            return message

    def push_front(self, message: Outgoing) -> None:
        """Put back a message the client could not take (it stays first in line)."""
        with self._lock:
            self._items.appendleft(message)
            self._bytes += message.size_bytes
            while len(self._items) > self.max_messages or self._bytes > self.max_bytes:
                self._drop_one()

    def dropped_counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self.dropped)

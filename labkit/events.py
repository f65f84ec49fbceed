"""Typed event records and the lab's append-only event log.

Components never print (a print from the lab thread lands in whatever notebook
cell happens to run); they append a record here, and a view turns the records
into a DataFrame when a learner asks (STYLE.md §8).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar


def utcnow() -> datetime:
    """The lab clock: timezone-aware UTC, as Exchange writes its logs."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Event:
    """Base of every record; `time` is set when the record is made."""

    time: datetime = field(default_factory=utcnow, kw_only=True)


@dataclass(frozen=True)
class ConnectionEvent(Event):
    """One attempt to open a connection (or send a datagram) across the lab network."""

    protocol: str  # "tcp" | "udp"
    source: str  # virtual ip of the originating host
    destination: str  # virtual ip:port asked for
    route: str  # "direct", "nat via tmg", "published by tmg", ...
    outcome: str  # "connected", "refused", "unreachable", "denied"
    detail: str = ""


@dataclass(frozen=True)
class FirewallEvent(Event):
    """One connection decided by the TMG firewall (its log, like TMG's Logging view)."""

    rule: str
    action: str  # "Allowed" | "Denied"
    protocol: str
    source: str
    destination: str
    translation: str  # e.g. "source 192.168.8.10 → 100.100.100.254" or "destination → 192.168.8.10:25"
    client: str = ""  # the client the server on the other side will see


@dataclass(frozen=True)
class DnsQueryEvent(Event):
    """One query answered (or rejected) by the public DNS server."""

    client: str
    transport: str  # "udp" | "tcp"
    name: str
    qtype: str
    rcode: str
    answer: str
    query_id: int = 0


E = TypeVar("E", bound=Event)


class EventLog:
    """Append-only store of event records, one list per record type.

    Appends happen on the lab loop; readers in other threads get copies, so a
    lock keeps a copy from racing an append.
    """

    def __init__(self) -> None:
        self._records: dict[type[Event], list[Event]] = {}
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._listeners: list[Callable[[Event], None]] = []

    def append(self, record: Event) -> None:
        """Record one event and tell the listeners (called on the lab loop)."""
        with self._lock:
            self._records.setdefault(type(record), []).append(record)
            next(self._seq)
        for listener in list(self._listeners):
            listener(record)

    def of(self, kind: type[E]) -> list[E]:
        """A copy of every record of one type, oldest first."""
        with self._lock:
            return list(self._records.get(kind, []))  # type: ignore[arg-type]

    def subscribe(self, listener: Callable[[Event], None]) -> None:
        """Call `listener(record)` for every later record (on the lab loop)."""
        self._listeners.append(listener)

    def clear(self, kind: type[Event] | None = None) -> None:
        """Forget every record (or those of one type)."""
        with self._lock:
            if kind is None:
                self._records.clear()
            else:
                self._records.pop(kind, None)

"""Transport queues of one server: Submission, Unreachable, Poison and one delivery queue per next hop.

Pure state (no I/O): the server moves messages between queues and the delivery
workers take them; this module keeps the bookkeeping and renders the rows of
Get-Queue and Get-Message with the product's names (facts §1.1-§1.4).

>>> qs = QueueSet("MAIL")
>>> q = qs.delivery("DnsConnectorDelivery", "xutonglin.com", "Internet")
>>> q.identity, qs.find("MAIL\\\\1") is q, qs.find("xutonglin.com") is q
('MAIL\\\\1', True, True)
"""

from __future__ import annotations

import contextlib
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from labkit.errors import UnknownObject
from labkit.transport import facts
from labkit.transport.store import StoredMessage

QueueKind = Literal["submission", "unreachable", "poison", "delivery"]


@dataclass
class QueuedMessage:
    """A message (some of its recipients) waiting in one queue."""

    stored: StoredMessage
    recipients: list[str]
    last_error: str = ""
    retry_count: int = 0
    suspended: bool = False
    active: bool = False


@dataclass
class Queue:
    """One queue and its Get-Queue properties."""

    server: str
    name: str  # "Submission", "Unreachable", "Poison" or the queue integer as text
    kind: QueueKind
    delivery_type: str
    next_hop_domain: str
    connector: str = ""  # send connector name (delivery queues)
    connector_guid: str = facts.NULL_GUID
    suspended: bool = False
    last_error: str = ""
    retry_count: int = 0
    first_retry_time: datetime | None = None
    last_retry_time: datetime | None = None
    next_retry_time: datetime | None = None
    emptied_at: datetime | None = None
    active_sessions: int = 0
    messages: dict[int, QueuedMessage] = field(default_factory=dict)
    ready: deque[int] = field(default_factory=deque)

    @property
    def identity(self) -> str:
        """``MAIL\\Submission``, ``MAIL\\3``..."""
        return f"{self.server}\\{self.name}"

    @property
    def status(self) -> str:
        """``Suspended``, ``Retry``, ``Active`` or ``Ready`` (facts §1.2)."""
        if self.suspended:
            return "Suspended"
        if self.next_retry_time is not None:
            return "Retry"
        if self.active_sessions > 0:
            return "Active"
        return "Ready"

    @property
    def message_count(self) -> int:
        """Messages currently in the queue."""
        return len(self.messages)

    def add(self, stored: StoredMessage, recipients: list[str]) -> QueuedMessage:
        """Queue recipients of a message (merged with those already queued here)."""
        entry = self.messages.get(stored.id)
        if entry is None:
            entry = QueuedMessage(stored, [])
            self.messages[stored.id] = entry
            self.ready.append(stored.id)
        for r in recipients:
            if r not in entry.recipients:
                entry.recipients.append(r)
        self.emptied_at = None
        return entry

    def remove(self, message: int, now: datetime) -> QueuedMessage | None:
        """Take a message out of the queue."""
        entry = self.messages.pop(message, None)
        if entry is not None:
            with contextlib.suppress(ValueError):
                self.ready.remove(message)
        if not self.messages:
            self.emptied_at = now
        return entry

    def take(self) -> QueuedMessage | None:
        """The next ready message for a delivery session (marked active), or None."""
        while self.ready and not self.suspended:
            entry = self.messages.get(self.ready.popleft())
            if entry is not None and not entry.suspended:
                entry.active = True
                return entry
        return None

    def give_back(self, entry: QueuedMessage) -> None:
        """Return a message a session could not deliver; it waits for the queue's next attempt (`refill`)."""
        entry.active = False

    def refill(self) -> None:
        """Make every idle message ready again (a retry is due, or the queue was resumed)."""
        queued = set(self.ready)
        for key, entry in self.messages.items():
            if not entry.active and key not in queued:
                self.ready.append(key)

    def clear_retry(self) -> None:
        """A successful connection: the queue is no longer in Retry."""
        self.retry_count = 0
        self.first_retry_time = self.last_retry_time = self.next_retry_time = None
        self.last_error = ""

    def set_retry(self, error: str, now: datetime, wait: timedelta) -> None:
        """A failed attempt: Status Retry, LastError, RetryCount, NextRetryTime (facts §1.2, §1.5)."""
        self.retry_count += 1
        self.last_error = error
        self.first_retry_time = self.first_retry_time or now
        self.last_retry_time = now
        self.next_retry_time = now + wait
        for entry in self.messages.values():
            entry.last_error = error
            entry.retry_count += 1

    def row(self) -> dict[str, Any]:
        """One Get-Queue row."""
        return {
            "Identity": self.identity,
            "DeliveryType": self.delivery_type,
            "Status": self.status,
            "MessageCount": self.message_count,
            "NextHopDomain": self.next_hop_domain,
            "LastError": self.last_error,
            "RetryCount": self.retry_count,
            "LastRetryTime": self.last_retry_time,
            "NextRetryTime": self.next_retry_time,
            "NextHopConnector": self.connector_guid,
        }

    def message_rows(self, expiration: timedelta) -> list[dict[str, Any]]:
        """Get-Message rows of this queue (facts §1.3 order)."""
        rows = []
        for entry in self.messages.values():
            stored = entry.stored
            if entry.suspended:
                status = "Suspended"
            elif entry.active:
                status = "Active"
            elif self.next_retry_time is not None or entry.last_error:
                status = "Retry"
            else:
                status = "Ready"
            received = datetime.fromisoformat(stored.received.replace("Z", "+00:00"))
            rows.append(
                {
                    "Identity": f"{self.identity}\\{stored.id}",
                    "FromAddress": stored.sender,
                    "Status": status,
                    "Size": f"{stored.size / 1024:.1f} KB ({stored.size:,} bytes)",
                    "SCL": stored.scl,
                    "Queue": self.identity,
                    "MessageSourceName": stored.source_name,
                    "SourceIP": stored.source_ip,
                    "Subject": stored.subject,
                    "InternetMessageId": stored.message_id,
                    "DateReceived": received,
                    "ExpirationTime": received + expiration,
                    "LastError": entry.last_error,
                    "RetryCount": entry.retry_count,
                    "Recipients": ";".join(entry.recipients),
                }
            )
        return rows


QUEUE_COLUMNS = (
    "Identity", "DeliveryType", "Status", "MessageCount", "NextHopDomain", "LastError", "RetryCount",
    "LastRetryTime", "NextRetryTime", "NextHopConnector",
)  # fmt: skip
MESSAGE_COLUMNS = (
    "Identity", "FromAddress", "Status", "Size", "SCL", "Queue", "MessageSourceName", "SourceIP", "Subject",
    "InternetMessageId", "DateReceived", "ExpirationTime", "LastError", "RetryCount", "Recipients",
)  # fmt: skip


class QueueSet:
    """The queues of one server, by identity.

    Args:
        server: the server's short name (``MAIL``).
    """

    def __init__(self, server: str) -> None:
        self.server = server
        self.submission = Queue(
            server, facts.SUBMISSION, "submission", facts.DELIVERY_UNDEFINED, facts.NEXT_HOP_SUBMISSION
        )
        self.unreachable = Queue(
            server, facts.UNREACHABLE, "unreachable", facts.DELIVERY_UNREACHABLE, facts.NEXT_HOP_UNREACHABLE
        )
        self.poison = Queue(
            server, facts.POISON, "poison", facts.DELIVERY_UNDEFINED, facts.NEXT_HOP_POISON, suspended=True
        )
        self.deliveries: dict[tuple[str, str, str], Queue] = {}
        self._counter = 0

    def delivery(
        self, delivery_type: str, next_hop: str, connector: str, connector_guid: str = facts.NULL_GUID
    ) -> Queue:
        """The delivery queue for a next hop through a connector, created on demand (facts §1.1)."""
        key = (delivery_type, next_hop, connector)
        queue = self.deliveries.get(key)
        if queue is None:
            self._counter += 1
            queue = Queue(
                self.server, str(self._counter), "delivery", delivery_type, next_hop, connector, connector_guid
            )
            self.deliveries[key] = queue
        return queue

    def all(self) -> list[Queue]:
        """Every queue that exists, Submission first."""
        return [self.submission, self.unreachable, self.poison, *self.deliveries.values()]

    def visible(self, now: datetime, idle: timedelta) -> list[Queue]:
        """The queues Get-Queue lists (lab's rule, see `facts`), dropping delivery queues idle too long."""
        for key, queue in list(self.deliveries.items()):
            if not queue.messages and queue.active_sessions == 0 and queue.emptied_at and now - queue.emptied_at > idle:
                del self.deliveries[key]
        shown = [self.submission]
        shown += [q for q in (self.unreachable, self.poison) if q.messages]
        shown += list(self.deliveries.values())
        return shown

    def find(self, identity: str) -> Queue:
        """A queue by identity: ``MAIL\\3``, ``3``, ``MAIL\\Unreachable``, ``Unreachable`` or a next-hop domain.

        Raises:
            UnknownObject: no such queue; lists the queues that exist.
        """
        text = str(identity).strip()
        short = text.split("\\", 1)[1] if "\\" in text and text.split("\\", 1)[0].upper() == self.server else text
        for queue in self.all():
            by_name = short.lower() == queue.name.lower()
            if by_name or (queue.kind == "delivery" and short.lower() == queue.next_hop_domain.lower()):
                return queue
        known = [q.identity for q in self.all() if q.kind != "poison" or q.messages]
        raise UnknownObject("queue", identity, known, f"Use an Identity from `get_queue()`: {', '.join(known)}.")

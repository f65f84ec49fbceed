"""The queue verbs of the Exchange Management Shell: Get-Queue, Get-Message, Retry-/Suspend-/Resume-Queue, Remove-Message.

Their semantics follow the 2010 Queue Viewer (facts §1.4): Retry only for a queue
in Retry, Resubmit to route again (the way to flush Unreachable), Suspend keeps
accepting, Remove with or without an NDR. `ExchangeServer` inherits these;
`ServerFacade` calls them across the lab loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labkit.errors import InvalidValue, UnknownObject
from labkit.events import utcnow
from labkit.transport import facts
from labkit.transport.logs import TrackingEvent
from labkit.transport.ndr import Failure
from labkit.transport.queues import Queue, QueuedMessage, QueueSet
from labkit.transport.settings import TransportSettings
from labkit.transport.store import FAILED, Store, StoredMessage


class QueueVerbs:
    """Queue and message verbs (mixed into `ExchangeServer`, which provides the pipeline methods below)."""

    fqdn: str
    settings: TransportSettings
    queues: QueueSet
    store: Store | None

    def _kick(self, queue: Queue) -> None:
        raise NotImplementedError

    def _resubmit(self, queue: Queue) -> int:
        raise NotImplementedError

    def _reschedule(self) -> None:
        raise NotImplementedError

    def _fail(self, stored: StoredMessage, failures: Sequence[Failure], source: str, connector_id: str = "") -> None:
        raise NotImplementedError

    def track(self, record: TrackingEvent) -> None:
        raise NotImplementedError

    def queue_rows(self) -> list[dict[str, Any]]:
        """Get-Queue rows."""
        return [q.row() for q in self.queues.visible(utcnow(), self.settings.queue_max_idle_time)]

    def message_rows(self, queue: str | None = None) -> list[dict[str, Any]]:
        """Get-Message rows, of one queue or all."""
        chosen = (
            [self.queues.find(queue)] if queue else self.queues.visible(utcnow(), self.settings.queue_max_idle_time)
        )
        rows: list[dict[str, Any]] = []
        for q in chosen:
            rows += q.message_rows(self.settings.message_expiration_timeout)
        return rows

    def retry_queue(self, identity: str, resubmit: bool = False) -> int:
        """Retry-Queue: connect now (a queue in Retry), or with `resubmit` route its messages again.

        Returns:
            How many messages were resubmitted (0 for a plain retry).

        Raises:
            UnknownObject: no such queue.
            InvalidValue: a plain retry of a queue that is not in Retry (facts §1.4).
        """
        queue = self.queues.find(identity)
        if resubmit:
            if queue.kind == "submission":
                raise InvalidValue("identity", identity, "is the Submission queue, which cannot be resubmitted",
                                   "Resubmit Unreachable or a delivery queue.")  # fmt: skip
            count = self._resubmit(queue)
            self._reschedule()
            return count
        if queue.kind != "delivery" or queue.status != "Retry":
            raise InvalidValue(
                "identity", identity, f"is in status {queue.status}; Retry-Queue connects now only for a queue in Retry",
                "For Unreachable (or after changing routing), use `retry_queue(identity, resubmit=True)`.",
            )  # fmt: skip
        queue.next_retry_time = None
        queue.refill()
        self._kick(queue)
        self._reschedule()
        return 0

    def suspend_queue(self, identity: str) -> Queue:
        """Suspend-Queue: the queue keeps accepting messages, nothing leaves it.

        Raises:
            UnknownObject, InvalidValue: not a delivery queue, or already suspended.
        """
        queue = self.queues.find(identity)
        if queue.kind != "delivery":
            raise InvalidValue("identity", identity, "is not a delivery queue", "Suspend a queue such as `MAIL\\1`.")
        if queue.suspended:
            raise InvalidValue("identity", identity, "is already suspended", "Resume it with `resume_queue`.")
        queue.suspended = True
        return queue

    def resume_queue(self, identity: str) -> Queue:
        """Resume-Queue (offered only for a suspended queue).

        Raises:
            UnknownObject, InvalidValue: not suspended.
        """
        queue = self.queues.find(identity)
        if not queue.suspended or queue.kind == "poison":
            raise InvalidValue(
                "identity",
                identity,
                f"is not suspended (status {queue.status})",
                "Only a suspended queue can be resumed.",
            )
        queue.suspended = False
        queue.refill()
        self._kick(queue)
        return queue

    def remove_message(self, identity: str, with_ndr: bool = True) -> int:
        """Remove-Message: delete a message from its queue (NDR 4.3.2 to the sender when `with_ndr`).

        Args:
            identity: ``MAIL\\1\\42`` (queue, then InternalMessageId) or just the message number.

        Returns:
            The InternalMessageId removed.

        Raises:
            UnknownObject: no such message in any queue.
            InvalidValue: it is being delivered at this moment.
        """
        text = str(identity).strip()
        queue_part, _, number = text.rpartition("\\")
        candidates = [self.queues.find(queue_part)] if queue_part else self.queues.all()
        for queue in candidates:
            for entry in queue.messages.values():
                if str(entry.stored.id) == number:
                    return self._remove_entry(queue, entry, with_ndr)
        known = [row["Identity"] for row in self.message_rows()]
        listed = ", ".join(known) or "(no message is queued)"
        raise UnknownObject("message", identity, known, f"Use an Identity from `get_message()`: {listed}.")

    def _remove_entry(self, queue: Queue, entry: QueuedMessage, with_ndr: bool) -> int:
        assert self.store is not None
        if entry.active:
            raise InvalidValue("identity", entry.stored.id, "is being delivered right now", "Try again in a moment.")
        queue.remove(entry.stored.id, utcnow())
        failures = [Failure(r, facts.QUEUE_ADMIN_DELETED) for r in entry.recipients]
        if with_ndr:
            self._fail(entry.stored, failures, "ADMIN")
        else:
            self.store.set_state(entry.stored.id, entry.recipients, FAILED, facts.QUEUE_ADMIN_DELETED)
            self.track(
                TrackingEvent(self.fqdn, "FAIL", "ADMIN", entry.stored.sender, tuple(entry.recipients), entry.stored.subject,
                              internal_message_id=entry.stored.id, message_id=entry.stored.message_id,
                              recipient_status=tuple(facts.QUEUE_ADMIN_DELETED for _ in entry.recipients))
            )  # fmt: skip
        self._reschedule()
        return entry.stored.id

"""A typed, frozen picture of one Exchange server: its configuration and the state of its queues.

The faces (trace, pictures, checks, diagnose, widgets) read this, never the
display strings of the ``get_*`` tables: a change to a table's layout cannot
silently change what a face concludes. The configuration records are the
transport's own immutable records (`SendConnector`, `ReceiveConnector`...), so a
face can feed them to the same pure functions the server uses (routing, receive
connector selection, permissions).

A snapshot is taken on the lab loop (`server_snapshot`) and handed to the
notebook thread as a value: it never changes afterwards and shares nothing
mutable with the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from labkit.transport.config import AcceptedDomain, MailboxUser, ReceiveConnector, SendConnector
from labkit.transport.queues import Queue
from labkit.transport.settings import TransportSettings


@dataclass(frozen=True)
class QueueState:
    """One queue as Get-Queue describes it (facts §1.2).

    Attributes:
        identity: ``MAIL\\Submission``, ``MAIL\\Unreachable``, ``MAIL\\1``...
        kind: ``submission``, ``unreachable``, ``poison`` or ``delivery``.
        delivery_type: ``Undefined``, ``Unreachable``, ``DnsConnectorDelivery``...
        status: ``Ready``, ``Active``, ``Retry`` or ``Suspended``.
        message_count: messages in the queue.
        next_hop_domain: ``xutonglin.com``, ``Submission``, ``Unreachable Domain``...
        connector: the send connector's name (delivery queues), else "".
        next_hop_connector: that connector's GUID (all zeros when none).
        last_error: the last failure's text, or "".
        retry_count: consecutive failed attempts.
        first_retry_time, last_retry_time, next_retry_time: UTC, or None.
    """

    identity: str
    kind: str
    delivery_type: str
    status: str
    message_count: int
    next_hop_domain: str
    connector: str
    next_hop_connector: str
    last_error: str
    retry_count: int
    first_retry_time: datetime | None
    last_retry_time: datetime | None
    next_retry_time: datetime | None


@dataclass(frozen=True)
class MessageState:
    """One queued message as Get-Message describes it (facts §1.3).

    Attributes:
        identity: ``MAIL\\Unreachable\\3``.
        queue: the queue's identity.
        internal_id: the transport's record id (the last part of `identity`).
        from_address: the envelope sender ("" for a report).
        status: ``Ready``, ``Active``, ``Retry`` or ``Suspended``.
        size: bytes.
        scl: spam confidence level (-1 for internal mail).
        message_source_name: ``SMTP:Default MAIL``, ``FromLocal``, ``DSN``...
        source_ip: the address it came from.
        subject: the Subject header.
        internet_message_id: the Message-ID header.
        date_received: UTC.
        expiration_time: when MessageExpirationTimeout ends its wait.
        last_error: the last failure's text, or "".
        retry_count: failed attempts for this message.
        recipients: the recipients waiting in this queue.
        is_report: an NDR/DSN generated here.
    """

    identity: str
    queue: str
    internal_id: int
    from_address: str
    status: str
    size: int
    scl: int
    message_source_name: str
    source_ip: str
    subject: str
    internet_message_id: str
    date_received: datetime
    expiration_time: datetime
    last_error: str
    retry_count: int
    recipients: tuple[str, ...]
    is_report: bool


@dataclass(frozen=True)
class ServerSnapshot:
    """One Exchange server: who it is, how it is configured, what waits in its queues.

    Attributes:
        fqdn: ``mail.contoso.com`` (also its lab host name).
        host_name: the scenario's host name.
        identity: the short (NetBIOS) name, ``MAIL``.
        address: its primary lab address.
        addresses: every lab address it has.
        org_domain: its organisation's domain.
        accepted_domains, mailboxes, send_connectors, receive_connectors: the configuration, in Get- order.
        queues: every queue Get-Queue lists, Submission first.
        messages: every message in those queues, queue by queue.
        settings: the transport server's timers and limits.
    """

    fqdn: str
    host_name: str
    identity: str
    address: str
    addresses: tuple[str, ...]
    org_domain: str
    accepted_domains: tuple[AcceptedDomain, ...]
    mailboxes: tuple[MailboxUser, ...]
    send_connectors: tuple[SendConnector, ...]
    receive_connectors: tuple[ReceiveConnector, ...]
    queues: tuple[QueueState, ...]
    messages: tuple[MessageState, ...]
    settings: TransportSettings

    def send_connector(self, name: str) -> SendConnector | None:
        """The send connector called `name` (case-insensitive), or None."""
        return next((c for c in self.send_connectors if c.name.lower() == name.lower()), None)

    def receive_connector(self, identity: str) -> ReceiveConnector | None:
        """The receive connector ``MAIL\\Default MAIL`` or ``Default MAIL`` (case-insensitive), or None."""
        key = identity.lower()
        return next((c for c in self.receive_connectors if key in (c.identity.lower(), c.name.lower())), None)

    def queue(self, identity: str) -> QueueState | None:
        """The queue with this identity (``MAIL\\Unreachable`` or ``Unreachable``), or None."""
        key = identity.lower()
        return next((q for q in self.queues if key in (q.identity.lower(), q.identity.split("\\", 1)[1].lower())), None)


def queue_state(queue: Queue) -> QueueState:
    """The frozen state of a live queue."""
    return QueueState(
        identity=queue.identity,
        kind=queue.kind,
        delivery_type=queue.delivery_type,
        status=queue.status,
        message_count=queue.message_count,
        next_hop_domain=queue.next_hop_domain,
        connector=queue.connector,
        next_hop_connector=queue.connector_guid,
        last_error=queue.last_error,
        retry_count=queue.retry_count,
        first_retry_time=queue.first_retry_time,
        last_retry_time=queue.last_retry_time,
        next_retry_time=queue.next_retry_time,
    )


def message_states(queue: Queue, expiration: timedelta) -> list[MessageState]:
    """The frozen states of the messages of a live queue, in queue order."""
    states = []
    for entry in queue.messages.values():
        stored = entry.stored
        if entry.suspended:
            status = "Suspended"
        elif entry.active:
            status = "Active"
        elif queue.next_retry_time is not None or entry.last_error:
            status = "Retry"
        else:
            status = "Ready"
        received = datetime.fromisoformat(stored.received.replace("Z", "+00:00"))
        states.append(
            MessageState(
                identity=f"{queue.identity}\\{stored.id}",
                queue=queue.identity,
                internal_id=stored.id,
                from_address=stored.sender,
                status=status,
                size=stored.size,
                scl=stored.scl,
                message_source_name=stored.source_name,
                source_ip=stored.source_ip,
                subject=stored.subject,
                internet_message_id=stored.message_id,
                date_received=received,
                expiration_time=received + expiration,
                last_error=entry.last_error,
                retry_count=entry.retry_count,
                recipients=tuple(entry.recipients),
                is_report=stored.is_report,
            )
        )
    return states

"""Transport timers and limits: the product's defaults, and the lab's few deviations in one place."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

from labkit.transport import facts


@dataclass(frozen=True)
class TransportSettings:
    """Set-TransportServer / receive-connector defaults of Exchange 2010 (facts §1.5, §4.4).

    Attributes:
        transient_failure_retry_count: quick retries after a connection failure (TransientFailureRetryCount).
        transient_failure_retry_interval: wait between those (TransientFailureRetryInterval).
        outbound_connection_failure_retry_interval: wait once the quick retries are used up.
        message_expiration_timeout: age at which a queued message is NDR'd with 4.4.7.
        queue_max_idle_time: how long an empty delivery queue stays listed.
        tarpit_interval: delay before an error reply to an anonymous session (TarpitInterval).
        connection_inactivity_timeout: receive side, idle client → 451 4.7.0 (ConnectionInactivityTimeout).
        send_inactivity_timeout: send side, idle server (send connector ConnectionInactivityTimeOut).
        connect_timeout: TCP connect to a remote MX.
        dns_timeout: one DNS query of the MX/A lookup.
        max_message_size: receive and send connectors' MaxMessageSize.
        max_recipients: receive connectors' MaxRecipientsPerMessage.
        max_hop_count: MaxHopCount (Received: headers) before 554 5.4.6.
        max_protocol_errors: MaxProtocolErrors before 421 4.7.0.
        max_outbound_connections_per_queue: parallel SMTP sessions per delivery queue.
        protocol_logging_level: ProtocolLoggingLevel of new connectors (product: None).
        basic_auth_without_tls: offer Basic AUTH although the connector says BasicAuthRequireTLS.
    """

    transient_failure_retry_count: int = 6
    transient_failure_retry_interval: timedelta = timedelta(minutes=5)
    outbound_connection_failure_retry_interval: timedelta = timedelta(minutes=10)
    message_expiration_timeout: timedelta = timedelta(days=2)
    queue_max_idle_time: timedelta = timedelta(minutes=3)
    tarpit_interval: timedelta = timedelta(seconds=5)
    connection_inactivity_timeout: timedelta = timedelta(minutes=5)
    send_inactivity_timeout: timedelta = timedelta(minutes=10)
    connect_timeout: timedelta = timedelta(seconds=30)
    dns_timeout: timedelta = timedelta(seconds=2)
    max_message_size: int = facts.MAX_MESSAGE_SIZE
    max_recipients: int = facts.MAX_RECIPIENTS
    max_hop_count: int = facts.MAX_HOP_COUNT
    max_protocol_errors: int = 5
    max_outbound_connections_per_queue: int = 20  # MaxPerDomainOutboundConnections
    protocol_logging_level: str = "None"
    basic_auth_without_tls: bool = False

    @classmethod
    def lab(cls, **overrides: object) -> TransportSettings:
        """The settings a lab uses by default: the product's, except for these deviations.

        * ``tarpit_interval`` 0.2 s instead of 5 s, so that a notebook cell does not stall on each rejection.
        * ``send_inactivity_timeout`` 30 s and ``connect_timeout`` 5 s: a lab never waits ten minutes.
        * ``protocol_logging_level`` ``Verbose``: the product logs no SMTP sessions by default, but seeing
          them is the point of the lab.
        * ``basic_auth_without_tls``: the lab has no TLS (so it never advertises STARTTLS); without this the
          Client connector's ``BasicAuthRequireTLS`` would leave no way for a learner's own client to log in.

        Args:
            overrides: any field, e.g. ``outbound_connection_failure_retry_interval=timedelta(seconds=5)`` for
                a demonstration of retries.

        Returns:
            The settings.

        Raises:
            TypeError: an unknown field.
        """
        base = cls(
            tarpit_interval=timedelta(seconds=0.2),
            send_inactivity_timeout=timedelta(seconds=30),
            connect_timeout=timedelta(seconds=5),
            protocol_logging_level="Verbose",
            basic_auth_without_tls=True,
        )
        return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]

    def retry_interval(self, retry_count: int) -> timedelta:
        """The wait before the next attempt after `retry_count` consecutive failures (facts §1.5 model).

        >>> s = TransportSettings()
        >>> s.retry_interval(1), s.retry_interval(7)
        (datetime.timedelta(seconds=300), datetime.timedelta(seconds=600))
        """
        if retry_count <= self.transient_failure_retry_count:
            return self.transient_failure_retry_interval
        return self.outbound_connection_failure_retry_interval

"""What Exchange 2010 shows, as literals: the tests' own table, independent of ``labkit.transport.facts``.

Each value is copied by hand from ``shared/reference/exchange-2010-facts.md`` (section in the comment), so a
typo in ``facts`` fails here instead of passing everywhere. The few values the reference does not record are
the lab's documented choices; they are marked "lab's choice" and pinned all the same.
``tests/test_expected_pins_facts.py`` compares this table with ``facts``.
"""

from __future__ import annotations

# -- queue LastError texts (facts §2.1) ----------------------------------------------------------------------------
NO_MATCHING_CONNECTOR = "A matching connector cannot be found to route the external recipient"
DNS_FAILED_PREFIX = "451 4.4.0 DNS query failed. The error was: "
DNS_INFO_NO_RECORDS = "451 4.4.0 DNS query failed. The error was: DNS query failed with error InfoNoRecords"
UNABLE_TO_CONNECT = "421 4.2.1 Unable to connect"
NEXT_HOP_UNREACHABLE = "Unreachable Domain"  # facts §1.2
DELIVERY_DNS = "DnsConnectorDelivery"  # facts §1.2
DELIVERY_SMART_HOST = "SmartHostConnectorDelivery"  # facts §1.2


def failover_error(reply: str) -> str:
    """The LastError after every target failed (facts §2.1, KB 979175), written out by hand."""
    return (
        f'451 4.4.0 Primary target IP address responded with: "{reply.rstrip(".")}." Attempted failover to '
        "alternate host, but that did not succeed. Either there are no alternate hosts, or delivery failed to "
        "all alternate hosts."
    )


# -- NDR status texts (facts §2.1, §2.2) ----------------------------------------------------------------------------
RECIP_NOT_FOUND = "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"
DNS_NONEXISTENT_DOMAIN = "554 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain"
QUEUE_EXPIRED = "550 4.4.7 QUEUE.Expired; message expired"

# -- SMTP receive replies (facts §4.5) --------------------------------------------------------------------------------
SENDER_OK = "250 2.1.0 Sender OK"
RECIPIENT_OK = "250 2.1.5 Recipient OK"
QUEUED = "250 2.6.0 {message_id} Queued mail for delivery"
RESETTING = "250 2.0.0 Resetting"
OK = "250 2.0.0 OK"
CANNOT_VRFY = "252 2.1.5 Cannot VRFY user"
CLOSING = "221 2.0.0 Service closing transmission channel"
AUTH_FAILED = "535 5.7.3 Authentication unsuccessful"
NOT_AUTHENTICATED = "530 5.7.1 Client was not authenticated"
UNABLE_TO_RELAY = "550 5.7.1 Unable to relay"
CANNOT_SEND_AS = "550 5.7.1 Client does not have permissions to send as this sender"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
SIZE_EXCEEDED = "552 5.3.4 Message size exceeds fixed maximum message size"
UNRECOGNIZED = "500 5.3.3 Unrecognized command"
SEND_HELLO_FIRST = "503 5.5.2 Send hello first"
SENDER_ALREADY = "503 5.5.2 Sender already specified"
NEED_MAIL = "503 5.5.2 Need mail command"
INVALID_ADDRESS = "501 5.1.7 Invalid address"
INACTIVITY_TIMEOUT = "451 4.7.0 Timeout waiting for client input"
TOO_MANY_ERRORS = "421 4.7.0 Too many errors on this connection, closing transmission channel"
HELP_LINES = (
    "214-This server supports the following commands:",
    "214 HELO EHLO STARTTLS RCPT DATA RSET MAIL QUIT HELP AUTH BDAT",
)
NEED_RCPT = "503 5.5.2 Need rcpt command"  # lab's choice: the reference does not record it
LINE_TOO_LONG = "500 5.5.2 Line too long"  # lab's choice
TLS_NOT_AVAILABLE = "454 4.7.0 TLS not available due to temporary reason"  # lab's choice

# -- limits (facts §3.3, §4.4) ------------------------------------------------------------------------------------------
MAX_MESSAGE_SIZE = 10_485_760  # "10 MB (10,485,760 bytes)"

# -- the lab's own choices --------------------------------------------------------------------------------------------
DEFAULT_PASSWORD = "P@ssw0rd"  # lab's choice: the scenario mailboxes' password for Basic AUTH

#: Every name above that has a namesake in ``labkit.transport.facts``.
PINNED = (
    "NO_MATCHING_CONNECTOR", "DNS_FAILED_PREFIX", "DNS_INFO_NO_RECORDS", "UNABLE_TO_CONNECT",
    "NEXT_HOP_UNREACHABLE", "DELIVERY_DNS", "DELIVERY_SMART_HOST", "RECIP_NOT_FOUND", "DNS_NONEXISTENT_DOMAIN",
    "QUEUE_EXPIRED", "SENDER_OK", "RECIPIENT_OK", "QUEUED", "RESETTING", "OK", "CANNOT_VRFY", "CLOSING",
    "AUTH_FAILED", "NOT_AUTHENTICATED", "UNABLE_TO_RELAY", "CANNOT_SEND_AS", "TOO_MANY_RECIPIENTS",
    "SIZE_EXCEEDED", "UNRECOGNIZED", "SEND_HELLO_FIRST", "SENDER_ALREADY", "NEED_MAIL", "INVALID_ADDRESS",
    "INACTIVITY_TIMEOUT", "TOO_MANY_ERRORS", "HELP_LINES", "NEED_RCPT", "LINE_TOO_LONG", "TLS_NOT_AVAILABLE",
    "MAX_MESSAGE_SIZE", "DEFAULT_PASSWORD",
)  # fmt: skip

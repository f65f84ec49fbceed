"""Exchange 2010 transport facts as constants: reply strings, LastError texts, names and defaults.

Every string a learner can see comes from here, verbatim from the fact reference
(``shared/reference/exchange-2010-facts.md``, cited as "facts §n"). Where the
reference marks a fact [U] (unconfirmed), the value is the lab's choice and its
comment says so; each such choice is made once, here.
"""

from __future__ import annotations

from typing import Final

# -- product identity --------------------------------------------------------------------------------------------------
#: Exchange 2010 RTM build, as written in Received: headers ("with Microsoft SMTP Server id 14.0.639.21").
#: Lab's choice [U]: the RTM build number; the facts do not record one.
EXCHANGE_VERSION: Final = "14.0.639.21"
PROTOCOL_LOG_VERSION: Final = "14.0.0.0"  # facts §5.3 "#Version: 14.0.0.0"

# -- queue names (facts §1.1, §1.2) ------------------------------------------------------------------------------------
SUBMISSION: Final = "Submission"
UNREACHABLE: Final = "Unreachable"
POISON: Final = "Poison"
NEXT_HOP_SUBMISSION: Final = "Submission"
NEXT_HOP_UNREACHABLE: Final = "Unreachable Domain"
NEXT_HOP_POISON: Final = "Poison Message"
DELIVERY_UNDEFINED: Final = "Undefined"
DELIVERY_UNREACHABLE: Final = "Unreachable"
DELIVERY_DNS: Final = "DnsConnectorDelivery"
DELIVERY_SMART_HOST: Final = "SmartHostConnectorDelivery"
QUEUE_STATUSES: Final = ("Active", "Ready", "Retry", "Suspended")
MESSAGE_STATUSES: Final = ("Active", "Ready", "Retry", "Suspended", "PendingRemove", "PendingSuspend")
NULL_GUID: Final = "00000000-0000-0000-0000-000000000000"
#: Lab's choice [U]: Unreachable and Poison are listed by Get-Queue only while they hold messages (Queue
#: Viewer behaviour, facts §1.1); delivery queues stay listed, empty, for QueueMaxIdleTime (3 min) and are
#: then deleted; Submission is always listed.

# -- message source names (facts §1.3) ---------------------------------------------------------------------------------
SOURCE_SMTP_PREFIX: Final = "SMTP:"
SOURCE_FROM_LOCAL: Final = "FromLocal"  # [U] value for mailbox submissions; lab's choice
SOURCE_DSN: Final = "DSN"

# -- LastError texts (facts §2.1) --------------------------------------------------------------------------------------
NO_MATCHING_CONNECTOR: Final = "A matching connector cannot be found to route the external recipient"
DNS_FAILED_PREFIX: Final = "451 4.4.0 DNS query failed. The error was: "
DNS_INFO_NO_RECORDS: Final = DNS_FAILED_PREFIX + "DNS query failed with error InfoNoRecords"
DNS_ERROR_RETRY: Final = DNS_FAILED_PREFIX + "DNS query failed with error ErrorRetry"
DNS_NONEXISTENT_DOMAIN_RETRY: Final = DNS_FAILED_PREFIX + "SMTPSEND.DNS.NonExistentDomain; nonexistent domain"
UNABLE_TO_CONNECT: Final = "421 4.2.1 Unable to connect"
CONNECTION_TIMED_OUT: Final = "421 4.4.1 Connection timed out"
CONNECTION_DROPPED: Final = "421 4.4.2 Connection dropped"
#: The frame wrapped around the primary target's answer (KB 979175; facts §2.1). The inner reply is quoted and
#: followed by a full stop, exactly as in `"421 4.2.1 Unable to connect."`.
FAILOVER_FRAME: Final = (
    '451 4.4.0 Primary target IP address responded with: "{reply}." Attempted failover to alternate host, '
    "but that did not succeed. Either there are no alternate hosts, or delivery failed to all alternate hosts."
)


def failover_error(reply: str) -> str:
    """The queue LastError after every target host failed, around the primary target's reply.

    >>> failover_error(UNABLE_TO_CONNECT)[:86]
    '451 4.4.0 Primary target IP address responded with: "421 4.2.1 Unable to connect." Att'
    """
    return FAILOVER_FRAME.format(reply=reply.rstrip("."))


# -- NDR status texts (facts §2.1, §2.2) -------------------------------------------------------------------------------
RECIP_NOT_FOUND: Final = "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"
DNS_NONEXISTENT_DOMAIN: Final = "554 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain"
DNS_MX_LOOPBACK: Final = "554 5.4.4 SMTPSEND.DNS.MxLoopback; DNS records for this domain are configured in a loop"
ROUTING_SIZE_LIMIT: Final = "550 5.3.4 ROUTING.SizeLimit; message size exceeds fixed maximum size for route"
QUEUE_EXPIRED: Final = "550 4.4.7 QUEUE.Expired; message expired"
QUEUE_EXPIRED_UNREACHABLE: Final = (
    "550 4.4.7 QUEUE.Expired; message expired in unreachable destination queue. Reason: {reason}"
)
QUEUE_ADMIN_DELETED: Final = "550 4.3.2 QUEUE.Admin; message deleted by administrative action"
HOP_COUNT_EXCEEDED: Final = "554 5.4.6 Hop count exceeded - possible mail loop"

# -- SMTP receive replies (facts §4.5) ---------------------------------------------------------------------------------
BANNER: Final = "220 {fqdn} Microsoft ESMTP MAIL Service ready at {date}"
HELLO: Final = "250 {fqdn} Hello [{ip}]"
SENDER_OK: Final = "250 2.1.0 Sender OK"
RECIPIENT_OK: Final = "250 2.1.5 Recipient OK"
START_MAIL_INPUT: Final = "354 Start mail input; end with <CRLF>.<CRLF>"
QUEUED: Final = "250 2.6.0 {message_id} Queued mail for delivery"
RESETTING: Final = "250 2.0.0 Resetting"
OK: Final = "250 2.0.0 OK"
CANNOT_VRFY: Final = "252 2.1.5 Cannot VRFY user"
CLOSING: Final = "221 2.0.0 Service closing transmission channel"
AUTH_OK: Final = "235 2.7.0 Authentication successful"
AUTH_FAILED: Final = "535 5.7.3 Authentication unsuccessful"
AUTH_UNRECOGNIZED: Final = "504 5.7.4 Unrecognized authentication type"
NOT_AUTHENTICATED: Final = "530 5.7.1 Client was not authenticated"
UNABLE_TO_RELAY: Final = "550 5.7.1 Unable to relay"
CANNOT_SEND_AS: Final = "550 5.7.1 Client does not have permissions to send as this sender"
TOO_MANY_RECIPIENTS: Final = "452 4.5.3 Too many recipients"
SIZE_EXCEEDED: Final = "552 5.3.4 Message size exceeds fixed maximum message size"
UNRECOGNIZED: Final = "500 5.3.3 Unrecognized command"
SEND_HELLO_FIRST: Final = "503 5.5.2 Send hello first"
SENDER_ALREADY: Final = "503 5.5.2 Sender already specified"
NEED_MAIL: Final = "503 5.5.2 Need mail command"
INVALID_ADDRESS: Final = "501 5.1.7 Invalid address"
INACTIVITY_TIMEOUT: Final = "451 4.7.0 Timeout waiting for client input"
TOO_MANY_ERRORS: Final = "421 4.7.0 Too many errors on this connection, closing transmission channel"
SERVICE_NOT_AVAILABLE: Final = "421 4.3.2 Service not available"
HELP_LINES: Final = (
    "214-This server supports the following commands:",
    "214 HELO EHLO STARTTLS RCPT DATA RSET MAIL QUIT HELP AUTH BDAT",
)
#: Lab's choices [U] for replies the facts do not record exactly.
NEED_RCPT: Final = "503 5.5.2 Need rcpt command"
EHLO_NEEDS_DOMAIN: Final = "501 5.0.0 {verb} requires domain address"  # facts §4.5 [U exact]
INVALID_ARGUMENTS: Final = "501 5.5.4 Invalid arguments"
LINE_TOO_LONG: Final = "500 5.5.2 Line too long"
ALREADY_AUTHENTICATED: Final = "503 5.5.2 Already authenticated"
TLS_NOT_AVAILABLE: Final = "454 4.7.0 TLS not available due to temporary reason"
AUTH_ABORTED: Final = "501 5.7.0 Authentication aborted"
TEMPORARY_ERROR: Final = "451 4.7.0 Temporary server error. Please try again later"

# -- tracking log (facts §5.2) -----------------------------------------------------------------------------------------
EVENT_IDS: Final = (
    "BADMAIL", "DEFER", "DELIVER", "DSN", "DUPLICATEDELIVER", "EXPAND", "FAIL", "POISONMESSAGE",
    "RECEIVE", "REDIRECT", "RESOLVE", "SEND", "SUBMIT", "TRANSFER",
)  # fmt: skip
SOURCES: Final = ("ADMIN", "AGENT", "DSN", "GATEWAY", "PICKUP", "ROUTING", "SMTP", "STOREDRIVER")

# -- accepted domains, connectors, permissions (facts §3, §4, §5.1) ----------------------------------------------------
DOMAIN_TYPES: Final = ("Authoritative", "InternalRelay", "ExternalRelay")
SEND_USAGES: Final = ("Custom", "Internal", "Internet", "Partner")
RECEIVE_USAGES: Final = ("Client", "Custom", "Internal", "Internet", "Partner")
AUTH_MECHANISMS: Final = (
    "None", "Tls", "Integrated", "BasicAuth", "BasicAuthRequireTLS", "ExchangeServer", "ExternallySecured",
)  # fmt: skip
PROTOCOL_LOGGING_LEVELS: Final = ("None", "Verbose")
DEFAULT_CONNECTOR_AUTH: Final = ("Tls", "Integrated", "BasicAuth", "BasicAuthRequireTLS", "ExchangeServer")
CLIENT_CONNECTOR_AUTH: Final = ("Tls", "Integrated", "BasicAuth", "BasicAuthRequireTLS")
DEFAULT_CONNECTOR_GROUPS: Final = ("ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers")
CLIENT_CONNECTOR_GROUPS: Final = ("ExchangeUsers",)
ALL_IPV4: Final = "0.0.0.0-255.255.255.255"
MAX_MESSAGE_SIZE: Final = 10 * 1024 * 1024  # 10 MB (10,485,760 bytes), facts §3.3, §4.4
MAX_RECIPIENTS: Final = 200  # facts §4.4
MAX_HOP_COUNT: Final = 30  # facts §4.4
SMTP_PORT: Final = 25
SUBMISSION_PORT: Final = 587
ADDRESS_SPACE_COST_RANGE: Final = (1, 100)  # facts §3.3

# -- NDR (facts §2.3, §8.3) --------------------------------------------------------------------------------------------
NDR_SUBJECT_PREFIX: Final = "Undeliverable: "
NDR_HEADLINE: Final = "Delivery has failed to these recipients or groups:"
NDR_ADMIN: Final = "Diagnostic information for administrators:"
NDR_GENERATING: Final = "Generating server: {server}"
NDR_ORIGINAL_HEADERS: Final = "Original message headers:"
#: Lab's choice [U]: the well-known Exchange 2007/2010 system sender of NDRs, with its display name.
NDR_FROM_NAME: Final = "Microsoft Exchange"
NDR_FROM_LOCAL: Final = "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e"
#: Lab's choice [U]: friendly sentences by enhanced status code (class.subject prefix); facts §2.3 records the 5.7
#: one; the others are plausible 2010 wording.
NDR_FRIENDLY: Final = {
    "5.7": (
        "Your message wasn't delivered because of security policies. Microsoft Exchange will not try to redeliver "
        "this message for you. Please provide the following diagnostic text to your system administrator."
    ),
    "5.1.1": (
        "The e-mail address you entered couldn't be found. Please check the recipient's e-mail address and try to "
        "resend the message. If the problem continues, please contact your helpdesk."
    ),
    "5.4.4": (
        "The recipient's e-mail address domain couldn't be found in DNS. Check the spelling of the domain in the "
        "recipient's address and try to resend the message."
    ),
    "4.4.7": (
        "The recipient's e-mail system didn't respond in time. Microsoft Exchange gave up trying to deliver the "
        "message."
    ),
    "": (
        "The message couldn't be delivered. Microsoft Exchange will not try to redeliver this message for you. "
        "Please provide the following diagnostic text to your system administrator."
    ),
}

# -- the lab's other choices -------------------------------------------------------------------------------------------
#: Password of the scenario's mailboxes for Basic AUTH (a learner's own client on the Client connector).
DEFAULT_PASSWORD: Final = "P@ssw0rd"
#: Message-ID of messages transport creates: a per-server counter, persisted, e.g. <00000001@mail.contoso.com>.
MESSAGE_ID_FORMAT: Final = "<{n:08d}@{fqdn}>"

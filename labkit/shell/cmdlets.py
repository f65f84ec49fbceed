"""The cmdlet table: each Exchange Management Shell cmdlet → the `ServerFacade` verb it runs.

One `CmdletSpec` per cmdlet holds everything the shell needs: the facade method,
the product's parameter names mapped to the method's keywords (with their
PowerShell types, positions, which are mandatory and which take pipeline
input), the object type it writes, and that type's default table columns (what
the product prints without ``| fl``). Adding a cmdlet is one entry here, e.g. once
the transport server's settings and certificates exist (issue 13)::

    CmdletSpec("Get-TransportServer", "get_transport_server", _SYS + "GetTransportServer",
               (_identity(False),), "TransportServer", ("Name",)),
    CmdletSpec("Set-TransportServer", "set_transport_server", _SYS + "SetTransportServer", (
        _identity(accepts=("TransportServer",)),
        Param("MessageExpirationTimeout", "message_expiration_timeout"),
        Param("DelayNotificationTimeout", "delay_notification_timeout"), ...)),
    CmdletSpec("Get-ExchangeCertificate", "get_exchange_certificate", _SYS + "GetExchangeCertificate",
               (_identity(False), _SERVER), "ExchangeCertificate", ("Thumbprint", "Services", "Subject")),

(the keyword names are whatever the facade's methods take; everything else — binding, errors,
layout, pipelines, the Python shown beside the cmdlet — follows from the entry).

Parameters whose ``arg`` starts with ``_`` are handled by the shell itself
(``-Server``, ``-Filter``, ``-Start``/``-End``, ``-ResultSize``, ``-Confirm``...)
rather than passed to the facade.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["string", "strings", "bool", "switch", "flag", "int", "size", "date", "resultsize", "filter"]
MISSING: Any = object()

_SYS = "Microsoft.Exchange.Management.SystemConfigurationTasks."
_QUEUE = "Microsoft.Exchange.Management.QueueViewerTasks."
_RECIPIENT = "Microsoft.Exchange.Management.RecipientTasks."
_LOGS = "Microsoft.Exchange.Management.TransportLogSearchTasks."


@dataclass(frozen=True)
class Param:
    """One parameter of a cmdlet.

    Attributes:
        name: the product's parameter name, e.g. ``AddressSpaces``.
        arg: the facade keyword it maps to (``address_spaces``); ``_name`` for the shell's own handling.
        kind: the PowerShell type: string, strings (a multi-valued property), bool, switch, flag (a switch
            that sets `arg` to `value`, like ``-Internet`` for ``-Usage Internet``), int, size, date,
            resultsize (a number or ``Unlimited``) or filter (a script block).
        mandatory: PowerShell asks for it when missing.
        position: its place among positional arguments (0 = first), or None.
        pipeline: takes the ``Identity`` of objects piped in, of the types in `accepts`.
        accepts: object types that bind to it from the pipeline.
        value: the value a ``flag`` sets.
        default: what the product uses when it is not given (MISSING: the facade's default).
        null: what ``$null`` means for the facade (e.g. ``""`` restores the default banner).
    """

    name: str
    arg: str
    kind: Kind = "string"
    mandatory: bool = False
    position: int | None = None
    pipeline: bool = False
    accepts: tuple[str, ...] = ()
    value: Any = None
    default: Any = MISSING
    null: Any = None

    @property
    def type_name(self) -> str:
        """The .NET type PowerShell names in its binding errors."""
        return {
            "bool": "System.Boolean", "switch": "System.Management.Automation.SwitchParameter",
            "flag": "System.Management.Automation.SwitchParameter", "int": "System.Int32",
            "date": "System.DateTime", "strings": "Microsoft.Exchange.Data.MultiValuedProperty",
            "filter": "System.String", "resultsize": "Microsoft.Exchange.Data.Unlimited",
        }.get(self.kind, "System.String")  # fmt: skip


@dataclass(frozen=True)
class CmdletSpec:
    """One cmdlet: what it runs, what it takes, what it writes.

    Attributes:
        name: e.g. ``New-SendConnector``.
        method: the `ServerFacade` method; "" for the shell's own cmdlets (Format-List...).
        task_class: the product's task class, named in FullyQualifiedErrorId.
        params: its parameters, in the product's order (ambiguity messages list them so).
        output: the type of the objects it writes (``SendConnector``), or None when it writes nothing.
        columns: that type's default table columns.
        lists: columns that hold a collection (``a;b`` from the facade), shown ``{a, b}``.
        pick: the column that identifies the new object in what a New- verb returns, and the keyword whose
            value it must equal (New-Mailbox returns every mailbox; the cmdlet writes the new one).
        one_of: parameter sets: one of these must be given (``Identity`` or ``Filter``).
        getter: for verbs that take ``-Filter``: the facade method listing the objects to filter.
        select: for Get- verbs whose facade method takes no identity: the columns a positional Identity may match.
        unmodelled: the product's parameters the lab leaves out; naming one gets PowerShell's error with a note
            saying so, rather than suggesting a typo.
    """

    name: str
    method: str
    task_class: str
    params: tuple[Param, ...]
    output: str | None = None
    columns: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    pick: tuple[str, str] | None = None
    one_of: tuple[str, ...] = ()
    getter: str = ""
    select: tuple[str, ...] = ()
    unmodelled: tuple[str, ...] = ()

    def param(self, name: str) -> Param:
        """The parameter called `name` (exact, case-insensitive)."""
        return next(p for p in self.params if p.name.lower() == name.lower())


def _identity(mandatory: bool = True, accepts: tuple[str, ...] = (), arg: str = "identity") -> Param:
    return Param("Identity", arg, "string", mandatory, 0, pipeline=bool(accepts), accepts=accepts)


def _fixed(name: str, value: Any) -> Param:
    # A product parameter whose only value in the lab is the product's default: accepted when it is given that
    # value (the EMC's own command line passes -IsScopedConnector $false), rejected otherwise.
    return Param(name, "_fixed", "bool", value=value)


_SERVER = Param("Server", "_server")
_CONFIRM = Param("Confirm", "_confirm", "switch")
_FILTER = Param("Filter", "_filter", "filter")
_QUEUE_COLUMNS = ("Identity", "DeliveryType", "Status", "MessageCount", "NextHopDomain")
_MESSAGE_COLUMNS = ("Identity", "FromAddress", "Status", "Queue", "Subject")
_SEND_COLUMNS = ("Identity", "AddressSpaces", "Enabled")
_RECEIVE_COLUMNS = ("Identity", "Bindings", "Enabled")
_DOMAIN_COLUMNS = ("Name", "DomainName", "DomainType", "Default")
_MAILBOX_COLUMNS = ("Name", "Alias", "ServerName", "ProhibitSendQuota")
_TRACKING_COLUMNS = ("EventId", "Source", "Sender", "Recipients", "MessageSubject")

_SEND_SETTINGS = (
    Param("AddressSpaces", "address_spaces", "strings"),
    Param("Usage", "usage"),
    Param("DNSRoutingEnabled", "dns_routing", "bool"),
    Param("SmartHosts", "smart_hosts", "strings", null=[]),
    Param("MaxMessageSize", "max_message_size", "size"),
    Param("Fqdn", "fqdn"),
)
_SEND_UNMODELLED = ("AuthenticationCredential", "Comment", "ConnectionInactivityTimeOut", "DomainSecureEnabled",
                    "ForceHELO", "IgnoreSTARTTLS", "RequireTLS", "SmartHostAuthMechanism", "SourceIPAddress")
_RECEIVE_UNMODELLED = ("ConnectionTimeout", "ConnectionInactivityTimeout", "DomainSecureEnabled", "MaxHopCount",
                       "MaxInboundConnection", "MaxInboundConnectionPerSource", "MaxLogonFailures", "MaxProtocolErrors",
                       "RequireTLS", "TarpitInterval", "Comment")
_USAGE_FLAGS = tuple(Param(u, "usage", "flag", value=u) for u in ("Custom", "Internal", "Internet", "Partner"))
_RECEIVE_SETTINGS = (
    Param("PermissionGroups", "permission_groups", "strings"),
    Param("RemoteIPRanges", "remote_ip_ranges", "strings"),
    Param("AuthMechanism", "auth_mechanism", "strings"),
    Param("Bindings", "bindings", "strings"),
    Param("Enabled", "enabled", "bool"),
    Param("MaxMessageSize", "max_message_size", "size"),
    Param("MaxRecipientsPerMessage", "max_recipients_per_message", "int"),
    Param("Fqdn", "fqdn"),
    Param("Banner", "banner", null=""),
    Param("ProtocolLoggingLevel", "protocol_logging_level"),
)

CMDLETS: tuple[CmdletSpec, ...] = (
    # -- send connectors (facts §3.3) -----------------------------------------------------------------------
    CmdletSpec("New-SendConnector", "new_send_connector", _SYS + "NewSendConnector", (
        Param("Name", "name", mandatory=True, position=0),
        Param("AddressSpaces", "address_spaces", "strings", mandatory=True),
        Param("Usage", "usage", default="Custom"),  # the product's default usage is Custom
        *_USAGE_FLAGS, *_SEND_SETTINGS[2:],
        Param("SourceTransportServers", "_source_servers", "strings"),
        _fixed("IsScopedConnector", False), _fixed("UseExternalDNSServersEnabled", False),
    ), "SendConnector", _SEND_COLUMNS, unmodelled=_SEND_UNMODELLED),
    CmdletSpec("Get-SendConnector", "get_send_connector", _SYS + "GetSendConnector",
               (_identity(False),), "SendConnector", _SEND_COLUMNS),
    CmdletSpec("Set-SendConnector", "set_send_connector", _SYS + "SetSendConnector", (
        _identity(accepts=("SendConnector",)), *_SEND_SETTINGS,
        Param("Enabled", "enabled", "bool"), Param("Port", "port", "int"), Param("Name", "name"),
        Param("ProtocolLoggingLevel", "protocol_logging_level"),
        Param("SourceTransportServers", "_source_servers", "strings"),
        _fixed("IsScopedConnector", False), _fixed("UseExternalDNSServersEnabled", False),
    ), unmodelled=_SEND_UNMODELLED),
    CmdletSpec("Remove-SendConnector", "remove_send_connector", _SYS + "RemoveSendConnector",
               (_identity(accepts=("SendConnector",), arg="name"), _CONFIRM)),
    # -- receive connectors (facts §4) ------------------------------------------------------------------------
    CmdletSpec("New-ReceiveConnector", "new_receive_connector", _SYS + "NewReceiveConnector", (
        Param("Name", "name", mandatory=True, position=0),
        Param("Bindings", "bindings", "strings", mandatory=True),
        Param("RemoteIPRanges", "remote_ip_ranges", "strings", mandatory=True),
        Param("Usage", "usage"),
        *(Param(u, "usage", "flag", value=u) for u in ("Client", "Custom", "Internal", "Internet", "Partner")),
        Param("PermissionGroups", "permission_groups", "strings"),
        *(p for p in _RECEIVE_SETTINGS if p.name not in ("PermissionGroups", "RemoteIPRanges", "Bindings")),
        _SERVER,
    ), "ReceiveConnector", _RECEIVE_COLUMNS),
    CmdletSpec("Get-ReceiveConnector", "get_receive_connector", _SYS + "GetReceiveConnector",
               (_identity(False), _SERVER), "ReceiveConnector", _RECEIVE_COLUMNS),
    CmdletSpec("Set-ReceiveConnector", "set_receive_connector", _SYS + "SetReceiveConnector",
               (_identity(accepts=("ReceiveConnector",)), *_RECEIVE_SETTINGS), unmodelled=_RECEIVE_UNMODELLED),
    CmdletSpec("Remove-ReceiveConnector", "remove_receive_connector", _SYS + "RemoveReceiveConnector",
               (_identity(accepts=("ReceiveConnector",)), _CONFIRM)),
    # -- accepted domains and mailboxes (facts §5.1) ----------------------------------------------------------
    CmdletSpec("Get-AcceptedDomain", "get_accepted_domain", _SYS + "GetAcceptedDomain",
               (_identity(False, arg="_select"),), "AcceptedDomain", _DOMAIN_COLUMNS, select=("Name", "DomainName")),
    CmdletSpec("New-AcceptedDomain", "new_accepted_domain", _SYS + "NewAcceptedDomain", (
        Param("Name", "name", mandatory=True, position=0),
        Param("DomainName", "domain_name", mandatory=True),
        Param("DomainType", "domain_type"),
    ), "AcceptedDomain", _DOMAIN_COLUMNS, pick=("Name", "name")),
    CmdletSpec("Get-Mailbox", "get_mailbox", _RECIPIENT + "GetMailbox",
               (_identity(False, arg="_select"), _SERVER), "Mailbox", _MAILBOX_COLUMNS,
               select=("Name", "Alias", "PrimarySmtpAddress")),
    CmdletSpec("New-Mailbox", "new_mailbox", _RECIPIENT + "NewMailbox", (
        Param("Name", "display_name", mandatory=True, position=0),
        Param("UserPrincipalName", "address", mandatory=True),
        Param("Password", "password"),
    ), "Mailbox", _MAILBOX_COLUMNS, pick=("PrimarySmtpAddress", "address")),
    # -- queues and messages (facts §1.2-§1.4) ------------------------------------------------------------------
    CmdletSpec("Get-Queue", "get_queue", _QUEUE + "GetQueue",
               (_identity(False), _SERVER, _FILTER), "Queue", _QUEUE_COLUMNS),
    CmdletSpec("Retry-Queue", "retry_queue", _QUEUE + "RetryQueue", (
        _identity(False, accepts=("Queue",)), Param("Resubmit", "resubmit", "bool"), _SERVER, _FILTER,
    ), one_of=("Identity", "Filter"), getter="get_queue"),
    CmdletSpec("Suspend-Queue", "suspend_queue", _QUEUE + "SuspendQueue",
               (_identity(False, accepts=("Queue",)), _SERVER, _FILTER, _CONFIRM),
               one_of=("Identity", "Filter"), getter="get_queue"),
    CmdletSpec("Resume-Queue", "resume_queue", _QUEUE + "ResumeQueue",
               (_identity(False, accepts=("Queue",)), _SERVER, _FILTER, _CONFIRM),
               one_of=("Identity", "Filter"), getter="get_queue"),
    CmdletSpec("Get-Message", "get_message", _QUEUE + "GetMessage", (
        _identity(False, arg="_select"),
        Param("Queue", "queue", pipeline=True, accepts=("Queue",)), _SERVER, _FILTER,
    ), "Message", _MESSAGE_COLUMNS, lists=("Recipients",), select=("Identity",)),
    CmdletSpec("Remove-Message", "remove_message", _QUEUE + "RemoveMessage", (
        _identity(False, accepts=("Message",)), Param("WithNDR", "with_ndr", "bool", mandatory=True),
        _SERVER, _FILTER, _CONFIRM,
    ), one_of=("Identity", "Filter"), getter="get_message"),
    # -- logs (facts §5.2) --------------------------------------------------------------------------------------
    CmdletSpec("Get-MessageTrackingLog", "get_message_tracking_log", _LOGS + "GetMessageTrackingLog", (
        Param("Sender", "sender"), Param("Recipients", "recipients", "strings"), Param("EventId", "event_id"),
        Param("MessageId", "message_id"), Param("Start", "_start", "date"), Param("End", "_end", "date"),
        _SERVER, Param("ResultSize", "_result_size", "resultsize", default=1000),
    ), "MessageTrackingEvent", _TRACKING_COLUMNS, lists=("Recipients", "RecipientStatus")),
)

BY_NAME: dict[str, CmdletSpec] = {c.name.lower(): c for c in CMDLETS}


def find(name: str) -> CmdletSpec | None:
    """The Exchange cmdlet called `name` (case-insensitive), or None."""
    return BY_NAME.get(name.lower())

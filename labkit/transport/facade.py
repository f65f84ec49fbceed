"""`ServerFacade`: the synchronous face of one Exchange server, with the Exchange Management Shell's verbs.

``lab.server("mail.contoso.com").new_send_connector("Internet", ["*"])`` reads like
``New-SendConnector -Name Internet -AddressSpaces *``. Every call crosses into the
lab loop; ``get_*`` return DataFrames with the product's column names and order,
times as ISO text (so a notebook's sanitize file can mask them). Bad input raises
a `LabkitError` naming the object, the valid choices and the fix, and changes
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from labkit.errors import InvalidValue
from labkit.runtime import LabRuntime
from labkit.transport import facts
from labkit.transport.logs import PROTOCOL_COLUMNS, TRACKING_COLUMNS
from labkit.transport.queues import MESSAGE_COLUMNS, QUEUE_COLUMNS
from labkit.transport.server import ExchangeServer
from labkit.transport.snapshot import ServerSnapshot
from labkit.views import frame

SEND_CONNECTOR_COLUMNS = (
    "Identity", "AddressSpaces", "Enabled", "DNSRoutingEnabled", "SmartHosts", "Fqdn", "MaxMessageSize", "Port",
    "SourceTransportServers", "Usage", "ProtocolLoggingLevel", "ConnectionInactivityTimeOut", "Guid",
)  # fmt: skip
RECEIVE_CONNECTOR_COLUMNS = (
    "Identity", "Bindings", "Enabled", "RemoteIPRanges", "AuthMechanism", "PermissionGroups", "MaxMessageSize",
    "MaxRecipientsPerMessage", "Fqdn", "Banner", "ProtocolLoggingLevel", "Server", "Name",
)  # fmt: skip
ACCEPTED_DOMAIN_COLUMNS = ("Name", "DomainName", "DomainType", "Default")
MAILBOX_COLUMNS = ("Name", "Alias", "ServerName", "ProhibitSendQuota", "PrimarySmtpAddress", "DisplayName")


def _as_list(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class ServerFacade:
    """``lab.server(name)``: manage one Exchange server like the Exchange Management Shell.

    Args:
        runtime: the lab loop.
        server: the server (lives on the loop).
    """

    def __init__(self, runtime: LabRuntime, server: ExchangeServer) -> None:
        self._runtime = runtime
        self._server = server

    @property
    def name(self) -> str:
        """The server's FQDN."""
        return self._server.fqdn

    @property
    def identity(self) -> str:
        """The server's short (NetBIOS) name, e.g. ``MAIL``."""
        return self._server.short_name

    def snapshot(self) -> ServerSnapshot:
        """This server's configuration and queues now, as typed, frozen records (what the faces read)."""
        snap: ServerSnapshot = self._call(self._server.snapshot)
        return snap

    def _call(self, fn: Any, *args: Any) -> Any:
        return self._runtime.call(fn, *args)

    # -- send connectors ------------------------------------------------------------------------------------
    def new_send_connector(
        self,
        name: str,
        address_spaces: str | Iterable[str] = ("*",),
        usage: str = "Internet",
        dns_routing: bool = True,
        smart_hosts: str | Iterable[str] | None = None,
        max_message_size: int | str | None = None,
        fqdn: str | None = None,
    ) -> pd.DataFrame:
        """New-SendConnector: route mail for `address_spaces` out of the organisation.

        Args:
            name: e.g. ``"Internet"``.
            address_spaces: ``*``, ``contoso.com``, ``*.contoso.com`` or ``SMTP:*;1`` (cost 1-100).
            usage: ``Custom``, ``Internal``, ``Internet`` or ``Partner``.
            dns_routing: route by MX records (True) or through `smart_hosts`.
            smart_hosts: FQDNs or IP addresses, when `dns_routing` is False.
            max_message_size: bytes or text like ``10MB`` (default 10 MB).
            fqdn: the name given in EHLO (default: the server's FQDN).

        Returns:
            The new connector as Get-SendConnector shows it. Messages waiting in Unreachable are resubmitted.

        Raises:
            InvalidValue, DuplicateObject: nothing is changed.
        """
        self._runtime.call(
            lambda: self._server.new_send_connector(
                name, address_spaces, usage, dns_routing, smart_hosts, max_message_size, fqdn
            )
        )
        return self.get_send_connector(name)

    def get_send_connector(self, identity: str | None = None) -> pd.DataFrame:
        """Get-SendConnector (one row per connector; `identity` narrows to one).

        Raises:
            UnknownObject: `identity` does not exist.
        """
        if identity is not None:
            name = self._call(self._server._send_connector, identity).name
            rows = [r for r in self._call(self._server.send_connector_rows) if r["Identity"] == name]
        else:
            rows = self._call(self._server.send_connector_rows)
        return frame(rows, SEND_CONNECTOR_COLUMNS)

    def has_send_connector(self, name: str) -> bool:
        """Whether a send connector called `name` exists."""
        return any(r["Identity"].lower() == name.lower() for r in self._call(self._server.send_connector_rows))

    def set_send_connector(self, identity: str, **changes: Any) -> pd.DataFrame:
        """Set-SendConnector: change `address_spaces`, `usage`, `dns_routing`, `smart_hosts`, `max_message_size`,
        `fqdn`, `enabled`, `port`, `name` or `protocol_logging_level`.

        Returns:
            The connector after the change. A routing change resubmits Unreachable.

        Raises:
            UnknownObject, InvalidValue, DuplicateObject: nothing is changed.
        """
        updated = self._runtime.call(lambda: self._server.set_send_connector(identity, **changes))
        return self.get_send_connector(updated.name)

    def remove_send_connector(self, name: str) -> None:
        """Remove-SendConnector; messages queued for it are routed again.

        Raises:
            UnknownObject: no such connector.
        """
        self._call(self._server.remove_send_connector, name)

    # -- receive connectors -------------------------------------------------------------------------------------
    def get_receive_connector(self, identity: str | None = None) -> pd.DataFrame:
        """Get-ReceiveConnector (``MAIL\\Default MAIL`` and ``MAIL\\Client MAIL`` out of the box).

        Raises:
            UnknownObject: `identity` does not exist.
        """
        rows = self._call(self._server.receive_connector_rows)
        if identity is not None:
            wanted = self._call(self._server._receive_connector, identity).identity
            rows = [r for r in rows if r["Identity"] == wanted]
        return frame(rows, RECEIVE_CONNECTOR_COLUMNS)

    def set_receive_connector(
        self,
        identity: str,
        permission_groups: str | Iterable[str] | None = None,
        remote_ip_ranges: str | Iterable[str] | None = None,
        auth_mechanism: str | Iterable[str] | None = None,
        bindings: str | Iterable[str] | None = None,
        enabled: bool | None = None,
        max_message_size: int | str | None = None,
        max_recipients_per_message: int | None = None,
        fqdn: str | None = None,
        banner: str | None = None,
        protocol_logging_level: str | None = None,
    ) -> pd.DataFrame:
        """Set-ReceiveConnector. ``permission_groups`` replaces the whole list (facts §4.1), e.g.
        ``["AnonymousUsers", "ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers"]``.

        Args:
            identity: ``MAIL\\Default MAIL`` or ``Default MAIL``.
            permission_groups: AnonymousUsers, ExchangeUsers, ExchangeServers, ExchangeLegacyServers, Partners, Custom.
            remote_ip_ranges: addresses, ``a-b`` ranges or CIDRs.
            auth_mechanism: e.g. ``"Tls, BasicAuth"``.
            bindings: ``ip:port`` list.
            enabled, max_message_size, max_recipients_per_message, fqdn, protocol_logging_level: as in the product.
            banner: a custom banner starting with ``220 `` (``""`` restores the default).

        Returns:
            The connector after the change.

        Raises:
            UnknownObject, InvalidValue: nothing is changed.
        """
        changes: dict[str, Any] = {
            key: value
            for key, value in {
                "permission_groups": permission_groups,
                "remote_ip_ranges": remote_ip_ranges,
                "auth_mechanism": auth_mechanism,
                "bindings": bindings,
                "enabled": enabled,
                "max_message_size": max_message_size,
                "max_recipients_per_message": max_recipients_per_message,
                "fqdn": fqdn,
                "banner": banner,
                "protocol_logging_level": protocol_logging_level,
            }.items()
            if value is not None
        }
        if changes.get("banner") == "":
            changes["banner"] = None
        updated = self._runtime.run(
            self._server.set_receive_connector(identity, **changes), what="set_receive_connector"
        )
        return self.get_receive_connector(updated.identity)

    def new_receive_connector(
        self,
        name: str,
        bindings: str | Iterable[str],
        remote_ip_ranges: str | Iterable[str],
        usage: str = "Custom",
        permission_groups: str | Iterable[str] | None = None,
        **settings: Any,
    ) -> pd.DataFrame:
        """New-ReceiveConnector; `usage` (Client, Custom, Internal, Internet, Partner) sets the default groups.

        Raises:
            InvalidValue, DuplicateObject: nothing is changed.
        """
        created = self._runtime.run(
            self._server.new_receive_connector(name, bindings, remote_ip_ranges, usage, permission_groups, **settings),
            what="new_receive_connector",
        )
        return self.get_receive_connector(created.identity)

    def remove_receive_connector(self, identity: str) -> None:
        """Remove-ReceiveConnector.

        Raises:
            UnknownObject: no such connector.
        """
        self._runtime.run(self._server.remove_receive_connector(identity), what="remove_receive_connector")

    # -- accepted domains, mailboxes ------------------------------------------------------------------------------
    def get_accepted_domain(self) -> pd.DataFrame:
        """Get-AcceptedDomain."""
        return frame(self._call(self._server.accepted_domain_rows), ACCEPTED_DOMAIN_COLUMNS)

    def new_accepted_domain(self, name: str, domain_name: str, domain_type: str = "Authoritative") -> pd.DataFrame:
        """New-AcceptedDomain (Authoritative, InternalRelay or ExternalRelay).

        Raises:
            InvalidValue, DuplicateObject: nothing is changed.
        """
        self._runtime.call(lambda: self._server.new_accepted_domain(name, domain_name, domain_type))
        return self.get_accepted_domain()

    def get_mailbox(self) -> pd.DataFrame:
        """Get-Mailbox."""
        return frame(self._call(self._server.mailbox_rows), MAILBOX_COLUMNS)

    def has_mailbox(self, address: str) -> bool:
        """Whether a mailbox with this primary SMTP address exists here."""
        return any(r["PrimarySmtpAddress"] == address.strip().lower() for r in self._call(self._server.mailbox_rows))

    def new_mailbox(
        self, address: str, display_name: str | None = None, password: str = facts.DEFAULT_PASSWORD
    ) -> pd.DataFrame:
        """New-Mailbox in an authoritative accepted domain; `password` is for Basic AUTH on the Client connector.

        Raises:
            InvalidValue, DuplicateObject: nothing is changed.
        """
        self._runtime.call(lambda: self._server.new_mailbox(address, display_name, password))
        return self.get_mailbox()

    # -- queues and messages ---------------------------------------------------------------------------------------
    def get_queue(self, identity: str | None = None) -> pd.DataFrame:
        """Get-Queue: Submission always; Unreachable while it holds messages; one queue per next hop.

        Raises:
            UnknownObject: `identity` does not exist.
        """
        rows = self._call(self._server.queue_rows)
        if identity is not None:
            wanted = self._call(self._server.queues.find, identity).identity
            rows = [r for r in rows if r["Identity"] == wanted]
        return frame(rows, QUEUE_COLUMNS)

    def retry_queue(self, identity: str, resubmit: bool = False) -> pd.DataFrame:
        """Retry-Queue: connect now (queue in Retry); ``resubmit=True`` routes its messages again (e.g. Unreachable).

        Returns:
            Get-Queue after the call.

        Raises:
            UnknownObject, InvalidValue: nothing is changed.
        """
        self._runtime.call(lambda: self._server.retry_queue(identity, resubmit))
        return self.get_queue()

    def suspend_queue(self, identity: str) -> pd.DataFrame:
        """Suspend-Queue (messages stay; nothing leaves).

        Raises:
            UnknownObject, InvalidValue: nothing is changed.
        """
        self._call(self._server.suspend_queue, identity)
        return self.get_queue()

    def resume_queue(self, identity: str) -> pd.DataFrame:
        """Resume-Queue.

        Raises:
            UnknownObject, InvalidValue: nothing is changed.
        """
        self._call(self._server.resume_queue, identity)
        return self.get_queue()

    def get_message(self, queue: str | None = None) -> pd.DataFrame:
        """Get-Message: the messages in one queue, or in all.

        Raises:
            UnknownObject: no such queue.
        """
        return frame(self._runtime.call(lambda: self._server.message_rows(queue)), MESSAGE_COLUMNS)

    def remove_message(self, identity: str, with_ndr: bool = True) -> None:
        """Remove-Message (``with_ndr``: the sender gets ``550 4.3.2 QUEUE.Admin; message deleted by
        administrative action``).

        Raises:
            UnknownObject, InvalidValue: nothing is changed.
        """
        self._runtime.call(lambda: self._server.remove_message(identity, with_ndr))

    # -- logs ---------------------------------------------------------------------------------------------------
    def get_message_tracking_log(
        self,
        sender: str | None = None,
        recipients: str | Iterable[str] | None = None,
        event_id: str | None = None,
        message_id: str | None = None,
    ) -> pd.DataFrame:
        """Get-MessageTrackingLog, oldest first; each filter narrows like the cmdlet's parameter.

        Raises:
            InvalidValue: an unknown `event_id`.
        """
        if event_id is not None and event_id.upper() not in facts.EVENT_IDS:
            raise InvalidValue(
                "event_id", event_id, "is not a tracking EventId", f"Use one of: {', '.join(facts.EVENT_IDS)}."
            )
        rows = self._call(self._server.tracking_rows)
        wanted = {r.lower() for r in _as_list(recipients)}
        result = []
        for row in rows:
            if sender is not None and row["sender"].lower() != sender.lower():
                continue
            if wanted and not wanted & {r.lower() for r in row["recipients"].split(";") if r}:
                continue
            if event_id is not None and row["event_id"] != event_id.upper():
                continue
            if message_id is not None and row["message_id"] != message_id:
                continue
            result.append(row)
        return frame(result, TRACKING_COLUMNS)

    def get_protocol_log(self, kind: str = "receive") -> pd.DataFrame:
        """The SMTP receive or send protocol log (fields of the log's #Fields line; endpoints are lab addresses).

        Raises:
            InvalidValue: `kind` is not ``receive`` or ``send``.
        """
        if kind not in ("receive", "send"):
            raise InvalidValue(
                "kind", kind, "is not a protocol log", "Use `receive` (SmtpReceive) or `send` (SmtpSend)."
            )
        return frame(self._call(self._server.protocol_rows, kind), PROTOCOL_COLUMNS)

    # -- display --------------------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<Exchange server {self._server.fqdn} ({self._server.short_name})>"

    def _repr_html_(self) -> str:
        queues = self.get_queue()[["Identity", "DeliveryType", "Status", "MessageCount", "NextHopDomain", "LastError"]]
        send = self.get_send_connector()[["Identity", "AddressSpaces", "Enabled"]]
        receive = self.get_receive_connector()[["Identity", "Bindings", "PermissionGroups"]]
        return (
            f"<h4>Exchange server {self._server.fqdn} ({self._server.short_name})</h4>"
            f"<b>Queues</b>{queues.to_html(index=False)}"
            f"<b>Send connectors</b>{send.to_html(index=False) if len(send) else '<p>(none)</p>'}"
            f"<b>Receive connectors</b>{receive.to_html(index=False)}"
        )

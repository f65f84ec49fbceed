"""The Exchange Management Shell verbs that change a server's configuration.

Send and receive connectors, accepted domains and mailboxes (facts §3-§5.1): each
verb checks everything first and changes nothing on bad input. `ExchangeServer`
inherits these; `ServerFacade` calls them across the lab loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from labkit.errors import DuplicateObject, InvalidValue, UnknownObject
from labkit.transport import facts
from labkit.transport.addressing import is_domain, normalize_address, split_address
from labkit.transport.config import (
    USAGE_DEFAULTS,
    AcceptedDomain,
    MailboxUser,
    ReceiveConnector,
    SendConnector,
    check_address_spaces,
    check_auth,
    check_bindings,
    check_choice,
    check_fqdn,
    check_ip_ranges,
    check_name,
    check_positive_int,
    check_size,
    check_smart_hosts,
    multi,
    parse_binding,
    size_text,
)
from labkit.transport.mailstore import MailStore
from labkit.transport.permissions import check_groups
from labkit.transport.settings import TransportSettings
from labkit.transport.store import Store


class ShellVerbs:
    """New-/Get-/Set-/Remove- verbs for connectors, accepted domains and mailboxes (mixed into `ExchangeServer`)."""

    fqdn: str
    short_name: str
    addresses: list[str]
    settings: TransportSettings
    accepted_domains: dict[str, AcceptedDomain]
    mailboxes: dict[str, MailboxUser]
    send_connectors: dict[str, SendConnector]
    receive_connectors: dict[str, ReceiveConnector]
    store: Store | None
    mail: MailStore | None

    def _routing_changed(self) -> None:
        raise NotImplementedError

    async def _sync_listeners(self) -> None:
        raise NotImplementedError

    def accepted_domain(self, domain: str) -> AcceptedDomain | None:
        """The accepted domain covering `domain`, or None."""
        raise NotImplementedError

    # -- Exchange Management Shell: send connectors -------------------------------------------------------------
    def new_send_connector(
        self,
        name: str,
        address_spaces: Iterable[str] | str = ("*",),
        usage: str = "Internet",
        dns_routing: bool = True,
        smart_hosts: Iterable[str] | str | None = None,
        max_message_size: int | str | None = None,
        fqdn: str | None = None,
        enabled: bool = True,
        port: int = facts.SMTP_PORT,
    ) -> SendConnector:
        """New-SendConnector (facts §3.3); resubmits the Unreachable queue.

        Raises:
            InvalidValue, DuplicateObject: nothing is changed.
        """
        name = check_name("send connector", name)
        if name.lower() in (n.lower() for n in self.send_connectors):
            raise DuplicateObject(
                "send connector", name, "Choose another name, or change it with `set_send_connector`."
            )
        hosts = check_smart_hosts(smart_hosts)
        if not dns_routing and not hosts:
            raise InvalidValue("smart_hosts", smart_hosts, "is empty but DNS routing is off",
                               "Give `smart_hosts=[...]`, or keep `dns_routing=True` to route by MX records.")  # fmt: skip
        connector = SendConnector(
            name=name,
            address_spaces=check_address_spaces(address_spaces),
            usage=check_choice("usage", usage, facts.SEND_USAGES),
            dns_routing_enabled=bool(dns_routing),
            smart_hosts=hosts,
            max_message_size=check_size("max_message_size", max_message_size or self.settings.max_message_size),
            fqdn=check_fqdn("fqdn", fqdn),
            enabled=bool(enabled),
            port=self._check_port(port),
            source_transport_servers=(self.short_name,),
            protocol_logging_level=self.settings.protocol_logging_level,
        )
        self.send_connectors[name] = connector
        self._routing_changed()
        return connector

    @staticmethod
    def _check_port(port: object) -> int:
        if isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536:
            return port
        raise InvalidValue("port", port, "is not a TCP port", "Use 25 (SMTP).")

    def _send_connector(self, identity: str) -> SendConnector:
        key = str(identity).split("\\")[-1].strip().lower()
        for name, conn in self.send_connectors.items():
            if name.lower() == key:
                return conn
        known = ", ".join(sorted(self.send_connectors)) or "(none yet)"
        raise UnknownObject(
            "send connector", identity, sorted(self.send_connectors),
            f"Send connectors here: {known}. Create one with `new_send_connector`.",
        )  # fmt: skip

    def set_send_connector(self, identity: str, **changes: Any) -> SendConnector:
        """Set-SendConnector: change any of new_send_connector's settings; resubmits Unreachable.

        Raises:
            UnknownObject, InvalidValue: nothing is changed.
        """
        current = self._send_connector(identity)
        allowed = {"address_spaces", "usage", "dns_routing", "smart_hosts", "max_message_size", "fqdn", "enabled",
                   "port", "name", "protocol_logging_level"}  # fmt: skip
        for key in changes:
            if key not in allowed:
                raise InvalidValue(
                    key, changes[key], "is not a send connector setting", f"Use any of: {', '.join(sorted(allowed))}."
                )
        values: dict[str, Any] = {}
        if "name" in changes:
            new_name = check_name("send connector", changes["name"])
            if new_name.lower() != current.name.lower() and new_name.lower() in (
                n.lower() for n in self.send_connectors
            ):
                raise DuplicateObject("send connector", new_name, "Choose another name.")
            values["name"] = new_name
        if changes.get("address_spaces") is not None:
            values["address_spaces"] = check_address_spaces(changes["address_spaces"])
        if changes.get("usage") is not None:
            values["usage"] = check_choice("usage", changes["usage"], facts.SEND_USAGES)
        if changes.get("smart_hosts") is not None:
            values["smart_hosts"] = check_smart_hosts(changes["smart_hosts"])
        if changes.get("dns_routing") is not None:
            values["dns_routing_enabled"] = bool(changes["dns_routing"])
        if changes.get("max_message_size") is not None:
            values["max_message_size"] = check_size("max_message_size", changes["max_message_size"])
        if "fqdn" in changes:
            values["fqdn"] = check_fqdn("fqdn", changes["fqdn"])
        if changes.get("enabled") is not None:
            values["enabled"] = bool(changes["enabled"])
        if changes.get("port") is not None:
            values["port"] = self._check_port(changes["port"])
        if changes.get("protocol_logging_level") is not None:
            values["protocol_logging_level"] = check_choice(
                "protocol_logging_level", changes["protocol_logging_level"], facts.PROTOCOL_LOGGING_LEVELS
            )
        updated = replace(current, **values)
        if not updated.dns_routing_enabled and not updated.smart_hosts:
            raise InvalidValue(
                "smart_hosts", (), "is empty but DNS routing is off", "Give `smart_hosts=[...]` or `dns_routing=True`."
            )
        del self.send_connectors[current.name]
        self.send_connectors[updated.name] = updated
        self._routing_changed()
        return updated

    def remove_send_connector(self, identity: str) -> SendConnector:
        """Remove-SendConnector; messages queued for it are routed again.

        Raises:
            UnknownObject: no such connector.
        """
        current = self._send_connector(identity)
        del self.send_connectors[current.name]
        self._routing_changed()
        return current

    def send_connector_rows(self) -> list[dict[str, Any]]:
        """Get-SendConnector rows, by name."""
        return [
            {
                "Identity": c.name,
                "AddressSpaces": multi(str(s) for s in c.address_spaces),
                "Enabled": c.enabled,
                "DNSRoutingEnabled": c.dns_routing_enabled,
                "SmartHosts": multi(c.smart_hosts),
                "Fqdn": c.fqdn,
                "MaxMessageSize": size_text(c.max_message_size),
                "Port": c.port,
                "SourceTransportServers": multi(c.source_transport_servers),
                "Usage": c.usage,
                "ProtocolLoggingLevel": c.protocol_logging_level,
                "ConnectionInactivityTimeOut": "00:10:00",
                "Guid": c.guid,
            }
            for c in sorted(self.send_connectors.values(), key=lambda c: c.name.lower())
        ]

    # -- receive connectors -----------------------------------------------------------------------------------
    def _receive_connector(self, identity: str) -> ReceiveConnector:
        text = str(identity).strip()
        server, _, name = text.rpartition("\\")
        if server and server.upper() != self.short_name:
            name = ""
        for conn in self.receive_connectors.values():
            if conn.name.lower() == name.lower():
                return conn
        known = [c.identity for c in self.receive_connectors.values()]
        raise UnknownObject(
            "receive connector", identity, known, f"Use an Identity from `get_receive_connector()`: {', '.join(known)}."
        )

    def _receive_values(self, changes: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if changes.get("permission_groups") is not None:
            values["permission_groups"] = check_groups(changes["permission_groups"])
        if changes.get("remote_ip_ranges") is not None:
            values["remote_ip_ranges"] = check_ip_ranges(changes["remote_ip_ranges"])
        if changes.get("auth_mechanism") is not None:
            values["auth_mechanism"] = check_auth(changes["auth_mechanism"])
        if changes.get("bindings") is not None:
            values["bindings"] = check_bindings(changes["bindings"])
            for binding in values["bindings"]:
                ip, _ = parse_binding(binding)
                if ip != "0.0.0.0" and ip not in self.addresses:
                    raise InvalidValue("bindings", binding, f"is not an address of {self.fqdn}",
                                       f"Use `0.0.0.0:<port>` or one of {self.addresses}.")  # fmt: skip
        if changes.get("enabled") is not None:
            values["enabled"] = bool(changes["enabled"])
        if changes.get("max_message_size") is not None:
            values["max_message_size"] = check_size("max_message_size", changes["max_message_size"])
        if changes.get("max_recipients_per_message") is not None:
            values["max_recipients_per_message"] = check_positive_int(
                "max_recipients_per_message", changes["max_recipients_per_message"]
            )
        if "fqdn" in changes:
            values["fqdn"] = check_fqdn("fqdn", changes["fqdn"])
        if "banner" in changes:
            banner = changes["banner"]
            if banner is not None and not (isinstance(banner, str) and banner.startswith("220 ")):
                raise InvalidValue(
                    "banner", banner, "does not start with `220 `", "Write e.g. `220 Mail server ready` (facts §4.5)."
                )
            values["banner"] = banner
        if changes.get("protocol_logging_level") is not None:
            values["protocol_logging_level"] = check_choice(
                "protocol_logging_level", changes["protocol_logging_level"], facts.PROTOCOL_LOGGING_LEVELS
            )
        return values

    async def set_receive_connector(self, identity: str, **changes: Any) -> ReceiveConnector:
        """Set-ReceiveConnector (PermissionGroups replaces the whole list, facts §4.1).

        Raises:
            UnknownObject, InvalidValue: nothing is changed.
        """
        current = self._receive_connector(identity)
        allowed = {"permission_groups", "remote_ip_ranges", "auth_mechanism", "bindings", "enabled", "max_message_size",
                   "max_recipients_per_message", "fqdn", "banner", "protocol_logging_level"}  # fmt: skip
        for key in changes:
            if key not in allowed:
                raise InvalidValue(
                    key,
                    changes[key],
                    "is not a receive connector setting",
                    f"Use any of: {', '.join(sorted(allowed))}.",
                )
        updated = replace(current, **self._receive_values(changes))
        self.receive_connectors[current.name] = updated
        try:
            await self._sync_listeners()
        except Exception:
            self.receive_connectors[current.name] = current
            await self._sync_listeners()
            raise
        return updated

    async def new_receive_connector(
        self,
        name: str,
        bindings: Iterable[str] | str,
        remote_ip_ranges: Iterable[str] | str,
        usage: str = "Custom",
        permission_groups: Iterable[str] | str | None = None,
        **settings: Any,
    ) -> ReceiveConnector:
        """New-ReceiveConnector; usage picks the default permission groups and auth (facts §4.2).

        Raises:
            InvalidValue, DuplicateObject: nothing is changed.
        """
        name = check_name("receive connector", name)
        if name.lower() in (n.lower() for n in self.receive_connectors):
            raise DuplicateObject("receive connector", f"{self.short_name}\\{name}", "Choose another name.")
        kind = check_choice("usage", usage, facts.RECEIVE_USAGES)
        groups, auth = USAGE_DEFAULTS[kind]
        values = self._receive_values({"bindings": bindings, "remote_ip_ranges": remote_ip_ranges, **settings})
        if permission_groups is not None:
            values["permission_groups"] = check_groups(permission_groups)
        values.setdefault("permission_groups", groups)
        values.setdefault("auth_mechanism", auth)
        values.setdefault("protocol_logging_level", self.settings.protocol_logging_level)
        connector = ReceiveConnector(name=name, server=self.short_name, usage=kind, **values)
        for other in self.receive_connectors.values():
            if set(other.bindings) == set(connector.bindings) and set(other.remote_ip_ranges) == set(
                connector.remote_ip_ranges
            ):
                raise DuplicateObject(
                    "receive connector binding", multi(connector.bindings),
                    f"`{other.identity}` already has these Bindings and RemoteIPRanges; change RemoteIPRanges.",
                )  # fmt: skip
        self.receive_connectors[name] = connector
        try:
            await self._sync_listeners()
        except Exception:
            del self.receive_connectors[name]
            await self._sync_listeners()
            raise
        return connector

    async def remove_receive_connector(self, identity: str) -> ReceiveConnector:
        """Remove-ReceiveConnector.

        Raises:
            UnknownObject: no such connector.
        """
        current = self._receive_connector(identity)
        del self.receive_connectors[current.name]
        await self._sync_listeners()
        return current

    def receive_connector_rows(self) -> list[dict[str, Any]]:
        """Get-ReceiveConnector rows."""
        return [
            {
                "Identity": c.identity,
                "Bindings": multi(c.bindings),
                "Enabled": c.enabled,
                "RemoteIPRanges": multi(c.remote_ip_ranges),
                "AuthMechanism": ", ".join(c.auth_mechanism),
                "PermissionGroups": ", ".join(c.permission_groups) or "None",
                "MaxMessageSize": size_text(c.max_message_size),
                "MaxRecipientsPerMessage": c.max_recipients_per_message,
                "Fqdn": c.fqdn or self.fqdn,
                "Banner": c.banner or "",
                "ProtocolLoggingLevel": c.protocol_logging_level,
                "Server": c.server,
                "Name": c.name,
            }
            for c in self.receive_connectors.values()
        ]

    # -- accepted domains and mailboxes --------------------------------------------------------------------------
    def new_accepted_domain(self, name: str, domain_name: str, domain_type: str = "Authoritative") -> AcceptedDomain:
        """New-AcceptedDomain (facts §5.1).

        Raises:
            InvalidValue, DuplicateObject: nothing is changed.
        """
        name = check_name("accepted domain", name)
        text = str(domain_name).strip().lower().rstrip(".")
        bare = text[2:] if text.startswith("*.") else text
        if not is_domain(bare):
            raise InvalidValue(
                "domain_name", domain_name, "is not a domain name", "Use e.g. `fabrikam.com` or `*.fabrikam.com`."
            )
        kind = check_choice("domain_type", domain_type, facts.DOMAIN_TYPES)
        for other in self.accepted_domains.values():
            if other.name.lower() == name.lower() or other.domain_name == text:
                raise DuplicateObject(
                    "accepted domain", other.name, "It is already accepted; change it or pick another domain."
                )
        domain = AcceptedDomain(name, text, kind)
        self.accepted_domains[name] = domain
        return domain

    def accepted_domain_rows(self) -> list[dict[str, Any]]:
        """Get-AcceptedDomain rows."""
        return [
            {"Name": d.name, "DomainName": d.domain_name, "DomainType": d.domain_type, "Default": d.default}
            for d in self.accepted_domains.values()
        ]

    def new_mailbox(
        self, address: str, display_name: str | None = None, password: str = facts.DEFAULT_PASSWORD
    ) -> MailboxUser:
        """New-Mailbox with a primary SMTP address in an authoritative accepted domain.

        Raises:
            InvalidValue: a malformed address, or a domain this organisation is not authoritative for.
            DuplicateObject: the address exists.
        """
        normalized = normalize_address(address)
        local, domain = split_address(normalized)
        entry = self.accepted_domain(domain)
        if entry is None or entry.domain_type != "Authoritative":
            choices = [d.domain_name for d in self.accepted_domains.values() if d.domain_type == "Authoritative"]
            raise InvalidValue(
                "address", address, f"is not in an authoritative accepted domain of {self.fqdn}",
                f"Use an address @{' or @'.join(choices)}, or first add the domain with `new_accepted_domain`.",
            )  # fmt: skip
        if normalized in self.mailboxes:
            raise DuplicateObject("mailbox", normalized, "Use another address.")
        if not isinstance(password, str) or not password:
            raise InvalidValue("password", password, "is empty", "Give a password for Basic AUTH.")
        user = MailboxUser(normalized, display_name or local, local, password)
        self.mailboxes[normalized] = user
        return user

    def mailbox_rows(self) -> list[dict[str, Any]]:
        """Get-Mailbox rows."""
        return [
            {
                "Name": m.display_name,
                "Alias": m.alias,
                "ServerName": self.short_name.lower(),
                "ProhibitSendQuota": "unlimited",
                "PrimarySmtpAddress": m.address,
                "DisplayName": m.display_name,
            }
            for m in self.mailboxes.values()
        ]

    def mailbox_contents(self, address: str) -> list[tuple[str, bytes]]:
        """(Message-ID, bytes) of every message in a mailbox, in delivery order.

        Raises:
            UnknownObject: no such mailbox here.
        """
        assert self.store is not None and self.mail is not None
        key = normalize_address(address)
        if key not in self.mailboxes and not self.store.delivered_ids(key):
            raise UnknownObject("mailbox", address, sorted(self.mailboxes))
        result = []
        for message_id in self.store.delivered_ids(key):
            data = self.mail.read(key, message_id)
            if data is not None:
                result.append((message_id, data))
        return result

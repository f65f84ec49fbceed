"""Forefront TMG 2010: server publishing (reverse NAT), outbound NAT with access rules, and its log.

Inbound, each publishing rule owns a real listener for its virtual
``listener:port``; a connection there is relayed byte for byte to the internal
server, which sees the *original* client address (TMG's default; facts §6).
Outbound, the lab network asks `outbound()` before a LAN host's flow leaves for
the internet; the first matching access rule decides, and the far side sees
TMG's external address (the Internet Access network rule is NAT).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from dataclasses import replace
from typing import Any

import pandas as pd

from labkit.errors import ConnectionDenied, DuplicateObject, InvalidValue, UnknownObject
from labkit.events import EventLog, FirewallEvent
from labkit.net.network import LabNetwork, Listener
from labkit.net.rules import ACTIONS, PROTOCOLS, known_protocol, match_access_rule, protocol_for, valid_entry
from labkit.runtime import LabRuntime
from labkit.scenario import AccessRule, FirewallConfig, PublishingRule, Scenario
from labkit.views import frame

log = logging.getLogger("labkit.tmg")

DEFAULT_RULE = "Default rule"  # TMG's last rule: deny everything not allowed above it
RELAY_CHUNK = 65536


class Firewall:
    """The TMG firewall on the lab loop.

    Args:
        config: the scenario's firewall section (initial rules).
        scenario: the lab's topology.
        network: the lab network it sits in; `network.firewall` is set to this object.
        events: where its log goes.
    """

    def __init__(self, config: FirewallConfig, scenario: Scenario, network: LabNetwork, events: EventLog) -> None:
        self.host = config.host
        host = scenario.host(config.host)
        self.external_ip = host.address_on(config.external) or ""
        self.internal_ip = host.address_on(config.internal) or ""
        self.networks = {
            "External": str(scenario.network(config.external).cidr),
            "Internal": str(scenario.network(config.internal).cidr),
        }
        self.network = network
        self.events = events
        self.publishing: dict[str, PublishingRule] = {}
        self.access: list[AccessRule] = list(config.access_rules)
        self._initial = config.publishing_rules
        self._listeners: dict[str, Listener] = {}
        network.firewall = self

    async def start(self) -> None:
        """Open a listener for every publishing rule of the scenario."""
        for rule in self._initial:
            await self.add_publishing_rule(rule)

    # -- outbound ------------------------------------------------------------------
    def outbound(self, source: str, destination: str, port: int, proto: str) -> AccessRule:
        """Decide an outbound flow from the internal network; log it either way.

        Returns:
            The access rule that allowed it.

        Raises:
            ConnectionDenied: no rule allows it (TMG's Default rule denies).
        """
        protocol = protocol_for(proto, port, "outbound")
        rule = match_access_rule(self.access, source, destination, proto, port, self.networks)
        where = f"{destination}:{port}"
        if rule is None or rule.action != "Allow":
            name = rule.name if rule else DEFAULT_RULE
            self.events.append(FirewallEvent(name, "Denied", protocol, source, where, "", ""))
            raise ConnectionDenied(
                source,
                where,
                f"{self.host} denied {protocol} by `{name}`; allow it with "
                f"`lab.tmg.new_access_rule(name, protocols=[{protocol!r}], sources=[{source!r}], destinations=['External'])`",
            )
        self.events.append(
            FirewallEvent(rule.name, "Allowed", protocol, source, where, f"source {source} → {self.external_ip} (NAT)", self.external_ip)
        )
        return rule

    def inbound_denied(self, source: str, destination: str, port: int, proto: str) -> None:
        """A flow to TMG's external address that no publishing rule takes: logged as denied, then refused.

        Raises:
            ConnectionDenied: always.
        """
        protocol = protocol_for(proto, port, "inbound")
        where = f"{destination}:{port}"
        self.events.append(FirewallEvent(DEFAULT_RULE, "Denied", protocol, source, where, "", ""))
        raise ConnectionDenied(
            source,
            where,
            f"{self.host} has no publishing rule for {protocol} on {where} (denied by `{DEFAULT_RULE}`); publish it with "
            f"`lab.tmg.new_publishing_rule(name, internal=..., port={port})`",
        )

    # -- publishing -------------------------------------------------------------------
    def check_publishing_rule(self, rule: PublishingRule) -> None:
        """Validate a new publishing rule against the existing ones; raise without changing anything."""
        if not rule.name.strip():
            raise InvalidValue("name", rule.name, "is empty", "give the rule a name")
        if rule.name in self.publishing:
            raise DuplicateObject("publishing rule", rule.name, "Choose another name or remove the old rule first.")
        if rule.listener != self.external_ip:
            raise InvalidValue("listener", rule.listener, "is not TMG's external address", f"use {self.external_ip!r}")
        for field, port in (("port", rule.port), ("internal_port", rule.internal_port)):
            if not 0 < port < 65536:
                raise InvalidValue(field, port, "is not a TCP port", "use 1-65535")
        try:
            internal = ipaddress.IPv4Address(rule.internal)
        except ValueError:
            raise InvalidValue("internal", rule.internal, "is not an IPv4 address", "give the internal server's address, e.g. '192.168.8.10'") from None
        if internal not in ipaddress.IPv4Network(self.networks["Internal"]):
            raise InvalidValue("internal", rule.internal, f"is not on the internal network {self.networks['Internal']}", "publish a server of the internal network")
        for other in self.publishing.values():
            if (other.listener, other.port) == (rule.listener, rule.port):
                raise DuplicateObject(
                    "listener", f"{rule.listener}:{rule.port}", f"The rule `{other.name}` already publishes it; remove that rule first."
                )

    async def add_publishing_rule(self, rule: PublishingRule) -> PublishingRule:
        """Publish `rule.internal:internal_port` on `rule.listener:port`; returns the rule as stored."""
        self.check_publishing_rule(rule)
        if rule.protocol == "SMTP Server" and rule.port != 25:
            rule = replace(rule, protocol=protocol_for("tcp", rule.port, "inbound"))

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, client: str) -> None:
            await self._relay_published(rule.name, reader, writer, client)

        listener = await self.network.serve_stream(self.host, rule.listener, rule.port, handler, service=f"TMG: {rule.name}")
        self.publishing[rule.name] = rule
        self._listeners[rule.name] = listener
        return rule

    async def remove_publishing_rule(self, name: str) -> PublishingRule:
        """Stop publishing; new connections to its listener are refused."""
        if name not in self.publishing:
            raise UnknownObject("publishing rule", name, self.publishing)
        rule = self.publishing.pop(name)
        await self.network.close_listener(self._listeners.pop(name))
        return rule

    async def _relay_published(self, name: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, client: str) -> None:
        rule = self.publishing.get(name)
        if rule is None:  # removed while the connection was being accepted
            writer.transport.abort()
            return
        where = f"{rule.listener}:{rule.port}"
        protocol = protocol_for("tcp", rule.port, "inbound")
        target = f"{rule.internal}:{rule.internal_port}"
        try:
            inner_reader, inner_writer = await self.network.open_connection(
                self.host, rule.internal, rule.internal_port, as_source=client
            )
        except OSError as exc:
            self.events.append(FirewallEvent(rule.name, "Failed", protocol, client, where, f"destination → {target}: {exc}", client))
            writer.transport.abort()
            return
        self.events.append(FirewallEvent(rule.name, "Allowed", protocol, client, where, f"destination → {target}", client))
        await relay(reader, writer, inner_reader, inner_writer)

    # -- access rules ---------------------------------------------------------------------
    def check_access_rule(self, rule: AccessRule) -> None:
        """Validate a new access rule; raise without changing anything."""
        if not rule.name.strip():
            raise InvalidValue("name", rule.name, "is empty", "give the rule a name")
        if any(r.name == rule.name for r in self.access):
            raise DuplicateObject("access rule", rule.name, "Choose another name or remove the old rule first.")
        if rule.action not in ACTIONS:
            raise InvalidValue("action", rule.action, "is not a rule action", f"use one of {list(ACTIONS)}")
        if not rule.protocols:
            raise InvalidValue("protocols", [], "is empty", f"name at least one of {sorted(PROTOCOLS)}")
        for p in rule.protocols:
            known = known_protocol(p)
            if not known:
                raise InvalidValue("protocols", p, "is not a protocol definition", f"use one of {sorted(PROTOCOLS)}, 'All outbound traffic', or 'TCP <port>' / 'UDP <port>'")
        for field, entries in (("sources", rule.sources), ("destinations", rule.destinations)):
            if not entries:
                raise InvalidValue(field, [], "is empty", "name 'Internal', 'External', an address or a CIDR range")
            for entry in entries:
                if not valid_entry(entry, self.networks):
                    raise InvalidValue(field, entry, "is not a network object, address or range", "use 'Internal', 'External', 'Local Host', 'All Networks', an address or a CIDR range")

    def add_access_rule(self, rule: AccessRule, position: int | None = None) -> AccessRule:
        """Insert an access rule (at the end, before the Default rule, unless `position` is given, 1-based)."""
        self.check_access_rule(rule)
        if position is None:
            self.access.append(rule)
        else:
            if not 1 <= position <= len(self.access) + 1:
                raise InvalidValue("position", position, "is outside the rule list", f"use 1-{len(self.access) + 1}")
            self.access.insert(position - 1, rule)
        return rule

    def remove_access_rule(self, name: str) -> AccessRule:
        """Delete an access rule by name."""
        for i, rule in enumerate(self.access):
            if rule.name == name:
                return self.access.pop(i)
        raise UnknownObject("access rule", name, [r.name for r in self.access])


async def relay(a_reader: asyncio.StreamReader, a_writer: asyncio.StreamWriter, b_reader: asyncio.StreamReader, b_writer: asyncio.StreamWriter) -> None:
    """Copy bytes both ways until both directions are finished.

    A FIN in one direction is passed on as a FIN (half-close) while the other
    direction keeps flowing; a reset on either side aborts both, so no socket
    is left behind.
    """

    def abort_both() -> None:
        a_writer.transport.abort()
        b_writer.transport.abort()

    async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(RELAY_CHUNK):
                dst.write(data)
                await dst.drain()
            if not dst.is_closing() and dst.can_write_eof():
                dst.write_eof()
        except (ConnectionError, OSError):
            abort_both()

    try:
        await asyncio.gather(pipe(a_reader, b_writer), pipe(b_reader, a_writer))
    finally:
        for w in (a_writer, b_writer):
            w.close()
            with contextlib.suppress(Exception):
                await w.wait_closed()


PUBLISHING_COLUMNS = {
    "name": "Name",
    "protocol": "Protocol",
    "listener": "Listener",
    "port": "Port",
    "internal": "Internal server",
    "internal_port": "Internal port",
    "source": "Requests appear to come from",
}
ACCESS_COLUMNS = {"order": "Order", "name": "Name", "action": "Action", "protocols": "Protocols", "sources": "From", "destinations": "To"}
LOG_COLUMNS = {
    "time": "Log Time",
    "action": "Action",
    "rule": "Rule",
    "protocol": "Protocol",
    "source": "Client IP",
    "destination": "Destination",
    "translation": "NAT",
}


class Tmg:
    """The TMG console as an API (`lab.tmg`): publishing rules, access rules, the log.

    Every call is synchronous and thread-safe; it runs on the lab loop.
    """

    def __init__(self, runtime: LabRuntime, firewall: Firewall) -> None:
        self._runtime = runtime
        self._fw = firewall

    @property
    def external_address(self) -> str:
        """TMG's address on the internet (where published servers are reached)."""
        return self._fw.external_ip

    @property
    def internal_address(self) -> str:
        """TMG's address on the LAN (the LAN's default gateway)."""
        return self._fw.internal_ip

    def new_publishing_rule(
        self, name: str, internal: str, port: int = 25, listener: str | None = None, internal_port: int | None = None
    ) -> PublishingRule:
        """Publish an internal server (Publish Non-Web Server Protocols).

        Args:
            name: the rule's name.
            internal: the internal server's address, e.g. ``"192.168.8.10"``.
            port: the TCP port on the listener (25 for SMTP).
            listener: TMG's external address (the default).
            internal_port: the server's port, if different.

        Raises:
            InvalidValue, DuplicateObject: nothing is published then.
        """
        rule = PublishingRule(
            name, listener or self._fw.external_ip, port, internal, internal_port or port, protocol_for("tcp", port, "inbound")
        )
        return self._runtime.run(self._fw.add_publishing_rule(rule), what="new_publishing_rule")

    def remove_publishing_rule(self, name: str) -> PublishingRule:
        """Stop publishing (connections to the listener are then refused)."""
        return self._runtime.run(self._fw.remove_publishing_rule(name), what="remove_publishing_rule")

    def has_publishing_rule(self, name: str) -> bool:
        """Whether a publishing rule of that name exists."""
        return self._runtime.call(lambda: name in self._fw.publishing)

    def get_publishing_rule(self) -> pd.DataFrame:
        """The publishing rules as a table."""
        rules = self._runtime.call(lambda: list(self._fw.publishing.values()))
        rows = [{**r.__dict__, "source": "Original clients"} for r in rules]
        return frame(rows, PUBLISHING_COLUMNS)

    def new_access_rule(
        self,
        name: str,
        protocols: list[str],
        sources: list[str],
        destinations: list[str] | None = None,
        action: str = "Allow",
        position: int | None = None,
    ) -> AccessRule:
        """Add a firewall access rule (rules are evaluated in order; the Default rule denies the rest)."""
        rule = AccessRule(name, action, tuple(protocols), tuple(sources), tuple(destinations or ["External"]))
        return self._runtime.call(self._fw.add_access_rule, rule, position)

    def remove_access_rule(self, name: str) -> AccessRule:
        """Delete an access rule."""
        return self._runtime.call(self._fw.remove_access_rule, name)

    def has_access_rule(self, name: str) -> bool:
        """Whether an access rule of that name exists."""
        return self._runtime.call(lambda: any(r.name == name for r in self._fw.access))

    def get_access_rule(self) -> pd.DataFrame:
        """The access rules in evaluation order, ending with TMG's Default rule."""

        def rows() -> list[dict[str, Any]]:
            out = [
                {"order": i, "name": r.name, "action": r.action, "protocols": ", ".join(r.protocols), "sources": ", ".join(r.sources), "destinations": ", ".join(r.destinations)}
                for i, r in enumerate(self._fw.access, 1)
            ]
            out.append({"order": "Last", "name": DEFAULT_RULE, "action": "Deny", "protocols": "All Traffic", "sources": "All Networks", "destinations": "All Networks"})
            return out

        return frame(self._runtime.call(rows), ACCESS_COLUMNS)

    def log(self) -> pd.DataFrame:
        """TMG's log: every connection it decided, oldest first."""
        return frame(self._fw.events.of(FirewallEvent), LOG_COLUMNS)

    def __repr__(self) -> str:
        return f"<TMG {self._fw.host} external={self._fw.external_ip} internal={self._fw.internal_ip}>"

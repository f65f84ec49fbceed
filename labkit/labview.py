"""What the public API shows, read back as the transport's own records, and whether a flow would get through.

`LabView` is a snapshot of a running lab taken only through its public tables
(``get_*`` of each server, ``lab.tmg``, ``lab.endpoints()``), turned into the
transport's records (`SendConnector`, `ReceiveConnector`...) so that the dry run
(`labkit.trace`) and the message-path picture can feed them to the transport's
own pure functions. `reach` decides, the same way, whether a connection from a
lab host to an address would get through the lab network and TMG.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from labkit.net.routing import Topology
from labkit.net.rules import match_access_rule
from labkit.scenario import AccessRule, PublishingRule
from labkit.transport import facts
from labkit.transport.addressing import parse_address_space
from labkit.transport.config import AcceptedDomain, ReceiveConnector, SendConnector
from labkit.transport.routing import accepted_domain_for

if TYPE_CHECKING:
    from labkit.lab import Lab

SMTP_PORT = facts.SMTP_PORT


# -- what the public API shows, as the transport's own records ------------------------------------------------------
def _items(cell: object) -> list[str]:
    """A multi-valued cell as the shell prints it (``{a, b}``) or a comma list → its items."""
    text = str(cell).strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    return [part.strip() for part in text.split(",") if part.strip() and part.strip() != "None"]


def _size(cell: object) -> int:
    """``10 MB (10,485,760 bytes)`` or ``Unlimited`` → bytes."""
    match = re.search(r"\(([\d,]+) bytes\)", str(cell))
    return int(match.group(1).replace(",", "")) if match else 2**31 - 1


@dataclass(frozen=True)
class ServerView:
    """One Exchange server's configuration as the transport's own records, read through its public tables.

    Attributes:
        fqdn: e.g. ``mail.contoso.com`` (also its lab host name).
        identity: the short name, e.g. ``MAIL``.
        address: its lab address.
        accepted: accepted domains.
        mailboxes: primary SMTP addresses.
        send_connectors, receive_connectors: the connectors.
    """

    fqdn: str
    identity: str
    address: str
    accepted: tuple[AcceptedDomain, ...]
    mailboxes: tuple[str, ...]
    send_connectors: tuple[SendConnector, ...]
    receive_connectors: tuple[ReceiveConnector, ...]

    @classmethod
    def read(cls, lab: Lab, name: str) -> ServerView:
        """Read server `name` through ``lab.server(name)``'s Get- tables."""
        srv = lab.server(name)
        accepted = tuple(
            AcceptedDomain(r["Name"], r["DomainName"], r["DomainType"], bool(r["Default"]))
            for r in srv.get_accepted_domain().to_dict("records")
        )
        mailboxes = tuple(str(a) for a in srv.get_mailbox()["PrimarySmtpAddress"])
        send = tuple(
            SendConnector(
                name=r["Identity"],
                address_spaces=tuple(parse_address_space(s) for s in _items(r["AddressSpaces"])),
                usage=r["Usage"],
                dns_routing_enabled=bool(r["DNSRoutingEnabled"]),
                smart_hosts=tuple(_items(r["SmartHosts"])),
                max_message_size=_size(r["MaxMessageSize"]),
                fqdn=r["Fqdn"] or "",
                enabled=bool(r["Enabled"]),
                port=int(r["Port"]),
            )
            for r in srv.get_send_connector().to_dict("records")
        )
        receive = tuple(
            ReceiveConnector(
                name=r["Name"],
                server=r["Server"],
                bindings=tuple(_items(r["Bindings"])),
                remote_ip_ranges=tuple(_items(r["RemoteIPRanges"])),
                permission_groups=tuple(_items(r["PermissionGroups"])),
                max_message_size=_size(r["MaxMessageSize"]),
                fqdn=r["Fqdn"] or "",
                banner=r["Banner"] or None,
                enabled=bool(r["Enabled"]),
            )
            for r in srv.get_receive_connector().to_dict("records")
        )
        return cls(srv.name, srv.identity, lab.scenario.host(name).address, accepted, mailboxes, send, receive)

    def call(self) -> str:
        """The Python expression for this server: ``lab.server("mail.contoso.com")``."""
        return f'lab.server("{self.fqdn}")'


@dataclass(frozen=True)
class LabView:
    """The lab's network as the public API shows it: topology, TMG rules, listeners, DNS server, servers.

    Attributes:
        topology: the pure router (`labkit.net.routing.Topology`).
        servers: FQDN → `ServerView`.
        firewall_host: TMG's host name ("" without a firewall).
        tmg_external: TMG's external address ("" without a firewall).
        networks: TMG's network objects (``External``/``Internal`` → CIDR).
        access_rules: TMG's access rules in order.
        publishing_rules: TMG's publishing rules.
        listeners: every virtual ``ip:port/proto`` something listens on.
        dns_server: the public DNS server's address.
        zones: the public DNS server's zones.
    """

    topology: Topology
    servers: dict[str, ServerView]
    firewall_host: str
    tmg_external: str
    networks: dict[str, str]
    access_rules: tuple[AccessRule, ...]
    publishing_rules: tuple[PublishingRule, ...]
    listeners: frozenset[str]
    dns_server: str
    zones: tuple[str, ...] = ()

    @classmethod
    def read(cls, lab: Lab) -> LabView:
        """Snapshot the lab through its public API."""
        scenario = lab.scenario
        servers = {name: ServerView.read(lab, name) for name in lab.servers}
        fw = scenario.firewall
        networks: dict[str, str] = {}
        access: tuple[AccessRule, ...] = ()
        publishing: tuple[PublishingRule, ...] = ()
        external = ""
        if fw is not None and lab.tmg is not None:
            networks = {
                "External": str(scenario.network(fw.external).cidr),
                "Internal": str(scenario.network(fw.internal).cidr),
            }
            external = lab.tmg.external_address
            access = tuple(
                AccessRule(
                    r["Name"],
                    r["Action"],
                    tuple(_items(r["Protocols"])),
                    tuple(_items(r["From"])),
                    tuple(_items(r["To"])),
                )
                for r in lab.tmg.get_access_rule().to_dict("records")
                if r["Order"] != "Last"
            )
            publishing = tuple(
                PublishingRule(r["Name"], r["Listener"], int(r["Port"]), r["Internal server"], int(r["Internal port"]))
                for r in lab.tmg.get_publishing_rule().to_dict("records")
            )
        listeners = frozenset(str(v) for v in lab.endpoints()["Virtual endpoint"])
        return cls(
            Topology(scenario),
            servers,
            fw.host if fw else "",
            external,
            networks,
            access,
            publishing,
            listeners,
            scenario.host(scenario.dns_server).address,
            tuple(lab.dns.zones()),
        )

    def server_of_mailbox(self, address: str) -> ServerView | None:
        """The server holding this mailbox, or None."""
        return next((s for s in self.servers.values() if address in s.mailboxes), None)

    def server_at(self, ip: str) -> ServerView | None:
        """The Exchange server that owns lab address `ip`, or None."""
        owner = self.topology.owner.get(ip)
        return self.servers.get(owner.name) if owner is not None else None

    def publishing_rule(self, ip: str, port: int) -> PublishingRule | None:
        """TMG's publishing rule listening on `ip:port`, or None."""
        return next((r for r in self.publishing_rules if r.listener == ip and r.port == port), None)

    def zone_of(self, name: str) -> tuple[str, str]:
        """(zone, relative name) of `name` among the DNS zones; its parent domain when no zone holds it."""
        zones = sorted((z for z in self.zones if name == z or name.endswith("." + z)), key=len, reverse=True)
        zone = zones[0] if zones else name.partition(".")[2] or name
        return zone, "@" if name == zone else name[: -len(zone) - 1]

    def public_address(self, domain: str) -> str:
        """Where the internet should reach `domain`'s server: its own address, or TMG's published one (facts §6)."""
        server = next((s for s in self.servers.values() if accepted_domain_for(domain, s.accepted)), None)
        if server is None:
            return "<public address>"
        if self.tmg_external and self.topology.network_of(server.address) != self.topology.network_of(
            self.tmg_external
        ):
            return self.tmg_external
        return server.address

    def a_fix(self, host: str, wrong: str, domain: str) -> str:
        """The calls that point `host`'s A record at `domain`'s public address instead of `wrong`."""
        zone, rel = self.zone_of(host)
        right = self.public_address(domain)
        add = f'lab.dns.add_record("{zone}", "{rel}", "A", "{right}")'
        return f'lab.dns.remove_record("{zone}", "{rel}", "A", "{wrong}"); {add}' if wrong else add

    def listens(self, ip: str, port: int, proto: str = "tcp") -> bool:
        """Whether some lab service listens on virtual `ip:port/proto`."""
        return f"{ip}:{port}/{proto}" in self.listeners


# -- connecting and the SMTP session -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reach:
    """How a connection from a server to one target would go (pure; from `LabView`)."""

    steps: list[tuple[str, bool, str, str, str]]  # (key, ok, detail, fix, outcome)
    receiver: ServerView | None = None
    local_ip: str = ""
    local_port: int = 0
    peer: str = ""

    @property
    def ok(self) -> bool:
        return all(ok for _, ok, _, _, _ in self.steps) and self.receiver is not None


def reach(view: LabView, source_host: str, ip: str, port: int, domain: str = "", target: str = "") -> Reach:
    """Work out, without a socket, how a TCP connection from `source_host` to `ip:port` would go.

    The lab network's rules (DESIGN.md §2): same network → direct; LAN → internet through TMG's NAT
    with an access rule; internet → TMG's external address → publishing rule; internet → private
    address → unreachable. The receiving server sees the routed source (TMG keeps the original client
    for published servers, facts §6).

    Args:
        view: the lab snapshot.
        source_host: the connecting lab host.
        ip, port: the virtual destination.
        domain: the recipient domain (to suggest which server to publish, and the right address).
        target: the host name `ip` was found for (to name its A record in a fix).

    Returns:
        A `Reach`: its steps, and where it ends (receiving server, local endpoint, the peer it sees).
    """
    retry = facts.failover_error(facts.UNABLE_TO_CONNECT)
    what = f'the queue goes to Retry with LastError "{retry}"'
    steps: list[tuple[str, bool, str, str, str]] = []
    hop = view.topology.plan(source_host, ip)
    if hop.kind == "unreachable":
        fix = view.a_fix(target, ip, domain) if target and domain else ""
        steps.append(("route", False, f"{source_host} → {ip}: {hop.why}.", fix, what))
        return Reach(steps)
    if hop.kind == "nat":
        rule = match_access_rule(view.access_rules, hop.original_source, ip, "tcp", port, view.networks)
        steps.append(
            (
                "route",
                True,
                f"{source_host} ({hop.original_source}) → {ip}: out through TMG's NAT; {ip} sees {hop.source}.",
                "",
                "",
            )
        )
        if rule is None or rule.action != "Allow":
            name = rule.name if rule is not None else "Default rule"
            fix = (
                f'lab.tmg.new_access_rule("Allow SMTP from Exchange", protocols=["SMTP"], '
                f'sources=["{hop.original_source}"], destinations=["External"])'
            )
            steps.append(
                (
                    "tmg-outbound",
                    False,
                    f"TMG denies SMTP from {hop.original_source} to {ip}:{port} (`{name}`).",
                    fix,
                    what,
                )
            )
            return Reach(steps)
        steps.append(("tmg-outbound", True, f"TMG access rule `{rule.name}` allows SMTP to {ip}:{port}.", "", ""))
    else:
        steps.append(("route", True, f"{source_host} ({hop.source}) → {ip}: same network, direct.", "", ""))
    local_ip, local_port = ip, port
    if view.tmg_external and ip == view.tmg_external:
        rule_p = view.publishing_rule(ip, port)
        if rule_p is None:
            internal = next(
                (
                    s.address
                    for s in view.servers.values()
                    if view.topology.network_of(s.address) != view.topology.network_of(ip)
                    and any(a.domain_name == domain for a in s.accepted)
                ),
                "<internal address>",
            )
            fix = f'lab.tmg.new_publishing_rule("Publish SMTP", internal="{internal}", port={port})'
            steps.append(
                (
                    "publishing",
                    False,
                    f"TMG ({ip}) publishes nothing on port {port}: the connection is refused.",
                    fix,
                    what,
                )
            )
            return Reach(steps)
        steps.append(
            (
                "publishing",
                True,
                f"TMG publishing rule `{rule_p.name}`: {ip}:{port} → "
                f"{rule_p.internal}:{rule_p.internal_port}; the server sees the original client {hop.source}.",
                "",
                "",
            )
        )
        local_ip, local_port = rule_p.internal, rule_p.internal_port
        # TMG accepts first, then fails to reach the server and drops the client (facts §2.1 "Connection dropped").
        dropped = f'the queue goes to Retry with LastError "{facts.failover_error(facts.CONNECTION_DROPPED)}"'
        if not view.listens(local_ip, local_port):
            steps.append(("listener", False, f"nothing listens on {local_ip}:{local_port} behind TMG.", "", dropped))
            return Reach(steps)
    elif not view.listens(ip, port):
        owner = view.topology.owner.get(ip)
        who = f"{owner.name} has no service on port {port}" if owner else "no lab host has this address"
        steps.append(
            (
                "listener",
                False,
                f"nothing listens on {ip}:{port} ({who}): the connection is refused.",
                view.a_fix(target, ip, domain) if target and domain else "",
                what,
            )
        )
        return Reach(steps)
    receiver = view.server_at(local_ip)
    if receiver is None:
        steps.append(("listener", False, f"{local_ip}:{local_port} is not an Exchange server of the lab.", "", what))
        return Reach(steps)
    steps.append(("listener", True, f"{receiver.fqdn} listens on {local_ip}:{local_port}.", "", ""))
    return Reach(steps, receiver, local_ip, local_port, hop.source)

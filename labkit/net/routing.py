"""Pure routing: which way a packet from one lab host to a virtual address would go.

Kept free of sockets so it can be read and tested on its own; the lab network
(`labkit.net.network`) turns a `Hop` into a real loopback connection.

>>> from labkit.scenario import load_scenario
>>> topo = Topology(load_scenario())
>>> topo.plan("mail.contoso.com", "100.100.100.2").kind
'direct'
>>> topo.plan("mail.xutonglin.com", "100.100.100.2").kind
'nat'
>>> topo.plan("mail.contoso.com", "192.168.8.10").kind
'unreachable'
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

from labkit.scenario import Host, Scenario

HopKind = Literal["direct", "nat", "unreachable"]


@dataclass(frozen=True)
class Hop:
    """The outcome of routing one flow.

    Attributes:
        kind: ``direct`` (same network), ``nat`` (out through the firewall), or
            ``unreachable``.
        source: the source address the destination will see (before any rule on the
            far side); for ``nat`` the firewall's external address.
        original_source: the sending host's own address.
        why: a sentence for logs and errors.
    """

    kind: HopKind
    source: str
    original_source: str
    why: str


class Topology:
    """Which host owns which address, and which network each address is on."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.hosts = {h.name: h for h in scenario.hosts}
        self.owner: dict[str, Host] = {str(i.address): h for h in scenario.hosts for i in h.interfaces}
        self.firewall = scenario.firewall

    def network_of(self, ip: str) -> str | None:
        """The name of the lab network containing `ip`, or None."""
        try:
            addr = ipaddress.IPv4Address(ip)
        except ValueError:
            return None
        for net in self.scenario.networks:
            if addr in net.cidr:
                return net.name
        return None

    def host(self, name: str) -> Host:
        """The host called `name` (KeyError if none)."""
        return self.hosts[name]

    def plan(self, source_host: str, destination: str) -> Hop:
        """Route a flow from `source_host` to the virtual address `destination`."""
        host = self.hosts[source_host]
        dst_net = self.network_of(destination)
        if dst_net is None:
            return Hop("unreachable", host.address, host.address, f"{destination} is not on any lab network (there is no wider internet)")
        own = host.address_on(dst_net)
        if own is not None:
            return Hop("direct", own, own, f"same network `{dst_net}`")
        fw = self.firewall
        if fw is not None and dst_net == fw.external:
            internal_addr = host.address_on(fw.internal)
            gateway = self.hosts[fw.host].address_on(fw.internal)
            if internal_addr is not None and host.gateway is not None and str(host.gateway) == gateway:
                external = self.hosts[fw.host].address_on(fw.external) or ""
                return Hop("nat", external, internal_addr, f"out through {fw.host}'s NAT ({internal_addr} → {external})")
            if internal_addr is not None:
                return Hop("unreachable", internal_addr, internal_addr, f"{source_host} has no default gateway to `{dst_net}`")
        return Hop(
            "unreachable",
            host.address,
            host.address,
            f"{destination} is a private address on `{dst_net}`, not routed from `{host.interfaces[0].network}`; "
            "reach it through a publishing rule on the firewall's external address",
        )

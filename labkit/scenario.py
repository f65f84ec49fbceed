"""The scenario: the lab's topology, zones, organisations and steps as plain data.

Describe, then run (STYLE.md §1): `load_scenario()` reads and checks a TOML file
without opening a socket; `labkit.start()` brings it to life. Every
inconsistency is reported at load time as a `ScenarioError` naming the file,
the entry and the fix.
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from labkit.errors import ScenarioError

SEED = "seed.toml"

#: Verbs a step's actions may use; each maps onto one public API call of the lab.
KNOWN_ACTIONS = frozenset(
    {
        "dns.add_record",
        "dns.remove_record",
        "tmg.remove_publishing_rule",
        "tmg.remove_access_rule",
        "server.new_send_connector",
        "server.remove_send_connector",
        "server.set_receive_connector",
    }
)
ROLES = frozenset({"dns", "exchange", "firewall", "client", "server"})


@dataclass(frozen=True)
class Network:
    """A lab network such as ``internet`` 100.100.100.0/24."""

    name: str
    cidr: ipaddress.IPv4Network
    description: str = ""


@dataclass(frozen=True)
class Interface:
    """One address of a host on one network."""

    network: str
    address: ipaddress.IPv4Address


@dataclass(frozen=True)
class Host:
    """A machine in the lab; only a router may sit on more than one network."""

    name: str
    fqdn: str
    role: str
    interfaces: tuple[Interface, ...]
    router: bool = False
    gateway: ipaddress.IPv4Address | None = None
    description: str = ""

    @property
    def address(self) -> str:
        """The host's first (primary) address, as text."""
        return str(self.interfaces[0].address)

    def address_on(self, network: str) -> str | None:
        """The host's address on `network`, or None."""
        for iface in self.interfaces:
            if iface.network == network:
                return str(iface.address)
        return None


@dataclass(frozen=True)
class PublishingRule:
    """A TMG server publishing rule: listener ip:port → internal ip:port."""

    name: str
    listener: str
    port: int
    internal: str
    internal_port: int
    protocol: str = "SMTP Server"


@dataclass(frozen=True)
class AccessRule:
    """A TMG access rule: protocols from sources to destinations, allowed or denied."""

    name: str
    action: str
    protocols: tuple[str, ...]
    sources: tuple[str, ...]
    destinations: tuple[str, ...]


@dataclass(frozen=True)
class FirewallConfig:
    """Which host is the firewall, which network is outside, and its initial rules."""

    host: str
    external: str
    internal: str
    publishing_rules: tuple[PublishingRule, ...] = ()
    access_rules: tuple[AccessRule, ...] = ()


@dataclass(frozen=True)
class Organisation:
    """A mail organisation: its domain, its Exchange server and its mailboxes."""

    name: str
    domain: str
    server: str
    mailboxes: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    """One step of the seed: its title and the actions that doing it performs."""

    number: int
    title: str
    actions: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Scenario:
    """A whole lab, checked and ready to run."""

    source: str
    title: str
    networks: tuple[Network, ...]
    hosts: tuple[Host, ...]
    dns_server: str
    zones: tuple[str, ...]
    firewall: FirewallConfig | None
    organisations: tuple[Organisation, ...]
    steps: tuple[Step, ...]
    outside_client: str
    broken: dict[str, dict[str, Any]] = field(default_factory=dict)

    def host(self, name: str) -> Host:
        """The host called `name` (raises KeyError if there is none)."""
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)

    def network(self, name: str) -> Network:
        """The network called `name` (raises KeyError if there is none)."""
        for net in self.networks:
            if net.name == name:
                return net
        raise KeyError(name)

    @property
    def last_step(self) -> int:
        """The number of the step after the last one: `start(step=last_step)` is the finished lab."""
        return max((s.number for s in self.steps), default=0) + 1


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read and check a scenario file; the seed's scenario when `path` is None.

    Raises:
        ScenarioError: the file is missing, is not TOML, or is inconsistent; the
            message names the file, the entry and the fix.
    """
    if path is None:
        text = resources.files("labkit.scenarios").joinpath(SEED).read_text(encoding="utf-8")
        source = f"labkit/scenarios/{SEED}"
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(source, "file", f"cannot be read ({exc.strerror})", "check the path") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, "file", f"is not valid TOML ({exc})", "correct the syntax at that line") from None
    return parse_scenario(data, source)


def parse_scenario(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Check scenario data (as read from TOML) and build a `Scenario`.

    Raises:
        ScenarioError: naming `source`, the entry and the fix.
    """
    return _Parser(source).parse(data)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, entry: str, problem: str, fix: str) -> ScenarioError:
        return ScenarioError(self.source, entry, problem, fix)

    def req(self, table: dict[str, Any], key: str, kind: type, entry: str) -> Any:
        if key not in table:
            raise self.fail(entry, f"has no `{key}`", f"add `{key} = ...`")
        value = table[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(entry, f"`{key}` must be a {kind.__name__}, not {value!r}", f"write `{key}` as a {kind.__name__}")
        return value

    def list_of(self, data: dict[str, Any], key: str, entry: str) -> list[dict[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(entry, f"`{key}` must be an array of tables", f"write each as `[[{key}]]`")
        return value

    def ip(self, text: object, entry: str, key: str) -> ipaddress.IPv4Address:
        try:
            return ipaddress.IPv4Address(str(text))
        except ValueError:
            raise self.fail(entry, f"`{key}` = {text!r} is not an IPv4 address", "write it as four numbers, e.g. 100.100.100.10") from None

    def parse(self, data: dict[str, Any]) -> Scenario:
        lab = data.get("lab", {})
        networks = self.networks(data)
        hosts = self.hosts(data, networks)
        names = {h.name: h for h in hosts}
        dns = data.get("dns")
        if not isinstance(dns, dict):
            raise self.fail("[dns]", "is missing", "add a [dns] table with `server` and `zones`")
        dns_server = self.req(dns, "server", str, "[dns]")
        if dns_server not in names:
            raise self.fail("[dns]", f"server `{dns_server}` is not a host", f"use one of {sorted(names)}")
        zones = tuple(str(z).lower().rstrip(".") for z in self.req(dns, "zones", list, "[dns]"))
        firewall = self.firewall(data, names, networks)
        orgs = self.organisations(data, names)
        steps = self.steps(data)
        outside = lab.get("outside_client", "")
        if outside and outside not in names:
            raise self.fail("[lab]", f"outside_client `{outside}` is not a host", f"use one of {sorted(names)}")
        broken = data.get("broken", {})
        if not isinstance(broken, dict) or not all(isinstance(b, dict) for b in broken.values()):
            raise self.fail("[broken]", "must be a table of named misconfigurations", "write `[broken.NAME]` tables")
        for name, entry in broken.items():
            for j, action in enumerate(entry.get("actions", [])):
                if not isinstance(action, dict) or action.get("do") not in KNOWN_ACTIONS:
                    raise self.fail(f"broken.{name} actions[{j}]", "is not a known action", f"use one of {sorted(KNOWN_ACTIONS)}")
        return Scenario(
            source=self.source,
            title=str(lab.get("title", "")),
            networks=tuple(networks.values()),
            hosts=hosts,
            dns_server=dns_server,
            zones=zones,
            firewall=firewall,
            organisations=orgs,
            steps=steps,
            outside_client=outside,
            broken=broken,
        )

    def networks(self, data: dict[str, Any]) -> dict[str, Network]:
        result: dict[str, Network] = {}
        for i, entry in enumerate(self.list_of(data, "networks", "networks")):
            where = f"networks[{i}]"
            name = self.req(entry, "name", str, where)
            where = f"networks[{i}] ({name})"
            try:
                cidr = ipaddress.IPv4Network(self.req(entry, "cidr", str, where))
            except ValueError as exc:
                raise self.fail(where, f"`cidr` is not a network ({exc})", "write it like 192.168.8.0/24") from None
            if name in result:
                raise self.fail(where, "is defined twice", "give each network its own name")
            for other in result.values():
                if cidr.overlaps(other.cidr):
                    raise self.fail(where, f"overlaps network `{other.name}` {other.cidr}", "choose a range that does not overlap")
            result[name] = Network(name, cidr, str(entry.get("description", "")))
        if not result:
            raise self.fail("networks", "there are none", "add at least one `[[networks]]` table")
        return result

    def hosts(self, data: dict[str, Any], networks: dict[str, Network]) -> tuple[Host, ...]:
        hosts: list[Host] = []
        seen_addr: dict[ipaddress.IPv4Address, str] = {}
        for i, entry in enumerate(self.list_of(data, "hosts", "hosts")):
            where = f"hosts[{i}]"
            name = self.req(entry, "name", str, where)
            where = f"hosts[{i}] ({name})"
            if any(h.name == name for h in hosts):
                raise self.fail(where, "is defined twice", "give each host its own name")
            role = str(entry.get("role", "server"))
            if role not in ROLES:
                raise self.fail(where, f"role `{role}` is unknown", f"use one of {sorted(ROLES)}")
            ifaces = []
            for j, raw in enumerate(self.req(entry, "interfaces", list, where)):
                iwhere = f"{where} interfaces[{j}]"
                if not isinstance(raw, dict):
                    raise self.fail(iwhere, "must be a table", "write `{ network = ..., address = ... }`")
                net_name = self.req(raw, "network", str, iwhere)
                if net_name not in networks:
                    raise self.fail(iwhere, f"network `{net_name}` is unknown", f"use one of {sorted(networks)}")
                addr = self.ip(self.req(raw, "address", str, iwhere), iwhere, "address")
                net = networks[net_name]
                if addr not in net.cidr or addr in (net.cidr.network_address, net.cidr.broadcast_address):
                    raise self.fail(iwhere, f"address {addr} is outside network `{net_name}` {net.cidr}", f"choose a host address in {net.cidr}")
                if addr in seen_addr:
                    raise self.fail(iwhere, f"address {addr} is already used by `{seen_addr[addr]}`", "give each interface its own address")
                seen_addr[addr] = name
                ifaces.append(Interface(net_name, addr))
            if not ifaces:
                raise self.fail(where, "has no interfaces", "add `interfaces = [{ network = ..., address = ... }]`")
            router = bool(entry.get("router", False))
            if len({iface.network for iface in ifaces}) > 1 and not router:
                raise self.fail(where, "is on several networks but is not a router", "set `router = true` (a firewall) or keep it on one network")
            gateway = self.ip(entry["gateway"], where, "gateway") if "gateway" in entry else None
            hosts.append(
                Host(name, str(entry.get("fqdn", name)).lower(), role, tuple(ifaces), router, gateway, str(entry.get("description", "")))
            )
        if not hosts:
            raise self.fail("hosts", "there are none", "add `[[hosts]]` tables")
        return tuple(hosts)

    def firewall(self, data: dict[str, Any], hosts: dict[str, Host], networks: dict[str, Network]) -> FirewallConfig | None:
        fw = data.get("firewall")
        if fw is None:
            return None
        where = "[firewall]"
        host_name = self.req(fw, "host", str, where)
        host = hosts.get(host_name)
        if host is None:
            raise self.fail(where, f"host `{host_name}` is not a host", f"use one of {sorted(hosts)}")
        if not host.router:
            raise self.fail(where, f"host `{host_name}` is not a router", "set `router = true` on it")
        external = self.req(fw, "external", str, where)
        internal = self.req(fw, "internal", str, where)
        for key, net in (("external", external), ("internal", internal)):
            if host.address_on(net) is None:
                raise self.fail(where, f"`{key}` network `{net}` is not one of {host_name}'s networks", f"use one of {[i.network for i in host.interfaces]}")
        pubs = []
        for i, entry in enumerate(self.list_of(fw, "publishing_rules", "firewall.publishing_rules")):
            rwhere = f"firewall.publishing_rules[{i}]"
            name = self.req(entry, "name", str, rwhere)
            listener = str(self.ip(self.req(entry, "listener", str, rwhere), rwhere, "listener"))
            if listener != host.address_on(external):
                raise self.fail(rwhere, f"listener {listener} is not the firewall's external address", f"use {host.address_on(external)}")
            port = self.req(entry, "port", int, rwhere)
            internal_ip = str(self.ip(self.req(entry, "internal", str, rwhere), rwhere, "internal"))
            if ipaddress.IPv4Address(internal_ip) not in networks[internal].cidr:
                raise self.fail(rwhere, f"internal {internal_ip} is not on the internal network {networks[internal].cidr}", "publish a server of the internal network")
            pubs.append(PublishingRule(name, listener, port, internal_ip, int(entry.get("internal_port", port)), str(entry.get("protocol", "SMTP Server"))))
        access = []
        for i, entry in enumerate(self.list_of(fw, "access_rules", "firewall.access_rules")):
            rwhere = f"firewall.access_rules[{i}]"
            access.append(
                AccessRule(
                    self.req(entry, "name", str, rwhere),
                    str(entry.get("action", "Allow")),
                    tuple(self.req(entry, "protocols", list, rwhere)),
                    tuple(self.req(entry, "sources", list, rwhere)),
                    tuple(self.req(entry, "destinations", list, rwhere)),
                )
            )
        return FirewallConfig(host_name, external, internal, tuple(pubs), tuple(access))

    def organisations(self, data: dict[str, Any], hosts: dict[str, Host]) -> tuple[Organisation, ...]:
        orgs = []
        for i, entry in enumerate(self.list_of(data, "organisations", "organisations")):
            where = f"organisations[{i}]"
            name = self.req(entry, "name", str, where)
            where = f"organisations[{i}] ({name})"
            domain = self.req(entry, "domain", str, where).lower()
            server = self.req(entry, "server", str, where)
            if server not in hosts or hosts[server].role != "exchange":
                raise self.fail(where, f"server `{server}` is not an Exchange host", f"use one of {sorted(h for h in hosts if hosts[h].role == 'exchange')}")
            mailboxes = tuple(str(m).lower() for m in entry.get("mailboxes", []))
            for m in mailboxes:
                if not m.endswith("@" + domain):
                    raise self.fail(where, f"mailbox `{m}` is not in `{domain}`", f"use an address ending in @{domain}")
            orgs.append(Organisation(name, domain, server, mailboxes))
        return tuple(orgs)

    def steps(self, data: dict[str, Any]) -> tuple[Step, ...]:
        steps = []
        for i, entry in enumerate(self.list_of(data, "steps", "steps")):
            where = f"steps[{i}]"
            number = self.req(entry, "number", int, where)
            if number != i + 1:
                raise self.fail(where, f"has number {number}, expected {i + 1}", "number the steps 1, 2, 3... in order")
            actions = entry.get("actions", [])
            for j, action in enumerate(actions):
                awhere = f"{where} actions[{j}]"
                if not isinstance(action, dict) or action.get("do") not in KNOWN_ACTIONS:
                    raise self.fail(awhere, f"`do` = {action.get('do') if isinstance(action, dict) else action!r} is not a known action", f"use one of {sorted(KNOWN_ACTIONS)}")
            steps.append(Step(number, str(entry.get("title", "")), tuple(actions)))
        return tuple(steps)

"""Pure TMG rule logic: protocol definitions and access-rule matching.

>>> rules = [AccessRule("Allow SMTP", "Allow", ("SMTP",), ("192.168.8.10",), ("External",))]
>>> nets = {"External": "100.100.100.0/24", "Internal": "192.168.8.0/24"}
>>> match_access_rule(rules, "192.168.8.10", "100.100.100.10", "tcp", 25, nets).name
'Allow SMTP'
>>> match_access_rule(rules, "192.168.8.10", "100.100.100.10", "tcp", 80, nets) is None
True
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from labkit.scenario import AccessRule

#: TMG protocol definitions the lab knows: name → (transport, port, direction).
#: "SMTP" is outbound TCP 25 (access rules); "SMTP Server" is inbound TCP 25
#: (server publishing) — the standard ISA/TMG naming (facts §6, [U]).
PROTOCOLS: dict[str, tuple[str, int, str]] = {
    "SMTP": ("tcp", 25, "outbound"),
    "SMTP Server": ("tcp", 25, "inbound"),
    "DNS": ("udp+tcp", 53, "outbound"),
    "DNS Server": ("udp+tcp", 53, "inbound"),
    "HTTP": ("tcp", 80, "outbound"),
    "HTTPS": ("tcp", 443, "outbound"),
    "POP3": ("tcp", 110, "outbound"),
    "IMAP4": ("tcp", 143, "outbound"),
}
#: Network objects an access rule may name besides addresses and ranges.
NETWORK_OBJECTS = ("External", "Internal", "Local Host", "All Networks")
ACTIONS = ("Allow", "Deny")


def protocol_for(proto: str, port: int, direction: str = "outbound") -> str:
    """The TMG protocol name for a flow, or ``TCP <port>`` when none is defined.

    >>> protocol_for("udp", 53)
    'DNS'
    >>> protocol_for("tcp", 7)
    'TCP 7'
    """
    for name, (transports, number, way) in PROTOCOLS.items():
        if number == port and way == direction and proto in transports.split("+"):
            return name
    return f"{proto.upper()} {port}"


def protocol_matches(name: str, proto: str, port: int) -> bool:
    """Whether the protocol definition `name` covers `proto`/`port` (``All outbound traffic`` covers all)."""
    if name == "All outbound traffic":
        return True
    if name in PROTOCOLS:
        transports, number, _ = PROTOCOLS[name]
        return number == port and proto in transports.split("+")
    parts = name.split()
    return len(parts) == 2 and parts[0].lower() == proto and parts[1] == str(port)


def address_matches(entry: str, ip: str, networks: Mapping[str, str], local_host: Sequence[str] = ()) -> bool:
    """Whether `ip` falls in a rule's source/destination `entry` (network object, address or CIDR)."""
    addr = ipaddress.IPv4Address(ip)
    if entry == "All Networks":
        return True
    if entry == "Local Host":
        return ip in local_host
    if entry in networks:
        return addr in ipaddress.IPv4Network(networks[entry])
    try:
        return addr in ipaddress.IPv4Network(entry, strict=False)
    except ValueError:
        return False


def match_access_rule(
    rules: Sequence[AccessRule],
    source: str,
    destination: str,
    proto: str,
    port: int,
    networks: Mapping[str, str],
) -> AccessRule | None:
    """The first rule (in order, as TMG evaluates them) that matches the flow, or None (the Default rule denies)."""
    for rule in rules:
        if (
            any(protocol_matches(p, proto, port) for p in rule.protocols)
            and any(address_matches(s, source, networks) for s in rule.sources)
            and any(address_matches(d, destination, networks) for d in rule.destinations)
        ):
            return rule
    return None


def known_protocol(name: str) -> bool:
    """Whether an access rule may name `name`: a definition, ``All outbound traffic``, or ``TCP <port>``/``UDP <port>``.

    >>> known_protocol("SMTP"), known_protocol("TCP 7"), known_protocol("SMPT")
    (True, True, False)
    """
    if name in PROTOCOLS or name == "All outbound traffic":
        return True
    parts = name.split()
    return len(parts) == 2 and parts[0] in ("TCP", "UDP") and parts[1].isdigit() and 0 < int(parts[1]) < 65536


def valid_entry(entry: str, networks: Mapping[str, str]) -> bool:
    """Whether `entry` is something a rule can name: a network object, an address or a CIDR."""
    if entry in NETWORK_OBJECTS or entry in networks:
        return True
    try:
        ipaddress.IPv4Network(entry, strict=False)
    except ValueError:
        return False
    return True

"""Pure categorizer and routing decisions: where each recipient of a message goes.

Recipient resolution follows the accepted domains (facts §5.1); send-connector
selection follows facts §3.5: drop connectors too small for the message, keep
enabled ones whose address space matches, take the most specific match, then the
lowest cost, then the alphanumerically first name.

>>> from labkit.transport.addressing import parse_address_space as space
>>> a = SendConnector("Internet", (space("*"),))
>>> b = SendConnector("Contoso", (space("contoso.com;5"),))
>>> select_connector("contoso.com", [a, b], 1000).connector.name
'Contoso'
>>> select_connector("xutonglin.com", [a, b], 1000).connector.name
'Internet'
>>> select_connector("xutonglin.com", [b], 1000).reason
'no-connector'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from labkit.transport import facts
from labkit.transport.addressing import domain_of
from labkit.transport.config import AcceptedDomain, SendConnector


@dataclass(frozen=True)
class Selection:
    """The chosen connector, or why there is none (``no-connector`` or ``size``)."""

    connector: SendConnector | None
    reason: Literal["ok", "no-connector", "size"] = "ok"


def select_connector(domain: str, connectors: Iterable[SendConnector], size: int) -> Selection:
    """Choose the send connector for a recipient domain and a message of `size` bytes (facts §3.5)."""
    candidates: list[tuple[tuple[int, int], int, str, SendConnector]] = []
    too_small = False
    for conn in connectors:
        if not conn.enabled:
            continue
        best: tuple[tuple[int, int], int] | None = None
        for space in conn.address_spaces:
            spec = space.specificity(domain)
            if spec is not None and (best is None or (spec, -space.cost) > (best[0], -best[1])):
                best = (spec, space.cost)
        if best is None:
            continue
        if conn.max_message_size < size:
            too_small = True
            continue
        candidates.append((best[0], best[1], conn.name.lower(), conn))
    if not candidates:
        return Selection(None, "size" if too_small else "no-connector")
    # Most specific first (larger is better), then lowest cost, then name.
    candidates.sort(key=lambda c: ((-c[0][0], -c[0][1]), c[1], c[2]))
    return Selection(candidates[0][3])


RouteKind = Literal["local", "unknown-recipient", "remote", "unreachable", "size-limit"]


@dataclass(frozen=True)
class Route:
    """Where one recipient goes.

    Attributes:
        kind: ``local`` (a mailbox here), ``unknown-recipient`` (authoritative domain, no such mailbox → NDR 5.1.1),
            ``remote`` (a send connector), ``unreachable`` (no connector → the Unreachable queue),
            ``size-limit`` (only connectors too small for the message → NDR).
        next_hop: the next-hop domain (recipient domain, or the smart host for smart-host connectors).
        connector: the send connector for ``remote``.
        delivery_type: Get-Queue DeliveryType for the queue.
    """

    kind: RouteKind
    next_hop: str = ""
    connector: SendConnector | None = None
    delivery_type: str = ""

    @property
    def error(self) -> str:
        """The NDR or LastError text that goes with a failed route."""
        return {
            "unknown-recipient": facts.RECIP_NOT_FOUND,
            "unreachable": facts.NO_MATCHING_CONNECTOR,
            "size-limit": facts.ROUTING_SIZE_LIMIT,
        }.get(self.kind, "")


def accepted_domain_for(domain: str, accepted: Iterable[AcceptedDomain]) -> AcceptedDomain | None:
    """The accepted domain covering `domain` (``*.contoso.com`` entries cover subdomains)."""
    for entry in accepted:
        name = entry.domain_name
        if name == domain or (name.startswith("*.") and (domain == name[2:] or domain.endswith(name[1:]))):
            return entry
    return None


def route_recipient(
    recipient: str,
    accepted: Iterable[AcceptedDomain],
    mailboxes: Mapping[str, object],
    connectors: Iterable[SendConnector],
    size: int,
) -> Route:
    """Categorize one recipient (already lower-case) of a message of `size` bytes.

    >>> from labkit.transport.addressing import parse_address_space as space
    >>> acc = [AcceptedDomain("xutonglin.com", "xutonglin.com")]
    >>> route_recipient("allen@xutonglin.com", acc, {"allen@xutonglin.com": 1}, [], 10).kind
    'local'
    >>> route_recipient("bob@xutonglin.com", acc, {}, [], 10).error
    '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'
    >>> route_recipient("c@contoso.com", acc, {}, [], 10).kind
    'unreachable'
    >>> route_recipient("c@contoso.com", acc, {}, [SendConnector("Internet", (space("*"),))], 10).next_hop
    'contoso.com'
    """
    domain = domain_of(recipient)
    entry = accepted_domain_for(domain, accepted)
    if entry is not None:
        if recipient in mailboxes:
            return Route("local")
        if entry.domain_type == "Authoritative":
            return Route("unknown-recipient")
        # InternalRelay / ExternalRelay: recipients without a mailbox here leave by a send connector (facts §5.1).
    selection = select_connector(domain, connectors, size)
    if selection.connector is None:
        return Route("size-limit" if selection.reason == "size" else "unreachable", next_hop=domain)
    conn = selection.connector
    if conn.dns_routing_enabled or not conn.smart_hosts:
        return Route("remote", domain, conn, facts.DELIVERY_DNS)
    return Route("remote", ",".join(conn.smart_hosts), conn, facts.DELIVERY_SMART_HOST)

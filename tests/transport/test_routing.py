"""Connector selection (facts §3.5) and recipient categorization (facts §5.1)."""

from __future__ import annotations

from labkit.transport.addressing import parse_address_space as space
from labkit.transport.config import AcceptedDomain, SendConnector
from labkit.transport.routing import route_recipient, select_connector
from tests import expected


def conn(name: str, *spaces: str, size: int = expected.MAX_MESSAGE_SIZE, enabled: bool = True) -> SendConnector:
    return SendConnector(name, tuple(space(s) for s in spaces), max_message_size=size, enabled=enabled)


def test_most_specific_wins_over_cost() -> None:
    chosen = select_connector(
        "chicago.x.com", [conn("A", "*;1"), conn("B", "*.x.com;50"), conn("C", "chicago.x.com;100")], 10
    )
    assert chosen.connector is not None and chosen.connector.name == "C"


def test_then_lowest_cost_then_name() -> None:
    assert select_connector("x.com", [conn("B", "x.com;5"), conn("A", "x.com;9")], 10).connector.name == "B"  # type: ignore[union-attr]
    assert select_connector("x.com", [conn("b", "x.com;5"), conn("A", "x.com;5")], 10).connector.name == "A"  # type: ignore[union-attr]


def test_disabled_and_too_small_connectors_are_skipped() -> None:
    assert select_connector("x.com", [conn("A", "*", enabled=False)], 10).reason == "no-connector"
    chosen = select_connector("x.com", [conn("Small", "x.com", size=100), conn("Big", "*")], 1000)
    assert chosen.connector is not None and chosen.connector.name == "Big"
    assert select_connector("x.com", [conn("Small", "*", size=100)], 1000).reason == "size"


def test_recipients() -> None:
    accepted = [AcceptedDomain("x", "xutonglin.com"), AcceptedDomain("r", "relay.com", "InternalRelay")]
    boxes = {"allen@xutonglin.com": object()}
    internet = [conn("Internet", "*")]
    assert route_recipient("allen@xutonglin.com", accepted, boxes, internet, 10).kind == "local"
    unknown = route_recipient("bob@xutonglin.com", accepted, boxes, internet, 10)
    assert (unknown.kind, unknown.error) == ("unknown-recipient", expected.RECIP_NOT_FOUND)
    relayed = route_recipient("bob@relay.com", accepted, boxes, internet, 10)
    assert (relayed.kind, relayed.next_hop, relayed.delivery_type) == ("remote", "relay.com", expected.DELIVERY_DNS)
    nowhere = route_recipient("c@contoso.com", accepted, boxes, [], 10)
    assert (nowhere.kind, nowhere.error) == ("unreachable", expected.NO_MATCHING_CONNECTOR)
    smart = SendConnector("Smart", (space("*"),), dns_routing_enabled=False, smart_hosts=("relay.isp.example",))
    hop = route_recipient("c@contoso.com", accepted, boxes, [smart], 10)
    assert (hop.next_hop, hop.delivery_type) == ("relay.isp.example", expected.DELIVERY_SMART_HOST)

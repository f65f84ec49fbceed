"""Routing decisions of the lab topology (pure logic, no sockets)."""

from __future__ import annotations

import pytest

from labkit.net.routing import Topology
from labkit.scenario import load_scenario


@pytest.fixture(scope="module")
def topo() -> Topology:
    return Topology(load_scenario())


@pytest.mark.parametrize(
    ("source", "destination", "kind", "seen_as"),
    [
        ("mail.contoso.com", "100.100.100.2", "direct", "100.100.100.10"),
        ("client", "100.100.100.254", "direct", "100.100.100.100"),
        ("mail.xutonglin.com", "100.100.100.10", "nat", "100.100.100.254"),
        ("mail.xutonglin.com", "192.168.8.1", "direct", "192.168.8.10"),
        ("tmg", "192.168.8.10", "direct", "192.168.8.1"),
        ("tmg", "100.100.100.10", "direct", "100.100.100.254"),
        ("mail.contoso.com", "192.168.8.10", "unreachable", "100.100.100.10"),
        ("mail.contoso.com", "8.8.8.8", "unreachable", "100.100.100.10"),
    ],
)
def test_plan(topo: Topology, source: str, destination: str, kind: str, seen_as: str) -> None:
    hop = topo.plan(source, destination)
    assert (hop.kind, hop.source) == (kind, seen_as)


def test_unreachable_private_address_says_how_to_reach_it(topo: Topology) -> None:
    hop = topo.plan("client", "192.168.8.10")
    assert "publishing rule" in hop.why

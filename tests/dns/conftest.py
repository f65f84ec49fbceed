"""Fixtures for the DNS tests: a zone store with the seed's records, and a real DNS server on loopback.

The server fixture runs the lab loop (`LabRuntime`), the lab network and a
`DnsServer` on it, exactly as the lab does, and yields the real loopback ports
so that independent clients (dnspython, dig) can talk to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from labkit.dns.server import DnsServer
from labkit.dns.zone import ZoneStore
from labkit.events import DnsQueryEvent, EventLog
from labkit.net.network import LabNetwork
from labkit.runtime import LabRuntime
from labkit.scenario import Scenario, load_scenario

T = TypeVar("T")

DNS_IP = "100.100.100.2"
OUTSIDE_CLIENT = "100.100.100.100"


def seed_records(store: ZoneStore, scenario: Scenario) -> None:
    """Apply the DNS actions of every seed step (the A and MX records of steps 1 and 2)."""
    for step in scenario.steps:
        for action in step.actions:
            args = dict(action)
            if args.pop("do") == "dns.add_record":
                store.add_record(**args)


@pytest.fixture
def scenario() -> Scenario:
    return load_scenario()


@pytest.fixture
def empty_store(scenario: Scenario) -> ZoneStore:
    """The seed's zones with only their SOA and NS records (the lab before step 1)."""
    return ZoneStore.from_scenario(scenario)


@pytest.fixture
def store(scenario: Scenario) -> ZoneStore:
    """The seed's zones with the A and MX records of steps 1 and 2."""
    zones = ZoneStore.from_scenario(scenario)
    seed_records(zones, scenario)
    return zones


@dataclass
class DnsLab:
    """A running DNS server on a lab network, and the handles a test needs."""

    runtime: LabRuntime
    network: LabNetwork
    store: ZoneStore
    events: EventLog
    server: DnsServer

    @property
    def udp_port(self) -> int:
        assert self.server.udp is not None
        return self.server.udp.real_port

    @property
    def tcp_port(self) -> int:
        assert self.server.tcp is not None
        return self.server.tcp.real_port

    def run(self, coro: Awaitable[T]) -> T:
        """Run a coroutine on the lab loop."""
        return self.runtime.run(coro, timeout=30)

    def call(self, fn: Any, *args: Any) -> Any:
        """Call a function on the lab loop (to touch the store as the lab does)."""
        return self.runtime.call(fn, *args)

    def queries(self) -> list[DnsQueryEvent]:
        return self.events.of(DnsQueryEvent)


@pytest.fixture
def dns_lab(scenario: Scenario, store: ZoneStore) -> Iterator[DnsLab]:
    """A lab loop, the lab network and the public DNS server at 100.100.100.2:53 (UDP and TCP)."""
    runtime = LabRuntime("dns-test")
    runtime.start()
    events = EventLog()

    async def build() -> tuple[LabNetwork, DnsServer]:
        network = LabNetwork(scenario, events)
        server = DnsServer(store, network, events, scenario.dns_server, DNS_IP)
        await server.start()
        return network, server

    network, server = runtime.run(build())
    lab = DnsLab(runtime, network, store, events, server)
    try:
        yield lab
    finally:
        if runtime.running:  # a test may have stopped the lab itself
            runtime.run(server.stop())
            runtime.run(network.close())
        runtime.stop()


class AllowAll:
    """A stand-in for the TMG firewall that allows every outbound flow (NAT tests only)."""

    def __init__(self) -> None:
        self.flows: list[tuple[str, str, int, str]] = []

    def outbound(self, src_ip: str, dst_ip: str, port: int, proto: str) -> None:
        self.flows.append((src_ip, dst_ip, port, proto))


@pytest.fixture
def allow_all() -> AllowAll:
    return AllowAll()

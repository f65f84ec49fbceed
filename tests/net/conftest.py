"""Fixtures: the lab network and TMG on a real lab loop, without DNS or Exchange."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from labkit.events import EventLog
from labkit.net.firewall import Firewall, Tmg
from labkit.net.network import LabNetwork, Listener
from labkit.runtime import LabRuntime
from labkit.scenario import load_scenario


@dataclass
class NetLab:
    runtime: LabRuntime
    network: LabNetwork
    firewall: Firewall
    tmg: Tmg
    events: EventLog

    def echo(self, host: str, ip: str, port: int) -> tuple[Listener, list[str]]:
        """An echo service that also records the virtual peer of every connection."""
        peers: list[str] = []

        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str) -> None:
            peers.append(peer)
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
            writer.write_eof()

        listener = self.runtime.run(self.network.serve_stream(host, ip, port, handler, service="echo"))
        return listener, peers


@pytest.fixture
def netlab() -> Iterator[NetLab]:
    scenario = load_scenario()
    events = EventLog()
    runtime = LabRuntime("test-net")
    runtime.start()
    network = LabNetwork(scenario, events)
    assert scenario.firewall is not None
    firewall = Firewall(scenario.firewall, scenario, network, events)
    runtime.run(firewall.start())
    try:
        yield NetLab(runtime, network, firewall, Tmg(runtime, firewall), events)
    finally:
        runtime.run(network.close())
        runtime.stop()

"""`LabCore`: the running lab built from a scenario — its services, its sync door, the labs by name.

A lab owns one `LabRuntime` (a daemon thread with an asyncio loop); every
service — the lab network, the TMG firewall, the public DNS server and the
Exchange servers — lives on that loop. The methods here are synchronous and
thread-safe, so a notebook cell, a widget callback or a test can call them.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import logging
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from labkit.dns.manager import DnsManager
from labkit.dns.nslookup import NslookupResult, nslookup
from labkit.dns.server import DnsServer
from labkit.dns.zone import ZoneStore
from labkit.errors import InvalidValue, LabNotRunning, UnknownObject
from labkit.events import ConnectionEvent, EventLog
from labkit.net.firewall import Firewall, Tmg
from labkit.net.network import LOOPBACK, LabNetwork, Listener
from labkit.runtime import LabRuntime
from labkit.scenario import Scenario, load_scenario
from labkit.transport.facade import ServerFacade
from labkit.transport.mailflow import Mailbox, MailFlow
from labkit.transport.server import ExchangeServer, TransportSettings
from labkit.views import frame, merge_logs

log = logging.getLogger("labkit.lab")

HOST_COLUMNS = {
    "name": "Host",
    "fqdn": "FQDN",
    "role": "Role",
    "network": "Network",
    "address": "Address",
    "gateway": "Gateway",
    "description": "Description",
}
ENDPOINT_COLUMNS = {"host": "Host", "service": "Service", "virtual": "Virtual endpoint", "real": "Real endpoint"}
CONNECTION_COLUMNS = {
    "time": "Time",
    "protocol": "Protocol",
    "source": "Source",
    "destination": "Destination",
    "route": "Route",
    "outcome": "Outcome",
    "detail": "Detail",
}

_ids = itertools.count(1)


class LabCore:
    """One running copy of the lab: network, firewall, DNS and Exchange servers.

    This is the lab without its learner's faces (trace, pictures, checks...): those
    live on floors above and are joined to it by `labkit.lab.Lab`. Prefer
    `labkit.start()`, which also replaces a lab left running by an earlier run of
    the same cell. A lab is a context manager: ``with labkit.start() as lab:``.

    Args:
        scenario: the topology; the seed's when None.
        name: shown in errors and thread names.
        data_dir: where queues, logs and mailboxes are kept. None: a fresh
            temporary folder, removed at `stop()`. Given: kept, and a lab started
            again on it resumes its queues.
        settings: transport timers and limits; the lab's defaults when None.
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        name: str | None = None,
        data_dir: str | Path | None = None,
        settings: TransportSettings | None = None,
    ) -> None:
        self.scenario = scenario or load_scenario()
        self.name = name or f"lab-{next(_ids)}"
        self._own_data_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix="labkit-"))
        self.settings = settings or TransportSettings.lab()
        self.events = EventLog()
        self._runtime = LabRuntime(self.name)
        self._network = LabNetwork(self.scenario, self.events)
        self._zones = ZoneStore(self.scenario.zones, self.scenario.host(self.scenario.dns_server).fqdn)
        dns_host = self.scenario.host(self.scenario.dns_server)
        self._dns_server = DnsServer(self._zones, self._network, self.events, dns_host.name, dns_host.address)
        self._firewall = (
            Firewall(self.scenario.firewall, self.scenario, self._network, self.events) if self.scenario.firewall else None
        )
        self._servers: dict[str, ExchangeServer] = {
            org.server: ExchangeServer(
                self.scenario, org, self._network, self.events, self.data_dir / org.server, self.settings
            )
            for org in self.scenario.organisations
        }
        self.dns = DnsManager(self._runtime, self._zones, self.events)
        self.tmg: Tmg | None = Tmg(self._runtime, self._firewall) if self._firewall else None
        self._mail = MailFlow(self._runtime, self._servers, self.events)
        self.step = 0
        self.broken: str | None = None
        self._state = "new"
        self._lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------
    def start(self, step: int = 1, broken: str | None = None) -> LabCore:
        """Start every service, then bring the lab to `step` (the steps before it done).

        Args:
            step: 1 = nothing configured yet (the seed's first step) ... the last
                step + 1 = the whole seed done.
            broken: the name of a misconfiguration from the scenario's `[broken]`
                table to apply afterwards (troubleshooting exercises).

        Returns:
            This lab, running: every service listens.

        Raises:
            InvalidValue / UnknownObject: `step` or `broken` do not exist (nothing started).
            Exception: whatever stopped a service from starting (everything is stopped again).
        """
        last = self.scenario.last_step
        if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= last:
            raise InvalidValue("step", step, "is not a step of this lab", f"use 1-{last} ({last} = every step done)")
        if broken is not None and broken not in self.scenario.broken:
            raise UnknownObject("broken lab", broken, sorted(self.scenario.broken))
        with self._lock:
            if self._state != "new":
                raise InvalidValue("lab", self.name, f"is already {self._state}", "create a new lab with `labkit.start()`")
            self._state = "starting"
        try:
            self._runtime.start()
            self._runtime.run(self._start_services(), timeout=60, what="start")
            if broken is not None:
                step = max(step, int(self.scenario.broken[broken].get("step", last)))
            self.goto_step(step)
            if broken is not None:
                for action in self.scenario.broken[broken].get("actions", []):
                    self.apply(action)
                self.broken = broken
            # Only now, with the configuration in place (as a transport service loads it before its queues),
            # do the messages stored by an earlier run go back into the queues.
            self._runtime.call(lambda: [server.resume_queues() for server in self._servers.values()])
        except BaseException:
            self.stop()
            raise
        self._state = "running"
        return self

    async def _start_services(self) -> None:
        if self._firewall is not None:
            await self._firewall.start()
        await self._dns_server.start()
        for server in self._servers.values():
            await server.start(resume=False)

    async def _stop_services(self) -> None:
        for server in self._servers.values():
            try:
                await server.stop()
            except Exception:  # a half-started server must not keep the rest from stopping
                log.exception("stopping %s", server)
        await self._dns_server.stop()
        await self._network.close()

    def stop(self) -> None:
        """Stop every service and the lab thread, releasing every socket. Idempotent."""
        with self._lock:
            if self._state == "stopped":
                return
            self._state = "stopped"
        if self._runtime.running:
            try:
                self._runtime.run(self._stop_services(), timeout=15, what="stop")
            except Exception:
                log.exception("stopping lab %s", self.name)
            self._runtime.stop()
        if self._own_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        _forget(self)

    @property
    def running(self) -> bool:
        """True from a successful `start()` until `stop()`."""
        return self._state == "running"

    def __enter__(self) -> LabCore:
        if self._state == "new":
            self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _require_running(self) -> None:
        if self._state not in ("running", "starting"):
            raise LabNotRunning(self.name)

    # -- steps -------------------------------------------------------------------------------
    def goto_step(self, step: int) -> None:
        """Do every step before `step` that is not done yet (steps only go forward)."""
        for s in self.scenario.steps:
            if self.step < s.number < step:
                for action in s.actions:
                    self.apply(action)
        self.step = max(self.step, step)

    def apply(self, action: dict[str, Any]) -> None:
        """Carry out one scenario action through the public API (as a learner would)."""
        args = dict(action)
        verb = args.pop("do")
        area, _, method = verb.partition(".")
        target: object
        if area == "dns":
            target = self.dns
        elif area == "tmg":
            target = self.tmg
        elif area == "server":
            target = self.server(args.pop("server"))
        else:
            raise InvalidValue("do", verb, "is not a known action", "see labkit.scenario.KNOWN_ACTIONS")
        getattr(target, method)(**args)

    # -- looking around -----------------------------------------------------------------------
    def hosts(self) -> pd.DataFrame:
        """Every host with its addresses, one row per interface (the lab topology table)."""
        rows = [
            {
                "name": h.name,
                "fqdn": h.fqdn,
                "role": h.role,
                "network": i.network,
                "address": str(i.address),
                "gateway": str(h.gateway) if h.gateway else "",
                "description": h.description,
            }
            for h in self.scenario.hosts
            for i in h.interfaces
        ]
        return frame(rows, HOST_COLUMNS)

    def endpoints(self) -> pd.DataFrame:
        """Every lab service: virtual ``ip:port/proto`` → the real ``127.0.0.1:port`` to point dig, telnet or swaks at."""
        self._require_running()
        listeners = self._runtime.call(self._network.listeners)
        rows = [{"host": li.host, "service": li.service, "virtual": li.virtual, "real": li.real} for li in listeners]
        return frame(rows, ENDPOINT_COLUMNS)

    def endpoint(self, ip: str, port: int, proto: str = "tcp") -> tuple[str, int]:
        """The real ``(host, port)`` behind a virtual endpoint, e.g. ``lab.endpoint("100.100.100.254", 25)``."""
        self._require_running()
        listener = self._runtime.call(self._network.listener, ip, port, proto)
        if listener is None:
            known = [li.virtual for li in self._runtime.call(self._network.listeners)]
            raise UnknownObject("endpoint", f"{ip}:{port}/{proto}", known)
        return LOOPBACK, listener.real_port

    def network_log(self) -> pd.DataFrame:
        """Every flow the lab network routed (or refused), oldest first."""
        return frame(self.events.of(ConnectionEvent), CONNECTION_COLUMNS)

    # -- DNS -----------------------------------------------------------------------------------------
    def nslookup(self, name: str, type: str = "A", server: str | None = None, host: str | None = None) -> NslookupResult:
        """Query the lab's DNS like Windows nslookup, for real, from a lab host.

        Args:
            name: the name to look up, e.g. ``"mail.xutonglin.com"``.
            type: the record type (``A``, ``MX``, ``SOA``...).
            server: the DNS server's address; the public DNS (100.100.100.2) by default.
            host: the lab host the query is sent from; your own machine (the
                outside client) by default. From ``mail.xutonglin.com`` the query
                crosses TMG's NAT.
        """
        self._require_running()
        source = host or self.scenario.outside_client
        if source not in self._network.topology.hosts:
            raise UnknownObject("host", source, sorted(self._network.topology.hosts))
        target = server or self.scenario.host(self.scenario.dns_server).address
        return self._runtime.run(nslookup(self._network, source, target, name, type), what="nslookup")

    # -- mail -------------------------------------------------------------------------------------------
    def server(self, name: str) -> ServerFacade:
        """The Exchange server `name` (its FQDN, e.g. ``"mail.contoso.com"``), to manage like the Exchange shell."""
        self._require_running()
        key = name.lower()
        if key not in self._servers:
            raise UnknownObject("Exchange server", name, sorted(self._servers))
        return ServerFacade(self._runtime, self._servers[key])

    @property
    def servers(self) -> list[str]:
        """The FQDNs of the lab's Exchange servers."""
        return sorted(self._servers)

    def send_mail(self, sender: str, recipients: str | list[str], subject: str, body: str) -> str:
        """Submit a message from `sender`'s mailbox to its own server (as Outlook/OWA would).

        Returns:
            The message's Message-ID.
        """
        self._require_running()
        return self._mail.send_mail(sender, recipients, subject, body)

    def mailbox(self, address: str) -> Mailbox:
        """A mailbox's contents (a table of messages; each available as an `EmailMessage`)."""
        self._require_running()
        return self._mail.mailbox(address)

    def get_message_tracking_log(
        self,
        sender: str | None = None,
        recipients: str | None = None,
        event_id: str | None = None,
        message_id: str | None = None,
    ) -> pd.DataFrame:
        """Get-MessageTrackingLog on every Exchange server, merged into one time-ordered table with a Server column.

        Args:
            sender, recipients, event_id, message_id: filters, as for
                ``lab.server(...).get_message_tracking_log``; None = no filter.
        """
        self._require_running()
        filters = {"sender": sender, "recipients": recipients, "event_id": event_id, "message_id": message_id}
        given = {k: v for k, v in filters.items() if v is not None}
        return merge_logs({name: self.server(name).get_message_tracking_log(**given) for name in self.servers})

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until no message is in flight anywhere (each delivered, failed, or waiting for a retry)."""
        self._require_running()
        self._mail.settle(timeout)

    # -- raw network access (for experiments and tests) -------------------------------------------------
    def add_service(
        self,
        host: str,
        port: int,
        handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter, str], Any],
        *,
        ip: str | None = None,
        name: str = "",
    ) -> Listener:
        """Run a TCP service on a lab host; `handler(reader, writer, virtual_peer)` runs on the lab loop."""
        self._require_running()
        address = ip or self._host(host).address
        return self._runtime.run(self._network.serve_stream(host, address, port, handler, service=name or f"TCP {port}"))

    def connect(self, host: str, ip: str, port: int, timeout: float = 10.0) -> socket.socket:
        """A real, blocking TCP socket from lab host `host` to virtual `ip:port`, routed like any lab flow.

        Raises:
            NetworkUnreachable, ConnectionDenied: the lab network or TMG refused it.
        """
        self._require_running()
        self._host(host)
        route = self._runtime.call(self._network.route, host, ip, port, "tcp")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((LOOPBACK, 0))
            key = ("tcp", sock.getsockname()[1], route.listener.real_port)
            self._runtime.call(self._network.register_origin, key, route.source)
            sock.settimeout(timeout)
            sock.connect((LOOPBACK, route.listener.real_port))
        except BaseException:
            sock.close()
            raise
        return sock

    def _host(self, name: str) -> Any:
        try:
            return self.scenario.host(name)
        except KeyError:
            raise UnknownObject("host", name, [h.name for h in self.scenario.hosts]) from None

    def __repr__(self) -> str:
        state = self._state if self._state != "running" else f"running, step {self.step}"
        return f"<Lab {self.name!r} ({state})>"


# -- the labs started with labkit.start(), one per name --------------------------------------------------
_labs: dict[str, LabCore] = {}
_labs_lock = threading.Lock()


def _forget(lab: LabCore) -> None:
    with _labs_lock:
        for key, value in list(_labs.items()):
            if value is lab:
                del _labs[key]


def take_slot(name: str) -> LabCore | None:
    """Free the slot `name` (the caller stops the lab that held it, if any) and return that lab."""
    with _labs_lock:
        return _labs.pop(name, None)


def fill_slot(name: str, lab: LabCore) -> None:
    """Record `lab` as the lab started under `name`."""
    with _labs_lock:
        _labs[name] = lab


def running_labs() -> list[LabCore]:
    """The labs started with `labkit.start()` that are still running."""
    with _labs_lock:
        return list(_labs.values())


def stop_all() -> None:
    """Stop every lab started with `labkit.start()` (also run at interpreter exit)."""
    for lab in running_labs():
        lab.stop()


atexit.register(stop_all)

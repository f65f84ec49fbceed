"""The lab network: virtual `ip:port` endpoints served on real `127.0.0.1:<os port>` sockets.

Every lab service listens on loopback on a port the OS picks; the network keeps
the map from its virtual address (``100.100.100.2:53/udp``) to that real port.
A lab host that connects somewhere goes through `open_connection`, which routes
the flow (`labkit.net.routing`), asks the firewall where a firewall is crossed,
and records in the *origin table* which virtual address the connection comes
from, keyed by the client socket's real port. The listener on the other end
calls `accept` to learn that virtual peer (for logs, ``Hello [ip]`` and remote
IP ranges). A connection the table does not know comes from outside the lab — a
learner's own `dig`, `telnet` or `swaks` — and appears as the scenario's outside
client.

Everything here runs on the lab loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from labkit.errors import ConnectionDenied, DuplicateObject, InvalidValue, NetworkUnreachable
from labkit.events import ConnectionEvent, EventLog
from labkit.net.routing import Hop, Topology
from labkit.scenario import Scenario

if TYPE_CHECKING:
    from labkit.net.firewall import Firewall

log = logging.getLogger("labkit.net")

Proto = Literal["tcp", "udp"]
LOOPBACK = "127.0.0.1"  # the only address labkit ever binds (DESIGN.md §1.3)


class Closable(Protocol):
    def close(self) -> None: ...


@dataclass
class Listener:
    """One lab service: a virtual endpoint and the real loopback port behind it."""

    host: str
    ip: str
    port: int
    proto: Proto
    real_port: int
    service: str
    handle: Closable

    @property
    def virtual(self) -> str:
        """``ip:port/proto``, as shown in `lab.endpoints()`."""
        return f"{self.ip}:{self.port}/{self.proto}"

    @property
    def real(self) -> str:
        """``127.0.0.1:port``: where `dig`, `telnet` or `swaks` can reach it."""
        return f"{LOOPBACK}:{self.real_port}"


@dataclass(frozen=True)
class Route:
    """A routed flow: where to connect for real, and who the far side will think we are."""

    hop: Hop
    listener: Listener
    source: str  # virtual source ip the listener will see


class LabNetwork:
    """Virtual endpoints, routing and the origin table of one lab.

    Args:
        scenario: the lab's topology.
        events: where connection records go.
    """

    def __init__(self, scenario: Scenario, events: EventLog) -> None:
        self.scenario = scenario
        self.topology = Topology(scenario)
        self.events = events
        self.firewall: Firewall | None = None
        self._listeners: dict[tuple[str, int, Proto], Listener] = {}
        self._origins: dict[tuple[Proto, int, int], str] = {}
        self._transports: weakref.WeakSet[asyncio.BaseTransport] = weakref.WeakSet()
        self._handlers: set[asyncio.Task[None]] = set()
        outside = scenario.outside_client
        self.outside_address = self.topology.host(outside).address if outside else ""

    # -- listeners -----------------------------------------------------------------
    def _check_free(self, host: str, ip: str, port: int, proto: Proto) -> None:
        if host not in self.topology.hosts:
            raise InvalidValue("host", host, "is not a lab host", f"use one of {sorted(self.topology.hosts)}")
        owned = [str(i.address) for i in self.topology.host(host).interfaces]
        if ip not in owned:
            raise InvalidValue("ip", ip, f"is not an address of `{host}`", f"use one of {owned}")
        if not 0 < port < 65536:
            raise InvalidValue("port", port, "is not a port number", "use 1-65535")
        if (ip, port, proto) in self._listeners:
            raise DuplicateObject("listener", f"{ip}:{port}/{proto}", "Stop the service that uses it first (address already in use).")

    def _register(self, listener: Listener) -> Listener:
        self._listeners[(listener.ip, listener.port, listener.proto)] = listener
        log.debug("listening %s on %s", listener.virtual, listener.real)
        return listener

    async def listen_tcp(
        self, host: str, ip: str, port: int, factory: Callable[[], asyncio.Protocol], service: str = ""
    ) -> Listener:
        """Serve a TCP protocol for `host` at virtual `ip:port`, on a real loopback port.

        The protocol must call `accept(transport)` in `connection_made` to learn its
        virtual peer.
        """
        self._check_free(host, ip, port, "tcp")
        loop = asyncio.get_running_loop()
        server = await loop.create_server(factory, LOOPBACK, 0)
        real_port = server.sockets[0].getsockname()[1]
        return self._register(Listener(host, ip, port, "tcp", real_port, service, server))

    async def listen_udp(
        self, host: str, ip: str, port: int, factory: Callable[[], asyncio.DatagramProtocol], service: str = ""
    ) -> Listener:
        """Serve a datagram protocol for `host` at virtual `ip:port`; it calls `accept_datagram` per packet."""
        self._check_free(host, ip, port, "udp")
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(factory, local_addr=(LOOPBACK, 0))
        real_port = transport.get_extra_info("sockname")[1]
        return self._register(Listener(host, ip, port, "udp", real_port, service, transport))

    async def serve_stream(
        self,
        host: str,
        ip: str,
        port: int,
        handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter, str], object],
        service: str = "",
    ) -> Listener:
        """Serve `await handler(reader, writer, virtual_peer)` for each accepted TCP connection.

        Connections from outside that may not reach this address are closed before
        the handler runs.
        """
        loop = asyncio.get_running_loop()

        def factory() -> asyncio.Protocol:
            reader = asyncio.StreamReader(limit=2**16, loop=loop)

            async def connected(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
                # StreamReaderProtocol drops its reference to this task when the
                # connection is lost (CPython 3.11); without one of our own, a task
                # still waiting (a TMG relay, say) can be garbage-collected while
                # pending. Hold it until it finishes.
                task = asyncio.current_task()
                if task is not None:
                    self._handlers.add(task)
                    task.add_done_callback(self._handlers.discard)
                peer = self.accept(w.transport)
                if peer is None:
                    w.transport.abort()
                    return
                try:
                    result = handler(r, w, peer)
                    if asyncio.iscoroutine(result):
                        await result
                finally:
                    w.close()

            return asyncio.StreamReaderProtocol(reader, connected, loop=loop)

        return await self.listen_tcp(host, ip, port, factory, service)

    async def close_listener(self, listener: Listener) -> None:
        """Stop one service; its virtual endpoint becomes free again."""
        self._listeners.pop((listener.ip, listener.port, listener.proto), None)
        listener.handle.close()
        if isinstance(listener.handle, asyncio.AbstractServer):
            # Python 3.12's wait_closed also waits for open connections; they are
            # aborted by `close()` of the lab, so only wait briefly here.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(listener.handle.wait_closed(), 0.5)

    def listener(self, ip: str, port: int, proto: Proto = "tcp") -> Listener | None:
        """The service at a virtual endpoint, or None."""
        return self._listeners.get((ip, port, proto))

    def listeners(self) -> list[Listener]:
        """Every service, sorted by virtual address."""
        return sorted(self._listeners.values(), key=lambda li: (tuple(int(p) for p in li.ip.split(".")), li.port, li.proto))

    # -- the far side: who is connecting? -----------------------------------------
    def accept(self, transport: asyncio.BaseTransport) -> str | None:
        """Learn the virtual peer of an accepted TCP connection.

        Returns:
            The peer's virtual address, or None when the connection came from
            outside the lab to an address the outside cannot reach (the caller
            then drops it, as the internet would).
        """
        self._transports.add(transport)
        peer = transport.get_extra_info("peername")
        local = transport.get_extra_info("sockname")
        return self._identify("tcp", peer, local, pop=True)

    def accept_datagram(self, peer: tuple[str, int], local: tuple[str, int]) -> str | None:
        """Like `accept`, for one datagram received on a lab UDP service."""
        return self._identify("udp", peer, local, pop=False)

    def _identify(self, proto: Proto, peer: tuple[str, int], local: tuple[str, int], pop: bool) -> str | None:
        key = (proto, int(peer[1]), int(local[1]))
        origin = self._origins.pop(key, None) if pop else self._origins.get(key)
        if origin is not None:
            return origin
        # Not one of ours: a client outside the lab, which sits on the internet.
        target = next((li for li in self._listeners.values() if li.proto == proto and li.real_port == local[1]), None)
        if target is None:
            return self.outside_address
        outside_net = self.topology.network_of(self.outside_address)
        if self.topology.network_of(target.ip) != outside_net:
            self.events.append(
                ConnectionEvent(proto, self.outside_address, target.virtual, "from outside the lab", "unreachable", "a private address is not reachable from the internet")
            )
            return None
        return self.outside_address

    # -- the near side: connecting somewhere --------------------------------------------
    def route(self, source_host: str, ip: str, port: int, proto: Proto = "tcp", *, as_source: str | None = None) -> Route:
        """Decide how a flow from `source_host` to virtual `ip:port` goes, or raise why it cannot.

        Raises:
            NetworkUnreachable: no route (e.g. internet → private LAN address).
            ConnectionDenied: the firewall has no rule allowing it, or nothing listens there.
        """
        if source_host not in self.topology.hosts:
            raise InvalidValue("source host", source_host, "is not a lab host", f"use one of {sorted(self.topology.hosts)}")
        hop = self.topology.plan(source_host, ip)
        src = as_source or hop.source
        if hop.kind == "unreachable":
            self.events.append(ConnectionEvent(proto, src, f"{ip}:{port}", "no route", "unreachable", hop.why))
            raise NetworkUnreachable(src, f"{ip}:{port}", hop.why)
        if hop.kind == "nat":
            assert self.firewall is not None
            self.firewall.outbound(hop.original_source, ip, port, proto)  # raises ConnectionDenied, logs either way
        listener = self._listeners.get((ip, port, proto))
        if listener is None and self.firewall is not None and ip == self.firewall.external_ip:
            self.firewall.inbound_denied(src, ip, port, proto)  # logs it under TMG's Default rule, raises
        if listener is None:
            why = f"nothing listens on {ip}:{port}/{proto}"
            self.events.append(ConnectionEvent(proto, src, f"{ip}:{port}", hop.kind, "refused", why))
            raise ConnectionDenied(src, f"{ip}:{port}", why)
        return Route(hop, listener, src)

    async def open_connection(
        self, source_host: str, ip: str, port: int, *, as_source: str | None = None, timeout: float = 10.0
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """Open a TCP connection from a lab host to a virtual endpoint.

        Args:
            source_host: the host the connection starts from.
            ip, port: the virtual destination.
            as_source: the address the far side should see instead of the routed
                one (TMG publishing keeps the original client address this way).
            timeout: for the real connect.

        Raises:
            NetworkUnreachable, ConnectionDenied: see `route`.
        """
        route = self.route(source_host, ip, port, "tcp", as_source=as_source)
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        key: tuple[Proto, int, int] | None = None
        try:
            sock.bind((LOOPBACK, 0))
            # Register before connecting: the far side may look us up as soon as it accepts.
            origin: tuple[Proto, int, int] = ("tcp", int(sock.getsockname()[1]), route.listener.real_port)
            key = origin
            self.register_origin(origin, route.source)
            await asyncio.wait_for(loop.sock_connect(sock, (LOOPBACK, route.listener.real_port)), timeout)
            reader, writer = await asyncio.open_connection(sock=sock, limit=2**16)
        except BaseException:
            if key is not None:
                self._origins.pop(key, None)
            sock.close()
            raise
        self._transports.add(writer.transport)
        self.events.append(ConnectionEvent("tcp", route.source, f"{ip}:{port}", _route_name(route.hop), "connected"))
        return reader, writer

    @contextlib.asynccontextmanager
    async def udp_socket(self, source_host: str, ip: str, port: int) -> AsyncIterator[tuple[socket.socket, tuple[str, int]]]:
        """A non-blocking UDP socket from `source_host`, registered with its virtual source.

        Yields:
            ``(sock, real_destination)``: send with `loop.sock_sendto(sock, data, real_destination)`.
        """
        route = self.route(source_host, ip, port, "udp")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.bind((LOOPBACK, 0))
        key: tuple[Proto, int, int] = ("udp", sock.getsockname()[1], route.listener.real_port)
        self._origins[key] = route.source
        self.events.append(ConnectionEvent("udp", route.source, f"{ip}:{port}", _route_name(route.hop), "sent"))
        try:
            yield sock, (LOOPBACK, route.listener.real_port)
        finally:
            self._origins.pop(key, None)
            sock.close()

    def register_origin(self, key: tuple[Proto, int, int], source: str) -> None:
        """Record that the client socket in `key` speaks for virtual `source` (for clients made off the loop)."""
        self._origins[key] = source

    # -- shutdown --------------------------------------------------------------------------
    async def close(self) -> None:
        """Close every listener and abort every connection still open."""
        for listener in list(self._listeners.values()):
            await self.close_listener(listener)
        for transport in list(self._transports):
            if not transport.is_closing():
                abort = getattr(transport, "abort", None)
                if abort is not None:
                    abort()
                else:
                    transport.close()
        self._transports.clear()
        self._origins.clear()
        for task in list(self._handlers):
            task.cancel()
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        await asyncio.sleep(0)  # let the aborted transports run their close callbacks


def _route_name(hop: Hop) -> str:
    return {"direct": "direct", "nat": "NAT via firewall"}.get(hop.kind, hop.kind)

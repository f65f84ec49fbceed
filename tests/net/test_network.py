"""The lab network and TMG over real loopback sockets."""

from __future__ import annotations

import errno
import socket

import pytest

from labkit.errors import ConnectionDenied, DuplicateObject, InvalidValue, NetworkUnreachable, UnknownObject
from labkit.events import ConnectionEvent, FirewallEvent

from .conftest import NetLab


def connect_from(netlab: NetLab, host: str, ip: str, port: int) -> socket.socket:
    """A blocking client socket from a lab host, registered like `Lab.connect` does."""
    route = netlab.runtime.call(netlab.network.route, host, ip, port, "tcp")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    netlab.runtime.call(netlab.network.register_origin, ("tcp", sock.getsockname()[1], route.listener.real_port), route.source)
    sock.settimeout(5)
    sock.connect(("127.0.0.1", route.listener.real_port))
    return sock


def roundtrip(sock: socket.socket, payload: bytes) -> bytes:
    """Send, half-close, and read everything back until the far side closes."""
    chunks = []
    try:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        while data := sock.recv(65536):
            chunks.append(data)
    except (ConnectionResetError, BrokenPipeError):  # a dropped connection reads as nothing more
        pass
    except OSError as exc:  # ENOTCONN: the far side dropped us before our FIN went out
        if exc.errno != errno.ENOTCONN:
            raise
    finally:
        sock.close()
    return b"".join(chunks)


def test_same_network_direct_and_peer_is_virtual(netlab: NetLab) -> None:
    _, peers = netlab.echo("mail.contoso.com", "100.100.100.10", 7)
    sock = connect_from(netlab, "client", "100.100.100.10", 7)
    assert roundtrip(sock, b"hello") == b"hello"
    assert peers == ["100.100.100.100"]


def test_published_port_relays_both_ways_and_keeps_client_address(netlab: NetLab) -> None:
    _, peers = netlab.echo("mail.xutonglin.com", "192.168.8.10", 7)
    netlab.tmg.new_publishing_rule("Echo", internal="192.168.8.10", port=7)
    payload = bytes(range(256)) * 2000  # larger than any socket buffer: flow control both ways
    sock = connect_from(netlab, "mail.contoso.com", "100.100.100.254", 7)
    assert roundtrip(sock, payload) == payload
    assert peers == ["100.100.100.10"]  # TMG's default: the original client address
    log = netlab.tmg.log()
    allowed = log[(log["Rule"] == "Echo") & (log["Action"] == "Allowed")]
    assert list(allowed["Client IP"]) == ["100.100.100.10"]
    assert "192.168.8.10:7" in allowed["NAT"].iloc[0]


def test_half_close_keeps_the_other_direction_open(netlab: NetLab) -> None:
    """The client stops sending; the server still answers afterwards (FIN passed on, not a reset)."""
    import asyncio

    async def late_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str) -> None:
        data = await reader.read()  # until the client's FIN arrives through TMG
        writer.write(b"got " + str(len(data)).encode())
        await writer.drain()

    netlab.runtime.run(netlab.network.serve_stream("mail.xutonglin.com", "192.168.8.10", 9, late_answer))
    netlab.tmg.new_publishing_rule("Late", internal="192.168.8.10", port=9)
    sock = connect_from(netlab, "client", "100.100.100.254", 9)
    assert roundtrip(sock, b"x" * 1000) == b"got 1000"


def test_outside_client_through_real_endpoint(netlab: NetLab) -> None:
    """A connection from outside the lab (like a learner's telnet) appears as the outside client."""
    _, peers = netlab.echo("mail.xutonglin.com", "192.168.8.10", 7)
    netlab.tmg.new_publishing_rule("Echo", internal="192.168.8.10", port=7)
    listener = netlab.network.listener("100.100.100.254", 7)
    assert listener is not None
    sock = socket.create_connection(("127.0.0.1", listener.real_port), timeout=5)
    assert roundtrip(sock, b"ping") == b"ping"
    assert peers == ["100.100.100.100"]


def test_outside_client_cannot_reach_private_address(netlab: NetLab) -> None:
    listener, peers = netlab.echo("mail.xutonglin.com", "192.168.8.10", 7)
    sock = socket.create_connection(("127.0.0.1", listener.real_port), timeout=5)
    assert roundtrip(sock, b"ping") == b""  # dropped, as the internet drops private addresses
    assert peers == []
    assert netlab.events.of(ConnectionEvent)[-1].outcome == "unreachable"


def test_internet_to_lan_address_is_unreachable(netlab: NetLab) -> None:
    netlab.echo("mail.xutonglin.com", "192.168.8.10", 7)
    with pytest.raises(NetworkUnreachable, match="publishing rule"):
        connect_from(netlab, "mail.contoso.com", "192.168.8.10", 7)


def test_unpublished_port_is_refused_and_logged_by_tmg(netlab: NetLab) -> None:
    netlab.echo("mail.xutonglin.com", "192.168.8.10", 7)
    with pytest.raises(ConnectionDenied, match="no publishing rule"):
        connect_from(netlab, "mail.contoso.com", "100.100.100.254", 7)
    last = netlab.tmg.log().iloc[-1]
    assert (last["Action"], last["Rule"], last["Client IP"], last["Destination"]) == (
        "Denied",
        "Default rule",
        "100.100.100.10",
        "100.100.100.254:7",
    )


def test_outbound_nat_allowed_by_access_rule(netlab: NetLab) -> None:
    """mail.xutonglin.com may send SMTP out (scenario rule); contoso sees TMG's address."""
    _, peers = netlab.echo("mail.contoso.com", "100.100.100.10", 25)
    sock = connect_from(netlab, "mail.xutonglin.com", "100.100.100.10", 25)
    assert roundtrip(sock, b"EHLO") == b"EHLO"
    assert peers == ["100.100.100.254"]
    entry = netlab.events.of(FirewallEvent)[-1]
    assert (entry.rule, entry.action, entry.protocol, entry.source) == (
        "Allow SMTP and DNS from Exchange",
        "Allowed",
        "SMTP",
        "192.168.8.10",
    )


def test_outbound_without_rule_is_denied_and_logged(netlab: NetLab) -> None:
    netlab.echo("mail.contoso.com", "100.100.100.10", 80)
    with pytest.raises(ConnectionDenied, match="Default rule"):
        connect_from(netlab, "mail.xutonglin.com", "100.100.100.10", 80)
    log = netlab.tmg.log()
    last = log.iloc[-1]
    assert (last["Action"], last["Rule"], last["Protocol"]) == ("Denied", "Default rule", "HTTP")


def test_access_rule_added_then_removed(netlab: NetLab) -> None:
    _, peers = netlab.echo("mail.contoso.com", "100.100.100.10", 80)
    netlab.tmg.new_access_rule("Web", protocols=["HTTP"], sources=["Internal"])
    assert roundtrip(connect_from(netlab, "mail.xutonglin.com", "100.100.100.10", 80), b"GET") == b"GET"
    netlab.tmg.remove_access_rule("Web")
    with pytest.raises(ConnectionDenied):
        connect_from(netlab, "mail.xutonglin.com", "100.100.100.10", 80)
    assert peers == ["100.100.100.254"]


def test_removed_publishing_rule_refuses(netlab: NetLab) -> None:
    netlab.echo("mail.xutonglin.com", "192.168.8.10", 7)
    netlab.tmg.new_publishing_rule("Echo", internal="192.168.8.10", port=7)
    netlab.tmg.remove_publishing_rule("Echo")
    with pytest.raises(ConnectionDenied):
        connect_from(netlab, "client", "100.100.100.254", 7)


def test_published_server_down_fails_cleanly(netlab: NetLab) -> None:
    """Published but nothing listens inside: the client is dropped and TMG logs the failure."""
    netlab.tmg.new_publishing_rule("Nothing", internal="192.168.8.10", port=8)
    sock = connect_from(netlab, "client", "100.100.100.254", 8)
    assert roundtrip(sock, b"HELO") == b""
    entry = netlab.events.of(FirewallEvent)[-1]
    assert (entry.rule, entry.action) == ("Nothing", "Failed")


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"name": "x", "internal": "10.0.0.1", "port": 25}, InvalidValue, "internal"),
        ({"name": "x", "internal": "not-an-ip", "port": 25}, InvalidValue, "internal"),
        ({"name": "x", "internal": "192.168.8.10", "port": 0}, InvalidValue, "port"),
        ({"name": "x", "internal": "192.168.8.10", "port": 26, "listener": "100.100.100.10"}, InvalidValue, "listener"),
        ({"name": "Publish mail.xutonglin.com SMTP", "internal": "192.168.8.10", "port": 26}, DuplicateObject, None),
        ({"name": "other", "internal": "192.168.8.10", "port": 25}, DuplicateObject, None),
    ],
)
def test_bad_publishing_rule_changes_nothing(netlab: NetLab, kwargs: dict, error: type, field: str | None) -> None:
    before = netlab.tmg.get_publishing_rule()
    listeners = [li.virtual for li in netlab.network.listeners()]
    with pytest.raises(error) as info:
        netlab.tmg.new_publishing_rule(**kwargs)
    if field:
        assert info.value.field == field  # type: ignore[attr-defined]
    assert netlab.tmg.get_publishing_rule().equals(before)
    assert [li.virtual for li in netlab.network.listeners()] == listeners


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "x", "protocols": ["SMPT"], "sources": ["Internal"]}, "protocols"),
        ({"name": "x", "protocols": ["SMTP"], "sources": ["Intranet"]}, "sources"),
        ({"name": "x", "protocols": ["SMTP"], "sources": ["Internal"], "action": "Permit"}, "action"),
        ({"name": "x", "protocols": [], "sources": ["Internal"]}, "protocols"),
    ],
)
def test_bad_access_rule_changes_nothing(netlab: NetLab, kwargs: dict, field: str) -> None:
    before = netlab.tmg.get_access_rule()
    with pytest.raises(InvalidValue) as info:
        netlab.tmg.new_access_rule(**kwargs)
    assert info.value.field == field
    assert netlab.tmg.get_access_rule().equals(before)


def test_unknown_rule_names_the_choices(netlab: NetLab) -> None:
    with pytest.raises(UnknownObject, match="Allow SMTP and DNS from Exchange"):
        netlab.tmg.remove_access_rule("nope")


def test_duplicate_listener_is_refused(netlab: NetLab) -> None:
    netlab.echo("mail.contoso.com", "100.100.100.10", 7)
    with pytest.raises(DuplicateObject, match="address already in use"):
        netlab.echo("mail.contoso.com", "100.100.100.10", 7)

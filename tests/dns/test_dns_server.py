"""The DNS server on its real loopback endpoints, asked by an independent client (dnspython)."""

from __future__ import annotations

import socket
import struct
from typing import TYPE_CHECKING

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from labkit.dns.server import DnsServer
from labkit.errors import DuplicateObject

if TYPE_CHECKING:
    from tests.dns.conftest import DnsLab

NOERROR = dns.rcode.NOERROR
FORMERR = dns.rcode.FORMERR
NXDOMAIN = dns.rcode.NXDOMAIN
NOTIMP = dns.rcode.NOTIMP
REFUSED = dns.rcode.REFUSED
HOST = "127.0.0.1"
OUTSIDE_CLIENT = "100.100.100.100"  # the scenario's `client` host: how the lab sees dig, dnspython...
WAIT = 5.0  # how long a client waits for a reply it expects (not a speed limit)
SILENCE = 0.5  # how long to listen for a reply that must not come


def udp(lab: DnsLab, name: str, qtype: str = "A", **make: object) -> dns.message.Message:
    return dns.query.udp(dns.message.make_query(name, qtype, **make), HOST, timeout=WAIT, port=lab.udp_port)  # type: ignore[arg-type]


def tcp(lab: DnsLab, name: str, qtype: str = "A") -> dns.message.Message:
    return dns.query.tcp(dns.message.make_query(name, qtype), HOST, timeout=WAIT, port=lab.tcp_port)


def raw_udp(lab: DnsLab, packet: bytes, expect_reply: bool = True) -> bytes | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(WAIT if expect_reply else SILENCE)
        sock.sendto(packet, (HOST, lab.udp_port))
        try:
            return sock.recv(65535)
        except TimeoutError:
            return None


def assert_still_serving(lab: DnsLab) -> None:
    reply = udp(lab, "mail.contoso.com")
    assert reply.rcode() == NOERROR and reply.answer[0][0].address == "100.100.100.10"


# -- answers -------------------------------------------------------------------------------
def test_a_record(dns_lab: DnsLab) -> None:
    reply = udp(dns_lab, "mail.xutonglin.com")
    assert reply.rcode() == NOERROR
    assert reply.flags & dns.flags.AA and not reply.flags & dns.flags.RA
    assert [rd.address for rd in reply.answer[0]] == ["100.100.100.254"]


def test_mx_with_glue(dns_lab: DnsLab) -> None:
    reply = udp(dns_lab, "contoso.com", "MX")
    assert [(rd.preference, rd.exchange.to_text()) for rd in reply.answer[0]] == [(10, "mail.contoso.com.")]
    glue = [(r.name.to_text(), r.rdtype, r[0].address) for r in reply.additional]
    assert glue == [("mail.contoso.com.", dns.rdatatype.A, "100.100.100.10")]


def test_nxdomain_with_soa(dns_lab: DnsLab) -> None:
    reply = udp(dns_lab, "nosuch.xutonglin.com")
    assert reply.rcode() == NXDOMAIN and reply.flags & dns.flags.AA
    assert reply.answer == [] and reply.authority[0].rdtype == dns.rdatatype.SOA
    assert reply.authority[0][0].mname.to_text() == "dns.internet.lab."


def test_nodata_with_soa(dns_lab: DnsLab) -> None:
    reply = udp(dns_lab, "mail.contoso.com", "MX")
    assert reply.rcode() == NOERROR and reply.answer == []
    assert reply.authority[0].rdtype == dns.rdatatype.SOA


def test_outside_zone_refused(dns_lab: DnsLab) -> None:
    reply = udp(dns_lab, "www.example.com")
    assert reply.rcode() == REFUSED and not reply.flags & dns.flags.AA


def test_tcp_answers(dns_lab: DnsLab) -> None:
    reply = tcp(dns_lab, "xutonglin.com", "MX")
    assert reply.rcode() == NOERROR and reply.flags & dns.flags.AA
    assert reply.answer[0][0].exchange.to_text() == "mail.xutonglin.com."
    assert reply.additional[0][0].address == "100.100.100.254"


def test_changes_are_live_and_bump_serial(dns_lab: DnsLab) -> None:
    dns_lab.call(dns_lab.store.add_record, "contoso.com", "web", "A", "100.100.100.80")
    reply = udp(dns_lab, "web.contoso.com")
    assert reply.answer[0][0].address == "100.100.100.80"
    soa = udp(dns_lab, "contoso.com", "SOA").answer[0][0]
    assert soa.serial == 4  # 1 at creation, +1 for A (step 1), MX (step 2) and this A


def test_udp_truncation_then_tcp(dns_lab: DnsLab) -> None:
    for i in range(40):
        dns_lab.call(dns_lab.store.add_record, "contoso.com", "big", "A", f"100.100.100.{i + 1}")
    over_udp = udp(dns_lab, "big.contoso.com")
    assert over_udp.flags & dns.flags.TC and over_udp.answer == []
    over_tcp = tcp(dns_lab, "big.contoso.com")
    assert not over_tcp.flags & dns.flags.TC and len(over_tcp.answer[0]) == 40


# -- malformed packets ---------------------------------------------------------------------------
def test_garbage_gets_formerr_with_same_id(dns_lab: DnsLab) -> None:
    data = raw_udp(dns_lab, struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + b"\x3fnot a name")
    assert data is not None
    reply = dns.message.from_wire(data)
    assert reply.id == 0x4242 and reply.rcode() == FORMERR
    assert_still_serving(dns_lab)


def test_truncated_query_gets_formerr(dns_lab: DnsLab) -> None:
    wire = dns.message.make_query("mail.contoso.com", "A").to_wire()
    data = raw_udp(dns_lab, wire[:-2])
    assert data is not None and dns.message.from_wire(data).rcode() == FORMERR
    assert_still_serving(dns_lab)


def test_short_packet_dropped(dns_lab: DnsLab) -> None:
    assert raw_udp(dns_lab, b"\x00\x01\x02", expect_reply=False) is None
    assert_still_serving(dns_lab)


def test_response_packet_ignored(dns_lab: DnsLab) -> None:
    response = dns.message.make_response(dns.message.make_query("mail.contoso.com", "A"))
    assert raw_udp(dns_lab, response.to_wire(), expect_reply=False) is None
    assert_still_serving(dns_lab)


def test_wrong_opcode_notimp(dns_lab: DnsLab) -> None:
    query = dns.message.make_query("contoso.com", "SOA")
    query.set_opcode(dns.opcode.STATUS)
    data = raw_udp(dns_lab, query.to_wire())
    assert data is not None
    reply = dns.message.from_wire(data)
    assert reply.rcode() == NOTIMP and reply.id == query.id
    assert_still_serving(dns_lab)


def test_two_questions_formerr(dns_lab: DnsLab) -> None:
    query = dns.message.make_query("mail.contoso.com", "A")
    query.question.append(dns.message.make_query("mail.xutonglin.com", "A").question[0])
    data = raw_udp(dns_lab, query.to_wire())
    assert data is not None and dns.message.from_wire(data).rcode() == FORMERR
    assert_still_serving(dns_lab)


def test_malformed_packets_are_logged_or_dropped(dns_lab: DnsLab) -> None:
    raw_udp(dns_lab, struct.pack("!HHHHHH", 9, 0x0100, 1, 0, 0, 0) + b"\xff")
    raw_udp(dns_lab, b"\x00", expect_reply=False)
    assert [(q.rcode, q.query_id) for q in dns_lab.queries()] == [("FORMERR", 9)]


# -- TCP framing -----------------------------------------------------------------------------------
def framed(message: dns.message.Message) -> bytes:
    wire = message.to_wire()
    return struct.pack("!H", len(wire)) + wire


def read_framed(sock: socket.socket) -> dns.message.Message:
    head = sock.recv(2, socket.MSG_WAITALL)
    (length,) = struct.unpack("!H", head)
    return dns.message.from_wire(sock.recv(length, socket.MSG_WAITALL))


def test_tcp_several_queries_per_connection(dns_lab: DnsLab) -> None:
    queries = [dns.message.make_query(n, "A") for n in ("mail.contoso.com", "mail.xutonglin.com", "nosuch.contoso.com")]
    with socket.create_connection((HOST, dns_lab.tcp_port), timeout=WAIT) as sock:
        sock.sendall(b"".join(framed(q) for q in queries))  # pipelined, RFC 7766 §6.2.1.1
        replies = [read_framed(sock) for _ in queries]
    assert [r.id for r in replies] == [q.id for q in queries]
    assert [r.rcode() for r in replies] == [NOERROR, NOERROR, NXDOMAIN]


def test_tcp_bad_length_closes(dns_lab: DnsLab) -> None:
    with socket.create_connection((HOST, dns_lab.tcp_port), timeout=WAIT) as sock:
        sock.sendall(b"\x00\x03abc")
        assert sock.recv(100) == b""
    assert tcp(dns_lab, "mail.contoso.com").rcode() == NOERROR


def test_tcp_idle_connection_closed(dns_lab: DnsLab) -> None:
    dns_lab.server.tcp_idle_timeout = 0.2
    with socket.create_connection((HOST, dns_lab.tcp_port), timeout=WAIT) as sock:
        sock.sendall(framed(dns.message.make_query("mail.contoso.com", "A")))
        assert read_framed(sock).rcode() == NOERROR
        assert sock.recv(100) == b""  # closed by the server once idle


def test_tcp_garbage_formerr_then_next_query(dns_lab: DnsLab) -> None:
    garbage = struct.pack("!HHHHHH", 0x0707, 0x0100, 1, 0, 0, 0) + b"\xc0"
    with socket.create_connection((HOST, dns_lab.tcp_port), timeout=WAIT) as sock:
        sock.sendall(struct.pack("!H", len(garbage)) + garbage)
        first = read_framed(sock)
        sock.sendall(framed(dns.message.make_query("mail.xutonglin.com", "A")))
        second = read_framed(sock)
    assert (first.id, first.rcode()) == (0x0707, FORMERR)
    assert second.answer[0][0].address == "100.100.100.254"


# -- the query log ----------------------------------------------------------------------------------
def test_outside_queries_logged_as_outside_client(dns_lab: DnsLab) -> None:
    query = dns.message.make_query("xutonglin.com", "MX")
    dns.query.udp(query, HOST, timeout=WAIT, port=dns_lab.udp_port)
    tcp(dns_lab, "nosuch.contoso.com")
    logged = dns_lab.queries()
    assert [(q.client, q.transport, q.name, q.qtype, q.rcode, q.answer) for q in logged] == [
        (OUTSIDE_CLIENT, "udp", "xutonglin.com", "MX", "NOERROR", "10 mail.xutonglin.com"),
        (OUTSIDE_CLIENT, "tcp", "nosuch.contoso.com", "A", "NXDOMAIN", ""),
    ]
    assert logged[0].query_id == query.id


# -- lifecycle ---------------------------------------------------------------------------------------
def test_stop_is_idempotent_and_restart_works(dns_lab: DnsLab) -> None:
    server = dns_lab.server
    dns_lab.run(server.start())  # already running: nothing happens
    dns_lab.run(server.stop())
    dns_lab.run(server.stop())
    assert dns_lab.network.listener("100.100.100.2", 53, "udp") is None
    dns_lab.run(server.start())
    assert server.running
    assert_still_serving(dns_lab)


def test_second_server_on_same_address_refused(dns_lab: DnsLab) -> None:
    other = DnsServer(dns_lab.store, dns_lab.network, dns_lab.events, "dns", "100.100.100.2")
    with pytest.raises(DuplicateObject):
        dns_lab.run(other.start())
    assert not other.running
    assert_still_serving(dns_lab)

"""The lab's public DNS server (virtual 100.100.100.2:53), over UDP and TCP.

dnslib is only the codec (`DNSRecord.parse` / `pack`); dnslib's own `DNSServer`
is not used because it prints from its threads. The policy is one function,
`resolve(request, store) -> reply` (STYLE.md §3), wrapped by `handle`, which
deals with what arrives on the wire: packets too short to have a header are
dropped, responses (QR=1) are ignored, garbage gets FORMERR, other opcodes
NOTIMP (RFC 1035 §4.1.1). Every answered query becomes a
`labkit.events.DnsQueryEvent` naming the *virtual* client.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from dataclasses import dataclass
from typing import Any, Final, cast

from dnslib import (  # type: ignore[import-untyped, unused-ignore]
    CLASS,
    CNAME,
    EDNS0,
    MX,
    NS,
    OPCODE,
    PTR,
    QTYPE,
    RCODE,
    RR,
    SOA,
    TXT,
    A,
    DNSHeader,
    DNSRecord,
)

from labkit.dns.zone import Record, ZoneStore, parse_soa
from labkit.events import DnsQueryEvent, EventLog
from labkit.net.network import LabNetwork, Listener

log = logging.getLogger("labkit.dns")

PORT: Final = 53
HEADER_SIZE: Final = 12
UDP_LIMIT: Final = 512  # RFC 1035 §4.2.1: plain UDP messages are at most 512 octets
EDNS_SIZE: Final = 1232  # the buffer we advertise over EDNS (RFC 6891 §6.2.5; DNS Flag Day 2020)
TCP_LIMIT: Final = 65535  # RFC 1035 §4.2.2: a 2-octet length prefix
TCP_IDLE_TIMEOUT: Final = 10.0  # RFC 7766 §6.2.3: servers close idle connections
CLASS_IN: Final = 1
CLASS_ANY: Final = 255  # RFC 1035 §3.2.5 QCLASS "*"

_RCODE_NUM = {"NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4, "REFUSED": 5}


@dataclass(frozen=True)
class Outcome:
    """What `handle` made of one packet: the bytes to send back and what to log."""

    reply: bytes
    query_id: int
    name: str
    qtype: str
    rcode: str
    answer: str


# -- the core: question in, reply out ---------------------------------------------------
def _rr(record: Record) -> Any:
    owner = record.fqdn + "."
    kind = record.type
    rdata: Any
    if kind == "A":
        rdata = A(record.data)
    elif kind == "MX":
        rdata = MX(record.data + ".", record.preference or 0)
    elif kind == "NS":
        rdata = NS(record.data + ".")
    elif kind == "CNAME":
        rdata = CNAME(record.data + ".")
    elif kind == "PTR":
        rdata = PTR(record.data + ".")
    elif kind == "TXT":
        raw = record.data.encode()
        # RFC 1035 §3.3.14: TXT is a list of <character-string>s of at most 255 octets each.
        rdata = TXT([raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""])
    else:
        soa = parse_soa(record.data)
        rdata = SOA(soa.mname + ".", soa.rname + ".", (soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum))
    return RR(owner, getattr(QTYPE, kind), CLASS.IN, record.ttl, rdata)


def resolve(request: Any, store: ZoneStore) -> Any:
    """Answer one well-formed query (a `dnslib.DNSRecord` with one question) from `store`.

    Args:
        request: the parsed query.
        store: the zones we are authoritative for.

    Returns:
        The reply `DNSRecord`: AA set for our zones, RA clear (this server does
        not recurse, RFC 1035 §4.1.1), REFUSED for names outside our zones and for
        classes other than IN.
    """
    q = request.q
    reply = DNSRecord(DNSHeader(id=request.header.id, qr=1, opcode=0, rd=request.header.rd, ra=0, aa=0), q=q)
    if q.qclass not in (CLASS_IN, CLASS_ANY):
        reply.header.rcode = RCODE.REFUSED
        return reply
    answer = store.lookup(str(q.qname), QTYPE.get(q.qtype, f"TYPE{q.qtype}"))
    reply.header.aa = int(answer.aa)
    reply.header.rcode = _RCODE_NUM[answer.rcode]
    for record in answer.answers:
        reply.add_answer(_rr(record))
    for record in answer.authority:
        reply.add_auth(_rr(record))
    for record in answer.additional:
        reply.add_ar(_rr(record))
    return reply


def summarize(reply: Any) -> str:
    """A short text of the answer section for the query log, e.g. ``10 mail.xutonglin.com``."""
    return ", ".join(_short(rr) for rr in reply.rr)


def _short(rr: Any) -> str:
    text = str(rr.rdata)
    # Names print with their trailing dot; the log shows them as people write them.
    return text.replace(". ", " ").rstrip(".") if rr.rtype == QTYPE.SOA else text.rstrip(".")


def _header_only(query_id: int, flags: int, rcode: str) -> bytes:
    opcode = (flags >> 11) & 0xF
    rd = (flags >> 8) & 1
    bits = 0x8000 | opcode << 11 | rd << 8 | _RCODE_NUM[rcode]
    return struct.pack("!HHHHHH", query_id, bits, 0, 0, 0, 0)


def _question(request: Any) -> tuple[str, str]:
    if request is None or len(request.questions) != 1:
        return "", ""
    q = request.q
    return str(q.qname).rstrip(".") or ".", QTYPE.get(q.qtype, f"TYPE{q.qtype}")


def handle(packet: bytes, store: ZoneStore, *, udp: bool) -> Outcome | None:
    """Turn one received message into the reply to send, or None to send nothing.

    Args:
        packet: the DNS message (for TCP, without its length prefix).
        store: the zones.
        udp: True for UDP, where replies over 512 octets (or the client's EDNS
            size, at most 1232) are truncated with TC set (RFC 1035 §4.2.1, RFC 6891 §7).

    Returns:
        None for a packet shorter than a header (nothing to answer to) or a
        response (QR=1: answering it could start a loop); else the `Outcome`.

    >>> store = ZoneStore(zones=["contoso.com"])
    >>> handle(b"\\x12\\x34garbage", store, udp=True) is None
    True
    >>> handle(b"\\x12\\x34\\x01\\x00\\x00\\x01" + b"\\xff" * 10, store, udp=True).rcode
    'FORMERR'
    """
    if len(packet) < HEADER_SIZE:
        return None
    query_id, flags, qdcount = struct.unpack("!HHH", packet[:6])
    if flags & 0x8000:
        return None
    try:
        request = DNSRecord.parse(packet)
    except Exception:  # dnslib raises several kinds on garbage; all mean "cannot parse"
        request = None
    name, qtype = _question(request)
    opcode = (flags >> 11) & 0xF
    if opcode != OPCODE.QUERY:
        # RFC 1035 §4.1.1: 4 = Not Implemented. Only standard queries are served.
        return Outcome(_header_only(query_id, flags, "NOTIMP"), query_id, name, qtype, "NOTIMP", "")
    if request is None or qdcount != 1:
        # RFC 9619: a QUERY carries exactly one question; anything else is a format error.
        return Outcome(_header_only(query_id, flags, "FORMERR"), query_id, name, qtype, "FORMERR", "")
    limit = UDP_LIMIT if udp else TCP_LIMIT
    opt = next((rr for rr in request.ar if rr.rtype == QTYPE.OPT), None)
    try:
        reply = resolve(request, store)
    except Exception:
        log.exception("resolving %s %s failed", name, qtype)
        reply = DNSRecord(DNSHeader(id=query_id, qr=1, rd=request.header.rd, ra=0, rcode=RCODE.SERVFAIL), q=request.q)
    if opt is not None:
        # RFC 6891 §6.1.1, §7: answer EDNS with EDNS; the client's buffer size raises the UDP limit.
        if udp:
            limit = max(UDP_LIMIT, min(int(opt.rclass), EDNS_SIZE))
        if (opt.ttl >> 16) & 0xFF != 0:  # RFC 6891 §6.1.3: only version 0 exists -> BADVERS (16)
            reply = DNSRecord(DNSHeader(id=query_id, qr=1, rd=request.header.rd, ra=0), q=request.q)
            reply.add_ar(EDNS0(udp_len=EDNS_SIZE, ext_rcode=1))
            return Outcome(bytes(reply.pack()), query_id, name, qtype, "BADVERS", "")
        reply.add_ar(EDNS0(udp_len=EDNS_SIZE))
    rcode = RCODE.get(reply.header.rcode, str(reply.header.rcode))
    data = bytes(reply.pack())
    if len(data) > limit:
        # RFC 2181 §9: too big -> set TC and send what fits: the header and the question.
        short = DNSRecord(
            DNSHeader(
                id=query_id, qr=1, rd=request.header.rd, ra=0, aa=reply.header.aa, tc=1, rcode=reply.header.rcode
            ),
            q=request.q,
        )
        if opt is not None:
            short.add_ar(EDNS0(udp_len=EDNS_SIZE))
        data = bytes(short.pack())
        return Outcome(data, query_id, name, qtype, rcode, "(truncated)")
    return Outcome(data, query_id, name, qtype, rcode, summarize(reply))


# -- the shell: sockets on the lab network ------------------------------------------------------
class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None
        self.sockname: tuple[str, int] = ("", 0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector transport is not registered as a DatagramTransport subclass on 3.11.
        self.transport = cast(asyncio.DatagramTransport, transport)
        self.sockname = transport.get_extra_info("sockname")

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None:
            self.server._datagram(self.transport, data, addr, self.sockname)

    def error_received(self, exc: Exception) -> None:
        log.debug("udp error: %s", exc)


class DnsServer:
    """The authoritative DNS server of the lab, on a virtual address, port 53, UDP and TCP.

    Args:
        store: the zones to serve (shared with `DnsManager`; read on the lab loop only).
        network: the lab network that maps the virtual address to loopback ports.
        events: where each query's `DnsQueryEvent` goes.
        host: the lab host it runs on (``dns``).
        ip: its virtual address (``100.100.100.2``).
        tcp_idle_timeout: seconds a TCP connection may sit idle before it is closed.
    """

    def __init__(
        self,
        store: ZoneStore,
        network: LabNetwork,
        events: EventLog,
        host: str,
        ip: str,
        *,
        tcp_idle_timeout: float = TCP_IDLE_TIMEOUT,
    ) -> None:
        self.store, self.network, self.events = store, network, events
        self.host, self.ip = host, ip
        self.tcp_idle_timeout = tcp_idle_timeout
        self.udp: Listener | None = None
        self.tcp: Listener | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def running(self) -> bool:
        """True between `start()` and `stop()`."""
        return self.udp is not None

    async def start(self) -> None:
        """Listen on UDP and TCP; return only when both are listening.

        Raises:
            DuplicateObject: something already listens on ``ip:53``.
            InvalidValue: `host` / `ip` are not a lab host and one of its addresses.
        """
        if self.udp is not None:
            return
        udp = await self.network.listen_udp(self.host, self.ip, PORT, lambda: _UdpProtocol(self), service="DNS")
        try:
            self.tcp = await self.network.serve_stream(self.host, self.ip, PORT, self._serve_tcp, service="DNS")
        except BaseException:
            await self.network.close_listener(udp)
            raise
        self.udp = udp
        log.info("DNS server on %s:%d (udp %s, tcp %s)", self.ip, PORT, udp.real, self.tcp.real)

    async def stop(self) -> None:
        """Stop listening and close open TCP connections. Idempotent."""
        udp, tcp, self.udp, self.tcp = self.udp, self.tcp, None, None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        for listener in (udp, tcp):
            if listener is not None:
                await self.network.close_listener(listener)

    async def __aenter__(self) -> DnsServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- per packet ------------------------------------------------------------------------------
    def _answer(self, data: bytes, client: str, transport: str) -> bytes | None:
        try:
            outcome = handle(data, self.store, udp=transport == "udp")
        except Exception:  # never let one packet stop the server
            log.exception("DNS packet from %s could not be handled", client)
            return None
        if outcome is None:
            log.debug("dropped a %d-byte %s packet from %s (too short, or a response)", len(data), transport, client)
            return None
        self.events.append(
            DnsQueryEvent(
                client, transport, outcome.name, outcome.qtype, outcome.rcode, outcome.answer, outcome.query_id
            )
        )
        return outcome.reply

    def _datagram(
        self, transport: asyncio.DatagramTransport, data: bytes, addr: tuple[str, int], local: tuple[str, int]
    ) -> None:
        client = self.network.accept_datagram(addr, local)
        if client is None:
            return
        reply = self._answer(data, client, "udp")
        if reply is not None:
            transport.sendto(reply, addr)

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, client: str) -> None:
        # RFC 1035 §4.2.2 / RFC 7766: each message has a 2-octet length prefix; several per connection.
        self._writers.add(writer)
        try:
            while True:
                head = await asyncio.wait_for(reader.readexactly(2), self.tcp_idle_timeout)
                length = int.from_bytes(head, "big")
                if length < HEADER_SIZE:
                    log.debug("closing TCP from %s: bad length %d", client, length)
                    return
                data = await asyncio.wait_for(reader.readexactly(length), self.tcp_idle_timeout)
                reply = self._answer(data, client, "tcp")
                if reply is not None:
                    writer.write(len(reply).to_bytes(2, "big") + reply)
                    await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            self._writers.discard(writer)  # `serve_stream` closes the connection

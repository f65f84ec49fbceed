"""A DNS stub client that sends real queries from a lab host through the lab network.

Used by `nslookup` and by the Exchange transport for MX lookups. The query
leaves from `source_host`, so the server logs the client address it would see
in the lab (through TMG's NAT for the internal Exchange server).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field, replace
from typing import Any, Final

from dnslib import QTYPE, RCODE, DNSRecord  # type: ignore[import-untyped, unused-ignore]

from labkit.dns.names import check_domain_name
from labkit.dns.zone import Soa, parse_soa
from labkit.errors import InvalidValue, LabkitError
from labkit.net.network import LabNetwork

PORT: Final = 53


class DnsTimeout(LabkitError, TimeoutError):
    """No reply came from the DNS server within the timeout, on any attempt.

    Args:
        server: the server's virtual address.
        name, qtype: the question.
        timeout: seconds waited per attempt.
        attempts: how many times the query was sent.
    """

    def __init__(self, server: str, name: str, qtype: str, timeout: float, attempts: int) -> None:
        self.server, self.name, self.qtype = server, name, qtype
        self.timeout, self.attempts = timeout, attempts
        super().__init__(
            f"DNS request to `{server}` for `{name}` ({qtype}) timed out: no reply in {timeout:g} s, "
            f"{attempts} attempt(s). Is the DNS server running and reachable from this host?"
        )


class DnsProtocolError(LabkitError, OSError):
    """The DNS server closed the connection or sent something that is not a DNS reply."""

    def __init__(self, server: str, name: str, why: str) -> None:
        self.server, self.name = server, name
        super().__init__(f"No usable reply from DNS server `{server}` for `{name}`: {why}.")


@dataclass(frozen=True)
class ResourceRecord:
    """One record of a reply, in plain terms.

    Attributes:
        name: owner name without the trailing dot.
        type: ``A``, ``MX``, ``SOA``...
        ttl: seconds.
        data: address, target host (no trailing dot), text, or for SOA
            ``mname rname serial refresh retry expire minimum``.
        preference: MX preference, else None.
    """

    name: str
    type: str
    ttl: int
    data: str
    preference: int | None = None


@dataclass(frozen=True)
class DnsReply:
    """A parsed reply.

    Attributes:
        name, qtype: the question asked.
        server: the server's virtual address.
        rcode: ``NOERROR``, ``NXDOMAIN``, ``REFUSED``, ``SERVFAIL``, ``FORMERR``, ``NOTIMP``...
        authoritative: the AA flag.
        transport: ``udp`` or ``tcp`` (the one that carried this reply).
        tcp_fallback: the UDP reply was truncated (TC) and the query was repeated over TCP.
        query_id: the message id.
        answers, authority, additional: the three sections (EDNS OPT left out).
    """

    name: str
    qtype: str
    server: str
    rcode: str
    authoritative: bool
    transport: str = "udp"
    tcp_fallback: bool = False
    query_id: int = 0
    answers: list[ResourceRecord] = field(default_factory=list)
    authority: list[ResourceRecord] = field(default_factory=list)
    additional: list[ResourceRecord] = field(default_factory=list)

    def mx(self) -> list[tuple[int, str]]:
        """``(preference, host)`` of each MX answer, most preferred first (RFC 5321 §5.1).

        Equal preferences are sorted by host name, to stay deterministic; a caller
        that wants RFC 5321's random spread shuffles them itself.
        """
        return sorted((r.preference or 0, r.data) for r in self.answers if r.type == "MX")

    def addresses(self) -> list[str]:
        """The IPv4 addresses in the answer section (after any CNAME), in order."""
        return [r.data for r in self.answers if r.type == "A"]

    def address_of(self, host: str) -> list[str]:
        """Addresses the reply gives for `host`, in the answer or additional (glue) section."""
        key = host.lower().rstrip(".")
        return [r.data for r in (*self.answers, *self.additional) if r.type == "A" and r.name == key]

    def soa(self) -> Soa | None:
        """The SOA from the answer or authority section (a negative answer carries one), or None."""
        record = next((r for r in (*self.answers, *self.authority) if r.type == "SOA"), None)
        return parse_soa(record.data) if record is not None else None


def _record(rr: Any) -> ResourceRecord:
    kind = QTYPE.get(rr.rtype, f"TYPE{rr.rtype}")
    rdata = rr.rdata
    preference = None
    if kind == "MX":
        data, preference = str(rdata.label).rstrip("."), int(rdata.preference)
    elif kind in ("NS", "CNAME", "PTR"):
        data = str(rdata.label).rstrip(".")
    elif kind == "SOA":
        data = " ".join([str(rdata.mname).rstrip("."), str(rdata.rname).rstrip("."), *(str(t) for t in rdata.times)])
    elif kind == "TXT":
        data = b"".join(rdata.data).decode("utf-8", "replace")
    else:
        data = str(rdata)
    return ResourceRecord(str(rr.rname).rstrip(".").lower(), kind, int(rr.ttl), data, preference)


def parse_reply(wire: bytes, name: str, qtype: str, server: str, transport: str = "udp") -> DnsReply:
    """Decode a reply message into a `DnsReply`.

    Raises:
        DnsProtocolError: the bytes are not a DNS message.
    """
    try:
        msg = DNSRecord.parse(wire)
    except Exception as exc:
        raise DnsProtocolError(server, name, f"unreadable reply ({exc})") from None
    return DnsReply(
        name=name,
        qtype=qtype,
        server=server,
        rcode=RCODE.get(msg.header.rcode, str(msg.header.rcode)),
        authoritative=bool(msg.header.aa),
        transport=transport,
        query_id=int(msg.header.id),
        answers=[_record(rr) for rr in msg.rr],
        authority=[_record(rr) for rr in msg.auth],
        additional=[_record(rr) for rr in msg.ar if rr.rtype != QTYPE.OPT],
    )


def _matches(wire: bytes, query_id: int) -> bool:
    # RFC 5452 §9.1: accept only a response (QR=1) carrying our id.
    return len(wire) >= 12 and int.from_bytes(wire[:2], "big") == query_id and bool(wire[2] & 0x80)


async def query(
    network: LabNetwork,
    source_host: str,
    server_ip: str,
    name: str,
    qtype: str = "A",
    *,
    timeout: float = 2.0,
    tcp: bool = False,
    retries: int = 1,
) -> DnsReply:
    """Ask the DNS server at virtual `server_ip` one question, from lab host `source_host`.

    Runs on the lab loop. Over UDP the query is sent up to ``retries + 1`` times;
    a truncated reply (TC) is repeated over TCP (RFC 1035 §4.2.1, RFC 7766 §5).

    Args:
        network: the lab network.
        source_host: the lab host that asks, e.g. ``mail.xutonglin.com``.
        server_ip: the DNS server's virtual address, e.g. ``100.100.100.2``.
        name: the name to look up (a trailing dot is optional).
        qtype: ``A``, ``MX``, ``NS``, ``SOA``, ``CNAME``, ``TXT``, ``PTR``, ``ANY``...
        timeout: seconds to wait for each attempt.
        tcp: use TCP from the start.
        retries: extra attempts after a timeout.

    Returns:
        The reply, whatever its rcode.

    Raises:
        InvalidValue: a bad name, type, timeout or retries.
        DnsTimeout: no reply to any attempt.
        DnsProtocolError: the server closed the TCP connection or sent garbage.
        NetworkUnreachable, ConnectionDenied: the lab network cannot carry the query.
    """
    qname = check_domain_name(name, "name", underscore=True)
    kind = qtype.upper() if isinstance(qtype, str) else ""
    if kind not in QTYPE.reverse or kind == "OPT":
        raise InvalidValue(
            "qtype", qtype, "is not a DNS query type", "Use e.g. `A`, `MX`, `NS`, `SOA`, `CNAME`, `TXT` or `PTR`."
        )
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise InvalidValue("timeout", timeout, "must be a positive number of seconds", "Use e.g. `timeout=2.0`.")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise InvalidValue("retries", retries, "must be a whole number 0 or more", "Use e.g. `retries=1`.")
    request = DNSRecord.question(qname, kind)
    wire = bytes(request.pack())
    query_id = int(request.header.id)
    if tcp:
        return await _over_tcp(network, source_host, server_ip, qname, kind, wire, query_id, timeout, retries)
    loop = asyncio.get_running_loop()
    async with network.udp_socket(source_host, server_ip, PORT) as (sock, dest):
        for _ in range(retries + 1):
            await loop.sock_sendto(sock, wire, dest)
            deadline = loop.time() + timeout
            while (remaining := deadline - loop.time()) > 0:
                try:
                    data, addr = await asyncio.wait_for(loop.sock_recvfrom(sock, 65535), remaining)
                except TimeoutError:
                    break
                if addr != dest or not _matches(data, query_id):
                    continue  # not the answer to this query: keep waiting
                reply = parse_reply(data, qname, kind, server_ip, "udp")
                if data[2] & 0x02:  # TC
                    tcp_reply = await _over_tcp(
                        network, source_host, server_ip, qname, kind, wire, query_id, timeout, retries
                    )
                    return replace(tcp_reply, tcp_fallback=True)
                return reply
    raise DnsTimeout(server_ip, qname, kind, timeout, retries + 1)


async def _over_tcp(
    network: LabNetwork,
    source_host: str,
    server_ip: str,
    qname: str,
    kind: str,
    wire: bytes,
    query_id: int,
    timeout: float,
    retries: int,
) -> DnsReply:
    for _ in range(retries + 1):
        reader, writer = await network.open_connection(source_host, server_ip, PORT, timeout=timeout)
        try:
            writer.write(len(wire).to_bytes(2, "big") + wire)
            await writer.drain()
            while True:
                head = await asyncio.wait_for(reader.readexactly(2), timeout)
                data = await asyncio.wait_for(reader.readexactly(int.from_bytes(head, "big")), timeout)
                if _matches(data, query_id):
                    return parse_reply(data, qname, kind, server_ip, "tcp")
        except TimeoutError:
            continue
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise DnsProtocolError(
                server_ip, qname, f"the server closed the TCP connection ({type(exc).__name__})"
            ) from None
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
    raise DnsTimeout(server_ip, qname, kind, timeout, retries + 1)

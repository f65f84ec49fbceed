"""`query` and `nslookup` from lab hosts through the lab network, against the real server."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from labkit.dns.client import DnsReply, DnsTimeout, query
from labkit.dns.nslookup import nslookup
from labkit.errors import ConnectionDenied, InvalidValue, LabkitError, NetworkUnreachable

if TYPE_CHECKING:
    from tests.dns.conftest import AllowAll, DnsLab

NOERROR, NXDOMAIN, REFUSED = "NOERROR", "NXDOMAIN", "REFUSED"
DNS_IP = "100.100.100.2"
CONTOSO_MAIL = "100.100.100.10"  # mail.contoso.com, straight on the internet
TMG_EXTERNAL = "100.100.100.254"  # what the internet sees of xutonglin's LAN (NAT)


def ask(lab: DnsLab, source: str, name: str, qtype: str = "A", **kw: object) -> DnsReply:
    return lab.run(query(lab.network, source, DNS_IP, name, qtype, **kw))  # type: ignore[arg-type]


def test_query_a_from_contoso(dns_lab: DnsLab) -> None:
    reply = ask(dns_lab, "mail.contoso.com", "mail.xutonglin.com")
    assert (reply.rcode, reply.authoritative, reply.transport) == (NOERROR, True, "udp")
    assert reply.addresses() == ["100.100.100.254"]
    assert reply.answers[0].name == "mail.xutonglin.com" and reply.answers[0].ttl == 3600


def test_query_mx_helpers(dns_lab: DnsLab) -> None:
    dns_lab.call(dns_lab.store.add_record, "xutonglin.com", "@", "MX", "backup.xutonglin.com", 20)
    reply = ask(dns_lab, "mail.contoso.com", "xutonglin.com", "MX")
    assert reply.mx() == [(10, "mail.xutonglin.com"), (20, "backup.xutonglin.com")]
    assert reply.address_of("mail.xutonglin.com") == ["100.100.100.254"]
    assert reply.address_of("backup.xutonglin.com") == []


def test_query_negative_answers(dns_lab: DnsLab) -> None:
    nx = ask(dns_lab, "mail.contoso.com", "nosuch.xutonglin.com")
    assert nx.rcode == NXDOMAIN and nx.answers == []
    soa = nx.soa()
    assert soa is not None and (soa.mname, soa.rname, soa.refresh) == (
        "dns.internet.lab",
        "hostmaster.xutonglin.com",
        900,
    )
    nodata = ask(dns_lab, "mail.contoso.com", "mail.xutonglin.com", "MX")
    assert nodata.rcode == NOERROR and nodata.mx() == [] and nodata.soa() is not None
    refused = ask(dns_lab, "mail.contoso.com", "www.example.com")
    assert (refused.rcode, refused.authoritative) == (REFUSED, False)


def test_query_over_tcp(dns_lab: DnsLab) -> None:
    reply = ask(dns_lab, "client", "contoso.com", "MX", tcp=True)
    assert reply.transport == "tcp" and reply.mx() == [(10, "mail.contoso.com")]
    assert dns_lab.queries()[-1].transport == "tcp"


def test_truncated_reply_retried_over_tcp(dns_lab: DnsLab) -> None:
    for i in range(40):
        dns_lab.call(dns_lab.store.add_record, "contoso.com", "big", "A", f"100.100.100.{i + 1}")
    reply = ask(dns_lab, "client", "big.contoso.com")
    assert reply.tcp_fallback and reply.transport == "tcp" and len(reply.addresses()) == 40
    assert [q.transport for q in dns_lab.queries()] == ["udp", "tcp"]


def test_log_shows_direct_client(dns_lab: DnsLab) -> None:
    ask(dns_lab, "mail.contoso.com", "xutonglin.com", "MX")
    event = dns_lab.queries()[-1]
    assert (event.client, event.transport, event.name, event.qtype, event.answer) == (
        CONTOSO_MAIL,
        "udp",
        "xutonglin.com",
        "MX",
        "10 mail.xutonglin.com",
    )


def test_log_shows_nat_address_for_internal_server(dns_lab: DnsLab, allow_all: AllowAll) -> None:
    dns_lab.network.firewall = allow_all  # type: ignore[assignment]
    reply = ask(dns_lab, "mail.xutonglin.com", "contoso.com", "MX")
    assert reply.mx() == [(10, "mail.contoso.com")]
    assert dns_lab.queries()[-1].client == TMG_EXTERNAL
    assert allow_all.flows == [("192.168.8.10", DNS_IP, 53, "udp")]
    ask(dns_lab, "mail.xutonglin.com", "contoso.com", "MX", tcp=True)
    assert dns_lab.queries()[-1].client == TMG_EXTERNAL


def test_unreachable_propagates(dns_lab: DnsLab) -> None:
    with pytest.raises(NetworkUnreachable):
        dns_lab.run(query(dns_lab.network, "client", "192.168.8.10", "mail.contoso.com"))


def test_nothing_listening_propagates(dns_lab: DnsLab) -> None:
    dns_lab.run(dns_lab.server.stop())
    with pytest.raises(ConnectionDenied):
        ask(dns_lab, "client", "mail.contoso.com")


class Silent(asyncio.DatagramProtocol):
    """A UDP service that never answers."""

    def __init__(self) -> None:
        self.received = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received += 1


def test_timeout_raises_dns_timeout(dns_lab: DnsLab) -> None:
    dns_lab.run(dns_lab.server.stop())
    silent = Silent()
    dns_lab.run(dns_lab.network.listen_udp("dns", DNS_IP, 53, lambda: silent))

    async def attempt() -> DnsReply | DnsTimeout:
        # Caught on the lab loop: a TimeoutError crossing `LabRuntime.run` is taken for the door's own timeout.
        try:
            return await query(dns_lab.network, "client", DNS_IP, "mail.contoso.com", timeout=0.2, retries=2)
        except DnsTimeout as exc:
            return exc

    error = dns_lab.run(attempt())
    assert isinstance(error, DnsTimeout)
    assert isinstance(error, LabkitError) and isinstance(error, TimeoutError)
    assert error.attempts == 3 and silent.received == 3
    assert "timed out" in str(error)


def test_nslookup_timeout_text(dns_lab: DnsLab) -> None:
    dns_lab.run(dns_lab.server.stop())
    dns_lab.run(dns_lab.network.listen_udp("dns", DNS_IP, 53, Silent))
    result = dns_lab.run(nslookup(dns_lab.network, "client", DNS_IP, "mail.contoso.com", timeout=0.25))
    assert result.rcode is None and result.reply is None and "timed out" in result.error
    assert result.text.splitlines()[3:] == [
        "DNS request timed out.",
        "    timeout was 0.25 seconds.",
        "DNS request timed out.",
        "    timeout was 0.25 seconds.",
        "*** Request to UnKnown timed-out",
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"qtype": "BOGUS"}, "qtype"),
        ({"name": "bad name"}, "name"),
        ({"timeout": 0}, "timeout"),
        ({"retries": -1}, "retries"),
    ],
)
def test_bad_arguments(dns_lab: DnsLab, kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"name": "mail.contoso.com", "qtype": "A", **kwargs}
    with pytest.raises(InvalidValue) as info:
        dns_lab.run(query(dns_lab.network, "client", DNS_IP, **args))  # type: ignore[arg-type]
    assert info.value.field == field
    assert dns_lab.queries() == []


# -- nslookup end to end ----------------------------------------------------------------------------------
HEADER = ["Server:  UnKnown", "Address:  100.100.100.2", ""]


def run_nslookup(lab: DnsLab, name: str, type: str = "A", source: str = "client") -> list[str]:
    return lab.run(nslookup(lab.network, source, DNS_IP, name, type)).text.splitlines()


def test_nslookup_a(dns_lab: DnsLab) -> None:
    assert run_nslookup(dns_lab, "mail.xutonglin.com") == [
        *HEADER,
        "Name:    mail.xutonglin.com",
        "Address:  100.100.100.254",
    ]


def test_nslookup_mx(dns_lab: DnsLab) -> None:
    assert run_nslookup(dns_lab, "xutonglin.com", "MX") == [
        *HEADER,
        "xutonglin.com   MX preference = 10, mail exchanger = mail.xutonglin.com",
        "mail.xutonglin.com      internet address = 100.100.100.254",
    ]


def test_nslookup_no_mx_shows_soa(dns_lab: DnsLab) -> None:
    dns_lab.call(dns_lab.store.remove_record, "xutonglin.com", "@", "MX")
    lines = run_nslookup(dns_lab, "xutonglin.com", "mx")
    assert lines[3:6] == [
        "xutonglin.com",
        "        primary name server = dns.internet.lab",
        "        responsible mail addr = hostmaster.xutonglin.com",
    ]
    assert lines[6] == "        serial  = 4"
    assert lines[7:] == [
        "        refresh = 900 (15 mins)",
        "        retry   = 600 (10 mins)",
        "        expire  = 86400 (1 day)",
        "        default TTL = 3600 (1 hour)",
    ]


def test_nslookup_nxdomain_and_refused(dns_lab: DnsLab) -> None:
    assert run_nslookup(dns_lab, "nosuch.xutonglin.com")[3:] == [
        "*** UnKnown can't find nosuch.xutonglin.com: Non-existent domain"
    ]
    assert run_nslookup(dns_lab, "www.example.com")[3:] == ["*** UnKnown can't find www.example.com: Query refused"]


def test_nslookup_result_fields(dns_lab: DnsLab) -> None:
    result = dns_lab.run(nslookup(dns_lab.network, "mail.contoso.com", DNS_IP, "xutonglin.com", "MX"))
    assert (result.rcode, result.authoritative, result.type) == (NOERROR, True, "MX")
    assert result.mx == [(10, "mail.xutonglin.com")] and result.addresses == []
    assert [a.type for a in result.answers] == ["MX"]
    assert str(result) == result.text and result._repr_html_().startswith("<pre>")


def test_nslookup_unreachable_text(dns_lab: DnsLab) -> None:
    result = dns_lab.run(nslookup(dns_lab.network, "client", "192.168.8.10", "mail.contoso.com"))
    assert result.text.splitlines() == [
        "Server:  UnKnown",
        "Address:  192.168.8.10",
        "",
        "*** UnKnown can't find mail.contoso.com: Network is unreachable",
    ]
    assert result.rcode is None

"""`format_nslookup` is pure: each Windows output shape of the facts reference §7.1, to the character."""

from __future__ import annotations

from labkit.dns.client import DnsProtocolError, DnsReply, DnsTimeout, ResourceRecord
from labkit.dns.nslookup import NslookupResult, format_nslookup
from labkit.dns.zone import duration_text
from labkit.errors import ConnectionDenied, NetworkUnreachable

SERVER = "100.100.100.2"
HEADER = "Server:  UnKnown\nAddress:  100.100.100.2\n\n"
SOA_DATA = "dns.internet.lab hostmaster.xutonglin.com 3 900 600 86400 3600"


def reply(rcode: str = "NOERROR", aa: bool = True, qtype: str = "A", **sections: list[ResourceRecord]) -> DnsReply:
    return DnsReply("x", qtype, SERVER, rcode, aa, **sections)  # type: ignore[arg-type]


def a(name: str, address: str) -> ResourceRecord:
    return ResourceRecord(name, "A", 3600, address)


def test_a_authoritative() -> None:
    text = format_nslookup(
        SERVER, "mail.xutonglin.com", "A", reply(answers=[a("mail.xutonglin.com", "100.100.100.254")])
    )
    assert text == HEADER + "Name:    mail.xutonglin.com\nAddress:  100.100.100.254"


def test_a_non_authoritative() -> None:
    text = format_nslookup(
        SERVER, "mail.xutonglin.com", "A", reply(aa=False, answers=[a("mail.xutonglin.com", "100.100.100.254")])
    )
    assert text == HEADER + "Non-authoritative answer:\nName:    mail.xutonglin.com\nAddress:  100.100.100.254"


def test_a_several_addresses_and_alias() -> None:
    answers = [
        ResourceRecord("www.contoso.com", "CNAME", 3600, "mail.contoso.com"),
        a("mail.contoso.com", "100.100.100.10"),
        a("mail.contoso.com", "100.100.100.11"),
    ]
    text = format_nslookup(SERVER, "www.contoso.com", "A", reply(answers=answers))
    assert text == HEADER + (
        "Name:    mail.contoso.com\nAddresses:  100.100.100.10\n          100.100.100.11\nAliases:  www.contoso.com"
    )


def test_a_nodata_shows_name_only() -> None:
    soa = ResourceRecord("xutonglin.com", "SOA", 3600, SOA_DATA)
    text = format_nslookup(SERVER, "xutonglin.com.", "A", reply(authority=[soa]))
    assert text == HEADER + "Name:    xutonglin.com"


def test_mx_with_glue_matches_reference() -> None:
    text = format_nslookup(
        SERVER,
        "xutonglin.com",
        "MX",
        reply(
            qtype="MX",
            answers=[ResourceRecord("xutonglin.com", "MX", 3600, "mail.xutonglin.com", 10)],
            additional=[a("mail.xutonglin.com", "100.100.100.254")],
        ),
    )
    assert text == HEADER + (
        "xutonglin.com   MX preference = 10, mail exchanger = mail.xutonglin.com\n"
        "mail.xutonglin.com      internet address = 100.100.100.254"
    )


def test_no_mx_prints_soa_block() -> None:
    text = format_nslookup(
        SERVER,
        "xutonglin.com",
        "MX",
        reply(qtype="MX", authority=[ResourceRecord("xutonglin.com", "SOA", 3600, SOA_DATA)]),
    )
    assert text == HEADER + (
        "xutonglin.com\n"
        "        primary name server = dns.internet.lab\n"
        "        responsible mail addr = hostmaster.xutonglin.com\n"
        "        serial  = 3\n"
        "        refresh = 900 (15 mins)\n"
        "        retry   = 600 (10 mins)\n"
        "        expire  = 86400 (1 day)\n"
        "        default TTL = 3600 (1 hour)"
    )


def test_other_record_shapes() -> None:
    answers = [
        ResourceRecord("contoso.com", "NS", 3600, "dns.internet.lab"),
        ResourceRecord("www.contoso.com", "CNAME", 3600, "mail.contoso.com"),
        ResourceRecord("2.100.100.100.in-addr.arpa", "PTR", 3600, "dns.internet.lab"),
        ResourceRecord("contoso.com", "TXT", 3600, "v=spf1 mx -all"),
    ]
    text = format_nslookup(SERVER, "contoso.com", "ANY", reply(qtype="ANY", answers=answers))
    assert text == HEADER + (
        "contoso.com     nameserver = dns.internet.lab\n"
        "www.contoso.com canonical name = mail.contoso.com\n"
        "2.100.100.100.in-addr.arpa      name = dns.internet.lab\n"
        "contoso.com     text =\n"
        "\n"
        '        "v=spf1 mx -all"'
    )


def test_nxdomain() -> None:
    text = format_nslookup(SERVER, "nosuch.xutonglin.com", "A", reply("NXDOMAIN"))
    assert text == HEADER + "*** UnKnown can't find nosuch.xutonglin.com: Non-existent domain"


def test_refused_servfail_formerr() -> None:
    assert format_nslookup(SERVER, "x", "A", reply("REFUSED")).endswith("*** UnKnown can't find x: Query refused")
    assert format_nslookup(SERVER, "x", "A", reply("SERVFAIL")).endswith("*** UnKnown can't find x: Server failed")
    assert format_nslookup(SERVER, "x", "A", reply("FORMERR")).endswith("*** UnKnown can't find x: Format error")


def test_timeout() -> None:
    text = format_nslookup(SERVER, "mail.xutonglin.com", "A", DnsTimeout(SERVER, "mail.xutonglin.com", "A", 2.0, 2))
    assert text == HEADER + (
        "DNS request timed out.\n"
        "    timeout was 2 seconds.\n"
        "DNS request timed out.\n"
        "    timeout was 2 seconds.\n"
        "*** Request to UnKnown timed-out"
    )


def test_unreachable_and_no_response() -> None:
    unreachable = NetworkUnreachable("192.168.8.10", "100.100.100.2:53", "no gateway")
    assert (
        format_nslookup(SERVER, "x.com", "A", unreachable)
        == HEADER + "*** UnKnown can't find x.com: Network is unreachable"
    )
    denied = ConnectionDenied("100.100.100.100", "100.100.100.2:53", "nothing listens")
    assert (
        format_nslookup(SERVER, "x.com", "A", denied)
        == HEADER + "*** UnKnown can't find x.com: No response from server"
    )
    closed = DnsProtocolError(SERVER, "x.com", "closed")
    assert format_nslookup(SERVER, "x.com", "A", closed).endswith("No response from server")


def test_tcp_fallback_line() -> None:
    r = DnsReply("x", "A", SERVER, "NOERROR", True, tcp_fallback=True, answers=[a("x", "100.100.100.1")])
    assert (
        format_nslookup(SERVER, "x", "A", r)
        == HEADER + "Truncated, retrying in TCP mode.\nName:    x\nAddress:  100.100.100.1"
    )


def test_duration_text() -> None:
    assert [duration_text(s) for s in (0, 1, 59, 60, 3600, 7200, 86400, 604800, 90061)] == [
        "0 secs",
        "1 sec",
        "59 secs",
        "1 min",
        "1 hour",
        "2 hours",
        "1 day",
        "7 days",
        "1 day 1 hour 1 min 1 sec",
    ]


def test_result_renders_itself() -> None:
    r = reply(answers=[a("mail.contoso.com", "100.100.100.10")])
    text = format_nslookup(SERVER, "mail.contoso.com", "A", r)
    result = NslookupResult(text, SERVER, "mail.contoso.com", "A", "NOERROR", True, r.answers, r)
    assert str(result) == text
    assert result._repr_html_() == "<pre>" + text.replace("\n", "\n") + "</pre>"
    assert result.addresses == ["100.100.100.10"] and result.mx == []
    seen: list[str] = []

    class Printer:
        def text(self, value: str) -> None:
            seen.append(value)

    result._repr_pretty_(Printer(), False)
    assert seen == [text]


def test_html_is_escaped() -> None:
    result = NslookupResult("a <b> & c", SERVER, "x", "A", None, False)
    assert result._repr_html_() == "<pre>a &lt;b&gt; &amp; c</pre>"

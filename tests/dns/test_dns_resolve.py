"""The server's core without sockets: `resolve` and `handle` on wire messages built by dnspython."""

from __future__ import annotations

import struct

import dns.edns
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import pytest
from dnslib import DNSRecord  # type: ignore[import-untyped, unused-ignore]

from labkit.dns.server import handle, resolve
from labkit.dns.zone import ZoneStore

NOERROR = dns.rcode.NOERROR
FORMERR = dns.rcode.FORMERR
NXDOMAIN = dns.rcode.NXDOMAIN
NOTIMP = dns.rcode.NOTIMP
REFUSED = dns.rcode.REFUSED
BADVERS = dns.rcode.BADVERS


def ask(store: ZoneStore, name: str, qtype: str = "A", *, udp: bool = True, **make: object) -> dns.message.Message:
    query = dns.message.make_query(name, qtype, **make)  # type: ignore[arg-type]
    outcome = handle(query.to_wire(), store, udp=udp)
    assert outcome is not None
    reply = dns.message.from_wire(outcome.reply)
    assert query.is_response(reply)
    return reply


def test_resolve_returns_reply_record(store: ZoneStore) -> None:
    reply = resolve(DNSRecord.question("mail.contoso.com", "A"), store)
    assert reply.header.aa == 1 and reply.header.qr == 1 and reply.header.ra == 0
    assert [str(rr.rdata) for rr in reply.rr] == ["100.100.100.10"]


def test_a_is_authoritative(store: ZoneStore) -> None:
    reply = ask(store, "mail.xutonglin.com")
    assert reply.rcode() == NOERROR
    assert reply.flags & dns.flags.AA and not reply.flags & dns.flags.RA
    assert [rd.address for rd in reply.answer[0]] == ["100.100.100.254"]


def test_mx_with_glue(store: ZoneStore) -> None:
    reply = ask(store, "xutonglin.com", "MX")
    assert [(rd.preference, rd.exchange.to_text()) for rd in reply.answer[0]] == [(10, "mail.xutonglin.com.")]
    assert [(rrset.name.to_text(), rrset[0].address) for rrset in reply.additional] == [
        ("mail.xutonglin.com.", "100.100.100.254")
    ]


def test_nxdomain_and_nodata_carry_soa(store: ZoneStore) -> None:
    nx = ask(store, "nosuch.xutonglin.com")
    assert nx.rcode() == NXDOMAIN and nx.flags & dns.flags.AA
    assert nx.authority[0].rdtype == dns.rdatatype.SOA and nx.authority[0].ttl == 3600
    soa = nx.authority[0][0]
    assert (soa.mname.to_text(), soa.rname.to_text(), soa.refresh, soa.retry, soa.expire, soa.minimum) == (
        "dns.internet.lab.",
        "hostmaster.xutonglin.com.",
        900,
        600,
        86400,
        3600,
    )
    nodata = ask(store, "mail.xutonglin.com", "AAAA")
    assert nodata.rcode() == NOERROR and nodata.answer == [] and nodata.authority[0].rdtype == dns.rdatatype.SOA


def test_outside_zone_refused(store: ZoneStore) -> None:
    reply = ask(store, "www.example.org")
    assert reply.rcode() == REFUSED and not reply.flags & dns.flags.AA


def test_chaos_class_refused(store: ZoneStore) -> None:
    reply = ask(store, "version.bind", "TXT", rdclass=dns.rdataclass.CH)
    assert reply.rcode() == REFUSED


def test_question_echoed_with_its_case(store: ZoneStore) -> None:
    reply = ask(store, "MAIL.Contoso.COM")
    assert reply.question[0].name.to_text() == "MAIL.Contoso.COM."
    assert reply.answer[0][0].address == "100.100.100.10"


# -- the wire: what arrives is not always a good query ----------------------------------------------
def test_shorter_than_header_dropped(store: ZoneStore) -> None:
    assert handle(b"", store, udp=True) is None
    assert handle(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00", store, udp=True) is None


def test_response_ignored(store: ZoneStore) -> None:
    reply = dns.message.make_response(dns.message.make_query("mail.contoso.com", "A"))
    assert handle(reply.to_wire(), store, udp=True) is None


def test_garbage_formerr_echoes_id(store: ZoneStore) -> None:
    packet = struct.pack("!HHHHHH", 0xBEEF, 0x0100, 1, 0, 0, 0) + b"\xff\xfe\xfd"
    outcome = handle(packet, store, udp=True)
    assert outcome is not None and outcome.rcode == "FORMERR"
    reply = dns.message.from_wire(outcome.reply)
    assert reply.id == 0xBEEF and reply.rcode() == FORMERR and reply.flags & dns.flags.QR


def test_truncated_query_formerr(store: ZoneStore) -> None:
    wire = dns.message.make_query("mail.contoso.com", "A").to_wire()
    outcome = handle(wire[:-3], store, udp=True)
    assert outcome is not None and outcome.rcode == "FORMERR"


@pytest.mark.parametrize("opcode", [dns.opcode.IQUERY, dns.opcode.STATUS, dns.opcode.NOTIFY, dns.opcode.UPDATE])
def test_other_opcodes_notimp(store: ZoneStore, opcode: dns.opcode.Opcode) -> None:
    query = dns.message.make_query("contoso.com", "SOA")
    query.set_opcode(opcode)
    outcome = handle(query.to_wire(), store, udp=True)
    assert outcome is not None
    reply = dns.message.from_wire(outcome.reply)
    assert reply.rcode() == NOTIMP and reply.opcode() == opcode and reply.id == query.id


def test_two_or_zero_questions_formerr(store: ZoneStore) -> None:
    query = dns.message.make_query("mail.contoso.com", "A")
    query.question.append(dns.message.make_query("mail.xutonglin.com", "A").question[0])
    two = handle(query.to_wire(), store, udp=True)
    assert two is not None and dns.message.from_wire(two.reply).rcode() == FORMERR
    zero = handle(struct.pack("!HHHHHH", 7, 0x0100, 0, 0, 0, 0), store, udp=True)
    assert zero is not None and dns.message.from_wire(zero.reply).rcode() == FORMERR


# -- sizes: TC over UDP, EDNS ---------------------------------------------------------------------------
def big_store(store: ZoneStore) -> ZoneStore:
    for i in range(40):
        store.add_record("contoso.com", "big", "A", f"100.100.100.{i + 1}")
    return store


def test_udp_over_512_sets_tc(store: ZoneStore) -> None:
    reply = ask(big_store(store), "big.contoso.com")
    assert reply.flags & dns.flags.TC and reply.answer == []
    assert reply.question[0].name.to_text() == "big.contoso.com."


def test_tcp_not_truncated(store: ZoneStore) -> None:
    reply = ask(big_store(store), "big.contoso.com", udp=False)
    assert not reply.flags & dns.flags.TC and len(reply.answer[0]) == 40


def test_edns_raises_udp_limit_and_is_echoed(store: ZoneStore) -> None:
    reply = ask(big_store(store), "big.contoso.com", use_edns=0, payload=4096)
    assert not reply.flags & dns.flags.TC and len(reply.answer[0]) == 40
    assert reply.edns == 0 and reply.payload == 1232


def test_edns_small_buffer_still_512(store: ZoneStore) -> None:
    reply = ask(big_store(store), "big.contoso.com", use_edns=0, payload=100)
    assert reply.flags & dns.flags.TC


def test_edns_unknown_version_badvers(store: ZoneStore) -> None:
    reply = ask(store, "mail.contoso.com", use_edns=1)
    assert reply.rcode() == BADVERS and reply.answer == []


def test_long_txt_split_into_strings(store: ZoneStore) -> None:
    store.add_record("contoso.com", "@", "TXT", "x" * 600)
    reply = ask(store, "contoso.com", "TXT", udp=False)
    assert [len(s) for s in reply.answer[0][0].strings] == [255, 255, 90]

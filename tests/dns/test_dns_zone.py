"""Zone store: records, validation (bad input changes nothing) and authoritative lookup, without sockets."""

from __future__ import annotations

import re
from typing import Any

import pytest

from labkit.dns.names import check_domain_name
from labkit.dns.zone import Record, ZoneStore, parse_soa
from labkit.errors import DuplicateObject, InvalidValue, LabkitError, UnknownObject

NOERROR, NXDOMAIN, REFUSED = "NOERROR", "NXDOMAIN", "REFUSED"


def snapshot(store: ZoneStore) -> tuple[list[Record], list[str]]:
    return store.records(), store.zones()


# -- zones, SOA and NS ----------------------------------------------------------------
def test_new_zone_has_windows_default_soa_and_ns(empty_store: ZoneStore) -> None:
    records = empty_store.records("xutonglin.com")
    assert [(r.name, r.type) for r in records] == [("@", "SOA"), ("@", "NS")]
    soa = empty_store.soa("xutonglin.com")
    assert soa == parse_soa("dns.internet.lab hostmaster.xutonglin.com 1 900 600 86400 3600")
    assert records[1].data == "dns.internet.lab"
    assert all(r.ttl == 3600 for r in records)


def test_serial_increments_on_every_change(empty_store: ZoneStore) -> None:
    empty_store.add_record("contoso.com", "mail", "A", "100.100.100.10")
    assert empty_store.soa("contoso.com").serial == 2
    empty_store.add_record("contoso.com", "@", "MX", "mail.contoso.com", preference=10)
    empty_store.remove_record("contoso.com", "@", "MX")
    assert empty_store.soa("contoso.com").serial == 4
    assert empty_store.soa("xutonglin.com").serial == 1


def test_zones_add_remove_and_duplicates() -> None:
    store = ZoneStore(primary_ns="ns.example.lab")
    assert store.zones() == []
    assert store.add_zone("Fabrikam.COM.") == "fabrikam.com"
    assert "fabrikam.com" in store and "FABRIKAM.com." in store
    assert store.records("fabrikam.com")[1].data == "ns.example.lab"
    with pytest.raises(DuplicateObject, match=re.escape("fabrikam.com")):
        store.add_zone("fabrikam.com")
    store.remove_zone("fabrikam.com")
    assert store.zones() == []
    with pytest.raises(UnknownObject):
        store.remove_zone("fabrikam.com")
    with pytest.raises(InvalidValue):
        store.add_zone("bad_zone.com")


def test_from_scenario_uses_dns_host_fqdn(empty_store: ZoneStore) -> None:
    assert empty_store.zones() == ["contoso.com", "xutonglin.com"]
    assert empty_store.soa("contoso.com").mname == "dns.internet.lab"
    assert empty_store.soa("contoso.com").rname == "hostmaster.contoso.com"


# -- adding, finding, removing --------------------------------------------------------------
def test_add_and_get_records(store: ZoneStore) -> None:
    assert store.get_record("xutonglin.com", "mail", "A") == [Record("xutonglin.com", "mail", "A", "100.100.100.254")]
    mx = store.get_record("xutonglin.com", "@", "MX")
    assert mx == [Record("xutonglin.com", "@", "MX", "mail.xutonglin.com", 10, 3600)]
    assert [r.fqdn for r in store.get_record(type="A")] == ["mail.contoso.com", "mail.xutonglin.com"]
    assert store.get_record(name="mail.contoso.com") == store.get_record("contoso.com", "mail")
    assert store.has_record("contoso.com", "mail", "A", "100.100.100.10")
    assert not store.has_record("contoso.com", "mail", "A", "100.100.100.11")
    assert not store.has_record("nosuch.com")
    assert store.has_record(type="mx")


@pytest.mark.parametrize("name", ["www", "WWW", "www.contoso.com.", "WWW.Contoso.Com."])
def test_name_forms(empty_store: ZoneStore, name: str) -> None:
    record = empty_store.add_record("contoso.com", name, "A", "100.100.100.10")
    assert (record.name, record.fqdn) == ("www", "www.contoso.com")


@pytest.mark.parametrize("name", ["@", "", "contoso.com."])
def test_apex_forms(empty_store: ZoneStore, name: str) -> None:
    assert empty_store.add_record("contoso.com", name, "A", "100.100.100.10").name == "@"


def test_records_sorted_zone_soa_ns_then_name(store: ZoneStore) -> None:
    store.add_record("contoso.com", "zz", "TXT", "last")
    store.add_record("contoso.com", "aa", "A", "100.100.100.50")
    rows = [(r.zone, r.name, r.type) for r in store.records()]
    assert rows == [
        ("contoso.com", "@", "SOA"),
        ("contoso.com", "@", "NS"),
        ("contoso.com", "@", "MX"),
        ("contoso.com", "aa", "A"),
        ("contoso.com", "mail", "A"),
        ("contoso.com", "zz", "TXT"),
        ("xutonglin.com", "@", "SOA"),
        ("xutonglin.com", "@", "NS"),
        ("xutonglin.com", "@", "MX"),
        ("xutonglin.com", "mail", "A"),
    ]


def test_remove_one_or_all(store: ZoneStore) -> None:
    store.add_record("contoso.com", "mail", "A", "100.100.100.11")
    removed = store.remove_record("contoso.com", "mail", "A", "100.100.100.11")
    assert removed == Record("contoso.com", "mail", "A", "100.100.100.11")
    store.add_record("contoso.com", "mail", "A", "100.100.100.12")
    all_removed = store.remove_record("contoso.com", "mail", "A")
    assert isinstance(all_removed, list) and len(all_removed) == 2
    assert not store.has_record("contoso.com", "mail", "A")


def test_remove_missing_lists_existing(store: ZoneStore) -> None:
    before = snapshot(store)
    with pytest.raises(UnknownObject, match=re.escape("mail.contoso.com A 100.100.100.10")) as info:
        store.remove_record("contoso.com", "www", "A")
    assert "www.contoso.com A" in str(info.value)
    assert snapshot(store) == before


def test_txt_allows_underscore_labels(empty_store: ZoneStore) -> None:
    record = empty_store.add_record("contoso.com", "_dmarc", "TXT", "v=DMARC1; p=none")
    assert record.fqdn == "_dmarc.contoso.com"


def test_cname_allowed_alone(store: ZoneStore) -> None:
    record = store.add_record("xutonglin.com", "smtp", "CNAME", "mail.xutonglin.com.")
    assert record.data == "mail.xutonglin.com"


# -- every bad input: the right error, the field named, nothing changed ------------------------------
LONG_LABEL = "a" * 64
LONG_NAME = ".".join(["a" * 60] * 4)  # 4 x 61 + zone > 255 octets

BAD_INPUTS: list[tuple[str, dict[str, Any], type[LabkitError], str]] = [
    ("A not an address", {"name": "mail2", "type": "A", "data": "100.100.100.256"}, InvalidValue, "data"),
    ("A a host name", {"name": "mail2", "type": "A", "data": "mail.contoso.com"}, InvalidValue, "data"),
    ("A three numbers", {"name": "mail2", "type": "A", "data": "100.100.100"}, InvalidValue, "data"),
    ("A IPv6", {"name": "mail2", "type": "A", "data": "2001:db8::1"}, InvalidValue, "data"),
    ("A not text", {"name": "mail2", "type": "A", "data": 42}, InvalidValue, "data"),
    ("underscore in host", {"name": "mail_2", "type": "A", "data": "100.100.100.10"}, InvalidValue, "name"),
    ("leading hyphen", {"name": "-mail", "type": "A", "data": "100.100.100.10"}, InvalidValue, "name"),
    ("trailing hyphen", {"name": "mail-", "type": "A", "data": "100.100.100.10"}, InvalidValue, "name"),
    ("empty label", {"name": "a..b", "type": "A", "data": "100.100.100.10"}, InvalidValue, "name"),
    ("illegal character", {"name": "mail!", "type": "A", "data": "100.100.100.10"}, InvalidValue, "name"),
    ("space", {"name": "my mail", "type": "A", "data": "100.100.100.10"}, InvalidValue, "name"),
    ("label over 63", {"name": LONG_LABEL, "type": "A", "data": "100.100.100.10"}, InvalidValue, "name"),
    ("name over 255", {"name": LONG_NAME, "type": "A", "data": "100.100.100.10"}, InvalidValue, "name"),
    (
        "full name typed as relative",
        {"name": "mail.contoso.com", "type": "A", "data": "100.100.100.10"},
        InvalidValue,
        "name",
    ),
    (
        "absolute outside zone",
        {"name": "mail.fabrikam.com.", "type": "A", "data": "100.100.100.10"},
        InvalidValue,
        "name",
    ),
    ("MX preference missing", {"name": "@", "type": "MX", "data": "mx2.contoso.com"}, InvalidValue, "preference"),
    (
        "MX preference negative",
        {"name": "@", "type": "MX", "data": "mx2.contoso.com", "preference": -1},
        InvalidValue,
        "preference",
    ),
    (
        "MX preference too big",
        {"name": "@", "type": "MX", "data": "mx2.contoso.com", "preference": 65536},
        InvalidValue,
        "preference",
    ),
    (
        "MX preference text",
        {"name": "@", "type": "MX", "data": "mx2.contoso.com", "preference": "10"},
        InvalidValue,
        "preference",
    ),
    (
        "MX preference bool",
        {"name": "@", "type": "MX", "data": "mx2.contoso.com", "preference": True},
        InvalidValue,
        "preference",
    ),
    (
        "preference on A",
        {"name": "mail2", "type": "A", "data": "100.100.100.10", "preference": 10},
        InvalidValue,
        "preference",
    ),
    ("MX target an IP", {"name": "@", "type": "MX", "data": "100.100.100.10", "preference": 20}, InvalidValue, "data"),
    (
        "MX target illegal",
        {"name": "@", "type": "MX", "data": "mail_x.contoso.com", "preference": 20},
        InvalidValue,
        "data",
    ),
    ("CNAME target an IP", {"name": "www", "type": "CNAME", "data": "100.100.100.10"}, InvalidValue, "data"),
    ("NS target an IP", {"name": "@", "type": "NS", "data": "100.100.100.2"}, InvalidValue, "data"),
    ("PTR target an IP", {"name": "x", "type": "PTR", "data": "100.100.100.2"}, InvalidValue, "data"),
    ("CNAME beside A", {"name": "mail", "type": "CNAME", "data": "other.contoso.com"}, InvalidValue, "type"),
    ("CNAME at apex", {"name": "@", "type": "CNAME", "data": "other.contoso.com"}, InvalidValue, "type"),
    ("A beside CNAME", {"name": "alias", "type": "A", "data": "100.100.100.10"}, InvalidValue, "name"),
    (
        "MX beside CNAME",
        {"name": "alias", "type": "MX", "data": "mail.contoso.com", "preference": 10},
        InvalidValue,
        "name",
    ),
    ("second CNAME", {"name": "alias", "type": "CNAME", "data": "other.contoso.com"}, InvalidValue, "type"),
    ("unknown type", {"name": "mail", "type": "AAAA", "data": "2001:db8::1"}, InvalidValue, "type"),
    ("type ANY", {"name": "mail", "type": "ANY", "data": "x"}, InvalidValue, "type"),
    ("type SOA", {"name": "@", "type": "SOA", "data": "x"}, InvalidValue, "type"),
    ("ttl negative", {"name": "mail2", "type": "A", "data": "100.100.100.10", "ttl": -1}, InvalidValue, "ttl"),
    ("ttl text", {"name": "mail2", "type": "A", "data": "100.100.100.10", "ttl": "1h"}, InvalidValue, "ttl"),
    (
        "zone missing",
        {"zone": "fabrikam.com", "name": "mail", "type": "A", "data": "100.100.100.10"},
        UnknownObject,
        "",
    ),
    ("duplicate A", {"name": "mail", "type": "A", "data": "100.100.100.10"}, DuplicateObject, ""),
    ("duplicate A other case", {"name": "MAIL", "type": "a", "data": "100.100.100.10"}, DuplicateObject, ""),
    (
        "duplicate MX new pref",
        {"name": "@", "type": "MX", "data": "MAIL.contoso.com.", "preference": 20},
        DuplicateObject,
        "",
    ),
    ("duplicate CNAME", {"name": "alias", "type": "CNAME", "data": "mail.contoso.com"}, DuplicateObject, ""),
]


@pytest.mark.parametrize(("case", "kwargs", "error", "field"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_raises_and_changes_nothing(
    store: ZoneStore, case: str, kwargs: dict[str, Any], error: type[LabkitError], field: str
) -> None:
    store.add_record("contoso.com", "alias", "CNAME", "mail.contoso.com")
    before = snapshot(store)
    args = {"zone": "contoso.com", **kwargs}
    with pytest.raises(error) as info:
        store.add_record(**args)
    assert isinstance(info.value, LabkitError)
    if field:
        assert isinstance(info.value, InvalidValue) and info.value.field == field
        assert isinstance(info.value, ValueError)
        assert info.value.fix  # every message says how to fix it
    assert snapshot(store) == before


def test_unknown_zone_lists_zones(store: ZoneStore) -> None:
    with pytest.raises(UnknownObject) as info:
        store.add_record("fabrikam.com", "mail", "A", "100.100.100.10")
    assert "`contoso.com`" in str(info.value) and "`xutonglin.com`" in str(info.value)
    assert info.value.choices == ["contoso.com", "xutonglin.com"]
    with pytest.raises(UnknownObject):
        store.get_record("fabrikam.com")


def test_ip_target_message_teaches(store: ZoneStore) -> None:
    with pytest.raises(InvalidValue, match="must name a host") as info:
        store.add_record("contoso.com", "@", "MX", "100.100.100.10", preference=10)
    assert "A record" in str(info.value)


def test_full_name_message_suggests_relative(store: ZoneStore) -> None:
    with pytest.raises(InvalidValue, match="Write `mail`"):
        store.add_record("contoso.com", "mail.contoso.com", "A", "100.100.100.10")


def test_cannot_remove_soa_or_last_ns(store: ZoneStore) -> None:
    before = snapshot(store)
    with pytest.raises(InvalidValue):
        store.remove_record("contoso.com", "@", "SOA")
    with pytest.raises(InvalidValue):
        store.remove_record("contoso.com", "@", "NS")
    assert snapshot(store) == before
    store.add_record("contoso.com", "@", "NS", "ns2.contoso.com")
    store.remove_record("contoso.com", "@", "NS", "dns.internet.lab")
    assert [r.data for r in store.get_record("contoso.com", "@", "NS")] == ["ns2.contoso.com"]


def test_check_domain_name_limits() -> None:
    assert check_domain_name("a" * 63 + ".com") == "a" * 63 + ".com"
    longest = ".".join(["a" * 63] * 3 + ["a" * 61])  # 253 characters = 255 octets on the wire
    assert check_domain_name(longest) == longest
    with pytest.raises(InvalidValue):
        check_domain_name(longest + "a")
    with pytest.raises(InvalidValue):
        check_domain_name("")


# -- lookup: the authoritative answer ----------------------------------------------------------------------
def test_lookup_a(store: ZoneStore) -> None:
    answer = store.lookup("MAIL.XUTONGLIN.COM.", "A")
    assert (answer.rcode, answer.aa) == (NOERROR, True)
    assert [r.data for r in answer.answers] == ["100.100.100.254"]
    assert answer.authority == () and answer.additional == ()


def test_lookup_mx_has_glue(store: ZoneStore) -> None:
    answer = store.lookup("xutonglin.com", "MX")
    assert [(r.preference, r.data) for r in answer.answers] == [(10, "mail.xutonglin.com")]
    assert [(r.fqdn, r.type, r.data) for r in answer.additional] == [("mail.xutonglin.com", "A", "100.100.100.254")]


def test_lookup_mx_sorted_by_preference(store: ZoneStore) -> None:
    store.add_record("contoso.com", "@", "MX", "backup.contoso.com", preference=20)
    store.add_record("contoso.com", "@", "MX", "first.contoso.com", preference=5)
    answer = store.lookup("contoso.com", "MX")
    assert [r.preference for r in answer.answers] == [5, 10, 20]
    assert [r.fqdn for r in answer.additional] == ["mail.contoso.com"]  # only targets that have A records


def test_lookup_nxdomain_has_soa(store: ZoneStore) -> None:
    answer = store.lookup("nosuch.xutonglin.com", "A")
    assert (answer.rcode, answer.aa, answer.answers) == (NXDOMAIN, True, ())
    assert [r.type for r in answer.authority] == ["SOA"]
    assert answer.authority[0].fqdn == "xutonglin.com"


def test_lookup_nodata_has_soa(store: ZoneStore) -> None:
    answer = store.lookup("mail.xutonglin.com", "MX")
    assert (answer.rcode, answer.answers) == (NOERROR, ())
    assert [r.type for r in answer.authority] == ["SOA"]
    unknown_type = store.lookup("mail.xutonglin.com", "AAAA")
    assert (unknown_type.rcode, [r.type for r in unknown_type.authority]) == (NOERROR, ["SOA"])


def test_lookup_no_mx_before_step_2(empty_store: ZoneStore) -> None:
    answer = empty_store.lookup("xutonglin.com", "MX")
    assert (answer.rcode, answer.answers, [r.type for r in answer.authority]) == (NOERROR, (), ["SOA"])


def test_lookup_empty_non_terminal_is_nodata(store: ZoneStore) -> None:
    store.add_record("contoso.com", "a.b", "A", "100.100.100.20")
    assert store.lookup("b.contoso.com", "A").rcode == NOERROR
    assert store.lookup("c.contoso.com", "A").rcode == NXDOMAIN


def test_lookup_outside_refused(store: ZoneStore) -> None:
    for name in ("example.org", "com", "xcontoso.com", "."):
        answer = store.lookup(name, "A")
        assert (answer.rcode, answer.aa) == (REFUSED, False), name


def test_lookup_zone_transfer_refused(store: ZoneStore) -> None:
    assert store.lookup("contoso.com", "AXFR").rcode == REFUSED


def test_lookup_soa_ns_any(store: ZoneStore) -> None:
    assert [r.type for r in store.lookup("contoso.com", "SOA").answers] == ["SOA"]
    ns = store.lookup("contoso.com", "NS")
    assert [r.data for r in ns.answers] == ["dns.internet.lab"] and ns.additional == ()
    assert {r.type for r in store.lookup("contoso.com", "ANY").answers} == {"SOA", "NS", "MX"}


def test_lookup_follows_cname_inside_zones(store: ZoneStore) -> None:
    store.add_record("contoso.com", "www", "CNAME", "mail.xutonglin.com")
    answer = store.lookup("www.contoso.com", "A")
    assert [(r.fqdn, r.type) for r in answer.answers] == [("www.contoso.com", "CNAME"), ("mail.xutonglin.com", "A")]
    assert (answer.rcode, answer.aa) == (NOERROR, True)
    assert [r.type for r in store.lookup("www.contoso.com", "CNAME").answers] == ["CNAME"]


def test_lookup_cname_to_missing_name_is_nxdomain(store: ZoneStore) -> None:
    store.add_record("contoso.com", "old", "CNAME", "gone.contoso.com")
    answer = store.lookup("old.contoso.com", "A")
    assert answer.rcode == NXDOMAIN  # RFC 6604: the rcode is for the last name of the chain
    assert [r.type for r in answer.answers] == ["CNAME"] and [r.type for r in answer.authority] == ["SOA"]


def test_lookup_cname_outside_and_loops_stop(store: ZoneStore) -> None:
    store.add_record("contoso.com", "ext", "CNAME", "www.example.org")
    assert [r.type for r in store.lookup("ext.contoso.com", "A").answers] == ["CNAME"]
    store.add_record("contoso.com", "loop1", "CNAME", "loop2.contoso.com")
    store.add_record("contoso.com", "loop2", "CNAME", "loop1.contoso.com")
    answer = store.lookup("loop1.contoso.com", "A")
    assert [r.fqdn for r in answer.answers] == ["loop1.contoso.com", "loop2.contoso.com"]


def test_lookup_most_specific_zone(store: ZoneStore) -> None:
    store.add_zone("sub.contoso.com")
    store.add_record("sub.contoso.com", "host", "A", "100.100.100.30")
    assert store.lookup("host.sub.contoso.com", "A").answers[0].zone == "sub.contoso.com"
    assert store.lookup("nosuch.sub.contoso.com", "A").authority[0].zone == "sub.contoso.com"


def test_negative_ttl_is_soa_minimum(store: ZoneStore) -> None:
    assert store.lookup("nosuch.contoso.com", "A").authority[0].ttl == min(3600, store.soa("contoso.com").minimum)


def test_lookup_txt_and_ptr(empty_store: ZoneStore) -> None:
    empty_store.add_record("contoso.com", "@", "TXT", "v=spf1 mx -all")
    empty_store.add_zone("100.100.100.in-addr.arpa")
    empty_store.add_record("100.100.100.in-addr.arpa", "2", "PTR", "dns.internet.lab")
    assert empty_store.lookup("contoso.com", "TXT").answers[0].data == "v=spf1 mx -all"
    assert empty_store.lookup("2.100.100.100.in-addr.arpa", "PTR").answers[0].data == "dns.internet.lab"

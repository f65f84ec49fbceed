"""MX ordering and target location per RFC 5321 §5.1, over an injected lookup (no sockets)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

from labkit.transport.mx import Answer, order_mx, prune_self, resolve_domain, resolve_host


def run(zone: dict[tuple[str, str], Answer], domain: str, **kw: object) -> object:
    async def lookup(name: str, qtype: str) -> Answer:
        return zone.get((name, qtype), Answer("NOERROR"))

    return asyncio.run(resolve_domain(domain, lookup, random.Random(7), **kw))  # type: ignore[arg-type]


def test_preference_order_and_random_among_equals() -> None:
    records = [(20, "c.x.com"), (10, "b.x.com"), (10, "a.x.com"), (30, "d.x.com")]
    firsts = Counter()
    for seed in range(200):
        ordered = order_mx(records, random.Random(seed))
        assert [p for p, _ in ordered] == [10, 10, 20, 30]
        firsts[ordered[0][1]] += 1
    assert set(firsts) == {"a.x.com", "b.x.com"}  # both equal-preference hosts come first sometimes


def test_same_seed_same_order() -> None:
    records = [(10, f"h{i}.x.com") for i in range(6)]
    assert order_mx(records, random.Random(3)) == order_mx(records, random.Random(3))


def test_mx_with_glue_and_a_lookup() -> None:
    zone = {
        ("x.com", "MX"): Answer(
            "NOERROR", mx=((10, "mail.x.com"), (20, "backup.x.com")), glue={"mail.x.com": ("1.1.1.1",)}
        ),
        ("backup.x.com", "A"): Answer("NOERROR", addresses=("2.2.2.2",)),
    }
    res = run(zone, "x.com")
    assert [(t.host, t.ip) for t in res.targets] == [("mail.x.com", "1.1.1.1"), ("backup.x.com", "2.2.2.2")]  # type: ignore[attr-defined]


def test_implicit_mx_is_the_domain_apex() -> None:
    zone = {
        ("x.com", "A"): Answer("NOERROR", addresses=("3.3.3.3",)),
        ("mail.x.com", "A"): Answer("NOERROR", addresses=("9.9.9.9",)),
    }
    res = run(zone, "x.com")
    assert [(t.host, t.ip, t.preference) for t in res.targets] == [("x.com", "3.3.3.3", 0)]  # type: ignore[attr-defined]


def test_no_mx_no_a_is_info_no_records() -> None:
    assert run({("x.com", "A"): Answer("NOERROR")}, "x.com").error == "InfoNoRecords"  # type: ignore[attr-defined]


def test_nxdomain_is_permanent_and_servfail_temporary() -> None:
    assert run({("x.com", "MX"): Answer("NXDOMAIN")}, "x.com").error == "NonExistentDomain"  # type: ignore[attr-defined]
    assert run({("x.com", "MX"): Answer("SERVFAIL")}, "x.com").error == "ErrorRetry"  # type: ignore[attr-defined]
    assert run({("x.com", "MX"): Answer("TIMEOUT")}, "x.com").error == "ErrorRetry"  # type: ignore[attr-defined]


def test_mx_targets_without_addresses() -> None:
    zone = {("x.com", "MX"): Answer("NOERROR", mx=((10, "mail.x.com"),))}
    assert run(zone, "x.com").error == "InfoNoRecords"  # type: ignore[attr-defined]
    zone[("mail.x.com", "A")] = Answer("REFUSED")
    assert run(zone, "x.com").error == "ErrorRetry"  # type: ignore[attr-defined]


def test_loop_back_to_self() -> None:
    assert prune_self([(10, "me.x.com")], ["me.x.com"]) is None
    zone = {("x.com", "MX"): Answer("NOERROR", mx=((10, "me.x.com"),), glue={"me.x.com": ("5.5.5.5",)})}
    assert run(zone, "x.com", own_names=["me.x.com"]).error == "MxLoopback"  # type: ignore[attr-defined]
    assert run(zone, "x.com", own_ips=["5.5.5.5"]).error == "MxLoopback"  # type: ignore[attr-defined]


def test_smart_host_literal() -> None:
    async def lookup(name: str, qtype: str) -> Answer:
        raise AssertionError("no lookup for an IP literal")

    res = asyncio.run(resolve_host("[10.0.0.1]", lookup))
    assert res.targets[0].ip == "10.0.0.1"

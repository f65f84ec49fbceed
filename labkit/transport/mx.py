"""Locating the target hosts of a domain, RFC 5321 §5.1, over an injected DNS lookup.

The order is the RFC's: MX records by preference, random among equal preferences
(the RNG is injected so tests are deterministic); no MX at all → the *implicit MX*,
the domain's own A record; NXDOMAIN is permanent, a temporary DNS error is retried,
and a domain that exists with neither MX nor A is "no records" (facts §1.6, §8.1).

>>> import random
>>> order_mx([(20, "b.example.com"), (10, "a.example.com"), (20, "c.example.com")], random.Random(1))
[(10, 'a.example.com'), (20, 'c.example.com'), (20, 'b.example.com')]
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

DnsErrorKind = Literal["NonExistentDomain", "InfoNoRecords", "ErrorRetry", "MxLoopback"]


@dataclass(frozen=True)
class Answer:
    """What one DNS query returned, reduced to what mail routing needs.

    Attributes:
        rcode: ``NOERROR``, ``NXDOMAIN``, ``SERVFAIL``, ``REFUSED``... or ``TIMEOUT`` when no reply came.
        mx: (preference, exchange) pairs of the answer section.
        addresses: A records of the answer section.
        glue: host → addresses from the additional section.
    """

    rcode: str
    mx: tuple[tuple[int, str], ...] = ()
    addresses: tuple[str, ...] = ()
    glue: dict[str, tuple[str, ...]] = field(default_factory=dict)


Lookup = Callable[[str, str], Awaitable[Answer]]


@dataclass(frozen=True)
class Target:
    """One place to try delivery: a host name, one of its addresses, and its MX preference."""

    host: str
    ip: str
    preference: int


@dataclass(frozen=True)
class Resolution:
    """The outcome of locating a domain's mail servers: targets in order, or the DNS error."""

    targets: tuple[Target, ...] = ()
    error: DnsErrorKind | None = None

    @property
    def ok(self) -> bool:
        """True when there is at least one target."""
        return self.error is None and bool(self.targets)


def order_mx(records: Iterable[tuple[int, str]], rng: random.Random) -> list[tuple[int, str]]:
    """MX records in the order to try: ascending preference, shuffled among equals (RFC 5321 §5.1)."""
    by_pref: dict[int, list[str]] = {}
    for pref, host in records:
        host = host.lower().rstrip(".")
        if host not in by_pref.setdefault(pref, []):
            by_pref[pref].append(host)
    result: list[tuple[int, str]] = []
    for pref in sorted(by_pref):
        hosts = sorted(by_pref[pref])
        rng.shuffle(hosts)
        result.extend((pref, h) for h in hosts)
    return result


def prune_self(records: Sequence[tuple[int, str]], own_names: Iterable[str]) -> list[tuple[int, str]] | None:
    """Drop MX records at or above our own preference when we are one of the MXs (RFC 5321 §5.1).

    Returns None when that leaves nothing: the records loop back to us.

    >>> prune_self([(10, "mail.contoso.com"), (20, "backup.contoso.com")], ["mail.contoso.com"]) is None
    True
    >>> prune_self([(5, "relay.contoso.com"), (10, "mail.contoso.com")], ["mail.contoso.com"])
    [(5, 'relay.contoso.com')]
    """
    own = {n.lower().rstrip(".") for n in own_names}
    mine = [pref for pref, host in records if host in own]
    if not mine:
        return list(records)
    kept = [(pref, host) for pref, host in records if pref < min(mine)]
    return kept or None


_TEMPORARY = {"SERVFAIL", "REFUSED", "TIMEOUT", "FORMERR", "NOTIMP", "ERROR"}


async def resolve_domain(
    domain: str, lookup: Lookup, rng: random.Random, own_names: Iterable[str] = (), own_ips: Iterable[str] = ()
) -> Resolution:
    """Locate the mail servers of `domain` through MX, implicit MX and A lookups.

    Args:
        domain: the recipient domain.
        lookup: ``await lookup(name, qtype)`` → `Answer`; raises nothing (timeouts are ``TIMEOUT``).
        rng: orders equal-preference MX records.
        own_names, own_ips: this server, so that a loop back to itself is detected.

    Returns:
        The targets in order, or the error (``NonExistentDomain`` is permanent; the others are retried,
        except ``MxLoopback``).
    """
    mx_answer = await lookup(domain, "MX")
    if mx_answer.rcode == "NXDOMAIN":
        return Resolution(error="NonExistentDomain")
    if mx_answer.rcode != "NOERROR":
        return Resolution(error="ErrorRetry")
    if not mx_answer.mx:
        # Implicit MX: the domain itself, preference 0 (RFC 5321 §5.1) — its apex, not `mail.<domain>`.
        a_answer = await lookup(domain, "A")
        if a_answer.rcode == "NXDOMAIN":
            return Resolution(error="NonExistentDomain")
        if a_answer.rcode != "NOERROR":
            return Resolution(error="ErrorRetry")
        if not a_answer.addresses:
            return Resolution(error="InfoNoRecords")
        return _without_self(tuple(Target(domain, ip, 0) for ip in a_answer.addresses), own_ips)
    ordered = prune_self(order_mx(mx_answer.mx, rng), own_names)
    if ordered is None:
        return Resolution(error="MxLoopback")
    return await _addresses(ordered, mx_answer.glue, lookup, own_ips)


async def _addresses(
    ordered: Sequence[tuple[int, str]], glue: dict[str, tuple[str, ...]], lookup: Lookup, own_ips: Iterable[str]
) -> Resolution:
    targets: list[Target] = []
    temporary = False
    for pref, host in ordered:
        ips = glue.get(host)
        if not ips:
            answer = await lookup(host, "A")
            if answer.rcode in _TEMPORARY:
                temporary = True
                continue
            ips = answer.addresses
        targets.extend(Target(host, ip, pref) for ip in ips)
    if not targets:
        return Resolution(error="ErrorRetry" if temporary else "InfoNoRecords")
    return _without_self(tuple(targets), own_ips)


def _without_self(targets: tuple[Target, ...], own_ips: Iterable[str]) -> Resolution:
    own = set(own_ips)
    kept = tuple(t for t in targets if t.ip not in own)
    if not kept:
        return Resolution(error="MxLoopback")
    return Resolution(targets=kept)


async def resolve_host(host: str, lookup: Lookup) -> Resolution:
    """Targets for a smart host: an IP literal as is, a name through its A records (no MX)."""
    parts = host.strip("[]").split(".")
    if len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts):
        return Resolution(targets=(Target(host, host.strip("[]"), 0),))
    answer = await lookup(host, "A")
    if answer.rcode == "NXDOMAIN":
        return Resolution(error="NonExistentDomain")
    if answer.rcode != "NOERROR":
        return Resolution(error="ErrorRetry")
    if not answer.addresses:
        return Resolution(error="InfoNoRecords")
    return Resolution(targets=tuple(Target(host, ip, 0) for ip in answer.addresses))

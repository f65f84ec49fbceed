"""Authoritative zones of the lab's public DNS server: records, validation and lookup.

Pure and socket-free (STYLE.md §4): `ZoneStore` holds the zones, checks every
record before it changes anything, and answers a question with `lookup`, which
the server (`labkit.dns.server`) only encodes.

Names. A record's ``name`` is *relative to its zone*, as in DNS Manager and
``dnscmd``: ``"mail"`` in zone ``xutonglin.com`` is ``mail.xutonglin.com``, and
``"@"`` (or ``""``) is the zone apex. An *absolute* name, written with a
trailing dot, is accepted too when it lies in the zone
(``"mail.xutonglin.com."`` → ``"mail"``). A relative name that ends in the
zone's own name (``"mail.xutonglin.com"`` in ``xutonglin.com``) is refused,
because DNS would read it as ``mail.xutonglin.com.xutonglin.com`` — the classic
slip the error message explains. Names are case-insensitive and stored in lower
case. Host names (owners, and MX/CNAME/NS/PTR targets) follow the LDH rule
(RFC 1035 §2.3.1 as relaxed by RFC 1123 §2.1); TXT owners may also use
underscore labels such as ``_dmarc`` (RFC 8552).

>>> store = ZoneStore(zones=["xutonglin.com"])
>>> store.add_record("xutonglin.com", "mail", "A", "100.100.100.254")
Record(zone='xutonglin.com', name='mail', type='A', data='100.100.100.254', preference=None, ttl=3600)
>>> store.add_record("xutonglin.com", "@", "MX", "mail.xutonglin.com", preference=10).fqdn
'xutonglin.com'
>>> answer = store.lookup("xutonglin.com", "MX")
>>> [r.data for r in answer.answers], [r.data for r in answer.additional]
(['mail.xutonglin.com'], ['100.100.100.254'])
>>> store.lookup("nosuch.xutonglin.com", "A").rcode
'NXDOMAIN'
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final, Literal, NamedTuple

from labkit.dns.names import check_domain_name, is_ip, relative_name
from labkit.errors import DuplicateObject, InvalidValue, UnknownObject

if TYPE_CHECKING:
    from labkit.scenario import Scenario

#: Record types a zone can hold (RFC 1035 §3.3, §3.4).
RECORD_TYPES: Final = ("SOA", "NS", "A", "MX", "CNAME", "TXT", "PTR")
#: Types whose data is a domain name (a host), never an address.
NAME_DATA_TYPES: Final = frozenset({"NS", "MX", "CNAME", "PTR"})

# Windows DNS Server defaults for a new primary zone's SOA.
DEFAULT_TTL: Final = 3600
SOA_REFRESH: Final = 900
SOA_RETRY: Final = 600
SOA_EXPIRE: Final = 86400
SOA_MINIMUM: Final = 3600
DEFAULT_PRIMARY_NS: Final = "dns.internet.lab"
MAX_TTL: Final = 2**31 - 1  # RFC 2181 §8
MAX_TXT: Final = 8192  # keeps any answer well inside one TCP message
MAX_CNAME_CHAIN: Final = 8

Rcode = Literal["NOERROR", "NXDOMAIN", "REFUSED"]

_TYPE_ORDER = {t: i for i, t in enumerate(RECORD_TYPES)}


@dataclass(frozen=True)
class Record:
    """One resource record of a zone.

    Attributes:
        zone: the zone it lives in, e.g. ``xutonglin.com``.
        name: relative owner name; ``@`` is the zone apex.
        type: ``A``, ``MX``, ``NS``, ``SOA``, ``CNAME``, ``TXT`` or ``PTR``.
        data: the address (A), target host without trailing dot (MX, NS, CNAME,
            PTR), text (TXT), or ``mname rname serial refresh retry expire minimum`` (SOA).
        preference: the MX preference (lower is preferred); None for other types.
        ttl: time to live in seconds.
    """

    zone: str
    name: str
    type: str
    data: str
    preference: int | None = None
    ttl: int = DEFAULT_TTL

    @property
    def fqdn(self) -> str:
        """The absolute owner name, without the trailing dot.

        >>> Record("contoso.com", "mail", "A", "100.100.100.10").fqdn
        'mail.contoso.com'
        >>> Record("contoso.com", "@", "NS", "dns.internet.lab").fqdn
        'contoso.com'
        """
        return self.zone if self.name == "@" else f"{self.name}.{self.zone}"

    def __str__(self) -> str:
        pref = f"{self.preference} " if self.preference is not None else ""
        return f"{self.fqdn} {self.ttl} IN {self.type} {pref}{self.data}"


class Soa(NamedTuple):
    """The fields of an SOA record (RFC 1035 §3.3.13)."""

    mname: str
    rname: str
    serial: int
    refresh: int
    retry: int
    expire: int
    minimum: int


def parse_soa(data: str) -> Soa:
    """Split SOA record data into its fields.

    >>> parse_soa("dns.internet.lab hostmaster.contoso.com 3 900 600 86400 3600").serial
    3
    """
    mname, rname, *numbers = data.split()
    serial, refresh, retry, expire, minimum = (int(n) for n in numbers)
    return Soa(mname, rname, serial, refresh, retry, expire, minimum)


@dataclass(frozen=True)
class Answer:
    """What the authoritative server says to one question (RFC 1034 §4.3.2).

    Attributes:
        rcode: ``NOERROR`` (also for NODATA), ``NXDOMAIN``, or ``REFUSED`` (not our zone).
        aa: the Authoritative Answer flag.
        answers, authority, additional: the three sections; owner names are
            the records' `Record.fqdn`.
    """

    rcode: Rcode
    aa: bool
    answers: tuple[Record, ...] = ()
    authority: tuple[Record, ...] = ()
    additional: tuple[Record, ...] = ()


def duration_text(seconds: int) -> str:
    """A TTL as Windows nslookup spells it in an SOA block.

    >>> duration_text(900), duration_text(86400), duration_text(3600), duration_text(5430)
    ('15 mins', '1 day', '1 hour', '1 hour 30 mins 30 secs')
    """
    parts = []
    for unit, size in (("day", 86400), ("hour", 3600), ("min", 60), ("sec", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts) or "0 secs"


# -- the store -------------------------------------------------------------------------
class _Zone:
    def __init__(self, name: str, primary_ns: str) -> None:
        self.name = name
        self.primary_ns = primary_ns
        self.serial = 1
        self.records: list[Record] = [
            Record(name, "@", "SOA", self._soa_data()),
            Record(name, "@", "NS", primary_ns),
        ]

    def _soa_data(self) -> str:
        return f"{self.primary_ns} hostmaster.{self.name} {self.serial} {SOA_REFRESH} {SOA_RETRY} {SOA_EXPIRE} {SOA_MINIMUM}"

    def changed(self) -> None:
        # Every change bumps the serial so that secondaries would notice (RFC 1035 §3.3.13).
        self.serial += 1
        self.records[0] = replace(self.records[0], data=self._soa_data())

    @property
    def soa(self) -> Record:
        return self.records[0]


def sort_key(record: Record) -> tuple[object, ...]:
    """Stable presentation order: zone, SOA, NS, then by name, type, preference and data."""
    apex_first = 0 if record.type in ("SOA", "NS") and record.name == "@" else 1
    return (record.zone, apex_first, record.name, _TYPE_ORDER.get(record.type, 99), record.preference or 0, record.data)


class ZoneStore:
    """The authoritative zones of the lab's public DNS server.

    Args:
        zones: zones to create at once.
        primary_ns: the DNS host's FQDN, written as the SOA's primary name server
            and the apex NS record of every zone.

    Raises:
        InvalidValue: an illegal zone or server name.
    """

    def __init__(self, zones: Iterable[str] = (), primary_ns: str = DEFAULT_PRIMARY_NS) -> None:
        self.primary_ns = check_domain_name(primary_ns, "primary_ns")
        self._zones: dict[str, _Zone] = {}
        for zone in zones:
            self.add_zone(zone)

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> ZoneStore:
        """The store a scenario starts with: its zones, served by its DNS host."""
        return cls(scenario.zones, scenario.host(scenario.dns_server).fqdn)

    # -- zones ------------------------------------------------------------------------
    def zones(self) -> list[str]:
        """The zone names, sorted."""
        return sorted(self._zones)

    def __contains__(self, zone: object) -> bool:
        return isinstance(zone, str) and zone.lower().rstrip(".") in self._zones

    def add_zone(self, name: str) -> str:
        """Create a primary zone with its SOA (serial 1) and apex NS record.

        Returns:
            The zone name, normalised.

        Raises:
            InvalidValue: an illegal name.
            DuplicateObject: the zone exists.
        """
        zone = check_domain_name(name, "zone")
        if zone in self._zones:
            raise DuplicateObject("zone", zone, "Use it as it is, or `remove_zone` it first.")
        self._zones[zone] = _Zone(zone, self.primary_ns)
        return zone

    def remove_zone(self, name: str) -> None:
        """Delete a zone and every record in it.

        Raises:
            UnknownObject: no such zone.
        """
        del self._zones[self._zone(name).name]

    def _zone(self, name: object) -> _Zone:
        key = name.strip().lower().rstrip(".") if isinstance(name, str) else name
        zone = self._zones.get(key) if isinstance(key, str) else None
        if zone is None:
            raise UnknownObject(
                "zone",
                name,
                self.zones(),
                f"Zones on this server: {', '.join(f'`{z}`' for z in self.zones()) or '(none)'}. Create it with `add_zone({name!r})` first.",
            )
        return zone

    def soa(self, zone: str) -> Soa:
        """The SOA fields of `zone` (its serial shows how many changes were made)."""
        return parse_soa(self._zone(zone).soa.data)

    # -- records ----------------------------------------------------------------------------
    def add_record(
        self, zone: str, name: str, type: str, data: str, preference: int | None = None, ttl: int = DEFAULT_TTL
    ) -> Record:
        """Add one record, after checking it; nothing changes if a check fails.

        Args:
            zone: an existing zone, e.g. ``xutonglin.com``.
            name: relative owner (``mail``; ``@`` for the apex), see the module docstring.
            type: ``A``, ``MX``, ``NS``, ``CNAME``, ``TXT`` or ``PTR`` (the SOA is the zone's own).
            data: an IPv4 address (A), a host name (MX, NS, CNAME, PTR), or text (TXT).
            preference: MX only, 0-65535, lower is preferred (RFC 5321 §5.1).
            ttl: seconds, 0-2147483647.

        Returns:
            The stored record.

        Raises:
            UnknownObject: the zone does not exist.
            InvalidValue: a bad type, name, address, target, preference, TTL, or a
                CNAME beside other data.
            DuplicateObject: the same record is already there.
        """
        z = self._zone(zone)
        rtype = self._type(type)
        if rtype == "SOA":
            raise InvalidValue(
                "type",
                type,
                "the SOA record is created with the zone and kept by the server",
                "Add A, MX, NS, CNAME, TXT or PTR records.",
            )
        rel = relative_name(name, z.name, underscore=rtype == "TXT")
        pref = self._preference(rtype, preference)
        ttl = self._ttl(ttl)
        value = self._data(rtype, data)
        record = Record(z.name, rel, rtype, value, pref, ttl)
        node = [r for r in z.records if r.name == rel]
        for other in node:
            if other.type == rtype and self._same(other, record):
                raise DuplicateObject(
                    f"{rtype} record",
                    f"{record.fqdn} {rtype} {value}",
                    "Remove it first to change its preference or TTL." if rtype == "MX" else "Nothing to do.",
                )
        # RFC 1034 §3.6.2 / RFC 2181 §10.1: a name with a CNAME has no other data.
        if rtype == "CNAME" and node:
            held = ", ".join(sorted({r.type for r in node}))
            raise InvalidValue(
                "type",
                "CNAME",
                f"`{record.fqdn}` already has {held} data; a CNAME cannot sit beside other records (RFC 1034 §3.6.2)",
                "Use another name for the alias, or remove the other records first.",
            )
        if rtype != "CNAME" and any(r.type == "CNAME" for r in node):
            raise InvalidValue(
                "name",
                name,
                f"`{record.fqdn}` is an alias (CNAME); it cannot hold other records (RFC 1034 §3.6.2)",
                f"Add the {rtype} record to the CNAME's target, or remove the CNAME first.",
            )
        z.records.append(record)
        z.changed()
        return record

    def remove_record(self, zone: str, name: str, type: str, data: str | None = None) -> Record | list[Record]:
        """Remove one record (`data` given) or every record of that name and type (`data` None).

        Returns:
            The removed record, or the list of removed records when `data` is None.

        Raises:
            UnknownObject: no such zone, or no matching record (the message lists those there are).
            InvalidValue: the SOA, or the zone's last NS record.
        """
        z = self._zone(zone)
        rtype = self._type(type)
        if rtype == "SOA":
            raise InvalidValue(
                "type", type, "the SOA record belongs to the zone", "Remove the zone with `remove_zone` instead."
            )
        rel = relative_name(name, z.name, underscore=True)
        fqdn = z.name if rel == "@" else f"{rel}.{z.name}"
        wanted = None if data is None else self._data(rtype, data) if rtype != "TXT" else data
        matches = [
            r
            for r in z.records
            if r.name == rel and r.type == rtype and (wanted is None or self._data_eq(rtype, r.data, wanted))
        ]
        if not matches:
            there = [f"{r.fqdn} {r.type} {r.data}" for r in sorted(z.records, key=sort_key) if r.type != "SOA"]
            label = f"{fqdn} {rtype}" + (f" {data}" if data is not None else "")
            raise UnknownObject(
                f"{rtype} record",
                label,
                there,
                f"Records in `{z.name}`: {', '.join(f'`{t}`' for t in there) or '(none)'}.",
            )
        if (
            rtype == "NS"
            and rel == "@"
            and len([r for r in z.records if r.name == "@" and r.type == "NS"]) == len(matches)
        ):
            raise InvalidValue(
                "type", type, f"that would leave zone `{z.name}` without a name server", "Add another NS record first."
            )
        for record in matches:
            z.records.remove(record)
        z.changed()
        return matches[0] if data is not None else matches

    def get_record(self, zone: str | None = None, name: str | None = None, type: str | None = None) -> list[Record]:
        """Records matching every filter given, in presentation order (`sort_key`).

        Args:
            zone: one zone, or None for all.
            name: relative to `zone`; without a zone, a relative or an absolute name.
            type: one record type.

        Raises:
            UnknownObject: `zone` does not exist.
            InvalidValue: an unknown type or illegal name.
        """
        zones = [self._zone(zone)] if zone is not None else [self._zones[z] for z in self.zones()]
        rtype = self._type(type) if type is not None else None
        found = []
        for z in zones:
            for r in z.records:
                if rtype is not None and r.type != rtype:
                    continue
                if name is not None and not self._name_matches(r, name, zone is not None):
                    continue
                found.append(r)
        return sorted(found, key=sort_key)

    def has_record(
        self, zone: str | None = None, name: str | None = None, type: str | None = None, data: str | None = None
    ) -> bool:
        """True when a record matches every filter given (an unknown zone is simply False)."""
        if zone is not None and zone not in self:
            return False
        records = self.get_record(zone, name, type)
        if data is None:
            return bool(records)
        return any(
            self._data_eq(r.type, r.data, data.strip().lower().rstrip(".") if r.type != "TXT" else data)
            for r in records
        )

    def records(self, zone: str | None = None) -> list[Record]:
        """Every record (of one zone), in presentation order."""
        return self.get_record(zone)

    # -- checks -------------------------------------------------------------------------------
    @staticmethod
    def _type(value: object) -> str:
        rtype = value.strip().upper() if isinstance(value, str) else ""
        if rtype not in RECORD_TYPES:
            raise InvalidValue(
                "type", value, "is not a record type this server holds", f"Use one of: {', '.join(RECORD_TYPES[1:])}."
            )
        return rtype

    @staticmethod
    def _preference(rtype: str, preference: object) -> int | None:
        if rtype != "MX":
            if preference is not None:
                raise InvalidValue(
                    "preference",
                    preference,
                    f"only MX records have a preference, not {rtype}",
                    "Leave `preference` out.",
                )
            return None
        if preference is None:
            raise InvalidValue(
                "preference",
                None,
                "an MX record needs a preference (RFC 1035 §3.3.9)",
                "Pass `preference=10` (lower is preferred, 0-65535).",
            )
        if isinstance(preference, bool) or not isinstance(preference, int) or not 0 <= preference <= 65535:
            raise InvalidValue(
                "preference",
                preference,
                "is not a whole number from 0 to 65535 (RFC 1035 §3.3.9)",
                "Use e.g. `preference=10`.",
            )
        return preference

    @staticmethod
    def _ttl(ttl: object) -> int:
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 0 <= ttl <= MAX_TTL:
            raise InvalidValue(
                "ttl",
                ttl,
                f"is not a whole number of seconds from 0 to {MAX_TTL} (RFC 2181 §8)",
                f"Use e.g. `ttl={DEFAULT_TTL}`.",
            )
        return ttl

    @staticmethod
    def _data(rtype: str, data: object) -> str:
        if not isinstance(data, str):
            raise InvalidValue("data", data, "is not text", "Pass the address or host name as a string.")
        if rtype == "A":
            try:
                return str(ipaddress.IPv4Address(data.strip()))
            except ValueError:
                raise InvalidValue(
                    "data",
                    data,
                    "is not an IPv4 address",
                    "Write four numbers 0-255 separated by dots, e.g. `100.100.100.10`.",
                ) from None
        if rtype in NAME_DATA_TYPES:
            if is_ip(data):
                raise InvalidValue(
                    "data",
                    data,
                    f"is an IP address, but a {rtype} record must name a host (RFC 1035 §3.3; RFC 2181 §10.3)",
                    "Give the host's name (e.g. `mail.xutonglin.com`) and add an A record for that name.",
                )
            return check_domain_name(data, "data")
        if len(data.encode()) > MAX_TXT:
            raise InvalidValue("data", data[:40] + "...", f"is longer than {MAX_TXT} octets", "Shorten the text.")
        return data

    @staticmethod
    def _data_eq(rtype: str, a: str, b: str) -> bool:
        return a == b if rtype == "TXT" else a.lower() == b.lower()

    def _same(self, a: Record, b: Record) -> bool:
        # One MX per exchange per name: a second preference for the same host is a mistake.
        return self._data_eq(a.type, a.data, b.data)

    @staticmethod
    def _name_matches(record: Record, name: str, relative: bool) -> bool:
        text = name.strip().lower()
        if relative:
            return relative_name(text, record.zone, underscore=True) == record.name
        text = text.rstrip(".") or "@"
        return text in (record.name, record.fqdn)

    # -- answering ----------------------------------------------------------------------------------
    def zone_for(self, qname: str) -> str | None:
        """The most specific of our zones containing `qname`, or None."""
        name = qname.lower().rstrip(".")
        best = None
        for zone in self._zones:
            if (name == zone or name.endswith("." + zone)) and (best is None or len(zone) > len(best)):
                best = zone
        return best

    def lookup(self, qname: str, qtype: str) -> Answer:
        """Answer one question as an authoritative server (RFC 1034 §4.3.2, RFC 2308).

        Args:
            qname: the name asked for, absolute, with or without the trailing dot.
            qtype: a type mnemonic such as ``A`` or ``MX``; ``ANY`` returns every
                record of the name; unknown types get NODATA or NXDOMAIN.

        Returns:
            REFUSED (aa False) outside our zones or for zone transfers; NXDOMAIN or
            NODATA with the SOA in the authority section; else the answer, with the
            CNAME chain followed inside our zones and A records for MX and NS
            targets in the additional section.
        """
        qtype = qtype.upper()
        current = qname.lower().rstrip(".")
        zone_name = self.zone_for(current)
        if zone_name is None or qtype in ("AXFR", "IXFR"):
            return Answer("REFUSED", False)
        answers: list[Record] = []
        seen = {current}
        rcode: Rcode = "NOERROR"
        authority: list[Record] = []
        for _ in range(MAX_CNAME_CHAIN):
            z = self._zones[zone_name]
            rel = "@" if current == z.name else current[: -len(z.name) - 1]
            node = [r for r in z.records if r.name == rel]
            cname = next((r for r in node if r.type == "CNAME"), None)
            if cname is not None and qtype not in ("CNAME", "ANY"):
                # RFC 1034 §4.3.2 step 3a: answer the alias and restart with its target.
                answers.append(cname)
                target_zone = self.zone_for(cname.data)
                if target_zone is None or cname.data in seen:
                    break  # outside our zones (the resolver chases it) or a loop
                seen.add(cname.data)
                current, zone_name = cname.data, target_zone
                continue
            matched = sorted(node if qtype == "ANY" else [r for r in node if r.type == qtype], key=sort_key)
            if matched:
                answers.extend(matched)
            else:
                # NODATA if the name exists (or is an empty non-terminal), else NXDOMAIN;
                # either way the SOA goes in the authority section with TTL = min(TTL, minimum),
                # RFC 2308 §2.1, §2.2, §3. RFC 6604: the rcode describes the last name in a chain.
                exists = bool(node) or any(r.name.endswith("." + rel) for r in z.records)
                rcode = "NOERROR" if exists else "NXDOMAIN"
                soa = z.soa
                authority.append(replace(soa, ttl=min(soa.ttl, parse_soa(soa.data).minimum)))
            break
        return Answer(rcode, True, tuple(answers), tuple(authority), tuple(self._glue(answers)))

    def _glue(self, answers: list[Record]) -> list[Record]:
        # Additional section processing for MX and NS targets (RFC 1035 §3.3.9, §3.3.11).
        extra: list[Record] = []
        for record in answers:
            if record.type not in ("MX", "NS"):
                continue
            for a in self._addresses(record.data):
                if a not in extra and a not in answers:
                    extra.append(a)
        return extra

    def _addresses(self, host: str) -> list[Record]:
        zone_name = self.zone_for(host)
        if zone_name is None:
            return []
        z = self._zones[zone_name]
        rel = "@" if host == z.name else host[: -len(z.name) - 1]
        return sorted((r for r in z.records if r.name == rel and r.type == "A"), key=sort_key)

"""`lab.dns`: the synchronous, thread-safe face of the lab's public DNS server (DNS Manager).

Each call crosses into the lab loop (`LabRuntime.call`), so the zones are only
ever touched by the lab thread (DESIGN.md §2); validation errors come back
unchanged, and a rejected call changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from labkit.dns.zone import DEFAULT_TTL, Record, ZoneStore
from labkit.events import DnsQueryEvent, EventLog
from labkit.runtime import LabRuntime
from labkit.views import frame

RECORD_COLUMNS = {
    "zone": "Zone",
    "name": "Name",
    "type": "Type",
    "data": "Data",
    "preference": "Preference",
    "ttl": "TTL",
}
QUERY_COLUMNS = {
    "time": "Time",
    "client": "Client",
    "transport": "Transport",
    "name": "Name",
    "qtype": "Type",
    "rcode": "Rcode",
    "answer": "Answer",
}


class DnsManager:
    """Records and zones of the public DNS server, and its query log.

    Args:
        runtime: the lab loop.
        store: the zones the `DnsServer` answers from.
        events: the lab's event log (for `queries`).

    Supports ``"xutonglin.com" in lab.dns``, ``lab.dns["xutonglin.com"]`` (the
    zone's records) and iteration over zone names.
    """

    def __init__(self, runtime: LabRuntime, store: ZoneStore, events: EventLog) -> None:
        self._runtime, self._store, self._events = runtime, store, events

    # -- records ------------------------------------------------------------------
    def add_record(
        self, zone: str, name: str, type: str, data: str, preference: int | None = None, ttl: int = DEFAULT_TTL
    ) -> Record:
        """Add a record, e.g. ``add_record("xutonglin.com", "mail", "A", "100.100.100.254")``.

        See `ZoneStore.add_record` for the arguments.

        Returns:
            The record added.

        Raises:
            UnknownObject, InvalidValue, DuplicateObject: nothing was changed.
            LabNotRunning: the lab has stopped.
        """
        return self._runtime.call(self._store.add_record, zone, name, type, data, preference, ttl)

    def remove_record(self, zone: str, name: str, type: str, data: str | None = None) -> Record | list[Record]:
        """Remove the record with `data`, or every record of that name and type.

        Returns:
            The removed record (or list of records when `data` is None).

        Raises:
            UnknownObject: no such zone or record. InvalidValue: the SOA or the last NS.
        """
        return self._runtime.call(self._store.remove_record, zone, name, type, data)

    def get_record(self, zone: str | None = None, name: str | None = None, type: str | None = None) -> list[Record]:
        """Records matching the filters, in DNS Manager order.

        Raises:
            UnknownObject: no such zone. InvalidValue: an unknown type.
        """
        return self._runtime.call(self._store.get_record, zone, name, type)

    def has_record(
        self, zone: str | None = None, name: str | None = None, type: str | None = None, data: str | None = None
    ) -> bool:
        """True when a record matches every filter given."""
        return self._runtime.call(self._store.has_record, zone, name, type, data)

    def records(self, zone: str | None = None) -> pd.DataFrame:
        """Every record (of one zone) as a table: Zone, Name, Type, Data, Preference, TTL.

        Sorted by zone, then the apex SOA and NS, then name, type and data.
        """
        rows = self._runtime.call(self._store.records, zone)
        df = frame(rows, RECORD_COLUMNS)
        # Only MX records have a preference; keep it an integer (pandas would make 10 → 10.0 beside the blanks).
        df["Preference"] = pd.Series(["" if r.preference is None else int(r.preference) for r in rows], dtype=object)
        return df

    # -- zones -----------------------------------------------------------------------
    def add_zone(self, name: str) -> str:
        """Create a primary zone (SOA and NS made for you).

        Returns:
            The zone name, normalised.

        Raises:
            InvalidValue: an illegal name. DuplicateObject: it exists.
        """
        return self._runtime.call(self._store.add_zone, name)

    def remove_zone(self, name: str) -> None:
        """Delete a zone and its records.

        Raises:
            UnknownObject: no such zone.
        """
        self._runtime.call(self._store.remove_zone, name)

    def zones(self) -> list[str]:
        """The zone names, sorted."""
        return self._runtime.call(self._store.zones)

    def __contains__(self, zone: object) -> bool:
        return bool(self._runtime.call(self._store.__contains__, zone))

    def __getitem__(self, zone: str) -> list[Record]:
        return self.get_record(zone)

    def __iter__(self) -> Iterator[str]:
        return iter(self.zones())

    # -- the query log ---------------------------------------------------------------------
    def queries(self) -> pd.DataFrame:
        """Every query the server answered: Time, Client, Transport, Name, Type, Rcode, Answer (oldest first)."""
        return frame(self._events.of(DnsQueryEvent), QUERY_COLUMNS)

    def clear_queries(self) -> None:
        """Forget the query log."""
        self._events.clear(DnsQueryEvent)

    def __repr__(self) -> str:
        return f"<DnsManager zones={self.zones()}>"

    def _repr_html_(self) -> str:
        return str(self.records().to_html(index=False))

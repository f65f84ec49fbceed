"""The lab's public DNS: authoritative zones, the server at 100.100.100.2, a client and nslookup.

- `zone`: records, validation and lookup (pure).
- `server`: `DnsServer` (UDP and TCP, dnslib as codec) and its `resolve` core.
- `client`: `query`, a stub resolver that asks from a lab host.
- `nslookup`: Windows-style nslookup on top of `query`.
- `manager`: `DnsManager`, the synchronous `lab.dns`.
"""

from __future__ import annotations

from labkit.dns.client import DnsProtocolError, DnsReply, DnsTimeout, ResourceRecord, query
from labkit.dns.manager import DnsManager
from labkit.dns.nslookup import NslookupResult, format_nslookup, nslookup
from labkit.dns.server import DnsServer, resolve
from labkit.dns.zone import Answer, Record, ZoneStore

__all__ = [
    "Answer",
    "DnsManager",
    "DnsProtocolError",
    "DnsReply",
    "DnsServer",
    "DnsTimeout",
    "NslookupResult",
    "Record",
    "ResourceRecord",
    "ZoneStore",
    "format_nslookup",
    "nslookup",
    "query",
    "resolve",
]

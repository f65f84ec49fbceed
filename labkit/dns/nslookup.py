"""nslookup, Windows style, built on a real query through the lab network.

The text is what ``nslookup NAME 100.100.100.2`` (or ``nslookup -type=MX ...``)
prints on Windows (facts reference §7.1). Whitespace: Windows writes a tab
after the owner name of a record line and at the start of each SOA field; the
lab writes that tab *expanded to 8-column tab stops*, as a console shows it
(``xutonglin.com   MX preference = ...``, ``mail.xutonglin.com      internet
address = ...``), so that the text is the same in every viewer. The lab does
not look up the server's own name first (Windows asks for a PTR record of the
server address); there is no reverse zone for the server in the lab, so the
header always says ``Server:  UnKnown``, as Windows would.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from labkit.dns.client import DnsProtocolError, DnsReply, DnsTimeout, ResourceRecord, query
from labkit.dns.zone import duration_text, parse_soa
from labkit.errors import ConnectionDenied, NetworkUnreachable
from labkit.net.network import LabNetwork

Failure = DnsTimeout | NetworkUnreachable | ConnectionDenied | DnsProtocolError

#: How Windows nslookup words each reply code after ``*** UnKnown can't find NAME:``.
RCODE_WORDS = {
    "NXDOMAIN": "Non-existent domain",
    "REFUSED": "Query refused",
    "SERVFAIL": "Server failed",
    "FORMERR": "Format error",
    "NOTIMP": "Not implemented",
}
SERVER_NAME = "UnKnown"


def _line(owner: str, text: str) -> str:
    return f"{owner}\t{text}".expandtabs(8)


def record_lines(record: ResourceRecord) -> list[str]:
    """The lines Windows nslookup prints for one record outside the ``Name:``/``Address:`` form.

    >>> record_lines(ResourceRecord("xutonglin.com", "MX", 3600, "mail.xutonglin.com", 10))
    ['xutonglin.com   MX preference = 10, mail exchanger = mail.xutonglin.com']
    >>> record_lines(ResourceRecord("mail.xutonglin.com", "A", 3600, "100.100.100.254"))
    ['mail.xutonglin.com      internet address = 100.100.100.254']
    """
    kind, owner, data = record.type, record.name, record.data
    if kind == "A":
        return [_line(owner, f"internet address = {data}")]
    if kind == "MX":
        return [_line(owner, f"MX preference = {record.preference}, mail exchanger = {data}")]
    if kind == "NS":
        return [_line(owner, f"nameserver = {data}")]
    if kind == "CNAME":
        return [_line(owner, f"canonical name = {data}")]
    if kind == "PTR":
        return [_line(owner, f"name = {data}")]
    if kind == "TXT":
        return [_line(owner, "text ="), "", f'\t"{data}"'.expandtabs(8)]
    if kind == "SOA":
        soa = parse_soa(data)
        pad = " " * 8
        return [
            owner,
            f"{pad}primary name server = {soa.mname}",
            f"{pad}responsible mail addr = {soa.rname}",
            f"{pad}serial  = {soa.serial}",
            f"{pad}refresh = {soa.refresh} ({duration_text(soa.refresh)})",
            f"{pad}retry   = {soa.retry} ({duration_text(soa.retry)})",
            f"{pad}expire  = {soa.expire} ({duration_text(soa.expire)})",
            f"{pad}default TTL = {soa.minimum} ({duration_text(soa.minimum)})",
        ]
    return [_line(owner, f"{kind} = {data}")]


def _listed(label: str, values: list[str]) -> list[str]:
    # "Address:  x" for one value; "Addresses:  x" then continuation lines for several.
    if len(values) == 1:
        return [f"{label}:  {values[0]}"]
    return [f"{label}es:  {values[0]}"] + [" " * 10 + v for v in values[1:]]


def format_nslookup(server_ip: str, name: str, type: str, reply: DnsReply | Failure) -> str:
    """The text Windows nslookup prints for `reply` (pure; no trailing newline).

    Args:
        server_ip: the server asked, shown as ``Address:``.
        name: the name as typed (a trailing dot is not shown).
        type: the query type; ``A`` gives the ``Name:`` / ``Address:`` form,
            other types one line per record of every section.
        reply: the reply, or the failure that stopped the query.

    Returns:
        The lines, joined with newlines.

    >>> from labkit.dns.client import DnsReply, ResourceRecord
    >>> ok = DnsReply("mail.xutonglin.com", "A", "100.100.100.2", "NOERROR", True,
    ...               answers=[ResourceRecord("mail.xutonglin.com", "A", 3600, "100.100.100.254")])
    >>> print(format_nslookup("100.100.100.2", "mail.xutonglin.com", "A", ok))
    Server:  UnKnown
    Address:  100.100.100.2
    <BLANKLINE>
    Name:    mail.xutonglin.com
    Address:  100.100.100.254
    """
    shown = name.rstrip(".")
    lines = [f"Server:  {SERVER_NAME}", f"Address:  {server_ip}", ""]
    if isinstance(reply, DnsTimeout):
        for _ in range(reply.attempts):
            lines += ["DNS request timed out.", f"    timeout was {reply.timeout:g} seconds."]
        lines.append(f"*** Request to {SERVER_NAME} timed-out")
        return "\n".join(lines)
    if isinstance(reply, NetworkUnreachable):
        return "\n".join([*lines, f"*** {SERVER_NAME} can't find {shown}: Network is unreachable"])
    if isinstance(reply, ConnectionDenied | DnsProtocolError):
        return "\n".join([*lines, f"*** {SERVER_NAME} can't find {shown}: No response from server"])
    if reply.tcp_fallback:
        lines.append("Truncated, retrying in TCP mode.")
    if reply.rcode != "NOERROR":
        words = RCODE_WORDS.get(reply.rcode, f"Unspecified error ({reply.rcode})")
        lines.append(f"*** {SERVER_NAME} can't find {shown}: {words}")
        return "\n".join(lines)
    if not reply.authoritative:
        lines.append("Non-authoritative answer:")
    if type.upper() == "A":
        addresses = reply.addresses()
        aliases = [r.name for r in reply.answers if r.type == "CNAME"]
        canonical = next((r.name for r in reply.answers if r.type == "A"), None)
        if canonical is None:
            canonical = next((r.data for r in reversed(reply.answers) if r.type == "CNAME"), shown)
        lines.append(f"Name:    {canonical}")
        if addresses:
            lines += _listed("Address", addresses)
        if aliases:
            lines += [f"Aliases:  {aliases[0]}"] + [" " * 10 + a for a in aliases[1:]]
        return "\n".join(lines)
    for record in (*reply.answers, *reply.authority, *reply.additional):
        lines += record_lines(record)
    return "\n".join(lines)


@dataclass(frozen=True)
class NslookupResult:
    """What one nslookup printed, with the reply's parts for code and checks.

    Attributes:
        text: the Windows-style output (see `format_nslookup`).
        server, name, type: what was asked.
        rcode: the reply code, or None when no reply came (timeout, unreachable).
        authoritative: the AA flag of the reply (False without one).
        answers: the answer section.
        reply: the full reply, or None.
        error: the failure's message when no reply came, else "".
    """

    text: str
    server: str
    name: str
    type: str
    rcode: str | None
    authoritative: bool
    answers: list[ResourceRecord] = field(default_factory=list)
    reply: DnsReply | None = None
    error: str = ""

    @property
    def addresses(self) -> list[str]:
        """IPv4 addresses in the answer section."""
        return self.reply.addresses() if self.reply is not None else []

    @property
    def mx(self) -> list[tuple[int, str]]:
        """``(preference, host)`` pairs, most preferred first."""
        return self.reply.mx() if self.reply is not None else []

    def __str__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.text)}</pre>"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text)


async def nslookup(
    network: LabNetwork,
    source_host: str,
    server_ip: str,
    name: str,
    type: str = "A",
    *,
    timeout: float = 2.0,
    retries: int = 1,
) -> NslookupResult:
    """Run ``nslookup -type=TYPE NAME SERVER`` from a lab host (on the lab loop).

    Args:
        network: the lab network.
        source_host: the lab host that runs nslookup (e.g. ``client``).
        server_ip: the DNS server's virtual address.
        name: the name to look up.
        type: the query type (Windows' default is A).
        timeout: seconds per attempt (Windows: 2).
        retries: extra attempts after a timeout (Windows: 1).

    Returns:
        The result; failures to get a reply are part of the text, not exceptions.

    Raises:
        InvalidValue: a bad name or type.
    """
    outcome: DnsReply | Failure
    try:
        outcome = await query(network, source_host, server_ip, name, type, timeout=timeout, retries=retries)
    except (DnsTimeout, NetworkUnreachable, ConnectionDenied, DnsProtocolError) as exc:
        outcome = exc
    text = format_nslookup(server_ip, name, type, outcome)
    if isinstance(outcome, DnsReply):
        return NslookupResult(
            text, server_ip, name, type.upper(), outcome.rcode, outcome.authoritative, list(outcome.answers), outcome
        )
    return NslookupResult(text, server_ip, name, type.upper(), None, False, error=str(outcome))

"""Remote delivery: locate the next hop through the lab DNS, connect through the lab network, speak SMTP.

A small hand-written asyncio SMTP client (RFC 5321) so that every line can go to
the send protocol log and the connection can start from the server's own lab
host — so TMG's NAT and publishing rules apply. Outcomes follow facts §1.6:
2xx → sent; 4xx, a refused or timed-out connection, or DNS trouble → retry;
5xx → failed (at MAIL: every recipient; at RCPT: that recipient); NXDOMAIN on a
DNS-routed queue → failed with ``554 5.4.4 SMTPSEND.DNS.NonExistentDomain``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from labkit.dns.client import DnsReply, query
from labkit.net.network import LabNetwork
from labkit.transport import facts
from labkit.transport.config import SendConnector
from labkit.transport.logs import ProtocolSession
from labkit.transport.mx import Answer, Resolution, Target, resolve_domain, resolve_host
from labkit.transport.queues import Queue, QueuedMessage
from labkit.transport.settings import TransportSettings


class ConnectionLost(Exception):
    """The remote side closed the connection or stopped answering mid-session."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


@dataclass(frozen=True)
class Reply:
    """One SMTP reply: its code and its lines (without the ``250-`` prefixes)."""

    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """``250 2.6.0 <id> Queued mail for delivery`` — the code and the last line's text."""
        return f"{self.code} {self.lines[-1]}" if self.lines else str(self.code)

    @property
    def keywords(self) -> set[str]:
        """EHLO keywords (upper case), from every line after the greeting."""
        return {line.split(" ", 1)[0].upper() for line in self.lines[1:]}


def dot_stuff(content: bytes) -> bytes:
    """Message bytes ready for DATA: CRLF line ends, leading dots doubled, the final ``.`` line (RFC 5321 §4.5.2).

    >>> dot_stuff(b"a\\n.b\\r\\nc")
    b'a\\r\\n..b\\r\\nc\\r\\n.\\r\\n'
    """
    if b"\n." not in content and not content.startswith(b".") and content.count(b"\n") == content.count(b"\r\n"):
        # The usual case: CRLF already, no line to stuff: the same bytes without splitting into lines.
        return content + (b".\r\n" if content.endswith(b"\r\n") else b"\r\n.\r\n")
    lines = re.split(rb"\r?\n", content)
    if lines and lines[-1] == b"":
        lines.pop()
    out = [b"." + line if line.startswith(b".") else line for line in lines]
    return b"\r\n".join(out) + b"\r\n.\r\n"


class SmtpClient:
    """One client SMTP connection, every line logged.

    Args:
        reader, writer: the connection.
        plog: the send protocol log session.
        timeout: seconds to wait for each reply (the connector's inactivity timeout).
    """

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, plog: ProtocolSession, timeout: float
    ) -> None:
        self.reader, self.writer, self.plog, self.timeout = reader, writer, plog, timeout

    async def reply(self) -> Reply:
        """Read one (possibly multi-line) reply.

        Raises:
            ConnectionLost: closed, garbled, or silent past the timeout.
        """
        lines: list[str] = []
        while True:
            try:
                async with asyncio.timeout(self.timeout):  # cheaper than wait_for: no task per line
                    raw = await self.reader.readline()
            except TimeoutError:
                raise ConnectionLost(facts.CONNECTION_TIMED_OUT) from None
            except (ConnectionError, asyncio.LimitOverrunError, ValueError):
                raise ConnectionLost(facts.CONNECTION_DROPPED) from None
            if not raw:
                raise ConnectionLost(facts.CONNECTION_DROPPED)
            text = raw.rstrip(b"\r\n").decode("utf-8", "replace")
            self.plog.write("<", text)
            if len(text) < 3 or not text[:3].isdigit():
                raise ConnectionLost(facts.CONNECTION_DROPPED)
            lines.append(text[4:])
            if len(text) == 3 or text[3] != "-":
                return Reply(int(text[:3]), tuple(lines))

    async def command(self, line: str) -> Reply:
        """Send one command line and read its reply."""
        self.plog.write(">", line)
        await self._write(line.encode("utf-8", "surrogateescape") + b"\r\n")
        return await self.reply()

    async def pipeline(self, lines: Sequence[str]) -> list[Reply]:
        """Send several commands in one write and read their replies in order (RFC 2920)."""
        for line in lines:
            self.plog.write(">", line)
        await self._write(b"".join(line.encode("utf-8", "surrogateescape") + b"\r\n" for line in lines))
        return [await self.reply() for _ in lines]

    async def data(self, content: bytes, message_id: str) -> Reply:
        """Send the message body after a 354, and read the final reply."""
        self.plog.write("*", message_id, "sending message")
        await self._write(dot_stuff(content))
        return await self.reply()

    async def _write(self, data: bytes) -> None:
        try:
            self.writer.write(data)
            async with asyncio.timeout(self.timeout):
                await self.writer.drain()
        except (ConnectionError, TimeoutError):
            raise ConnectionLost(facts.CONNECTION_DROPPED) from None

    async def close(self, quit: bool = True) -> None:
        """QUIT (politely, when the session is still sane) and close."""
        if quit:
            with contextlib.suppress(ConnectionLost):
                await self.command("QUIT")
        self.writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)
        self.plog.write("-", "", "Local")


@dataclass
class MessageResult:
    """What became of each recipient of one message in one session."""

    entry: QueuedMessage
    sent: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (recipient, reply)
    deferred: list[tuple[str, str]] = field(default_factory=list)
    reply: str = ""  # the final reply for the sent recipients
    remote_mta: str = ""
    remote_ip: str = ""


@dataclass(frozen=True)
class SessionOutcome:
    """How one delivery attempt ended for the queue.

    Attributes:
        kind: ``delivered`` (connected; per-message results were reported), ``retry`` (the queue goes to Retry
            with `error`), ``fail`` (every message of the queue fails with `error`, e.g. NXDOMAIN).
        error: the LastError / NDR text.
        remote_mta: the host that gave the failing reply, if any.
    """

    kind: Literal["delivered", "retry", "fail"]
    error: str = ""
    remote_mta: str = ""


class DeliveryHost(Protocol):
    """What a delivery session needs from its Exchange server."""

    fqdn: str
    host_name: str
    address: str
    settings: TransportSettings
    network: LabNetwork
    dns_server: str
    rng: random.Random

    def protocol_session(
        self, kind: str, connector_id: str, local: str, remote: str, enabled: bool
    ) -> ProtocolSession: ...

    def content(self, message: int) -> bytes: ...

    def own_names(self) -> Sequence[str]: ...


def dns_lookup(host: DeliveryHost) -> Callable[[str, str], Awaitable[Answer]]:
    """A `mx.Lookup` that asks the lab DNS from the server's own host (crossing TMG's NAT if it must)."""

    async def lookup(name: str, qtype: str) -> Answer:
        timeout = host.settings.dns_timeout.total_seconds()
        try:
            reply: DnsReply = await query(host.network, host.host_name, host.dns_server, name, qtype, timeout=timeout)
        except (TimeoutError, OSError):  # DnsTimeout, refused by TMG, unreachable, protocol error
            return Answer("TIMEOUT")
        glue: dict[str, tuple[str, ...]] = {}
        for record in reply.additional:
            if record.type == "A":
                glue[record.name] = (*glue.get(record.name, ()), record.data)
        return Answer(reply.rcode, tuple(reply.mx()), tuple(reply.addresses()), glue)

    return lookup


async def locate(host: DeliveryHost, queue: Queue, connector: SendConnector) -> Resolution:
    """The targets of a delivery queue: MX for DNS routing, A for smart hosts."""
    lookup = dns_lookup(host)
    if queue.delivery_type == facts.DELIVERY_DNS:
        return await resolve_domain(queue.next_hop_domain, lookup, host.rng, host.own_names(), [host.address])
    targets: list[Target] = []
    error: Resolution | None = None
    for smart_host in connector.smart_hosts:
        found = await resolve_host(smart_host, lookup)
        if found.ok:
            targets.extend(found.targets)
        elif error is None:
            error = found
    if targets:
        return Resolution(targets=tuple(targets))
    return error or Resolution(error="InfoNoRecords")


def dns_error_text(resolution: Resolution) -> tuple[Literal["retry", "fail"], str]:
    """The outcome and text of a DNS failure (facts §1.6, §2.1)."""
    if resolution.error == "NonExistentDomain":
        return "fail", facts.DNS_NONEXISTENT_DOMAIN
    if resolution.error == "MxLoopback":
        return "fail", facts.DNS_MX_LOOPBACK
    if resolution.error == "InfoNoRecords":
        return "retry", facts.DNS_INFO_NO_RECORDS
    return "retry", facts.DNS_ERROR_RETRY


async def run_session(
    host: DeliveryHost,
    queue: Queue,
    connector: SendConnector,
    report: Callable[[MessageResult], Awaitable[None]],
) -> SessionOutcome:
    """One delivery attempt for a queue: resolve, connect (failing over between targets), send what it holds.

    Args:
        host: the sending server.
        queue: the delivery queue; messages are taken from it with `Queue.take`.
        connector: the send connector the queue belongs to.
        report: awaited with each message's result (the server records it durably).

    Returns:
        The session's outcome for the queue.
    """
    enabled = connector.protocol_logging_level == "Verbose" or host.settings.protocol_logging_level == "Verbose"
    plog = host.protocol_session("send", connector.name, "", "", enabled)
    plog.write("*", "SendRoutingHeaders", "Set Session Permissions")
    resolution = await locate(host, queue, connector)
    if not resolution.ok:
        kind, text = dns_error_text(resolution)
        plog.write("*", "", text)
        return SessionOutcome(kind, text)
    primary = ""
    for target in resolution.targets:
        plog.write("*", "", "attempting to connect")
        client = await _connect(host, connector, target, plog)
        if isinstance(client, str):
            primary = primary or client
            continue
        greeted = await _hello(client, connector.fqdn or host.fqdn)
        if greeted is not None and greeted.code // 100 != 2:
            primary = primary or greeted.text
            await client.close(quit=greeted.code != 421)
            continue
        if greeted is None:
            primary = primary or facts.CONNECTION_DROPPED
            await client.close(quit=False)
            continue
        lost = await _send_all(host, client, greeted, queue, target, report)
        if lost is not None:
            await client.close(quit=False)
            return SessionOutcome("retry", facts.failover_error(lost), target.host)
        await client.close()
        return SessionOutcome("delivered")
    return SessionOutcome("retry", facts.failover_error(primary or facts.UNABLE_TO_CONNECT))


async def _connect(
    host: DeliveryHost, connector: SendConnector, target: Target, plog: ProtocolSession
) -> SmtpClient | str:
    try:
        reader, writer = await host.network.open_connection(
            host.host_name, target.ip, connector.port, timeout=host.settings.connect_timeout.total_seconds()
        )
    except TimeoutError:
        plog.write("*", "", f"Failed connection to {target.ip}:{connector.port} (TimedOut)")
        return facts.CONNECTION_TIMED_OUT
    except OSError as exc:  # NetworkUnreachable, ConnectionDenied (TMG, nothing listening), refused
        plog.write("*", "", f"Failed connection to {target.ip}:{connector.port} ({type(exc).__name__})")
        return facts.UNABLE_TO_CONNECT
    local = writer.get_extra_info("sockname")
    plog.local = f"{host.address}:{local[1] if local else 0}"
    plog.remote = f"{target.ip}:{connector.port}"
    plog.write("+")
    return SmtpClient(reader, writer, plog, connector.connection_inactivity_timeout.total_seconds())


async def _hello(client: SmtpClient, fqdn: str) -> Reply | None:
    """Banner and EHLO (HELO if EHLO is refused); None when the connection was lost."""
    try:
        banner = await client.reply()
        if banner.code != 220:
            return banner
        ehlo = await client.command(f"EHLO {fqdn}")
        if ehlo.code // 100 == 5:
            ehlo = await client.command(f"HELO {fqdn}")
        return ehlo
    except ConnectionLost:
        return None


async def _send_all(
    host: DeliveryHost,
    client: SmtpClient,
    ehlo: Reply,
    queue: Queue,
    target: Target,
    report: Callable[[MessageResult], Awaitable[None]],
) -> str | None:
    """Send every message the queue hands out; the inner reply when the connection is lost, else None."""
    while (entry := queue.take()) is not None:
        result = MessageResult(entry, remote_mta=target.host, remote_ip=target.ip)
        try:
            await _send_one(client, ehlo, result, host.content(entry.stored.id))
        except ConnectionLost as lost:
            result.sent.clear()
            result.failed.clear()
            result.deferred = [(r, lost.reply) for r in entry.recipients]
            await report(result)
            return lost.reply
        await report(result)
    return None


async def _send_one(client: SmtpClient, ehlo: Reply, result: MessageResult, content: bytes) -> None:
    entry = result.entry
    stored = entry.stored
    params = ""
    if "SIZE" in ehlo.keywords:
        params += f" SIZE={len(content)}"
    if "8BITMIME" in ehlo.keywords and any(b > 127 for b in content):
        params += " BODY=8BITMIME"
    commands = [f"MAIL FROM:<{stored.sender}>{params}", *(f"RCPT TO:<{r}>" for r in entry.recipients), "DATA"]
    if "PIPELINING" in ehlo.keywords:
        replies = await client.pipeline(commands)  # RFC 2920: MAIL, RCPT..., DATA in one write
    else:
        replies = []
        for command in commands:
            replies.append(await client.command(command))
            if replies[-1].code // 100 != 2 and command.startswith("MAIL"):
                break
    mail = replies[0]
    if mail.code // 100 != 2:
        bucket = result.failed if mail.code // 100 == 5 else result.deferred
        bucket.extend((r, mail.text) for r in entry.recipients)
        if len(replies) == len(commands) and replies[-1].code == 354:
            await client.data(b"", stored.message_id)  # nothing to deliver: end the data at once
        await client.command("RSET")
        return
    accepted: list[str] = []
    for recipient, rcpt in zip(entry.recipients, replies[1:], strict=False):
        if rcpt.code // 100 == 2:
            accepted.append(recipient)
        elif rcpt.code // 100 == 5:
            result.failed.append((recipient, rcpt.text))
        else:
            result.deferred.append((recipient, rcpt.text))
    start = replies[-1] if len(replies) == len(commands) else await client.command("DATA")
    if not accepted:
        if start.code == 354:
            await client.data(b"", stored.message_id)
        await client.command("RSET")
        return
    if start.code != 354:
        bucket = result.failed if start.code // 100 == 5 else result.deferred
        bucket.extend((r, start.text) for r in accepted)
        await client.command("RSET")
        return
    final = await client.data(content, stored.message_id)
    if final.code // 100 == 2:
        result.sent.extend(accepted)
        result.reply = final.text
    elif final.code // 100 == 5:
        result.failed.extend((r, final.text) for r in accepted)
    else:
        result.deferred.extend((r, final.text) for r in accepted)

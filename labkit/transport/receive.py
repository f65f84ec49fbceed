"""Receive connectors: aiosmtpd's SMTP protocol on the lab loop, with Exchange 2010's rules and replies.

Each Exchange rule is one handler hook that returns the product's reply (facts
§4.5): ``530 5.7.1 Client was not authenticated`` at MAIL when the session lacks
ms-Exch-SMTP-Submit, ``550 5.7.1 Unable to relay`` at RCPT for a domain that is
not accepted without ms-Exch-SMTP-Accept-Any-Recipient, ``452 4.5.3 Too many
recipients``, and ``250 2.6.0 <id> Queued mail for delivery`` only after the
message is on disk. aiosmtpd's own stock replies are translated to the product's
words in one table (`STOCK_REPLIES`); error replies to anonymous sessions are
tarpitted; every line goes to the SMTP receive protocol log.

Only Basic AUTH (LOGIN, PLAIN) is implemented, and there is no TLS, so neither
STARTTLS nor NTLM/GSSAPI is advertised; aiosmtpd runs with
``auth_require_tls=False`` because the lab has no TLS (`TransportSettings.lab`).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any, Protocol

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from labkit.events import utcnow
from labkit.net.network import LabNetwork
from labkit.transport import facts, permissions
from labkit.transport.addressing import domain_of
from labkit.transport.config import AcceptedDomain, ReceiveConnector
from labkit.transport.logs import ProtocolSession, timespan
from labkit.transport.settings import TransportSettings

log = logging.getLogger("labkit.transport.receive")

#: aiosmtpd's stock replies (by prefix) → the product's (facts §4.5; [U] ones are chosen in `facts`).
STOCK_REPLIES: tuple[tuple[str, str], ...] = (
    ("503 Error: send HELO first", facts.SEND_HELLO_FIRST),
    ("503 Error: send EHLO first", facts.SEND_HELLO_FIRST),
    ("503 Error: nested MAIL command", facts.SENDER_ALREADY),
    ("503 Error: need MAIL command", facts.NEED_MAIL),
    ("503 Error: need RCPT command", facts.NEED_RCPT),
    ("503 Already authenticated", facts.ALREADY_AUTHENTICATED),
    ("500 Error: command", facts.UNRECOGNIZED),
    ("500 Error: bad syntax", facts.UNRECOGNIZED),
    ("500 Error: strict ASCII mode", facts.INVALID_ARGUMENTS),
    ("500 Command line too long", facts.LINE_TOO_LONG),
    ("500 Line too long", facts.LINE_TOO_LONG),
    ("501 Syntax: HELO", facts.EHLO_NEEDS_DOMAIN.format(verb="HELO")),
    ("501 Syntax: EHLO", facts.EHLO_NEEDS_DOMAIN.format(verb="EHLO")),
    ("501 Syntax:", facts.INVALID_ARGUMENTS),
    ("501 Error:", facts.INVALID_ARGUMENTS),
    ("501 Not enough value", facts.INVALID_ARGUMENTS),
    ("501 Too many values", facts.INVALID_ARGUMENTS),
    ("501 5.5.2 Can't", facts.INVALID_ARGUMENTS),
    ("501 5.7.0 Auth aborted", facts.AUTH_ABORTED),
    ("553 5.1.3 Error: malformed address", facts.INVALID_ADDRESS),
    ("552 Error: message size exceeds", facts.SIZE_EXCEEDED),
    ("552 Error: Too much mail data", facts.SIZE_EXCEEDED),
    ("555 ", facts.INVALID_ARGUMENTS),
    ("354 End data with", facts.START_MAIL_INPUT),
    ("502 5.5.1 Too many unrecognized commands", facts.TOO_MANY_ERRORS),
    ("502 EXPN not implemented", facts.UNRECOGNIZED),
    ("535 5.7.8", facts.AUTH_FAILED),
    ("504 5.5.4 Unrecognized authentication type", facts.AUTH_UNRECOGNIZED),
    ("221 Bye", facts.CLOSING),
    ("454 TLS not available", facts.TLS_NOT_AVAILABLE),
)

#: ``<dot-atom@domain>`` then the end or parameters (what `_getaddr`'s fast path takes; anything else is parsed in full).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_PATH = re.compile(rf"<({_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>(?:[ \t]+([^ \t(].*))?\Z", re.S)

_STOCK_PREFIXES = tuple(prefix for prefix, _ in STOCK_REPLIES)

_HELO_NAME = re.compile(r"^(\[[0-9.]+\]|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?)$")


def translate(reply: str) -> str:
    """The product's words for one of aiosmtpd's stock replies; other replies pass unchanged.

    >>> translate('500 Error: command "FOO" not recognized')
    '500 5.3.3 Unrecognized command'
    >>> translate("250 2.1.0 Sender OK")
    '250 2.1.0 Sender OK'
    """
    if not reply.startswith(_STOCK_PREFIXES):  # one C-level test for the usual case: a reply of our own
        return reply
    for prefix, ours in STOCK_REPLIES:
        if reply.startswith(prefix):
            return ours
    return reply


@dataclass(frozen=True)
class Submission:
    """A message received over SMTP, ready to be stored."""

    sender: str
    recipients: tuple[str, ...]
    content: bytes
    connector: ReceiveConnector
    client_ip: str
    client_hostname: str
    server_ip: str
    authenticated_as: str = ""


class ReceiveHost(Protocol):
    """What a receive session needs from its Exchange server."""

    fqdn: str
    settings: TransportSettings

    def receive_connector_for(self, local_ip: str, port: int, peer: str) -> ReceiveConnector | None: ...

    def accepted_domain(self, domain: str) -> AcceptedDomain | None: ...

    def authenticate(self, user: str, password: str) -> str | None: ...

    def protocol_session(
        self, kind: str, connector_id: str, local: str, remote: str, enabled: bool
    ) -> ProtocolSession: ...

    async def receive_smtp(self, submission: Submission) -> str: ...


@dataclass
class SessionState:
    """Per-connection facts the hooks consult: connector, peer, rights, login."""

    connector: ReceiveConnector
    local_ip: str
    peer: str
    rights: frozenset[str]
    plog: ProtocolSession
    user: str = ""
    helo: str = ""
    errors: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class ReceiveHandler:
    """The aiosmtpd handler: one hook per Exchange rule, each returning the product's reply."""

    def __init__(self, host: ReceiveHost) -> None:
        self.host = host

    @staticmethod
    def state(server: SMTP) -> SessionState:
        """The session state of an `ExchangeSmtp` connection."""
        assert isinstance(server, ExchangeSmtp) and server.state is not None
        return server.state

    async def handle_HELO(self, server: SMTP, session: Session, envelope: Envelope, hostname: str) -> str:
        """HELO: check the name, greet with the client's address (facts §4.5)."""
        st = self.state(server)
        if not _HELO_NAME.match(hostname):
            return "501 5.5.4 Invalid domain name"
        session.host_name = st.helo = hostname
        return facts.HELLO.format(fqdn=server.hostname, ip=st.peer)

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        """EHLO: advertise only what the lab implements (no STARTTLS, AUTH only where it can be used)."""
        st = self.state(server)
        if not _HELO_NAME.match(hostname):
            return ["501 5.5.4 Invalid domain name"]
        session.host_name = st.helo = hostname
        lines = [
            facts.HELLO.format(fqdn=server.hostname, ip=st.peer),
            f"SIZE {st.connector.max_message_size}",
            "PIPELINING",
            "ENHANCEDSTATUSCODES",
        ]
        if offers_basic_auth(st.connector, self.host.settings):
            lines.append("AUTH LOGIN PLAIN")
        lines.append("8BITMIME")
        return [("250-" if i < len(lines) - 1 else "250 ") + line.removeprefix("250 ") for i, line in enumerate(lines)]

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        """MAIL FROM: ms-Exch-SMTP-Submit, then the sender checks (facts §4.3, §4.5)."""
        st = self.state(server)
        if permissions.SUBMIT not in st.rights:
            return facts.NOT_AUTHENTICATED
        sender = "" if address in ("<>", "") else address
        if sender and ("\x00" in sender or "@" not in sender):
            return facts.INVALID_ADDRESS
        if sender:
            domain = self.host.accepted_domain(domain_of(sender))
            authoritative = domain is not None and domain.domain_type == "Authoritative"
            if st.user:
                if sender.lower() != st.user:
                    return facts.CANNOT_SEND_AS
            elif (authoritative and permissions.ACCEPT_AUTHORITATIVE_DOMAIN_SENDER not in st.rights) or (
                not authoritative and permissions.ACCEPT_ANY_SENDER not in st.rights
            ):
                return facts.CANNOT_SEND_AS
        envelope.mail_from = sender or "<>"
        envelope.mail_options.extend(mail_options)
        return facts.SENDER_OK

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        """RCPT TO: the recipient limit, then relay protection (facts §4.3, §4.4)."""
        st = self.state(server)
        if "\x00" in address or "@" not in address or not domain_of(address):
            return facts.INVALID_ADDRESS
        if len(envelope.rcpt_tos) >= st.connector.max_recipients_per_message:
            return facts.TOO_MANY_RECIPIENTS
        if self.host.accepted_domain(domain_of(address)) is None and permissions.ACCEPT_ANY_RECIPIENT not in st.rights:
            return facts.UNABLE_TO_RELAY
        if address.lower() not in (r.lower() for r in envelope.rcpt_tos):
            envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return facts.RECIPIENT_OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """End of data: hop count, then store durably; ``250 2.6.0`` only after the commit (facts §4.5)."""
        st = self.state(server)
        content = envelope.original_content or b""
        if count_received(content) >= self.host.settings.max_hop_count:
            return facts.HOP_COUNT_EXCEEDED
        sender = "" if envelope.mail_from in ("<>", None) else str(envelope.mail_from)
        submission = Submission(
            sender=sender.lower(),
            recipients=tuple(r.lower() for r in envelope.rcpt_tos),
            content=content,
            connector=st.connector,
            client_ip=st.peer,
            client_hostname=st.helo,
            server_ip=st.local_ip,
            authenticated_as=st.user,
        )
        try:
            message_id = await self.host.receive_smtp(submission)
        except Exception:  # the disk failed: nothing is acknowledged, the client will retry
            log.exception("storing a message received from %s", st.peer)
            return facts.TEMPORARY_ERROR
        return facts.QUEUED.format(message_id=message_id)

    async def handle_RSET(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """RSET."""
        return facts.RESETTING

    async def handle_NOOP(self, server: SMTP, session: Session, envelope: Envelope, arg: str) -> str:
        """NOOP."""
        return facts.OK

    async def handle_VRFY(self, server: SMTP, session: Session, envelope: Envelope, address: str) -> str:
        """VRFY is never answered (facts §4.5)."""
        return facts.CANNOT_VRFY

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """QUIT."""
        return facts.CLOSING


SUBMISSION_PORT = 587


def offers_basic_auth(connector: ReceiveConnector, settings: TransportSettings) -> bool:
    """Whether AUTH LOGIN/PLAIN is offered: BasicAuth on, TLS not required (or waived), a group that logs in."""
    auth = set(connector.auth_mechanism)
    if "BasicAuth" not in auth:
        return False
    # The lab has no TLS. Its waiver of BasicAuthRequireTLS covers client submission (port 587) only, so the
    # Default connector on 25 advertises no AUTH, as a 2010 server does before STARTTLS (facts §4.5).
    if "BasicAuthRequireTLS" in auth and not (settings.basic_auth_without_tls and SUBMISSION_PORT in connector.ports()):
        return False
    return bool(set(connector.permission_groups) & permissions.AUTHENTICATED_GROUPS)


def count_received(content: bytes) -> int:
    """How many ``Received:`` headers the message carries (its hop count).

    >>> count_received(b"Received: a\\r\\nReceived: b\\r\\nSubject: x\\r\\n\\r\\nReceived: body")
    2
    """
    head = re.split(rb"\r?\n\r?\n", content, maxsplit=1)[0]
    return len(re.findall(rb"(?im)^received:", head))


class _LoggingReader:
    """Wraps the session's StreamReader to log every command line it reads (not message data)."""

    def __init__(self, reader: asyncio.StreamReader, owner: ExchangeSmtp) -> None:
        self._reader = reader
        self._owner = owner

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        line = await self._reader.readuntil(separator)
        self._owner.line_received(line)
        return line

    async def read(self, n: int = -1) -> bytes:
        return await self._reader.read(n)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


class ExchangeSmtp(SMTP):
    """One SMTP session of a receive connector, served on the lab loop.

    Args:
        host: the Exchange server.
        network: the lab network (to learn the virtual peer of the connection).
        local_ip, port: the virtual endpoint this listener serves.
    """

    def __init__(self, host: ReceiveHost, network: LabNetwork, local_ip: str, port: int) -> None:
        settings = host.settings
        super().__init__(
            ReceiveHandler(host),
            hostname=host.fqdn,  # always given: the default calls the slow socket.getfqdn()
            ident="Microsoft ESMTP MAIL Service ready",
            data_size_limit=settings.max_message_size,
            timeout=settings.connection_inactivity_timeout.total_seconds(),
            auth_require_tls=False,  # no TLS in the lab; Basic AUTH is offered only per `offers_basic_auth`
            authenticator=self._authenticate_user,
            loop=asyncio.get_running_loop(),
        )
        # aiosmtpd keeps the per-command limits in a class-level dict; give each session its own.
        self.command_size_limits = collections.defaultdict(lambda: SMTP.command_size_limit)
        self.host = host
        self.network = network
        self.local_ip, self.port = local_ip, port
        self.state: SessionState | None = None
        self._in_data = False
        self._in_auth = False
        self._rejected = False

    # -- connection ----------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Learn the virtual peer, pick the connector, log the session start, then run aiosmtpd."""
        peer = self.network.accept(transport)
        connector = self.host.receive_connector_for(self.local_ip, self.port, peer) if peer else None
        if peer is None or connector is None:
            # From a network that may not reach us, or no connector accepts this client: drop it unanswered.
            self._rejected = True
            assert isinstance(transport, asyncio.Transport)
            transport.abort()
            return
        peer_port = transport.get_extra_info("peername")[1]
        plog = self.host.protocol_session(
            "receive",
            connector.identity,
            f"{self.local_ip}:{self.port}",
            f"{peer}:{peer_port}",
            connector.protocol_logging_level == "Verbose",
        )
        rights = permissions.session_rights(connector.permission_groups, authenticated=False)
        self.state = SessionState(connector, self.local_ip, peer, rights, plog)
        self.hostname = connector.fqdn or self.host.fqdn
        self.__ident__ = f"Microsoft ESMTP MAIL Service ready at {format_datetime(utcnow().astimezone())}"
        self.data_size_limit = connector.max_message_size
        plog.write("+")
        plog.write("*", permissions.log_text(rights), "Set Session Permissions")
        super().connection_made(transport)

    def _cb_client_connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        super()._cb_client_connected(reader, writer)
        self._reader = _LoggingReader(reader, self)  # type: ignore[assignment]

    def connection_lost(self, error: Exception | None) -> None:
        """Log the end of the session (``-``)."""
        if self._rejected:
            return
        if self.state is not None:
            self.state.plog.write("-", "", "Remote" if error is None else f"Remote ({type(error).__name__})")
        super().connection_lost(error)

    def _timeout_cb(self) -> None:
        # ConnectionInactivityTimeout (facts §4.4): say why, then close.
        if self.transport is not None and not self.transport.is_closing() and self.state is not None:
            self.state.plog.write(">", facts.INACTIVITY_TIMEOUT)
            self._writer.write((facts.INACTIVITY_TIMEOUT + "\r\n").encode("ascii"))
        super()._timeout_cb()  # type: ignore[no-untyped-call]

    # -- lines in and out ------------------------------------------------------------------------------
    def line_received(self, line: bytes) -> None:
        """Log one command line (message data and AUTH secrets are not logged)."""
        if self.state is None or self._in_data:
            return
        if self._in_auth:
            self.state.plog.write("<", "****")
            return
        text = line.rstrip(b"\r\n").decode("ascii", "backslashreplace").replace("\x00", "\\x00")
        self.state.plog.write("<", text)

    async def push(self, status: Any) -> None:
        """Send a reply in the product's words; tarpit errors to anonymous sessions; log it."""
        text = status.decode("utf-8", "replace") if isinstance(status, bytes) else str(status)
        text = translate(text)
        st = self.state
        if st is not None:
            if text.startswith("220 ") and st.connector.banner and not st.extra.get("greeted"):
                text = st.connector.banner
            st.extra["greeted"] = True
            tarpit = self.host.settings.tarpit_interval
            if text[:1] in "45" and not text.startswith("421") and not st.user and tarpit.total_seconds() > 0:
                # TarpitInterval: error replies to anonymous sessions are delayed (facts §4.5).
                st.plog.write("*", "", f"Tarpit for '{timespan(tarpit)}'")
                await asyncio.sleep(tarpit.total_seconds())
            st.plog.write(">", text)
        self._in_data = text.startswith("354")
        self._in_auth = text.startswith("334")
        await super().push(text)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd's MAIL/RCPT address parser, with a fast path for the plain ``<local@domain>`` form.

        The general parser (the `email` package's header grammar) costs more than the rest of a command; a
        plain address followed by nothing or by parameters gives the same result without it.
        """
        match = _PLAIN_PATH.match(arg)
        if match is None or (self.local_part_limit and len(match[1].rpartition("@")[0]) > self.local_part_limit):
            return super()._getaddr(arg)
        return match[1], match[2] or ""

    # -- commands with Exchange behaviour aiosmtpd lacks ------------------------------------------------
    async def smtp_HELP(self, arg: str) -> None:
        """HELP lists the product's commands (facts §4.5)."""
        for line in facts.HELP_LINES:
            await self.push(line)

    async def smtp_EXPN(self, arg: str) -> None:
        """EXPN is not a command Exchange knows."""
        await self.push(facts.UNRECOGNIZED)

    async def smtp_STARTTLS(self, arg: str) -> None:
        """No TLS in the lab (never advertised)."""
        await self.push(facts.TLS_NOT_AVAILABLE)

    async def smtp_AUTH(self, arg: str) -> None:
        """AUTH only where the connector offers Basic authentication."""
        st = self.state
        if st is not None and st.helo and not offers_basic_auth(st.connector, self.host.settings):
            await self.push(facts.AUTH_UNRECOGNIZED)
            return
        await super().smtp_AUTH(arg)

    def _authenticate_user(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        st = self.state
        if st is None or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = self.host.authenticate(
            auth_data.login.decode("utf-8", "replace"), auth_data.password.decode("utf-8", "replace")
        )
        if user is None:
            return AuthResult(success=False, handled=False)
        st.user = user
        st.rights = permissions.session_rights(st.connector.permission_groups, authenticated=True)
        st.plog.write("*", permissions.log_text(st.rights), "Set Session Permissions")
        st.plog.write("*", user, "authenticated")
        return AuthResult(success=True, auth_data=user)


_last_date: list[Any] = [None, ""]  # (the fields of a time down to the second), its RFC 5322 text


def mail_date(value: datetime) -> str:
    """`email.utils.format_datetime`, reusing the text of the second before (it ignores microseconds)."""
    key = (value.second, value.minute, value.hour, value.day, value.month, value.year, value.tzinfo, value.fold)
    if key != _last_date[0]:
        _last_date[:] = [key, format_datetime(value)]
    return str(_last_date[1])


def received_header(helo: str, client_ip: str, fqdn: str, server_ip: str, protocol: str = "") -> bytes:
    """The ``Received:`` header a hop adds (Exchange 2010 form; RFC 5321 §4.4).

    >>> received_header("mail.contoso.com", "100.100.100.10", "mail.xutonglin.com", "192.168.8.10")[:95]
    b'Received: from mail.contoso.com (100.100.100.10) by mail.xutonglin.com (192.168.8.10)\\r\\n with Mi'
    """
    how = protocol or f"Microsoft SMTP Server id {facts.EXCHANGE_VERSION}"
    date = mail_date(utcnow())
    return f"Received: from {helo} ({client_ip}) by {fqdn} ({server_ip})\r\n with {how}; {date}\r\n".encode()


def join_recipients(recipients: Sequence[str]) -> str:
    """Recipients as the tracking log's CSV writes them (``;``-separated)."""
    return ";".join(recipients)

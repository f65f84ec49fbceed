"""`ExchangeServer`: one Exchange 2010 Hub Transport server with its mailboxes, on the lab loop.

The pipeline (DESIGN.md §2): receive (SMTP or mailbox submission) → durable store
→ Submission → categorizer (accepted domains, mailboxes) → local delivery to the
Maildir, or routing by send connector → a delivery queue per next hop (or
Unreachable) → MX lookup and SMTP through the lab network → SEND, Retry, or FAIL
with an NDR to the sender. Every method runs on the lab loop; `ServerFacade` is
the synchronous face.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from labkit.errors import InvalidValue, UnknownObject
from labkit.events import EventLog, utcnow
from labkit.net.network import LabNetwork, Listener
from labkit.scenario import Organisation, Scenario
from labkit.transport import facts
from labkit.transport.addressing import normalize_address
from labkit.transport.config import (
    AcceptedDomain,
    MailboxUser,
    ReceiveConnector,
    SendConnector,
    default_receive_connectors,
    parse_binding,
    select_receive_connector,
)
from labkit.transport.delivery import MessageResult, SessionOutcome, run_session
from labkit.transport.logs import ProtocolEvent, ProtocolSession, TrackingEvent, from_json, to_json
from labkit.transport.mailstore import MailStore
from labkit.transport.ndr import Failure, NdrRequest, build_ndr
from labkit.transport.queue_verbs import QueueVerbs
from labkit.transport.queues import Queue, QueueSet
from labkit.transport.receive import ExchangeSmtp, Submission, mail_date, received_header
from labkit.transport.routing import Route, accepted_domain_for, route_recipient
from labkit.transport.settings import TransportSettings
from labkit.transport.shell import ShellVerbs
from labkit.transport.snapshot import ServerSnapshot, message_states, queue_state
from labkit.transport.store import DELIVERED, FAILED, SENT, Store, StoredMessage, off_loop
from labkit.views import format_time

__all__ = ["ExchangeServer", "TransportSettings"]

log = logging.getLogger("labkit.transport")

Plan = list[tuple[str, Route]]  # each recipient of a message with its route

FLUSH_INTERVAL = 0.5  # seconds between commits of log rows that no state change carried to disk


_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_HEADERS: dict[str, re.Pattern[str]] = {}


def _header(content: bytes, name: str) -> str:
    head = _BLANK_LINE.split(content, maxsplit=1)[0].decode("utf-8", "replace")
    pattern = _HEADERS.get(name)
    if pattern is None:
        pattern = _HEADERS[name] = re.compile(rf"(?im)^{name}:[ \t]*(.*(?:\r?\n[ \t].*)*)")
    match = pattern.search(head)
    return re.sub(r"\r?\n[ \t]+", " ", match.group(1)).strip() if match else ""


def compose(box: MailboxUser, recipients: Sequence[str], subject: str, body: str, date: str, message_id: str) -> bytes:
    """The RFC 5322 message a mail client would submit: plain text, CRLF line ends.

    Plain ASCII is written directly (the `email` package's header objects cost more than the rest of a
    submission); anything else goes through `EmailMessage` for RFC 2047 / MIME encoding.
    """
    subject = " ".join(str(subject).splitlines())  # no header injection through the subject
    lines = str(body).splitlines()
    if subject.isascii() and str(body).isascii() and len(subject) < 900 and all(len(line) < 998 for line in lines):
        head = [
            f"From: {formataddr((box.display_name, box.address))}",
            f"To: {', '.join(recipients)}",
            f"Subject: {subject}",
            f"Date: {date}",
            f"Message-ID: {message_id}",
            "MIME-Version: 1.0",
            'Content-Type: text/plain; charset="us-ascii"',
            "Content-Transfer-Encoding: 7bit",
            "",
        ]
        return ("\r\n".join(head + lines) + "\r\n").encode("ascii")
    msg = EmailMessage()
    msg["From"] = formataddr((box.display_name, box.address))
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg["Date"] = date
    msg["Message-ID"] = message_id
    msg.set_content(str(body))
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


class ExchangeServer(ShellVerbs, QueueVerbs):
    """One Exchange server of the lab.

    Args:
        scenario: the lab's topology.
        org: the organisation this server serves (its domain and mailboxes).
        network: the lab network (listeners, connections).
        events: the lab's event log (tracking and protocol records are appended).
        data_dir: this server's folder: ``transport.db`` and ``mailboxes/``.
        settings: timers and limits.
    """

    def __init__(
        self,
        scenario: Scenario,
        org: Organisation,
        network: LabNetwork,
        events: EventLog,
        data_dir: Path,
        settings: TransportSettings,
    ) -> None:
        host = scenario.host(org.server)
        self.scenario, self.org, self.network, self.events = scenario, org, network, events
        self.data_dir, self.settings = Path(data_dir), settings
        self.host_name = host.name
        self.fqdn = host.fqdn
        self.short_name = self.fqdn.split(".")[0].upper()  # the NetBIOS name: MAIL
        self.address = host.address
        self.addresses = [str(i.address) for i in host.interfaces]
        self.dns_server = scenario.host(scenario.dns_server).address
        self.rng = random.Random(self.fqdn)  # MX tie-breaking: random, but the same in every run
        self.accepted_domains: dict[str, AcceptedDomain] = {
            org.domain: AcceptedDomain(org.domain, org.domain, "Authoritative", default=True)
        }
        self.mailboxes: dict[str, MailboxUser] = {}
        for address in org.mailboxes:
            local = address.split("@")[0]
            self.mailboxes[address] = MailboxUser(address, local, local)
        self.send_connectors: dict[str, SendConnector] = {}
        default, client = default_receive_connectors(self.short_name, settings.protocol_logging_level)
        self.receive_connectors: dict[str, ReceiveConnector] = {default.name: default, client.name: client}
        self.queues = QueueSet(self.short_name)
        self.store: Store | None = None
        self.mail: MailStore | None = None
        self._listeners: dict[tuple[str, int], Listener] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._work = 0
        self._categorizing: list[int] = []  # the Submission queue's messages, in arrival order
        self._categorizer_busy = False
        self._resumed = False
        self._disk: ThreadPoolExecutor | None = None  # writes Maildir files off the loop (while running)
        self._timer: asyncio.TimerHandle | None = None
        self._flusher: asyncio.TimerHandle | None = None
        self._running = False

    def __repr__(self) -> str:
        return f"<ExchangeServer {self.fqdn} ({'running' if self._running else 'stopped'})>"

    # -- lifecycle ----------------------------------------------------------------------------------
    async def start(self, resume: bool = True) -> None:
        """Open the store and mailboxes, listen on every receive connector binding, resume the queues.

        Args:
            resume: False to leave the stored messages until `resume_queues` (once the configuration is in place).

        Returns only when listening.

        Raises:
            OSError, sqlite3.Error: the data directory cannot be used.
        """
        if self._running:
            return
        self.store = Store(self.data_dir / "transport.db")
        self.mail = MailStore(self.data_dir / "mailboxes", self.fqdn)
        self._disk = ThreadPoolExecutor(1, thread_name_prefix=f"labkit-maildir-{self.short_name}")
        self._running = True
        try:
            await self._sync_listeners()
        except BaseException:
            await self.stop()
            raise
        self._resumed = False
        if resume:
            self.resume_queues()
        self._flusher = asyncio.get_running_loop().call_later(FLUSH_INTERVAL, self._flush)

    def resume_queues(self) -> int:
        """Put the messages the store holds (accepted, not yet delivered) back through the categorizer, once.

        Returns:
            How many messages were resumed (0 when already done).
        """
        if not self._running or self._resumed or self.store is None:
            return 0
        self._resumed = True
        pending = self.store.pending()
        for stored, recipients in pending:
            self._submit(stored, recipients)
        return len(pending)

    async def stop(self) -> None:
        """Close the listeners, cancel deliveries in progress (they resume on the next start), close the store.

        Idempotent.
        """
        if not self._running:
            return
        self._running = False
        for handle in (self._timer, self._flusher):
            if handle is not None:
                handle.cancel()
        for listener in list(self._listeners.values()):
            await self.network.close_listener(listener)
        self._listeners.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._disk is not None:
            self._disk.shutdown(wait=True)  # a file being written is finished (and found again at the next start)
        if self.store is not None:
            self.store.close()
        self.queues = QueueSet(self.short_name)

    @property
    def running(self) -> bool:
        """True between `start()` and `stop()`."""
        return self._running

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("transport task failed on %s", self.fqdn, exc_info=task.exception())

    def _flush(self) -> None:
        if self.store is not None and self.store.dirty:
            self.store.commit()
        if self._running:
            self._flusher = asyncio.get_running_loop().call_later(FLUSH_INTERVAL, self._flush)

    @property
    def busy(self) -> bool:
        """True while a message is in flight here: being categorized, or about to be / being sent."""
        if self._work:
            return True
        for queue in self.queues.deliveries.values():
            if queue.active_sessions:
                return True
            if queue.ready and not queue.suspended and queue.next_retry_time is None:
                return True
        return False

    # -- listeners ---------------------------------------------------------------------------------
    def _wanted_endpoints(self) -> set[tuple[str, int]]:
        wanted: set[tuple[str, int]] = set()
        for conn in self.receive_connectors.values():
            if not conn.enabled:
                continue
            for binding in conn.bindings:
                ip, port = parse_binding(binding)
                for address in self.addresses if ip == "0.0.0.0" else [ip]:
                    wanted.add((address, port))
        return wanted

    async def _sync_listeners(self) -> None:
        wanted = self._wanted_endpoints()
        for key in list(self._listeners):
            if key not in wanted:
                await self.network.close_listener(self._listeners.pop(key))
        for ip, port in sorted(wanted - set(self._listeners)):

            def factory(ip: str = ip, port: int = port) -> asyncio.Protocol:
                return ExchangeSmtp(self, self.network, ip, port)

            self._listeners[(ip, port)] = await self.network.listen_tcp(
                self.host_name, ip, port, factory, service=f"Exchange SMTP ({self.short_name}:{port})"
            )

    # -- what receive sessions ask -----------------------------------------------------------------------
    def receive_connector_for(self, local_ip: str, port: int, peer: str) -> ReceiveConnector | None:
        """The receive connector that serves `peer` on `local_ip:port` (facts §4.1)."""
        return select_receive_connector(self.receive_connectors.values(), local_ip, port, peer)

    def accepted_domain(self, domain: str) -> AcceptedDomain | None:
        """The accepted domain covering `domain`, or None."""
        return accepted_domain_for(domain.lower(), self.accepted_domains.values())

    def authenticate(self, user: str, password: str) -> str | None:
        """The mailbox address for Basic AUTH credentials (address, alias or ``DOMAIN\\alias``), or None."""
        name = user.strip().lower().split("\\")[-1]
        for box in self.mailboxes.values():
            if name in (box.address, box.alias.lower()) and password == box.password:
                return box.address
        return None

    def protocol_session(self, kind: str, connector_id: str, local: str, remote: str, enabled: bool) -> ProtocolSession:
        """A protocol log writer for a new SMTP session (session ids from a persisted counter)."""
        assert self.store is not None
        session_id = f"08D0{self.store.next_value('session'):012X}"
        return ProtocolSession(self._emit_protocol, self.fqdn, "send" if kind == "send" else "receive",
                               connector_id, session_id, local, remote, enabled)  # fmt: skip

    def _emit_protocol(self, record: ProtocolEvent) -> None:
        self.events.append(record)
        if self.store is not None:
            self.store.add_protocol(record.kind, to_json(record))

    def track(self, record: TrackingEvent) -> None:
        """Write one message tracking record."""
        self.events.append(record)
        if self.store is not None:
            self.store.add_tracking(to_json(record))

    def content(self, message: int) -> bytes:
        """The stored bytes of a message."""
        assert self.store is not None
        return self.store.content(message)

    def own_names(self) -> Sequence[str]:
        """Names under which this server appears in MX records."""
        return [self.fqdn]

    # -- accepting messages ---------------------------------------------------------------------------
    def _new_message_id(self) -> str:
        assert self.store is not None
        return facts.MESSAGE_ID_FORMAT.format(n=self.store.next_value("msgid"), fqdn=self.fqdn)

    def _store(
        self, content: bytes, sender: str, recipients: Sequence[str], source_name: str, source_ip: str, scl: int,
        is_report: bool = False,
        durable: bool = True,
    ) -> StoredMessage:  # fmt: skip
        assert self.store is not None
        message_id = _header(content, "Message-ID")
        if not message_id:
            # Transport stamps a Message-ID on a message that has none.
            message_id = self._new_message_id()
            content = f"Message-ID: {message_id}\r\n".encode() + content
        stored = StoredMessage(
            id=self.store.next_value("message"),
            message_id=message_id,
            sender=sender,
            subject=_header(content, "Subject"),
            size=len(content),
            received=format_time(utcnow()),
            source_name=source_name,
            source_ip=source_ip,
            scl=scl,
            is_report=is_report,
        )
        self.store.add_message(stored, list(recipients), content, durable=durable)
        return stored

    async def receive_smtp(self, submission: Submission) -> str:
        """Store a message received over SMTP and queue it; returns its Message-ID once it is on disk."""
        content = received_header(submission.client_hostname, submission.client_ip, self.fqdn, submission.server_ip)
        stored = self._store(
            content + submission.content,
            submission.sender,
            submission.recipients,
            facts.SOURCE_SMTP_PREFIX + submission.connector.name,
            submission.client_ip,
            -1 if submission.authenticated_as else 0,
            durable=False,
        )
        assert self.store is not None
        await self.store.commit_soon()  # on disk before the 250 (shared with sessions finishing alongside)
        self.track(
            TrackingEvent(
                self.fqdn, "RECEIVE", "SMTP", stored.sender, submission.recipients, stored.subject,
                client_ip=submission.client_ip, client_hostname=submission.client_hostname,
                server_ip=submission.server_ip, server_hostname=self.fqdn, connector_id=submission.connector.identity,
                internal_message_id=stored.id, message_id=stored.message_id, total_bytes=stored.size,
                recipient_count=len(submission.recipients), return_path=stored.sender,
            )
        )  # fmt: skip
        self._submit(stored, list(submission.recipients))
        return stored.message_id

    async def submit_from_mailbox(self, sender: str, recipients: Sequence[str], subject: str, body: str) -> str:
        """Submit a message as the sender's mailbox would (Outlook/OWA → the store driver).

        Returns:
            The Message-ID, once the message is on disk.

        Raises:
            UnknownObject: `sender` is not a mailbox on this server.
            InvalidValue: a malformed recipient, or none.
        """
        sender = normalize_address(sender)
        box = self.mailboxes.get(sender)
        if box is None:
            raise UnknownObject(
                "mailbox", sender, sorted(self.mailboxes), f"Send from one of: {', '.join(sorted(self.mailboxes))}."
            )
        rcpts: list[str] = []
        for r in recipients:
            address = normalize_address(r)
            if address not in rcpts:
                rcpts.append(address)
        if not rcpts:
            raise InvalidValue(
                "recipients", recipients, "is empty", "Give at least one address, e.g. `allen@xutonglin.com`."
            )
        now = utcnow()
        date = mail_date(now)
        message = compose(box, rcpts, subject, body, date, self._new_message_id())
        mapi = (
            f"Received: from {self.fqdn} ([{self.address}]) by {self.fqdn} ([{self.address}])\r\n with mapi; {date}\r\n"
        )
        content = mapi.encode() + message
        stored = self._store(content, box.address, rcpts, facts.SOURCE_FROM_LOCAL, self.address, -1, durable=False)
        assert self.store is not None
        await self.store.commit_soon()  # on disk before it is handed on (shared with other submissions alongside)
        common: dict[str, Any] = dict(
            client_ip=self.address, client_hostname=self.fqdn, server_ip=self.address, server_hostname=self.fqdn,
            internal_message_id=stored.id, message_id=stored.message_id, total_bytes=stored.size,
            recipient_count=len(rcpts), return_path=box.address,
        )  # fmt: skip
        self.track(
            TrackingEvent(self.fqdn, "SUBMIT", "STOREDRIVER", box.address, tuple(rcpts), stored.subject, **common)
        )
        self.track(
            TrackingEvent(self.fqdn, "RECEIVE", "STOREDRIVER", box.address, tuple(rcpts), stored.subject, **common)
        )
        self._submit(stored, rcpts)
        return stored.message_id

    # -- categorizer -------------------------------------------------------------------------------------
    def _submit(self, stored: StoredMessage, recipients: list[str]) -> None:
        self.queues.submission.add(stored, recipients)
        self._work += 1
        self._categorizing.append(stored.id)
        if len(self._categorizing) == 1 and not self._categorizer_busy:
            self._spawn(self._categorize())

    async def _categorize(self) -> None:
        """The categorizer: takes the Submission queue in order, a batch at a time (what arrived meanwhile).

        The Maildir files of a batch's local deliveries are written on a worker thread (one fsync per file,
        one per folder), then every message's routing is applied in arrival order, as if one by one.
        """
        self._categorizer_busy = True
        batch: list[int] = []
        try:
            while self._categorizing:
                await asyncio.sleep(0)  # let the SMTP session send its 250 first
                batch, self._categorizing = self._categorizing, []
                try:
                    await self._categorize_batch(batch)
                except Exception:  # a bug must not stop the categorizer: those messages wait for a restart
                    log.exception("categorizing messages %s on %s", batch, self.fqdn)
                self._work -= len(batch)
                batch = []
        finally:  # normally nothing is left; when stopped, what was not categorized resumes at the next start
            self._work -= len(batch) + len(self._categorizing)
            self._categorizing = []
            self._categorizer_busy = False

    async def _categorize_batch(self, batch: Sequence[int]) -> None:
        now = utcnow()
        entries = [e for m in batch if (e := self.queues.submission.remove(m, now)) is not None]
        if entries and self._running:
            plans = [(e.stored, self._plan(e.stored, e.recipients)) for e in entries]
            duplicates = await self._write_local(plans)
            for stored, plan in plans:
                self._route(stored, plan, duplicates)

    def _plan(self, stored: StoredMessage, recipients: Sequence[str]) -> Plan:
        connectors = self.send_connectors.values()
        domains = self.accepted_domains.values()
        return [(r, route_recipient(r, domains, self.mailboxes, connectors, stored.size)) for r in recipients]

    async def _write_local(self, plans: Sequence[tuple[StoredMessage, Plan]]) -> set[tuple[str, str]]:
        """Write the Maildir files of a batch (off the loop); returns the (recipient, Message-ID) duplicates."""
        assert self.store is not None and self.mail is not None and self._disk is not None
        duplicates: set[tuple[str, str]] = set()
        writes: dict[tuple[str, str], bytes] = {}
        for stored, plan in plans:
            for recipient, route in plan:
                key = (recipient, stored.message_id)
                if route.kind != "local" or key in duplicates:
                    continue
                if key in writes or self.store.was_delivered(*key):
                    duplicates.add(key)  # delivered before, or earlier in this batch
                else:
                    # A file already there but not recorded: written just before a crash; it counts as this delivery.
                    writes[key] = self.content(stored.id)
        if writes:
            items = [(recipient, message_id, content) for (recipient, message_id), content in writes.items()]
            mail = self.mail
            await off_loop(self._disk, lambda: mail.deliver_many(items))
        return duplicates

    def _route(self, stored: StoredMessage, plan: Plan, duplicates: set[tuple[str, str]]) -> None:
        assert self.store is not None
        failures: list[Failure] = []
        for recipient, route in plan:
            if route.kind == "local":
                self._deliver_local(stored, recipient, (recipient, stored.message_id) in duplicates)
            elif route.kind in ("unknown-recipient", "size-limit"):
                failures.append(Failure(recipient, route.error))
            elif route.kind == "unreachable":
                entry = self.queues.unreachable.add(stored, [recipient])
                entry.last_error = self.queues.unreachable.last_error = facts.NO_MATCHING_CONNECTOR
            else:
                assert route.connector is not None
                queue = self.queues.delivery(
                    route.delivery_type, route.next_hop, route.connector.name, route.connector.guid
                )
                queue.add(stored, [recipient])
                self._kick(queue)
        # No commit needed here: a local delivery is durable once its Maildir file is fsynced (a resumed
        # message finds the file and is not delivered twice); the flush timer writes the state soon after.
        if failures:
            self._fail(stored, failures, "ROUTING")
        self._reschedule()

    def _deliver_local(self, stored: StoredMessage, recipient: str, duplicate: bool) -> None:
        """Record a local delivery whose Maildir file `_write_local` wrote (or found: a duplicate)."""
        assert self.store is not None
        if not duplicate:
            self.store.mark_delivered(recipient, stored.message_id)
        self.store.set_state(stored.id, [recipient], DELIVERED, durable=False)
        self.track(
            TrackingEvent(
                self.fqdn, "DUPLICATEDELIVER" if duplicate else "DELIVER", "STOREDRIVER", stored.sender, (recipient,),
                stored.subject, client_ip=stored.source_ip, server_hostname=self.fqdn, server_ip=self.address,
                internal_message_id=stored.id, message_id=stored.message_id, total_bytes=stored.size,
                recipient_count=1, return_path=stored.sender,
            )
        )  # fmt: skip

    # -- failures and NDRs ---------------------------------------------------------------------------------
    def _fail(self, stored: StoredMessage, failures: Sequence[Failure], source: str, connector_id: str = "") -> None:
        assert self.store is not None
        self.store.set_state(stored.id, [f.recipient for f in failures], FAILED, failures[0].reply, durable=False)
        self.track(
            TrackingEvent(
                self.fqdn, "FAIL", source, stored.sender, tuple(f.recipient for f in failures), stored.subject,
                server_hostname=failures[0].remote_mta, connector_id=connector_id, internal_message_id=stored.id,
                message_id=stored.message_id, recipient_status=tuple(f.reply for f in failures),
                total_bytes=stored.size, recipient_count=len(failures), return_path=stored.sender,
            )
        )  # fmt: skip
        if stored.sender and not stored.is_report:
            self._send_ndr(stored, failures)
        self.store.commit()

    def _send_ndr(self, stored: StoredMessage, failures: Sequence[Failure]) -> None:
        assert self.store is not None
        now = utcnow()
        message_id = self._new_message_id()
        arrival = datetime.fromisoformat(stored.received.replace("Z", "+00:00"))
        domain = next((d.domain_name for d in self.accepted_domains.values() if d.default), self.org.domain)
        raw = build_ndr(
            NdrRequest(
                generating_server=self.fqdn, to=stored.sender, from_domain=domain, message_id=message_id,
                date=format_datetime(now), arrival_date=format_datetime(arrival),
                boundary=f"_000_{message_id.strip('<>').split('@')[0]}_", original=self.content(stored.id),
                failures=tuple(failures),
            )
        )  # fmt: skip
        ndr = self._store(raw, "", [stored.sender], facts.SOURCE_DSN, self.address, -1, is_report=True)
        self.track(
            TrackingEvent(
                self.fqdn, "DSN", "DSN", "", (stored.sender,), ndr.subject, server_hostname=self.fqdn,
                server_ip=self.address, internal_message_id=ndr.id, message_id=ndr.message_id,
                total_bytes=ndr.size, recipient_count=1, related_recipient_address=";".join(f.recipient for f in failures),
                reference=stored.message_id,
            )
        )  # fmt: skip
        self._submit(ndr, [stored.sender])

    # -- delivery queues -------------------------------------------------------------------------------------
    def _kick(self, queue: Queue) -> None:
        """Start delivery sessions for a queue that has messages and may send now."""
        if not self._running or queue.kind != "delivery" or queue.suspended or queue.next_retry_time is not None:
            return
        connector = self.send_connectors.get(queue.connector)
        if connector is None or not connector.enabled:
            self._resubmit(queue)  # its connector is gone: route its messages again
            return
        wanted = min(self.settings.max_outbound_connections_per_queue, len(queue.ready))
        while queue.active_sessions < wanted:
            queue.active_sessions += 1
            self._spawn(self._session(queue, connector))

    async def _session(self, queue: Queue, connector: SendConnector) -> None:
        try:
            outcome = await run_session(self, queue, connector, lambda r: self._record(queue, connector, r))
        except Exception as exc:  # a bug must not wedge the queue: treat it as a transient failure
            log.exception("delivery session for %s", queue.identity)
            outcome = SessionOutcome(
                "retry", facts.failover_error(f"{facts.CONNECTION_DROPPED} ({type(exc).__name__})")
            )
        finally:
            queue.active_sessions -= 1
        if not self._running:
            return
        now = utcnow()
        if outcome.kind == "retry":
            if queue.next_retry_time is None:
                queue.set_retry(outcome.error, now, self.settings.retry_interval(queue.retry_count + 1))
        elif outcome.kind == "fail":
            for entry in list(queue.messages.values()):
                if not entry.active:
                    queue.remove(entry.stored.id, now)
                    self._fail(
                        entry.stored, [Failure(r, outcome.error) for r in entry.recipients], "SMTP", connector.name
                    )
        elif queue.active_sessions == 0:
            deferred = [e.last_error for e in queue.messages.values() if e.last_error and not e.active]
            if deferred:
                queue.set_retry(deferred[0], now, self.settings.retry_interval(queue.retry_count + 1))
            else:
                queue.clear_retry()
        self._kick(queue)
        self._reschedule()

    async def _record(self, queue: Queue, connector: SendConnector, result: MessageResult) -> None:
        """Record what one message's SMTP transaction did, durably, before the queue lets go of it."""
        assert self.store is not None
        entry, stored, now = result.entry, result.entry.stored, utcnow()
        if result.sent:
            self.store.set_state(stored.id, result.sent, SENT, durable=False)
            self.track(
                TrackingEvent(
                    self.fqdn, "SEND", "SMTP", stored.sender, tuple(result.sent), stored.subject,
                    client_ip=self.address, client_hostname=self.fqdn, server_ip=result.remote_ip,
                    server_hostname=result.remote_mta, connector_id=connector.name, internal_message_id=stored.id,
                    message_id=stored.message_id, recipient_status=tuple(result.reply for _ in result.sent),
                    total_bytes=stored.size, recipient_count=len(result.sent), return_path=stored.sender,
                )
            )  # fmt: skip
        if result.deferred:
            self.track(
                TrackingEvent(
                    self.fqdn, "DEFER", "SMTP", stored.sender, tuple(r for r, _ in result.deferred), stored.subject,
                    server_hostname=result.remote_mta, connector_id=connector.name, internal_message_id=stored.id,
                    message_id=stored.message_id, recipient_status=tuple(e for _, e in result.deferred),
                    total_bytes=stored.size, recipient_count=len(result.deferred), return_path=stored.sender,
                )
            )  # fmt: skip
        await self.store.commit_soon()  # SENT is on disk before the queue forgets the message
        if result.failed:
            self._fail(stored, [Failure(r, e, result.remote_mta) for r, e in result.failed], "SMTP", connector.name)
        if result.deferred:
            entry.recipients = [r for r, _ in result.deferred]
            entry.last_error = result.deferred[0][1]
            queue.give_back(entry)  # not ready again until the queue's next retry
        else:
            queue.remove(stored.id, now)

    def _resubmit(self, queue: Queue) -> int:
        """Send a queue's idle messages back through the categorizer (Retry-Queue -Resubmit)."""
        now = utcnow()
        entries = [e for e in queue.messages.values() if not e.active]
        for entry in entries:
            queue.remove(entry.stored.id, now)
            self._submit(entry.stored, list(entry.recipients))
        if queue.kind == "unreachable" and not queue.messages:
            queue.last_error = ""
        return len(entries)

    # -- timers: retries and expiry ---------------------------------------------------------------------------
    def _reschedule(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._running:
            return
        times: list[datetime] = [q.next_retry_time for q in self.queues.deliveries.values() if q.next_retry_time]
        expiry = self.settings.message_expiration_timeout
        for queue in [self.queues.unreachable, *self.queues.deliveries.values()]:
            # Messages enter a queue roughly in arrival order: its first one expires first (`_tick` checks all).
            first = next(iter(queue.messages.values()), None)
            if first is not None:
                times.append(datetime.fromisoformat(first.stored.received.replace("Z", "+00:00")) + expiry)
        if not times:
            return
        delay = max(0.0, (min(times) - utcnow()).total_seconds())
        self._timer = asyncio.get_running_loop().call_later(min(delay, 3600.0), self._tick)

    def _tick(self) -> None:
        self._timer = None
        now = utcnow()
        expiry = self.settings.message_expiration_timeout
        for queue in [self.queues.unreachable, *self.queues.deliveries.values()]:
            for entry in list(queue.messages.values()):
                received = datetime.fromisoformat(entry.stored.received.replace("Z", "+00:00"))
                if not entry.active and now >= received + expiry:
                    # MessageExpirationTimeout (facts §1.5): NDR with 4.4.7.
                    queue.remove(entry.stored.id, now)
                    reason = facts.QUEUE_EXPIRED_UNREACHABLE.format(
                        reason=queue.last_error or facts.NO_MATCHING_CONNECTOR
                    )
                    text = reason if queue.kind == "unreachable" else facts.QUEUE_EXPIRED
                    self._fail(entry.stored, [Failure(r, text) for r in entry.recipients], "ROUTING")
        for queue in list(self.queues.deliveries.values()):
            if queue.next_retry_time is not None and queue.next_retry_time <= now:
                queue.next_retry_time = None  # Status leaves Retry; RetryCount and LastError stay until success
                queue.refill()
                self._kick(queue)
        self._reschedule()

    def _routing_changed(self) -> None:
        """A send connector changed: resubmit Unreachable (lab's choice for facts §1.4 [U]) and orphaned queues."""
        self._resubmit(self.queues.unreachable)
        for queue in list(self.queues.deliveries.values()):
            connector = self.send_connectors.get(queue.connector)
            if connector is None or not connector.enabled:
                self._resubmit(queue)

    # -- logs -------------------------------------------------------------------------------------------------
    def tracking_rows(self) -> list[dict[str, Any]]:
        """Every tracking record of this server, oldest first (from the store, so history survives restarts)."""
        assert self.store is not None
        return [from_json(r) for r in self.store.tracking()]

    def protocol_rows(self, kind: str) -> list[dict[str, Any]]:
        """Every protocol log line of one kind, oldest first."""
        assert self.store is not None
        return [from_json(r) for r in self.store.protocol(kind)]

    def snapshot(self) -> ServerSnapshot:
        """The frozen picture of this server's configuration and queues, for the faces (runs on the lab loop)."""
        queues = self.queues.visible(utcnow(), self.settings.queue_max_idle_time)
        expiry = self.settings.message_expiration_timeout
        return ServerSnapshot(
            fqdn=self.fqdn,
            host_name=self.host_name,
            identity=self.short_name,
            address=self.address,
            addresses=tuple(self.addresses),
            org_domain=self.org.domain,
            accepted_domains=tuple(self.accepted_domains.values()),
            mailboxes=tuple(self.mailboxes.values()),
            send_connectors=tuple(sorted(self.send_connectors.values(), key=lambda c: c.name.lower())),
            receive_connectors=tuple(self.receive_connectors.values()),
            queues=tuple(queue_state(q) for q in queues),
            messages=tuple(m for q in queues for m in message_states(q, expiry)),
            settings=self.settings,
        )

    def wait_time(self) -> timedelta:
        """Time until the next scheduled retry (for diagnostics)."""
        times = [q.next_retry_time for q in self.queues.deliveries.values() if q.next_retry_time]
        return max(timedelta(0), min(times) - utcnow()) if times else timedelta(0)

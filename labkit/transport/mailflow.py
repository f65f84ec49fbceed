"""Lab-level mail calls: send as a mailbox, look into a mailbox, wait until mail has settled."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Iterable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pandas as pd

from labkit.errors import InvalidValue, UnknownObject
from labkit.events import EventLog
from labkit.runtime import LabRuntime
from labkit.transport.addressing import domain_of, normalize_address
from labkit.transport.server import ExchangeServer
from labkit.views import format_time

MAILBOX_COLUMNS = ("From", "To", "Subject", "Received", "Message-ID", "Size")
SETTLE_POLL = 0.01


class Mailbox:
    """What a mailbox holds, oldest first.

    Attributes:
        address: the mailbox.
        messages: one row per message: From, To, Subject, Received (when it arrived, ISO), Message-ID, Size.

    Use ``mailbox.message(0)`` (position) or ``mailbox.message("<id@host>")`` for the full message.
    """

    def __init__(self, address: str, items: list[tuple[str, bytes]]) -> None:
        self.address = address
        self._items = items
        self._parsed = [message_from_bytes(data, _class=EmailMessage, policy=policy.default) for _, data in items]
        rows = []
        for (message_id, data), msg in zip(items, self._parsed, strict=True):
            rows.append(
                {
                    "From": str(msg.get("From", "")),
                    "To": str(msg.get("To", "")),
                    "Subject": str(msg.get("Subject", "")),
                    "Received": _arrival(msg),
                    "Message-ID": message_id,
                    "Size": len(data),
                }
            )
        self.messages = pd.DataFrame.from_records(rows, columns=list(MAILBOX_COLUMNS))

    def message(self, which: int | str) -> EmailMessage:
        """One message with every header (a ``Received:`` per hop).

        Args:
            which: its position (0 = oldest) or its Message-ID.

        Raises:
            UnknownObject: no such message.
        """
        if isinstance(which, int) and not isinstance(which, bool):
            if -len(self._parsed) <= which < len(self._parsed):
                return self._parsed[which]
        else:
            for (message_id, _), msg in zip(self._items, self._parsed, strict=True):
                if message_id == which:
                    return msg
        raise UnknownObject(
            f"message in {self.address}", which, [m for m, _ in self._items] or ["(the mailbox is empty)"],
            "Use a position (0 = oldest) or a Message-ID from `.messages`.",
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self._parsed)

    def __iter__(self) -> Iterator[EmailMessage]:
        return iter(self._parsed)

    def __getitem__(self, which: int | str) -> EmailMessage:
        return self.message(which)

    def __repr__(self) -> str:
        return f"<Mailbox {self.address}: {len(self)} message(s)>"

    def _repr_html_(self) -> str:
        table = self.messages.to_html(index=False) if len(self) else "<p>(empty)</p>"
        return f"<h4>Mailbox {html.escape(self.address)} — {len(self)} message(s)</h4>{table}"


def _arrival(msg: EmailMessage) -> str:
    """When the message reached this mailbox: the date of its newest Received: header (the Date: header of a
    report generated right here, which crossed no hop)."""
    received = msg.get_all("Received") or []
    candidates = [str(received[0]).rpartition(";")[2]] if received else []
    candidates.append(str(msg.get("Date", "")))
    for text in candidates:
        try:
            return format_time(parsedate_to_datetime(text.strip()))
        except (TypeError, ValueError):
            continue
    return ""


class MailFlow:
    """The lab-level mail calls `Lab` delegates to.

    Args:
        runtime: the lab loop.
        servers: FQDN → server.
        events: the lab's event log.
    """

    def __init__(self, runtime: LabRuntime, servers: dict[str, ExchangeServer], events: EventLog) -> None:
        self._runtime = runtime
        self._servers = servers
        self._events = events

    def _server_of(self, address: str) -> ExchangeServer:
        for server in self._servers.values():
            if address in server.mailboxes:
                return server
        known = sorted(a for s in self._servers.values() for a in s.mailboxes)
        raise UnknownObject("mailbox", address, known)

    def send_mail(self, sender: str, recipients: str | Iterable[str], subject: str, body: str) -> str:
        """Submit a message from `sender`'s mailbox to its own server (Outlook/OWA submission).

        Tracking on that server: SUBMIT then RECEIVE (STOREDRIVER). The message is on disk when this returns.

        Args:
            sender: a mailbox of the lab, e.g. ``contoso@contoso.com``.
            recipients: one address or a list.
            subject, body: the message text.

        Returns:
            The Message-ID, e.g. ``<00000001@mail.contoso.com>`` (a per-server counter).

        Raises:
            UnknownObject: `sender` is not a lab mailbox.
            InvalidValue: a malformed address, or no recipient.
        """
        address = normalize_address(sender)
        server = self._server_of(address)
        rcpts = [recipients] if isinstance(recipients, str) else list(recipients)
        if not rcpts:
            raise InvalidValue("recipients", recipients, "is empty", "Give at least one address.")
        for r in rcpts:
            normalize_address(r)
        return self._runtime.run(server.submit_from_mailbox(address, rcpts, str(subject), str(body)), what="send_mail")

    def mailbox(self, address: str) -> Mailbox:
        """The contents of a mailbox of any lab server.

        Raises:
            UnknownObject: no lab server has that mailbox.
        """
        key = normalize_address(address)
        owner = next((s for s in self._servers.values() if key in s.mailboxes), None)
        if owner is None:
            owner = next((s for s in self._servers.values() if s.accepted_domain(domain_of(key))), None)
        if owner is None:
            self._server_of(key)  # raises with the list of mailboxes
            raise AssertionError("unreachable")
        return Mailbox(key, self._runtime.call(owner.mailbox_contents, key))

    def settle(self, timeout: float = 30.0) -> None:
        """Return when no message is in flight anywhere: each is delivered, failed, or waiting in a queue
        (for its next retry, in Unreachable, or suspended).

        Raises:
            LabTimeout: mail was still moving after `timeout` seconds.
        """
        self._runtime.run(self._settle(), timeout, what="settle")

    async def _settle(self) -> None:
        # One synchronous pass over every server is atomic on the loop; a message handed from one server to
        # another is accepted (and counted by the receiver) before the sender's session ends.
        while any(server.busy for server in self._servers.values()):
            await asyncio.sleep(SETTLE_POLL)

"""`lab.conversation(message_id)`: the SMTP conversation between two servers for one message, as a sequence diagram.

Built from the protocol logs (facts §5.3): the sender's SmtpSend log gives the
dialogue (``>`` what it sent, ``<`` what it received); the receiver's SmtpReceive
log of the same session adds what only the receiver knows, shown as notes (the
session permissions it granted, tarpit delays). Only virtual endpoints appear —
no real ports, no session ids, and the banner's date is masked — so the picture
is the same for the same lab state (DESIGN.md §1.6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labkit.errors import UnknownObject
from labkit.pictures.picture import Picture, Svg

if TYPE_CHECKING:
    from labkit.lab import Lab

__all__ = ["Session", "Transcript", "conversation", "find_message", "message_sessions", "sessions"]

BANNER_DATE = re.compile(r"( ready at ).*$")


@dataclass(frozen=True)
class Line:
    """One protocol log line: event (``+ - > < *``), data, context, and its time (for ordering only)."""

    event: str
    data: str
    context: str
    time: str


@dataclass(frozen=True)
class Session:
    """One SMTP session of one server's send or receive log.

    Attributes:
        server: the server whose log it is.
        kind: ``send`` or ``receive``.
        connector: the send connector name, or the receive connector identity.
        local, remote: virtual ``ip:port`` endpoints (may be "" before a send session connects).
        lines: in sequence order.
    """

    server: str
    kind: str
    connector: str
    local: str
    remote: str
    lines: tuple[Line, ...]

    @property
    def start(self) -> str:
        """When the session began (ISO text)."""
        return self.lines[0].time if self.lines else ""

    @property
    def commands(self) -> list[str]:
        """The client's command lines, in order (``>`` in a send log, ``<`` in a receive log)."""
        mark = ">" if self.kind == "send" else "<"
        return [ln.data for ln in self.lines if ln.event == mark]

    def transactions(self) -> list[Transaction]:
        """The MAIL FROM ... transactions of a send session, each final reply paired with its command.

        Replies come back in command order (RFC 5321 §4.1, RFC 2920 §3.1 with PIPELINING), so a queue of
        commands awaiting a reply pairs them whether or not the client pipelined.
        """
        result: list[Transaction] = []
        current: Transaction | None = None
        waiting: list[tuple[str, Transaction | None]] = [("", None)]  # the banner answers the connection
        for ln in self.lines:
            if ln.event == ">":
                if ln.data.upper().startswith("MAIL FROM:"):
                    current = Transaction(ln.data)
                    result.append(current)
                waiting.append((ln.data, current))
            elif ln.event == "<" and ln.data[3:4] != "-" and waiting:
                command, owner = waiting.pop(0)
                if owner is not None:
                    owner.replies.append((command, ln.data))
            elif ln.event == "*" and ln.context == "sending message" and current is not None:
                current.message_id = ln.data
                waiting.append((f"<content of {ln.data}>", current))  # the reply after the final "."
        return result


@dataclass
class Transaction:
    """One MAIL FROM transaction: the command, (command, final reply line) pairs, and the message id if DATA ran."""

    mail: str
    replies: list[tuple[str, str]] = field(default_factory=list)
    message_id: str = ""

    @property
    def sender(self) -> str:
        """The MAIL FROM address."""
        match = re.match(r"(?i)MAIL FROM:<([^>]*)>", self.mail)
        return match.group(1).lower() if match else ""

    @property
    def size(self) -> int | None:
        """The SIZE= parameter, or None."""
        match = re.search(r"(?i)\bSIZE=(\d+)", self.mail)
        return int(match.group(1)) if match else None

    def reply_to(self, verb: str) -> str:
        """The reply to the first command starting with `verb` (``MAIL``, ``RCPT``, ``DATA``), or ""."""
        return next((r for c, r in self.replies if c.upper().startswith(verb)), "")

    @property
    def final(self) -> str:
        """The reply that ended the transaction: the first 4xx/5xx, else the reply after the message data."""
        own = [(c, r) for c, r in self.replies if not c.upper().startswith(("RSET", "QUIT", "NOOP"))]
        for _, reply in own:
            if reply[:1] in "45":
                return reply
        return own[-1][1] if own else ""


def sessions(lab: Lab, server: str, kind: str) -> list[Session]:
    """Every session of `server`'s ``send`` or ``receive`` protocol log, oldest first."""
    log = lab.server(server).get_protocol_log(kind)
    grouped: dict[str, list[Any]] = {}
    for row in log.to_dict("records"):
        grouped.setdefault(str(row["session-id"]), []).append(row)
    result = []
    for rows in grouped.values():
        rows.sort(key=lambda r: int(str(r["sequence-number"])))
        local = next((str(r["local-endpoint"]) for r in rows if r["local-endpoint"]), "")
        remote = next((str(r["remote-endpoint"]) for r in rows if r["remote-endpoint"]), "")
        lines = tuple(Line(str(r["event"]), str(r["data"]), str(r["context"]), str(r["date-time"])) for r in rows)
        result.append(Session(server, kind, str(rows[0]["connector-id"]), local, remote, lines))
    result.sort(key=lambda s: s.start)
    return result


@dataclass(frozen=True)
class MessageInfo:
    """Where a message started: its origin server, sender, recipients, size and arrival time."""

    message_id: str
    origin: str
    sender: str
    recipients: tuple[str, ...]
    size: int
    received: str


def find_message(lab: Lab, message_id: str) -> MessageInfo:
    """The message's first RECEIVE on any lab server (a mailbox submission, or SMTP from outside).

    Raises:
        UnknownObject: no lab server has tracked this Message-ID.
    """
    best: MessageInfo | None = None
    known: set[str] = set()
    for name in lab.servers:
        log = lab.server(name).get_message_tracking_log()
        known |= {str(m) for m in log["MessageId"] if m}
        rows = log[(log["MessageId"] == message_id) & (log["EventId"] == "RECEIVE")]
        for row in rows.to_dict("records"):
            info = MessageInfo(
                message_id,
                name,
                str(row["Sender"]),
                tuple(r for r in str(row["Recipients"]).split(";") if r),
                int(row["TotalBytes"]),
                str(row["Timestamp"]),
            )
            if best is None or (info.received, row["Source"] != "STOREDRIVER") < (best.received, False):
                best = info
    if best is None:
        raise UnknownObject("message", message_id, sorted(known), "Use a Message-ID returned by `lab.send_mail`.")
    return best


def message_sessions(lab: Lab, info: MessageInfo) -> list[tuple[Session, Transaction | None]]:
    """The origin's send sessions that carried (a transaction of) this message, in order.

    A transaction belongs to the message when its DATA carried the Message-ID, or — when it stopped before
    DATA — when MAIL FROM names the message's sender with its exact SIZE (the tracking log's TotalBytes).
    Sessions that never reached a transaction (DNS or connection failures) are included when they began
    after the message arrived, with None.
    """
    result: list[tuple[Session, Transaction | None]] = []
    for session in sessions(lab, info.origin, "send"):
        if session.start < info.received:
            continue
        transactions = session.transactions()
        mine = [t for t in transactions if t.message_id == info.message_id] or [
            t for t in transactions if not t.message_id and t.sender == info.sender and t.size == info.size
        ]
        if mine:
            result.append((session, mine[0]))
        elif not transactions:
            result.append((session, None))
    # Keep the failed attempts only up to the one that carried the message (later ones belong to other mail).
    carried = [i for i, (_, t) in enumerate(result) if t is not None]
    return result[: carried[-1] + 1] if carried else result


def receive_session(lab: Lab, send: Session) -> Session | None:
    """The receiver's log of the same session: same client commands, starting at or after the send session."""
    receiver = _receiver_of(lab, send.remote)
    if receiver is None:
        return None
    candidates = [
        s for s in sessions(lab, receiver, "receive") if s.commands == send.commands and s.start >= send.start
    ]
    return candidates[0] if candidates else None


def _receiver_of(lab: Lab, remote: str) -> str | None:
    """The Exchange server behind a virtual ``ip:port`` (through TMG's publishing rule when there is one)."""
    ip, _, port = remote.rpartition(":")
    if not ip:
        return None
    if lab.tmg is not None and ip == lab.tmg.external_address:
        rules = lab.tmg.get_publishing_rule()
        match = rules[(rules["Listener"] == ip) & (rules["Port"].astype(str) == port)]
        if not len(match):
            return None
        ip = str(match.iloc[0]["Internal server"])
    return next((name for name in lab.servers if lab.scenario.host(name).address == ip), None)


def mask(text: str) -> str:
    """Remove what changes from run to run: the banner's date."""
    return BANNER_DATE.sub(r"\1<date>", text) if text.startswith("220 ") else text


# -- the transcript ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    """One arrow or note: ``C`` (client → server), ``S`` (server → client), ``note``; text lines."""

    who: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Transcript:
    """The conversation: the two parties and what passed between them."""

    message_id: str
    client: str
    server: str
    items: tuple[Item, ...]


def _receiver_notes(receive: Session | None) -> dict[int, list[str]]:
    """Receiver-only facts keyed by how many server replies came before them."""
    notes: dict[int, list[str]] = {}
    if receive is None:
        return notes
    replies = 0
    for ln in receive.lines:
        if ln.event == ">" and ln.data[3:4] != "-":
            replies += 1
        elif ln.event == "*" and ln.context == "Set Session Permissions":
            notes.setdefault(replies, []).append(f"session permissions: {ln.data or '(none)'}")
        elif ln.event == "*" and ln.context.startswith("Tarpit"):
            notes.setdefault(replies, []).append(ln.context)
    return notes


def transcript(lab: Lab, message_id: str) -> Transcript:
    """The message's SMTP conversation(s), as arrows and notes.

    Raises:
        UnknownObject: no such message.
    """
    info = find_message(lab, message_id)
    origin = lab.scenario.host(info.origin)
    attempts = message_sessions(lab, info)
    items: list[Item] = []
    server_label = ""
    for number, (send, _) in enumerate(attempts, 1):
        if len(attempts) > 1:
            items.append(Item("note", (f"attempt {number}",)))
        receive = receive_session(lab, send)
        notes = _receiver_notes(receive)
        receiver = _receiver_of(lab, send.remote) if send.remote else None
        if send.remote:
            behind = ""
            if receiver is not None and not send.remote.startswith(lab.scenario.host(receiver).address + ":"):
                behind = f" → {lab.scenario.host(receiver).address}:25"
            server_label = f"{receiver or send.remote.rpartition(':')[0]} ({send.remote}{behind})"
        replies = 0
        pending: list[str] = []
        for ln in send.lines:
            if ln.event == "<":
                pending.append(mask(ln.data))
                if ln.data[3:4] != "-":
                    for note in notes.get(replies, []):
                        items.append(Item("note", (note,)))
                    replies += 1
                    items.append(Item("S", tuple(pending)))
                    pending = []
            elif ln.event == ">":
                items.append(Item("C", (ln.data,)))
            elif ln.event == "+":
                items.append(Item("C", (f"(TCP connect to {send.remote})",)))
            elif ln.event == "-":
                items.append(Item("note", ("connection closed",)))
            elif ln.event == "*" and ln.context == "sending message":
                items.append(Item("C", (f"(message content of {ln.data}, then <CRLF>.<CRLF>)",)))
            elif ln.event == "*" and ln.context.startswith(("Failed connection", "451 ", "554 ")):
                items.append(Item("note", (ln.context,)))
    client = f"{info.origin} ({origin.address})"
    if not items:
        items.append(Item("note", ("no SMTP session for this message (yet)",)))
    return Transcript(message_id, client, server_label or "(no server reached)", tuple(items))


def conversation(lab: Lab, message_id: str) -> Picture:
    """The SMTP conversation of a message between the sending and the receiving server.

    Args:
        lab: a running lab.
        message_id: as returned by `lab.send_mail`, e.g. ``<00000001@mail.contoso.com>``.

    Returns:
        A `Picture`: Mermaid ``sequenceDiagram``, SVG (two lifelines, arrows with text) and a text transcript
        (``C: EHLO ...`` / ``S: 250 ...``).

    Raises:
        UnknownObject: no lab server tracked this Message-ID.
    """
    t = transcript(lab, message_id)
    title = f"SMTP conversation for {message_id}"
    return Picture(title, _text(t, title), _svg(t, title), _mermaid(t))


def _text(t: Transcript, title: str) -> str:
    lines = [title, f"  C = {t.client}", f"  S = {t.server}"]
    for item in t.items:
        prefix = {"C": "C: ", "S": "S: ", "note": "*  "}[item.who]
        lines.extend(f"  {prefix}{text}" for text in item.lines)
    return "\n".join(lines)


def _escape(text: str) -> str:
    """Mermaid entity codes for the characters that end or break a message (#, ;, <, >)."""
    return text.replace("#", "#35;").replace(";", "#59;").replace("<", "#lt;").replace(">", "#gt;")


def _mermaid(t: Transcript) -> str:
    out = ["sequenceDiagram", f"  participant C as {_escape(t.client)}", f"  participant S as {_escape(t.server)}"]
    for item in t.items:
        text = "<br/>".join(_escape(x) for x in item.lines)
        if item.who == "C":
            out.append(f"  C->>S: {text}")
        elif item.who == "S":
            out.append(f"  S-->>C: {text}")
        else:
            out.append(f"  Note over C,S: {text}")
    return "\n".join(out)


ROW, CHAR = 16, 7.2


def _svg(t: Transcript, title: str) -> str:
    longest = max([len(x) for item in t.items for x in item.lines] + [len(t.client), len(t.server), 40])
    gap = max(420.0, longest * CHAR + 40)
    # Each participant's box fits its label (7 px a bold 11 px character), at least 250 px.
    box_c, box_s = (max(250.0, len(label) * 7.0 + 20) for label in (t.client, t.server))
    left = 40 + box_c / 2
    right = left + gap
    height = int(84 + sum(ROW * len(i.lines) + (ROW if i.who == "note" else 10 - ROW + ROW + 4) for i in t.items) + 30)
    svg = Svg(int(right + box_s / 2 + 40), height, title)
    svg.text((left + right) / 2, 20, title, size=13, weight="bold")
    for x, label, box in ((left, t.client, box_c), (right, t.server, box_s)):
        svg.rect(x - box / 2, 32, box, 28, "#eaf7ea")
        svg.text(x, 51, label, size=11, weight="bold")
        svg.line(x, 60, x, height - 10, stroke="#999", dash=True)
    y = 84.0
    for item in t.items:
        if item.who == "note":
            svg.rect(left + 20, y - 12, gap - 40, ROW * len(item.lines) + 4, "#fef7e0", stroke="#c9a227", rx=3)
            for i, text in enumerate(item.lines):
                svg.text((left + right) / 2, y + i * ROW, text, size=11, fill="#6b5200")
            y += ROW * (len(item.lines) + 1)
            continue
        for i, text in enumerate(item.lines):
            svg.text(
                left + 10, y + i * ROW, text, size=11, anchor="start", fill="#1a4d8f" if item.who == "C" else "#1e6b2e"
            )
        y += ROW * (len(item.lines) - 1) + 6
        if item.who == "C":
            svg.line(left, y, right, y, stroke="#1a4d8f", arrow=True)
        else:
            svg.line(right, y, left, y, stroke="#1e6b2e", arrow=True, dash=True)
        y += ROW + 4
    return svg.render()

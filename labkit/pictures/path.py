"""`lab.path(message_id)`: the path a message took, or tried to take, hop by hop, and where it stopped.

The hops follow the direction and the topology: from contoso (on the internet)
to xutonglin the message crosses TMG's *publishing* rule inbound; from xutonglin
it leaves through TMG's outbound NAT (an access rule); a local recipient never
leaves the server. Each hop is read from the public record of what happened —
tracking logs and queues (the authority on the outcome), the DNS query log, the
TMG log and the SMTP protocol logs (the details) — and marked ``ok``,
``stopped`` (with the reply or LastError), ``waiting`` (in a queue, for a retry)
or ``not reached``. Nothing volatile is shown: no timestamps, real ports or
session ids (DESIGN.md §1.6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import pandas as pd

from labkit.labview import LabView
from labkit.pictures.conversation import (
    MessageInfo,
    Session,
    Transaction,
    find_message,
    message_sessions,
    sessions,
)
from labkit.pictures.picture import Picture, Svg, mermaid_label
from labkit.transport import facts
from labkit.transport.addressing import domain_of

if TYPE_CHECKING:
    from labkit.lab import Lab

__all__ = ["Hop", "message_path", "recipient_paths"]

HopStatus = Literal["ok", "stopped", "waiting", "not reached"]
MARKS: dict[str, str] = {"ok": "✔", "stopped": "✘", "waiting": "⏸", "not reached": "·"}
FILL: dict[str, str] = {"ok": "#eaf7ea", "stopped": "#fce8e6", "waiting": "#fef7e0", "not reached": "#f3f3f3"}
STROKE: dict[str, str] = {"ok": "#2e7d32", "stopped": "#c62828", "waiting": "#b7860b", "not reached": "#9e9e9e"}


@dataclass(frozen=True)
class Hop:
    """One hop of a message's path.

    Attributes:
        name: ``Mailbox``, ``Submission``, ``Routing``, ``MX lookup``, ``TMG``, ``Connection``,
            ``Receive connector``...
        where: the server, host or address it happens at.
        status: ``ok``, ``stopped``, ``waiting`` or ``not reached``.
        detail: what happened there (the reply or LastError where it stopped).
    """

    name: str
    where: str
    status: HopStatus
    detail: str


@dataclass
class _Facts:
    """What the logs say about one recipient."""

    info: MessageInfo
    recipient: str
    view: LabView
    tracking: dict[str, pd.DataFrame]
    queue: str = ""
    last_error: str = ""
    connector: str = ""
    session: Session | None = None
    transaction: Transaction | None = None
    failed_connect: str = ""


def _tracking(lab: Lab, message_id: str) -> dict[str, pd.DataFrame]:
    return {name: lab.server(name).get_message_tracking_log(message_id=message_id) for name in lab.servers}


def _rows(df: pd.DataFrame, event: str, recipient: str) -> pd.DataFrame:
    """Tracking rows of an event that name `recipient`."""
    mask = (df["EventId"] == event) & df["Recipients"].apply(lambda r: recipient in str(r).split(";"))
    return df[mask]


def _queued(lab: Lab, f: _Facts) -> None:
    """Where the message waits on its origin (queue, LastError, connector), if it does."""
    srv = lab.server(f.info.origin)
    messages = srv.get_message()
    rows = messages[messages["InternetMessageId"] == f.info.message_id]
    rows = rows[rows["Recipients"].apply(lambda r: f.recipient in str(r).split(";"))]
    if not len(rows):
        return
    f.queue = str(rows.iloc[0]["Queue"])
    queues = srv.get_queue()
    q = queues[queues["Identity"] == f.queue]
    if len(q):
        f.last_error = str(q.iloc[0]["LastError"] or rows.iloc[0]["LastError"])
        guid = str(q.iloc[0]["NextHopConnector"])
        connectors = srv.get_send_connector()
        match = connectors[connectors["Guid"] == guid]
        f.connector = str(match.iloc[0]["Identity"]) if len(match) else ""


def _sessions(lab: Lab, f: _Facts) -> None:
    """The send session that carried the message, or the last attempt that failed before any transaction."""
    attempts = message_sessions(lab, f.info)
    for session, transaction in attempts:
        if transaction is not None and any(f.recipient in c.lower() for c, _ in transaction.replies if c):
            f.session, f.transaction = session, transaction
    if f.session is None and attempts:
        f.session = attempts[-1][0]
    if f.session is None and f.queue and not f.queue.endswith(("\\Unreachable", "\\Submission")):
        # The queue was already in Retry when the message joined it: its last attempt explains the wait.
        earlier = [s for s in sessions(lab, f.info.origin, "send") if s.connector == f.connector]
        f.session = earlier[-1] if earlier else None
    if f.session is not None:
        f.connector = f.connector or f.session.connector
        failed = [
            ln.context for ln in f.session.lines if ln.event == "*" and ln.context.startswith("Failed connection")
        ]
        f.failed_connect = failed[-1] if failed else ""


def recipient_paths(lab: Lab, message_id: str) -> list[tuple[str, list[Hop]]]:
    """The hops of a message, one list per recipient.

    Raises:
        UnknownObject: no lab server tracked this Message-ID.
    """
    info = find_message(lab, message_id)
    view = LabView.read(lab)
    tracking = _tracking(lab, message_id)
    result = []
    for recipient in info.recipients:
        f = _Facts(info, recipient, view, tracking)
        _queued(lab, f)
        _sessions(lab, f)
        result.append((recipient, _hops(lab, f)))
    return result


def _hops(lab: Lab, f: _Facts) -> list[Hop]:
    info, origin = f.info, f.view.servers[f.info.origin]
    own = f.tracking[info.origin]
    hops = [
        Hop("Mailbox", info.sender, "ok", f"submitted on {origin.fqdn} (SUBMIT STOREDRIVER)")
        if (own["EventId"] == "SUBMIT").any()
        else Hop("Received", origin.fqdn, "ok", "received over SMTP (RECEIVE SMTP)"),
        Hop("Submission", f"{origin.identity}\\Submission", "ok", "categorized: accepted domains, then routing"),
    ]
    local = _rows(own, "DELIVER", f.recipient)
    routing_fail = own[(own["EventId"] == "FAIL") & (own["Source"] == "ROUTING")]
    if len(local) or (len(routing_fail) and f.recipient in str(routing_fail.iloc[0]["Recipients"])):
        hops.append(
            Hop("Routing", origin.fqdn, "ok", f"{domain_of(f.recipient)} is an accepted domain: local delivery")
        )
        if len(local):
            hops.append(Hop("Mailbox", f.recipient, "ok", f"delivered on {origin.fqdn} (DELIVER STOREDRIVER)"))
        else:
            status = str(routing_fail.iloc[0]["RecipientStatus"])
            hops.append(Hop("Mailbox", f.recipient, "stopped", f"{status}; NDR to {info.sender}"))
        return hops
    if f.queue.endswith("\\Unreachable"):
        hops.append(Hop("Routing", origin.fqdn, "waiting", f"{f.queue}: {f.last_error or facts.NO_MATCHING_CONNECTOR}"))
        return _rest_not_reached(lab, f, hops, "Routing")
    connector = f.connector or "?"
    hops.append(Hop("Routing", origin.fqdn, "ok", f"send connector `{connector}` → queue for {domain_of(f.recipient)}"))
    return _remote(lab, f, hops)


def _outbound_nat(view: LabView, origin_host: str) -> bool:
    return bool(view.tmg_external) and view.topology.plan(origin_host, view.tmg_external).kind == "nat"


def _rest_not_reached(lab: Lab, f: _Facts, hops: list[Hop], after: str) -> list[Hop]:
    """The remaining hops a remote message would take, marked not reached."""
    domain = domain_of(f.recipient)
    names = ["MX lookup"]
    if _outbound_nat(f.view, f.info.origin):
        names.append("TMG (outbound NAT)")
    names.append("Connection")
    if f.view.public_address(domain) == f.view.tmg_external and f.view.tmg_external:
        names.append("TMG (publishing)")
    names += ["Receive connector", "Mailbox"]
    names = names[names.index(after) + 1 :] if after in names else names
    server = next((s.fqdn for s in f.view.servers.values() if any(a.domain_name == domain for a in s.accepted)), domain)
    for name in names:
        where = {"MX lookup": domain, "Mailbox": f.recipient, "Receive connector": server}.get(name, "")
        where = where or (f.view.firewall_host if name.startswith("TMG") else "")
        hops.append(Hop(name, where, "not reached", ""))
    return hops


def _dns_hop(lab: Lab, f: _Facts) -> Hop:
    """The MX lookup, from the DNS query log: the query the origin sent (as the DNS saw it) for this domain."""
    domain = domain_of(f.recipient)
    seen_as = f.view.topology.plan(f.info.origin, f.view.dns_server).source
    log = lab.dns.queries()
    rows = log[(log["Client"] == seen_as) & (log["Name"] == domain) & (log["Type"] == "MX")]
    after = rows[rows["Time"] >= f.info.received]
    rows = after if len(after) else rows  # none since it arrived: the queue's earlier lookup
    ends = [df[df["EventId"].isin(["SEND", "FAIL", "DEFER"])] for df in [f.tracking[f.info.origin]]]
    if len(ends[0]):
        rows = rows[rows["Time"] <= str(ends[0].iloc[0]["Timestamp"])]
    dns_error = f.last_error.startswith(facts.DNS_FAILED_PREFIX) or "SMTPSEND.DNS" in _fail_status(f)
    if dns_error:
        return Hop("MX lookup", domain, "stopped" if _fail_status(f) else "waiting", f.last_error or _fail_status(f))
    if len(rows):
        answer = str(rows.iloc[-1]["Answer"]) or rows.iloc[-1]["Rcode"]
        return Hop("MX lookup", domain, "ok", f"MX {domain} → {answer} (asked from {seen_as})")
    return Hop("MX lookup", domain, "ok", f"MX {domain} looked up from {seen_as}")


def _fail_status(f: _Facts) -> str:
    own = f.tracking[f.info.origin]
    rows = _rows(own, "FAIL", f.recipient)
    rows = rows[rows["Source"] == "SMTP"]
    return str(rows.iloc[0]["RecipientStatus"]) if len(rows) else ""


def _tmg_rows(lab: Lab) -> pd.DataFrame:
    return (
        lab.tmg.log()
        if lab.tmg is not None
        else pd.DataFrame(columns=["Action", "Rule", "Protocol", "Client IP", "Destination", "NAT"])
    )


def _remote(lab: Lab, f: _Facts, hops: list[Hop]) -> list[Hop]:
    """MX lookup → (TMG outbound) → connection → (TMG publishing) → receive connector → mailbox."""
    view, origin = f.view, f.view.servers[f.info.origin]
    dns = _dns_hop(lab, f)
    hops.append(dns)
    if dns.status != "ok":
        return _rest_not_reached(lab, f, hops, "MX lookup")
    remote = f.session.remote if f.session is not None else ""
    ip = remote.rpartition(":")[0]
    if not ip and f.failed_connect:
        ip = f.failed_connect.split("Failed connection to ", 1)[1].split(":", 1)[0]
    fail = _fail_status(f)
    connect_error = f.last_error.startswith("451 4.4.0 Primary target") and f.transaction is None
    tmg = _tmg_rows(lab)
    if _outbound_nat(view, origin.fqdn):
        out = tmg[(tmg["Client IP"] == origin.address) & (tmg["Destination"] == f"{ip}:25")]
        if len(out) and out.iloc[-1]["Action"] == "Denied":
            hops.append(
                Hop(
                    "TMG (outbound NAT)",
                    view.firewall_host,
                    "waiting",
                    f"SMTP from {origin.address} denied by `{out.iloc[-1]['Rule']}`; {f.last_error}",
                )
            )
            return _rest_not_reached(lab, f, hops, "TMG (outbound NAT)")
        rule = f" by `{out.iloc[-1]['Rule']}`" if len(out) else ""
        hops.append(
            Hop(
                "TMG (outbound NAT)",
                view.firewall_host,
                "ok",
                f"SMTP allowed{rule}: {origin.address} → {view.tmg_external} (NAT)",
            )
        )
    published = bool(view.tmg_external) and ip == view.tmg_external
    if connect_error and f.failed_connect:
        if published and view.publishing_rule(ip, facts.SMTP_PORT) is None:
            hops.append(Hop("Connection", f"{ip}:25", "ok", f"TCP to {ip}:25 reaches TMG"))
            hops.append(
                Hop(
                    "TMG (publishing)",
                    view.firewall_host,
                    "waiting",
                    f"nothing published on {ip}:25, connection refused; {f.last_error}",
                )
            )
            return _rest_not_reached(lab, f, hops, "TMG (publishing)")
        hops.append(Hop("Connection", f"{ip}:25", "waiting", f"{f.failed_connect}; {f.last_error}"))
        return _rest_not_reached(lab, f, hops, "Connection")
    hops.append(Hop("Connection", f"{ip}:25" if ip else "", "ok", f"TCP connection to {ip}:25 from {origin.fqdn}"))
    if published:
        seen = view.topology.plan(origin.fqdn, ip).source
        inbound = tmg[(tmg["Client IP"] == seen) & (tmg["Destination"] == f"{ip}:25")]
        last = inbound.iloc[-1] if len(inbound) else None
        if last is not None and last["Action"] == "Failed":
            hops.append(Hop("TMG (publishing)", view.firewall_host, "waiting", f"{last['NAT']}; {f.last_error}"))
            return _rest_not_reached(lab, f, hops, "TMG (publishing)")
        rule = f"`{last['Rule']}`: " if last is not None else ""
        target = str(last["NAT"]).replace("destination → ", "") if last is not None else "the internal server"
        hops.append(Hop("TMG (publishing)", view.firewall_host, "ok", f"{rule}{ip}:25 → {target}"))
    return _receive(lab, f, hops, fail)


def _receive(lab: Lab, f: _Facts, hops: list[Hop], fail: str) -> list[Hop]:
    """The receiving connector's verdict (from the SMTP replies), then the recipient's mailbox."""
    receiver = _receiver(f)
    where = receiver or "receiving server"
    t = f.transaction
    if t is None:
        detail = f.last_error or "no SMTP transaction yet"
        status: HopStatus = "waiting" if f.last_error else "not reached"
        hops.append(Hop("Receive connector", where, status, detail))
        hops.append(Hop("Mailbox", f.recipient, "not reached", ""))
        return hops
    if fail or t.final[:1] in "45":
        reply = fail or t.final
        command = next((c for c, r in t.replies if r == t.final), "")
        verb = command.split(":")[0].split(" ")[0] if command else "SMTP"
        ndr = f"; NDR to {f.info.sender}" if reply[:1] == "5" else ""
        hops.append(
            Hop("Receive connector", where, "stopped" if reply[:1] == "5" else "waiting", f"{verb} → {reply}{ndr}")
        )
        hops.append(Hop("Mailbox", f.recipient, "not reached", ""))
        return hops
    hops.append(Hop("Receive connector", where, "ok", f"MAIL, RCPT, DATA accepted: {t.final}"))
    theirs = f.tracking.get(
        receiver or "", pd.DataFrame(columns=["EventId", "Recipients", "Source", "RecipientStatus"])
    )
    if len(_rows(theirs, "DELIVER", f.recipient)):
        hops.append(Hop("Mailbox", f.recipient, "ok", f"delivered on {receiver} (DELIVER STOREDRIVER)"))
    elif len(_rows(theirs, "FAIL", f.recipient)):
        status_text = str(_rows(theirs, "FAIL", f.recipient).iloc[0]["RecipientStatus"])
        hops.append(Hop("Mailbox", f.recipient, "stopped", f"{status_text}; NDR from {receiver} to {f.info.sender}"))
    else:
        hops.append(Hop("Mailbox", f.recipient, "waiting", f"queued on {receiver}"))
    return hops


def _receiver(f: _Facts) -> str:
    """The receiving Exchange server of the session (behind TMG's publishing rule when there is one)."""
    if f.session is None or not f.session.remote:
        return ""
    ip = f.session.remote.rpartition(":")[0]
    rule = f.view.publishing_rule(ip, facts.SMTP_PORT)
    server = f.view.server_at(rule.internal if rule is not None else ip)
    return server.fqdn if server is not None else ""


def message_path(lab: Lab, message_id: str) -> Picture:
    """The path of a message, hop by hop, marking where it stopped and with which reply.

    Args:
        lab: a running lab.
        message_id: as returned by `lab.send_mail`.

    Returns:
        A `Picture` (text: one line per hop; SVG: a row of boxes per recipient; Mermaid flowchart).

    Raises:
        UnknownObject: no lab server tracked this Message-ID.
    """
    info = find_message(lab, message_id)
    paths = recipient_paths(lab, message_id)
    title = f"Path of {message_id}: {info.sender} → {', '.join(info.recipients)}"
    return Picture(title, _text(title, paths), _svg(title, paths), _mermaid(paths))


def _stop(hops: list[Hop]) -> Hop | None:
    return next((h for h in hops if h.status in ("stopped", "waiting")), None)


def _text(title: str, paths: list[tuple[str, list[Hop]]]) -> str:
    lines = [title]
    for recipient, hops in paths:
        if len(paths) > 1:
            lines.append(f"  to {recipient}:")
        width = max(len(h.name) for h in hops)
        where_w = max(len(h.where) for h in hops)
        for i, h in enumerate(hops, 1):
            detail = f"  {h.detail}" if h.detail else ("  (not reached)" if h.status == "not reached" else "")
            lines.append(f"  {MARKS[h.status]} {i:>2} {h.name:<{width}}  {h.where:<{where_w}}{detail}".rstrip())
        stop = _stop(hops)
        if stop is None:
            lines.append("  Result: delivered." if hops[-1].status == "ok" else "  Result: in progress.")
        else:
            verb = "stopped" if stop.status == "stopped" else "waiting"
            lines.append(f"  Result: {verb} at {stop.name} — {stop.detail}")
    return "\n".join(lines)


BOX_W, BOX_H, GAP, CHAR = 150, 62, 26, 6.6
PER_ROW = 4


def _wrap(text: str, width: int) -> list[str]:
    words, lines, current = text.split(), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return lines


def _svg(title: str, paths: list[tuple[str, list[Hop]]]) -> str:
    # At most PER_ROW boxes a row: a whole path in one row would be scaled down to the
    # notebook's width until its text is unreadable.
    width = int(PER_ROW * (BOX_W + GAP) + GAP)
    rows_of = [max(1, -(-len(hops) // PER_ROW)) for _, hops in paths]
    row_h = BOX_H + 34
    note_h = 90
    height = 44 + sum(n * row_h + note_h for n in rows_of)
    svg = Svg(width, height, title)
    svg.text(GAP, 24, title, size=13, anchor="start", weight="bold")
    top0 = 44
    for (_, hops), nrows in zip(paths, rows_of, strict=True):
        for i, h in enumerate(hops):
            row, col = divmod(i, PER_ROW)
            x, top = GAP + col * (BOX_W + GAP), top0 + row * row_h
            svg.rect(x, top, BOX_W, BOX_H, FILL[h.status], stroke=STROKE[h.status], dash=h.status == "not reached")
            svg.text(
                x + BOX_W / 2, top + 18, f"{MARKS[h.status]} {h.name}", size=12, weight="bold", fill=STROKE[h.status]
            )
            svg.text(x + BOX_W / 2, top + 36, h.where[:22], size=10)
            svg.text(x + BOX_W / 2, top + 52, h.status, size=10, fill="#555")
            dash = h.status == "not reached"
            if col:
                svg.line(x - GAP, top + BOX_H / 2, x, top + BOX_H / 2, arrow=True, dash=dash)
            elif i:  # from the end of the row above down to the start of this one
                end = GAP + (PER_ROW - 1) * (BOX_W + GAP) + BOX_W / 2
                svg.line(end, top - row_h + BOX_H, x + BOX_W / 2, top, arrow=True, dash=dash)
        stop = _stop(hops)
        note = f"{stop.name}: {stop.detail}" if stop else ("delivered" if hops[-1].status == "ok" else "in progress")
        note_top = top0 + nrows * row_h
        for j, text in enumerate(_wrap(note, int((width - 2 * GAP) / CHAR))[:5]):
            svg.text(
                GAP,
                note_top + j * 15,
                text,
                size=11,
                anchor="start",
                fill=STROKE[stop.status] if stop else STROKE["ok"],
            )
        top0 = note_top + note_h
    return svg.render()


def _mermaid(paths: list[tuple[str, list[Hop]]]) -> str:
    lines = ["flowchart TB"]  # top to bottom: eight hops side by side would be too small to read
    for row, (_, hops) in enumerate(paths):
        for i, h in enumerate(hops):
            node = f"r{row}h{i}"
            detail = (h.detail if len(h.detail) <= 90 else h.detail[:87] + "...").replace("`", "'")
            lines.append(f"  {node}[{mermaid_label(f'{MARKS[h.status]} {h.name}', h.where, detail or h.status)}]")
            if i:
                arrow = "-.->" if h.status == "not reached" else "-->"
                lines.append(f"  r{row}h{i - 1} {arrow} {node}")
            lines.append(f"  style {node} fill:{FILL[h.status]},stroke:{STROKE[h.status]}")
    return "\n".join(lines)

"""`lab.trace(sender, recipient)`: a dry run of what the sender's server would do with a message *now*.

Each decision is taken by the transport's own pure functions — `route_recipient`
and `select_connector` (facts §3.5), `resolve_domain` (RFC 5321 §5.1, facts §8.1),
`Topology.plan` and `match_access_rule` (facts §6), `select_receive_connector`
(facts §4.1) and `session_rights` (facts §4.3) — fed with what the public API
shows (the servers' ``get_*`` tables, ``lab.tmg``, ``lab.endpoints()``), so the
trace and a real send cannot drift apart. The MX and A lookups are real queries
through the lab network from the sender's own host, exactly as delivery makes
them (they therefore appear in ``lab.dns.queries()``). Nothing else touches a
socket: no SMTP session is opened, so the logs the pictures read stay clean.

After the first failing step, the later steps are still worked out where
possible, as if the failure were fixed: ``warn`` for one that would fail too
(with its fix), ``skip`` for one that cannot be evaluated.
"""

from __future__ import annotations

import html
import json
import random
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import pandas as pd

from labkit.errors import UnknownObject
from labkit.labview import LabView, ServerView, reach
from labkit.net.rules import match_access_rule
from labkit.transport import facts, permissions
from labkit.transport.addressing import domain_of, normalize_address
from labkit.transport.config import SendConnector, select_receive_connector
from labkit.transport.delivery import dns_error_text
from labkit.transport.mx import Answer, Resolution, Target, resolve_domain, resolve_host
from labkit.transport.routing import accepted_domain_for, route_recipient, select_connector

if TYPE_CHECKING:
    from labkit.lab import Lab

__all__ = ["STEP_TITLES", "Step", "Trace", "trace"]

Status = Literal["ok", "fail", "warn", "skip"]
MARKS: dict[str, str] = {"ok": "✔", "fail": "✘", "warn": "⚠", "skip": "·"}
COLOURS: dict[str, str] = {"ok": "#e6f4ea", "fail": "#fce8e6", "warn": "#fef7e0", "skip": "#f1f3f4"}
#: A dry run has no message; this size (a short text mail) is what connector size limits are checked against.
TRACE_SIZE = 4096
#: Step keys in the order a message meets them, with their titles.
STEP_TITLES: dict[str, str] = {
    "sender": "Sender mailbox",
    "local": "Recipient domain",
    "mailbox": "Local mailbox",
    "connector": "Send connector",
    "mx": "MX lookup",
    "implicit-mx": "Implicit MX",
    "a": "A lookup",
    "route": "Route",
    "tmg-outbound": "TMG access rule",
    "publishing": "TMG publishing",
    "listener": "Listener",
    "receive-connector": "Receive connector",
    "mail-from": "MAIL FROM",
    "rcpt-to": "RCPT TO",
    "recipient": "Recipient mailbox",
}
SMTP_PORT = facts.SMTP_PORT


@dataclass(frozen=True)
class Step:
    """One decision of the dry run.

    Attributes:
        key: which decision (a key of `STEP_TITLES`), e.g. ``connector``.
        title: its human name, e.g. ``Send connector``.
        status: ``ok``, ``fail`` (the first failure: where a real send stops now), ``warn`` (a later
            step that would fail too once the earlier ones are fixed), ``skip`` (cannot be evaluated).
        detail: one or two sentences: what the server finds.
        fix: a pasteable API call that repairs it ("" when there is nothing to fix).
        outcome: what a real send does when this step is the first failure (queue, LastError, NDR).
    """

    key: str
    title: str
    status: Status
    detail: str
    fix: str = ""
    outcome: str = ""


@dataclass(frozen=True)
class Trace:
    """The dry run of one message: its steps in order, as text, HTML or a DataFrame.

    Attributes:
        sender, recipient: the addresses traced.
        server: the sender's server (FQDN), or "" when the sender is not a lab mailbox.
        steps: the decisions, in the order the message meets them.
    """

    sender: str
    recipient: str
    server: str
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no step fails: a message sent now would reach the recipient's mailbox."""
        return all(s.status != "fail" for s in self.steps)

    @property
    def failure(self) -> Step | None:
        """The first failing step (where a real send would stop now), or None."""
        return next((s for s in self.steps if s.status == "fail"), None)

    def step(self, key: str) -> Step:
        """The step with this key.

        Raises:
            UnknownObject: the trace has no such step.
        """
        for s in self.steps:
            if s.key == key:
                return s
        raise UnknownObject("trace step", key, [s.key for s in self.steps])

    @property
    def text(self) -> str:
        """The trace as plain text with ✔/✘ marks (deterministic for the same lab state)."""
        where = f" (dry run on {self.server})" if self.server else ""
        lines = [f"Trace: {self.sender} → {self.recipient}{where}"]
        width = max((len(s.title) for s in self.steps), default=0)
        pad = " " * (width + 6)
        for s in self.steps:
            lines.append(f"  {MARKS[s.status]} {s.title:<{width}}  {s.detail}")
            if s.outcome and s.status == "fail":
                lines.append(f"{pad}→ {s.outcome}")
            if s.fix and s.status in ("fail", "warn"):
                lines.append(f"{pad}fix: {s.fix}")
        failure = self.failure
        if failure is None:
            lines.append("Result: the message would be delivered.")
        else:
            lines.append(f"Result: stops at {failure.title} — {failure.outcome or failure.detail}")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One row per step: Step, Status, Detail, Outcome, Fix."""
        rows = [
            {"Step": s.title, "Status": s.status, "Detail": s.detail, "Outcome": s.outcome, "Fix": s.fix}
            for s in self.steps
        ]
        return pd.DataFrame.from_records(rows, columns=["Step", "Status", "Detail", "Outcome", "Fix"])

    def _repr_html_(self) -> str:
        head = f"<b>Trace: {html.escape(self.sender)} → {html.escape(self.recipient)}</b>"
        rows = []
        for s in self.steps:
            fix = f"<br/><code>{html.escape(s.fix)}</code>" if s.fix and s.status in ("fail", "warn") else ""
            outcome = f"<br/><i>{html.escape(s.outcome)}</i>" if s.outcome and s.status == "fail" else ""
            rows.append(
                f'<tr style="background:{COLOURS[s.status]}"><td>{MARKS[s.status]}</td>'
                f"<td><b>{html.escape(s.title)}</b></td><td>{html.escape(s.detail)}{outcome}{fix}</td></tr>"
            )
        return f'{head}<table style="text-align:left">{"".join(rows)}</table>'

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


# -- the dry run -----------------------------------------------------------------------------------------------------
T = TypeVar("T")


def run_now(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (its awaits all complete at once), without an event loop.

    The transport's `resolve_domain` is a coroutine over an injected lookup; the trace's lookups are
    synchronous calls of ``lab.nslookup``, so it completes on the first step. This works in Jupyter,
    whose own loop is already running in the notebook thread.

    Raises:
        RuntimeError: the coroutine did suspend.
    """
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("the coroutine suspended; it cannot run without an event loop")


@dataclass(frozen=True)
class Lookup:
    """One real DNS query of the dry run and what it returned (in the transport's terms)."""

    name: str
    qtype: str
    answer: Answer
    error: str = ""


class _Builder:
    """Collects steps; after the first failure, later failures become ``warn``."""

    def __init__(self) -> None:
        self.steps: list[Step] = []

    @property
    def failed(self) -> bool:
        return any(s.status == "fail" for s in self.steps)

    def add(self, key: str, ok: bool, detail: str, fix: str = "", outcome: str = "", warn: bool = False) -> bool:
        status: Status = ("warn" if warn else "ok") if ok else ("warn" if self.failed else "fail")
        self.steps.append(Step(key, STEP_TITLES[key], status, detail, fix if status != "ok" else "", outcome))
        return ok

    def skip(self, key: str, detail: str) -> None:
        self.steps.append(Step(key, STEP_TITLES[key], "skip", detail))


def trace(lab: Lab, sender: str, recipient: str, *, size: int = TRACE_SIZE) -> Trace:
    """Explain, step by step, what `sender`'s server would do with a message to `recipient` now.

    Args:
        lab: a running lab.
        sender: a mailbox of the lab, e.g. ``contoso@contoso.com``.
        recipient: any address, e.g. ``allen@xutonglin.com``.
        size: the message size in bytes the connector limits are checked against.

    Returns:
        The `Trace`; ``trace.failure`` is where a real send would stop now, with its fix.

    Raises:
        InvalidValue: `sender` or `recipient` is not an SMTP address.
        LabNotRunning: the lab has stopped.
    """
    sender_addr, rcpt = normalize_address(sender), normalize_address(recipient)
    view = LabView.read(lab)
    b = _Builder()
    origin = view.server_of_mailbox(sender_addr)
    if origin is None:
        known = sorted(a for s in view.servers.values() for a in s.mailboxes)
        domain = domain_of(sender_addr)
        owner = next((s for s in view.servers.values() if accepted_domain_for(domain, s.accepted)), None)
        fix = f'{owner.call()}.new_mailbox("{sender_addr}")' if owner else ""
        b.add(
            "sender",
            False,
            f"{sender_addr} is not a mailbox of the lab (mailboxes: {', '.join(known)}).",
            fix,
            "lab.send_mail raises UnknownObject: there is no mailbox to send from.",
        )
        return Trace(sender_addr, rcpt, "", b.steps)
    b.add(
        "sender",
        True,
        f"{sender_addr} is a mailbox on {origin.fqdn}; the message enters {origin.identity}\\Submission.",
    )
    route = route_recipient(rcpt, origin.accepted, dict.fromkeys(origin.mailboxes, 1), origin.send_connectors, size)
    domain = domain_of(rcpt)
    if route.kind in ("local", "unknown-recipient"):
        entry = accepted_domain_for(domain, origin.accepted)
        kind = entry.domain_type if entry else "Authoritative"
        b.add(
            "local", True, f"{domain} is an accepted domain ({kind}) of {origin.fqdn}: the categorizer delivers here."
        )
        b.add(
            "mailbox",
            route.kind == "local",
            f"{rcpt} is a mailbox on {origin.fqdn}."
            if route.kind == "local"
            else f"{domain} is authoritative here but has no mailbox {rcpt}.",
            f'{origin.call()}.new_mailbox("{rcpt}")',
            f"NDR to {sender_addr} from {origin.fqdn}: {facts.RECIP_NOT_FOUND}.",
        )
        return Trace(sender_addr, rcpt, origin.fqdn, b.steps)
    b.add(
        "local", True, f"{domain} is not an accepted domain of {origin.fqdn}: the message must leave the organisation."
    )
    connector = _connector_step(b, origin, domain, route.kind, size)
    targets = _locate(b, lab, view, origin, domain, connector)
    if targets is None:
        for key in ("route", "listener", "mail-from", "rcpt-to", "recipient"):
            b.skip(key, "not evaluated: there is no address to connect to.")
        return Trace(sender_addr, rcpt, origin.fqdn, b.steps)
    port = connector.port if connector is not None else SMTP_PORT
    _deliver(b, view, origin, sender_addr, rcpt, targets, port, size)
    return Trace(sender_addr, rcpt, origin.fqdn, b.steps)


def _connector_step(b: _Builder, origin: ServerView, domain: str, kind: str, size: int) -> SendConnector | None:
    """Send connector selection (facts §3.5) by the transport's `select_connector`."""
    selection = select_connector(domain, origin.send_connectors, size)
    if selection.connector is not None:
        conn = selection.connector
        spaces = ", ".join(str(s) for s in conn.address_spaces if s.matches(domain))
        how = (
            "by MX lookup"
            if conn.dns_routing_enabled or not conn.smart_hosts
            else f"to smart host(s) {', '.join(conn.smart_hosts)}"
        )
        b.add(
            "connector",
            True,
            f"send connector `{conn.name}` (address space {spaces}) routes {domain} {how}; "
            f"a delivery queue for {domain} is used.",
        )
        return conn
    listed = [
        f"{c.name}: {', '.join(str(s) for s in c.address_spaces)}" + ("" if c.enabled else " (disabled)")
        for c in origin.send_connectors
    ]
    configured = "; ".join(listed) if listed else "(none)"
    if kind == "size-limit":
        b.add(
            "connector",
            False,
            f"every send connector for {domain} is smaller than the message ({size} bytes).",
            "",
            f"NDR to the sender: {facts.ROUTING_SIZE_LIMIT}.",
        )
        return None
    disabled = next(
        (c for c in origin.send_connectors if not c.enabled and any(s.matches(domain) for s in c.address_spaces)), None
    )
    if disabled is not None:
        fix = f'{origin.call()}.set_send_connector("{disabled.name}", enabled=True)'
    elif any(c.name.lower() == "internet" for c in origin.send_connectors):
        current = next(c for c in origin.send_connectors if c.name.lower() == "internet")
        # An Internet connector that misses the domain has the wrong address space: replace it with `*`.
        fix = f'{origin.call()}.set_send_connector("{current.name}", address_spaces=["*"])'
    else:
        fix = f'{origin.call()}.new_send_connector("Internet", ["*"])'
    b.add(
        "connector",
        False,
        f"no send connector covers {domain}; address spaces configured: {configured}.",
        fix,
        f'the message waits in {origin.identity}\\Unreachable with LastError "{facts.NO_MATCHING_CONNECTOR}".',
    )
    return None


def _nslookup(lab: Lab, host: str, server: str, name: str, qtype: str) -> Lookup:
    """One real query from `host`, reduced as the transport's `dns_lookup` reduces it."""
    result = lab.nslookup(name, qtype, server=server, host=host)
    reply = result.reply
    if reply is None:
        return Lookup(name, qtype, Answer("TIMEOUT"), result.error)
    glue: dict[str, tuple[str, ...]] = {}
    for record in reply.additional:
        if record.type == "A":
            glue[record.name] = (*glue.get(record.name, ()), record.data)
    return Lookup(name, qtype, Answer(reply.rcode, tuple(reply.mx()), tuple(reply.addresses()), glue))


def _dns_path(view: LabView, host: str) -> tuple[bool, str, str]:
    """Can `host` reach the DNS server? (ok, sentence, fix) — the query crosses TMG's NAT from the LAN (facts §6)."""
    hop = view.topology.plan(host, view.dns_server)
    if hop.kind == "unreachable":
        return False, f"{host} has no route to the DNS server {view.dns_server}: {hop.why}.", ""
    if hop.kind == "nat":
        udp = match_access_rule(view.access_rules, hop.original_source, view.dns_server, "udp", 53, view.networks)
        if udp is None or udp.action != "Allow":
            fix = (
                f'lab.tmg.new_access_rule("Allow DNS from Exchange", protocols=["DNS"], '
                f'sources=["{hop.original_source}"], destinations=["External"])'
            )
            return (
                False,
                f"TMG denies DNS from {hop.original_source} to {view.dns_server} (no access rule allows it).",
                fix,
            )
    return True, "", ""


def _locate(
    b: _Builder, lab: Lab, view: LabView, origin: ServerView, domain: str, connector: SendConnector | None
) -> tuple[Target, ...] | None:
    """MX (or smart host) lookups through `resolve_domain`/`resolve_host`, with real queries from the sender's host."""
    lookups: list[Lookup] = []

    async def lookup(name: str, qtype: str) -> Answer:
        found = _nslookup(lab, origin.fqdn, view.dns_server, name, qtype)
        lookups.append(found)
        return found.answer

    if connector is not None and not connector.dns_routing_enabled and connector.smart_hosts:
        return _smart_hosts(b, connector, lookup, lookups)
    # The transport's own locator (RFC 5321 §5.1); its RNG orders equal preferences, seeded per server.
    resolution: Resolution = run_now(
        resolve_domain(domain, lookup, random.Random(origin.fqdn), [origin.fqdn], [origin.address])
    )
    mx = lookups[0]
    zone_fix = f'lab.dns.add_record("{domain}", "@", "MX", "mail.{domain}", preference=10)'
    no_mx = f"{domain} has no MX record; RFC 5321 §5.1: the implicit MX is {domain} itself."
    if resolution.error is not None:
        kind, text = dns_error_text(resolution)
        what = (
            f'the queue for {domain} goes to Retry with LastError "{text}"'
            if kind == "retry"
            else f"NDR to the sender: {text}"
        )
        failed = next((lk for lk in lookups if lk.answer.rcode != "NOERROR"), None)
        if failed is not None:
            if failed is mx:
                key = "mx"
            elif not mx.answer.mx:
                b.add(
                    "mx",
                    True,
                    f"{domain} has no MX record; RFC 5321 §5.1: the implicit MX is {domain} itself.",
                    zone_fix,
                    warn=True,
                )
                key = "implicit-mx"
            else:
                b.add("mx", True, f"{domain} MX: {_mx_text(mx.answer)}.")
                key = "a"
            _dns_failure(b, lab, view, origin, failed, what, key)
            return None
        if resolution.error == "MxLoopback":
            b.add("mx", False, f"the MX records of {domain} point back at {origin.fqdn} itself.", "", what)
            return None
        if not mx.answer.mx:
            b.add("mx", True, no_mx, zone_fix, warn=True)
            b.add(
                "implicit-mx",
                False,
                f"{domain} has no A record either: no mail server for {domain} (InfoNoRecords).",
                zone_fix,
                what,
            )
            return None
        b.add("mx", True, f"{domain} MX: {_mx_text(mx.answer)}.")
        hosts = ", ".join(h for _, h in mx.answer.mx)
        mx_target = mx.answer.mx[0][1].rstrip(".").lower()
        server = next((s.fqdn for s in view.servers.values() if accepted_domain_for(domain, s.accepted)), None)
        if server is not None and mx_target != server:
            # The MX names a host that is not the domain's mail server (a typo, say): mend the MX, not the host.
            fix = (
                f'lab.dns.remove_record("{domain}", "@", "MX", "{mx_target}"); '
                f'lab.dns.add_record("{domain}", "@", "MX", "{server}", preference={mx.answer.mx[0][0]})'
            )
        else:
            fix = view.a_fix(mx_target, "", domain)
        b.add("a", False, f"no A record for the MX target(s) {hosts}.", fix, what)
        return None
    if mx.answer.mx:
        b.add("mx", True, f"{domain} MX: {_mx_text(mx.answer)}.")
        where = []
        for target in resolution.targets:
            glued = target.host in mx.answer.glue
            where.append(f"{target.host} → {target.ip}" + (" (glue in the MX answer)" if glued else ""))
        b.add("a", True, f"A: {'; '.join(where)}.")
    else:
        b.add("mx", True, no_mx, zone_fix, warn=True)
        b.add(
            "implicit-mx", True, f"{domain} A: {', '.join(t.ip for t in resolution.targets)} (used as the mail server)."
        )
    return resolution.targets


def _mx_text(answer: Answer) -> str:
    return ", ".join(f"{pref} {host}" for pref, host in sorted(answer.mx))


def _dns_failure(b: _Builder, lab: Lab, view: LabView, origin: ServerView, failed: Lookup, what: str, key: str) -> None:
    """A lookup without a usable answer: say why (no zone, no route, TMG) and how to fix it."""
    rcode = failed.answer.rcode
    if rcode == "TIMEOUT":
        ok, why, fix = _dns_path(view, origin.fqdn)
        detail = why if not ok else f"no reply from the DNS server {view.dns_server} ({failed.error})."
        b.add(key, False, f"{failed.qtype} {failed.name}: {detail}", fix, what)
    elif rcode == "NXDOMAIN":
        zone, rel = view.zone_of(failed.name)
        server = next((s.fqdn for s in view.servers.values() if accepted_domain_for(zone, s.accepted)), None)
        name = failed.name.rstrip(".").lower()
        if failed.qtype == "A" and server is not None and name != server:
            # A host that is not the zone's mail server was looked up because an MX names it (a typo, say):
            # the lesson is to mend the MX record, not to invent a host for it.
            fix = (
                f'lab.dns.remove_record("{zone}", "@", "MX", "{name}"); '
                f'lab.dns.add_record("{zone}", "@", "MX", "{server}", preference=10)'
            )
        else:
            data = f'"mail.{zone}", preference=10' if failed.qtype == "MX" else f'"{view.public_address(zone)}"'
            fix = f'lab.dns.add_record("{zone}", "{rel}", "{failed.qtype}", {data})'
        b.add(key, False, f"{failed.name} does not exist on the public DNS (NXDOMAIN).", fix, what)
    elif rcode == "REFUSED":
        b.add(
            key,
            False,
            f"the public DNS refuses {failed.qtype} {failed.name}: it holds no zone for it.",
            f'lab.dns.add_zone("{failed.name}")',
            what,
        )
    else:
        b.add(key, False, f"{failed.qtype} {failed.name}: the DNS server answered {rcode}.", "", what)


def _smart_hosts(
    b: _Builder, connector: SendConnector, lookup: Any, lookups: list[Lookup]
) -> tuple[Target, ...] | None:
    """Smart-host connectors: each host's A record (or the literal address), as `delivery.locate` does."""
    targets: list[Target] = []
    first_error: Resolution | None = None
    for host in connector.smart_hosts:
        found: Resolution = run_now(resolve_host(host, lookup))
        if found.ok:
            targets.extend(found.targets)
        elif first_error is None:
            first_error = found
    b.skip("mx", f"send connector `{connector.name}` uses smart hosts, not MX records.")
    if targets:
        b.add("a", True, "smart host(s): " + "; ".join(f"{t.host} → {t.ip}" for t in targets) + ".")
        return tuple(targets)
    kind, text = dns_error_text(first_error or Resolution(error="InfoNoRecords"))
    b.add(
        "a",
        False,
        f"no address for smart host(s) {', '.join(connector.smart_hosts)}.",
        "",
        f'the queue goes to Retry with LastError "{text}"' if kind == "retry" else f"NDR: {text}",
    )
    return None


def _deliver(
    b: _Builder,
    view: LabView,
    origin: ServerView,
    sender: str,
    rcpt: str,
    targets: tuple[Target, ...],
    port: int,
    size: int,
) -> None:
    """Connect to the first target that answers (failing over like delivery), then the SMTP decisions."""
    domain = domain_of(rcpt)
    attempts = [reach(view, origin.fqdn, t.ip, port, domain, t.host) for t in targets]
    chosen = next((r for r in attempts if r.ok), attempts[0])
    for key, ok, detail, fix, outcome in chosen.steps:
        b.add(key, ok, detail, fix, outcome)
    receiver = chosen.receiver
    if receiver is None or not chosen.ok:
        for key in ("receive-connector", "mail-from", "rcpt-to", "recipient"):
            b.skip(key, "not evaluated: the connection does not reach a receiving server.")
        return
    dropped = f'the queue goes to Retry with LastError "{facts.failover_error(facts.CONNECTION_DROPPED)}"'
    conn = select_receive_connector(receiver.receive_connectors, chosen.local_ip, chosen.local_port, chosen.peer)
    if conn is None:
        b.add(
            "receive-connector",
            False,
            f"no enabled receive connector of {receiver.fqdn} on {chosen.local_ip}:{chosen.local_port} accepts "
            f"clients from {chosen.peer}: the connection is dropped unanswered.",
            f'{receiver.call()}.set_receive_connector("{receiver.identity}\\\\Default {receiver.identity}", '
            f'remote_ip_ranges=["{facts.ALL_IPV4}"])',
            dropped,
        )
        for key in ("mail-from", "rcpt-to", "recipient"):
            b.skip(key, "not evaluated: no SMTP session.")
        return
    groups = ", ".join(conn.permission_groups) or "None"
    b.add("receive-connector", True, f"`{conn.identity}` serves {chosen.peer} (PermissionGroups: {groups}).")
    rights = permissions.session_rights(conn.permission_groups, authenticated=False)
    identity = conn.identity.replace("\\", "\\\\")
    if permissions.SUBMIT not in rights:
        wanted = ["AnonymousUsers", *[g for g in conn.permission_groups if g != "AnonymousUsers"]]
        b.add(
            "mail-from",
            False,
            f"the sending server connects anonymously and `{conn.identity}` grants anonymous sessions no "
            f"ms-Exch-SMTP-Submit: MAIL FROM gets {facts.NOT_AUTHENTICATED}.",
            f'{receiver.call()}.set_receive_connector("{identity}", permission_groups={json.dumps(list(wanted))})',
            f"NDR to {sender} from {origin.fqdn}: Remote Server returned '{facts.NOT_AUTHENTICATED}'.",
        )
    else:
        # The sender checks of ReceiveHandler.handle_MAIL (facts §4.3): authoritative vs any sender.
        entry = accepted_domain_for(domain_of(sender), receiver.accepted)
        authoritative = entry is not None and entry.domain_type == "Authoritative"
        needed = permissions.ACCEPT_AUTHORITATIVE_DOMAIN_SENDER if authoritative else permissions.ACCEPT_ANY_SENDER
        b.add(
            "mail-from",
            needed in rights,
            f"anonymous session holds {permissions.log_text(rights)}: MAIL FROM:<{sender}> gets {facts.SENDER_OK}."
            if needed in rights
            else f"anonymous sessions lack {needed}: MAIL FROM gets {facts.CANNOT_SEND_AS}.",
            "",
            f"NDR to {sender}: Remote Server returned '{facts.CANNOT_SEND_AS}'.",
        )
    # RCPT TO: accepted domains only, unless Accept-Any-Recipient (facts §4.3: anonymous is never a relay).
    accepted = accepted_domain_for(domain, receiver.accepted)
    relay_ok = accepted is not None or permissions.ACCEPT_ANY_RECIPIENT in rights
    b.add(
        "rcpt-to",
        relay_ok,
        f"{domain} is an accepted domain of {receiver.fqdn}: RCPT TO:<{rcpt}> gets {facts.RECIPIENT_OK}."
        if relay_ok
        else f"{domain} is not an accepted domain of {receiver.fqdn}: RCPT TO gets {facts.UNABLE_TO_RELAY}.",
        f'{receiver.call()}.new_accepted_domain("{domain}", "{domain}")',
        f"NDR to {sender}: Remote Server returned '{facts.UNABLE_TO_RELAY}'.",
    )
    if not relay_ok:
        b.skip("recipient", "not evaluated: the recipient is refused at RCPT TO.")
        return
    final = route_recipient(
        rcpt, receiver.accepted, dict.fromkeys(receiver.mailboxes, 1), receiver.send_connectors, size
    )
    if final.kind == "local":
        b.add("recipient", True, f"{rcpt} is a mailbox on {receiver.fqdn}: delivered (DELIVER STOREDRIVER).")
    elif final.kind == "unknown-recipient":
        back = select_connector(domain_of(sender), receiver.send_connectors, 0).connector
        note = "" if back else f" (the NDR itself waits in {receiver.identity}\\Unreachable: no send connector back)"
        b.add(
            "recipient",
            False,
            f"{receiver.fqdn} accepts the message (250), but has no mailbox {rcpt}.",
            f'{receiver.call()}.new_mailbox("{rcpt}")',
            f"{receiver.fqdn} fails it with {facts.RECIP_NOT_FOUND} and sends an NDR to {sender}{note}.",
        )
    else:
        b.add("recipient", True, f"{receiver.fqdn} relays {rcpt} onward ({final.kind}).", warn=True)

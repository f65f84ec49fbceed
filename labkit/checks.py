"""Named checks, one per step of the curriculum: pass, or fail with a hint that says what to do.

A check inspects the *lab's state* through the public API — DNS answers, connectors,
queues, mailboxes, a real SMTP probe — never a notebook's printed output, so it
can't be fooled by a pasted result. The checks live here, not in the notebooks,
so a learner cannot edit them, and grading (`labkit.grading`) runs the same code
and awards each check's points.

    lab.check("a-records")      # ✔ ... or CheckFailed with the hint
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from labkit.errors import LabkitError, UnknownObject

if TYPE_CHECKING:
    from labkit.lab import Lab

CONTOSO_IP = "100.100.100.10"
TMG_EXTERNAL = "100.100.100.254"
XUTONGLIN_INTERNAL = "192.168.8.10"
CONTOSO, XUTONGLIN = "mail.contoso.com", "mail.xutonglin.com"
SENDER, RECIPIENT = "contoso@contoso.com", "allen@xutonglin.com"


class CheckFailed(LabkitError, AssertionError):
    """A step is not done yet; the message is the hint. Raised in a check cell, it fails that cell."""

    def __init__(self, name: str, title: str, hint: str) -> None:
        self.name, self.title, self.hint = name, title, hint
        super().__init__(f"✘ {title} — not yet. Hint: {hint}")


@dataclass(frozen=True)
class Check:
    """One step's check: its name, where it belongs, its points and the test itself."""

    name: str
    notebook: str
    title: str
    points: int
    test: Callable[[Lab], str]  # returns what was verified; raises _Hint when not done


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check; renders as a ✔/✘ line."""

    name: str
    title: str
    passed: bool
    points: int
    detail: str  # what was verified, or the hint

    @property
    def earned(self) -> int:
        """The points this result is worth."""
        return self.points if self.passed else 0

    def __repr__(self) -> str:
        mark = "✔" if self.passed else "✘"
        return f"{mark} {self.title}: {self.detail} ({self.earned}/{self.points} points)"

    def _repr_html_(self) -> str:
        color = "#1a7f37" if self.passed else "#cf222e"
        mark = "✔" if self.passed else "✘"
        return (
            f'<div style="border-left:4px solid {color};padding:4px 8px"><b style="color:{color}">{mark} '
            f"{escape(self.title)}</b>: {escape(self.detail)} ({self.earned}/{self.points} points)</div>"
        )


class _Hint(Exception):
    """Raised inside a check's test with the hint for the learner."""


CHECKS: dict[str, Check] = {}


def check(name: str, notebook: str, title: str, points: int) -> Callable[[Callable[[Lab], str]], Callable[[Lab], str]]:
    """Register a check function under `name`."""

    def register(fn: Callable[[Lab], str]) -> Callable[[Lab], str]:
        CHECKS[name] = Check(name, notebook, title, points, fn)
        return fn

    return register


def evaluate(lab: Lab, name: str) -> CheckResult:
    """Run one check and return its result; never raises for a failed step (grading uses this).

    Raises:
        UnknownObject: no check of that name.
    """
    if name not in CHECKS:
        raise UnknownObject("check", name, sorted(CHECKS))
    spec = CHECKS[name]
    try:
        detail = spec.test(lab)
    except _Hint as hint:
        return CheckResult(name, spec.title, False, spec.points, str(hint))
    except LabkitError as exc:  # the lab itself said no (not running, timeout...)
        return CheckResult(name, spec.title, False, spec.points, f"the lab could not be inspected: {exc}")
    return CheckResult(name, spec.title, True, spec.points, detail)


def run_check(lab: Lab, name: str) -> CheckResult:
    """Run one check for a learner: the result when it passes, `CheckFailed` (with the hint) when not."""
    result = evaluate(lab, name)
    if not result.passed:
        raise CheckFailed(name, result.title, result.detail)
    return result


# -- the checks -----------------------------------------------------------------------------------------
def _a(lab: Lab, name: str, host: str | None = None) -> list[str]:
    return lab.nslookup(name, "A", host=host).addresses


@check("a-records", "01-a-records", "Step 1 — A records on the public DNS", 2)
def _check_a_records(lab: Lab) -> str:
    contoso = _a(lab, CONTOSO)
    xutonglin = _a(lab, XUTONGLIN)
    if not contoso:
        raise _Hint(f'{CONTOSO} does not resolve. Add it: lab.dns.add_record("contoso.com", "mail", "A", "{CONTOSO_IP}")')
    if contoso != [CONTOSO_IP]:
        raise _Hint(f"{CONTOSO} resolves to {', '.join(contoso)}, but contoso's server is at {CONTOSO_IP}. Remove the wrong record and add the right one.")
    if not xutonglin:
        raise _Hint(f'{XUTONGLIN} does not resolve. Add it: lab.dns.add_record("xutonglin.com", "mail", "A", "{TMG_EXTERNAL}")')
    if XUTONGLIN_INTERNAL in xutonglin:
        raise _Hint(
            f"{XUTONGLIN} points at {XUTONGLIN_INTERNAL}, its internal address: nobody on the internet can reach a "
            f"private address. Point it at TMG's published address {TMG_EXTERNAL}."
        )
    if xutonglin != [TMG_EXTERNAL]:
        raise _Hint(f"{XUTONGLIN} resolves to {', '.join(xutonglin)}; the internet reaches xutonglin's server through TMG at {TMG_EXTERNAL}.")
    return f"{CONTOSO} → {CONTOSO_IP}, {XUTONGLIN} → {TMG_EXTERNAL}"


@check("mx-records", "02-mx-records", "Step 2 — MX records on the public DNS", 2)
def _check_mx_records(lab: Lab) -> str:
    found = []
    for domain, server in (("contoso.com", CONTOSO), ("xutonglin.com", XUTONGLIN)):
        mx = lab.nslookup(domain, "MX").mx
        if not mx:
            raise _Hint(f'{domain} has no MX record. Add it: lab.dns.add_record("{domain}", "@", "MX", "{server}", preference=10)')
        hosts = [h.rstrip(".").lower() for _, h in mx]
        if server not in hosts:
            raise _Hint(f"{domain}'s MX points at {', '.join(hosts)}; it should name the mail server {server}.")
        if not _a(lab, server):
            raise _Hint(f"{domain}'s MX names {server}, but {server} has no A record (step 1).")
        found.append(f"{domain} MX {server}")
    return ", ".join(found)


def _covers(lab: Lab, server: str, domain: str) -> list[str]:
    """Names of enabled send connectors on `server` whose address space covers `domain`."""
    from labkit.transport.addressing import parse_address_space

    df = lab.server(server).get_send_connector()
    names = []
    for _, row in df.iterrows():
        if str(row["Enabled"]) != "True":
            continue
        spaces = str(row["AddressSpaces"]).strip("{}").split(", ")
        if any(parse_address_space(s).matches(domain) for s in spaces if s):
            names.append(str(row["Identity"]))
    return names


@check("send-connector", "03-send-connector", "Step 3 — a Send connector on mail.contoso.com", 2)
def _check_send_connector(lab: Lab) -> str:
    names = _covers(lab, CONTOSO, "xutonglin.com")
    if not names:
        spaces = list(lab.server(CONTOSO).get_send_connector()["AddressSpaces"])
        have = f" (address spaces now: {', '.join(map(str, spaces))})" if spaces else ""
        raise _Hint(
            f'{CONTOSO} has no send connector for xutonglin.com{have}. Create one: '
            f'lab.server("{CONTOSO}").new_send_connector("Internet", ["*"], usage="Internet")'
        )
    return f"{names[0]} covers xutonglin.com"


def _has_anonymous(lab: Lab, server: str) -> bool:
    df = lab.server(server).get_receive_connector()
    row = df[df["Name"] == "Default MAIL"]
    return not row.empty and "AnonymousUsers" in str(row.iloc[0]["PermissionGroups"])


@check("anonymous-receive", "04-anonymous-receive", "Step 4 — anonymous users on xutonglin's Default receive connector", 2)
def _check_anonymous(lab: Lab) -> str:
    if not _has_anonymous(lab, XUTONGLIN):
        raise _Hint(
            "Internet servers connect anonymously; tick Anonymous users on the Default connector: "
            f'lab.server("{XUTONGLIN}").set_receive_connector("MAIL\\\\Default MAIL", permission_groups=["AnonymousUsers", '
            '"ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers"])'
        )
    return "Default MAIL accepts AnonymousUsers"


def _delivered(lab: Lab, mailbox: str, sender: str) -> bool:
    df = lab.mailbox(mailbox).messages
    return bool(df["From"].astype(str).str.contains(sender, regex=False).any())


@check("mail-delivered", "04-anonymous-receive", "Step 4 — contoso's mail lands in allen's mailbox", 2)
def _check_mail_delivered(lab: Lab) -> str:
    if not _delivered(lab, RECIPIENT, SENDER):
        raise _Hint(
            f"allen@xutonglin.com has no message from {SENDER} yet. Send one after the fix "
            f'(lab.send_mail("{SENDER}", "{RECIPIENT}", "Hello", "...")), then lab.settle() and look again.'
        )
    return f"a message from {SENDER} is in {RECIPIENT}'s mailbox"


@check("reply-delivered", "05-the-way-back-and-security", "The way back — allen's reply lands in contoso's mailbox", 3)
def _check_reply(lab: Lab) -> str:
    if not _delivered(lab, SENDER, RECIPIENT):
        missing = []
        if not _covers(lab, XUTONGLIN, "contoso.com"):
            missing.append("a send connector on mail.xutonglin.com")
        if not _has_anonymous(lab, CONTOSO):
            missing.append("Anonymous users on contoso's Default receive connector")
        todo = "; still missing: " + " and ".join(missing) if missing else "; send the reply again and settle"
        raise _Hint(f"no reply from {RECIPIENT} in {SENDER}'s mailbox{todo}.")
    return f"allen's reply is in {SENDER}'s mailbox"


def relay_reply(lab: Lab, server_ip: str = TMG_EXTERNAL, recipient: str = "someone@fabrikam.com") -> str:
    """Try to relay through a server from the outside client, over real SMTP.

    Returns:
        The refusing reply (to MAIL FROM or RCPT TO), or the ``250`` reply to RCPT TO
        when the server would relay.
    """
    sock = lab.connect(lab.scenario.outside_client, server_ip, 25)
    client = smtplib.SMTP()
    client.sock = sock
    try:
        client.getreply()
        client.ehlo("client.internet.lab")
        code, text = client.mail("spammer@example.org")
        if code == 250:
            code, text = client.rcpt(recipient)
        client.rset()
        client.quit()
    finally:
        client.close()
    return f"{code} {text.decode(errors='replace')}"


@check("no-open-relay", "05-the-way-back-and-security", "Security — xutonglin is not an open relay", 1)
def _check_no_open_relay(lab: Lab) -> str:
    reply = relay_reply(lab)
    if reply.startswith("2"):
        raise _Hint(f"relaying to fabrikam.com through xutonglin got `{reply}`: anyone could send spam through it. Remove the permission that grants Accept-Any-Recipient to anonymous senders.")
    return f"relay to fabrikam.com refused: {reply}"


@check("mail-flows", "06-troubleshooting", "Troubleshooting — mail from contoso reaches allen again", 3)
def _check_mail_flows(lab: Lab) -> str:
    before = len(lab.mailbox(RECIPIENT).messages)
    lab.send_mail(SENDER, RECIPIENT, "labkit check: does mail flow?", "Sent by lab.check('mail-flows').")
    lab.settle()
    if len(lab.mailbox(RECIPIENT).messages) > before:
        return "a test message from contoso reached allen"
    failing = next((s for s in lab.trace(SENDER, RECIPIENT).steps if s.status == "fail"), None)
    where = f" The trace stops at: {failing.title} — {failing.detail} Fix: {failing.fix}" if failing else ""
    raise _Hint(f"the test message did not reach allen.{where} Use lab.trace(), lab.get_queue() and the logs.")

"""`lab.diagnose(domain)`: an offline MXToolbox for the lab, run from the outside client.

Like mxtoolbox.com probing a domain from the internet, every check runs from the
scenario's outside client (``client``, 100.100.100.100) with real packets: DNS
queries through ``lab.nslookup``, and a real SMTP session (Python's `smtplib` over
a socket from ``lab.connect``) to each MX target on port 25, through TMG's
publishing rule where there is one. The session reads the 220 banner, says EHLO,
tries to relay to a third domain (it must get ``550 5.7.1 Unable to relay``,
facts §4.3), offers a message to the domain's postmaster anonymously (accepted at
RCPT, then RSET — no DATA is ever sent, so nothing is queued), and QUITs.

Results are ``pass``, ``warn`` or ``fail``; ``skip`` marks a check that could not
run because an earlier one failed (no MX target to connect to, no connection).
"""

from __future__ import annotations

import contextlib
import ipaddress
import smtplib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import pandas as pd

from labkit.dns.nslookup import NslookupResult
from labkit.errors import LabkitError
from labkit.transport import facts
from labkit.transport.addressing import normalize_address

if TYPE_CHECKING:
    from labkit.lab import Lab

__all__ = ["COLUMNS", "RESPONSE_WARN_SECONDS", "diagnose"]

Result = Literal["pass", "warn", "fail", "skip"]
COLUMNS = ["Check", "Target", "Result", "Detail"]
#: Above this, the SMTP response time is a warning (the lab is on loopback: anything slow is a symptom).
RESPONSE_WARN_SECONDS = 2.0
#: Addresses of the probe: an outside sender, and a third domain nobody in the lab accepts (RFC 2606 names).
PROBE_SENDER = "diagnose@probe.example"
RELAY_RECIPIENT = "relaytest@relay-target.example"
SMTP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Check:
    """One row of the report."""

    check: str
    target: str
    result: Result
    detail: str


def diagnose(lab: Lab, domain: str) -> pd.DataFrame:
    """Check `domain`'s mail setup from the internet, MXToolbox style.

    Args:
        lab: a running lab.
        domain: e.g. ``"xutonglin.com"``.

    Returns:
        One row per check: Check, Target, Result (pass/warn/fail/skip), Detail. The checks, in order:
        MX record; per MX target: MX target is a host name, MX target is not a CNAME, MX target resolves,
        SMTP connection, SMTP banner, Open relay, Anonymous acceptance, SMTP response time.

    Raises:
        InvalidValue: `domain` is not a domain name.
        LabNotRunning: the lab has stopped.
    """
    name = normalize_address(f"postmaster@{domain}").partition("@")[2]
    client = lab.scenario.outside_client
    rows: list[Check] = []
    mx = lab.nslookup(name, "MX", host=client)
    targets = _mx_step(rows, lab, name, mx)
    for host in targets:
        _target(rows, lab, client, name, host, mx)
    return pd.DataFrame.from_records(
        [r.__dict__ for r in rows], columns=["check", "target", "result", "detail"]
    ).set_axis(COLUMNS, axis=1)


def _mx_step(rows: list[Check], lab: Lab, domain: str, mx: NslookupResult) -> list[str]:
    """MX present? Returns the targets to test (the implicit MX when there is none but the apex has an A)."""
    if mx.rcode is None:
        rows.append(Check("MX record", domain, "fail", f"no reply from the public DNS: {mx.error}"))
        return []
    if mx.rcode != "NOERROR":
        rows.append(Check("MX record", domain, "fail", f"the public DNS answers {mx.rcode} for {domain} MX."))
        return []
    if mx.mx:
        listed = ", ".join(f"{pref} {host}" for pref, host in mx.mx)
        rows.append(Check("MX record", domain, "pass", f"{domain} MX: {listed}."))
        return [host for _, host in mx.mx]
    fix = f'lab.dns.add_record("{domain}", "@", "MX", "mail.{domain}", preference=10)'
    apex = lab.nslookup(domain, "A", host=lab.scenario.outside_client)
    if apex.addresses:
        rows.append(
            Check(
                "MX record",
                domain,
                "fail",
                f"no MX record; senders fall back to the implicit MX (RFC 5321 §5.1): {domain} → "
                f"{', '.join(apex.addresses)}. Fix: {fix}",
            )
        )
        return [domain]
    rows.append(
        Check(
            "MX record",
            domain,
            "fail",
            f"no MX record and no A record for {domain}: no one can find its mail server. Fix: {fix}",
        )
    )
    for check in (
        "MX target resolves",
        "SMTP connection",
        "SMTP banner",
        "Open relay",
        "Anonymous acceptance",
        "SMTP response time",
    ):
        rows.append(Check(check, domain, "skip", "not tested: there is no mail server to test."))
    return []


def _is_ip(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text.strip("[]"))
    except ValueError:
        return False
    return True


def _target(rows: list[Check], lab: Lab, client: str, domain: str, host: str, mx: NslookupResult) -> None:
    """Every check of one MX target."""
    if _is_ip(host):
        rows.append(
            Check(
                "MX target is a host name",
                host,
                "fail",
                "an MX record must name a host, not an IP address (RFC 5321 §5.1).",
            )
        )
        addresses = [host.strip("[]")]
    else:
        rows.append(Check("MX target is a host name", host, "pass", f"{host} is a host name."))
        answer = lab.nslookup(host, "A", host=client)
        cname = [r.data for r in answer.answers if r.type == "CNAME"]
        if cname:
            rows.append(
                Check(
                    "MX target is not a CNAME",
                    host,
                    "fail",
                    f"{host} is an alias (CNAME → {cname[0]}); an MX must point at an A record (RFC 2181 §10.3).",
                )
            )
        else:
            rows.append(Check("MX target is not a CNAME", host, "pass", f"{host} has its own A record."))
        addresses = answer.addresses or (mx.reply.address_of(host) if mx.reply is not None else [])
        if not addresses:
            rows.append(
                Check(
                    "MX target resolves",
                    host,
                    "fail",
                    f'{host} has no A record. Fix: lab.dns.add_record(<zone>, <name>, "A", <public address>)',
                )
            )
            for check in ("SMTP connection", "SMTP banner", "Open relay", "Anonymous acceptance", "SMTP response time"):
                rows.append(Check(check, host, "skip", "not tested: the MX target has no address."))
            return
        rows.append(Check("MX target resolves", host, "pass", f"{host} → {', '.join(addresses)}."))
    for ip in addresses:
        _smtp(rows, lab, client, domain, host, ip)


def _smtp(rows: list[Check], lab: Lab, client: str, domain: str, host: str, ip: str) -> None:
    """One real SMTP session to `ip:25`: banner, EHLO, relay probe, anonymous acceptance, QUIT."""
    where = f"{host} ({ip}:25)"
    start = time.perf_counter()
    try:
        sock = lab.connect(client, ip, facts.SMTP_PORT, timeout=SMTP_TIMEOUT)
    except (OSError, LabkitError) as exc:
        rows.append(Check("SMTP connection", where, "fail", f"TCP connection to {ip}:25 failed: {exc}"))
        for check in ("SMTP banner", "Open relay", "Anonymous acceptance", "SMTP response time"):
            rows.append(Check(check, where, "skip", "not tested: no connection."))
        return
    smtp = smtplib.SMTP(local_hostname=lab.scenario.host(client).fqdn, timeout=SMTP_TIMEOUT)
    smtp.sock = sock
    try:
        code, banner = _reply(smtp.getreply())
        elapsed = time.perf_counter() - start
        if code != 220:
            rows.append(Check("SMTP connection", where, "fail", f"connected, but the greeting is `{banner}`."))
            for check in ("SMTP banner", "Open relay", "Anonymous acceptance", "SMTP response time"):
                rows.append(Check(check, where, "skip", "not tested: no SMTP greeting."))
            return
        rows.append(Check("SMTP connection", where, "pass", f"TCP connection to {ip}:25 from the internet accepted."))
        _banner(rows, where, host, banner)
        ehlo_code, _ = _reply(smtp.ehlo())
        elapsed = time.perf_counter() - start
        relay = _transaction(smtp, PROBE_SENDER, RELAY_RECIPIENT)
        anonymous = _transaction(smtp, PROBE_SENDER, f"postmaster@{domain}")
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()
    except (smtplib.SMTPException, OSError) as exc:
        rows.append(Check("SMTP connection", where, "fail", f"the session broke off: {exc}"))
        return
    finally:
        smtp.close()
    _relay_row(rows, where, relay)
    _anonymous_row(rows, lab, where, domain, host, anonymous)
    result: Result = "pass" if elapsed <= RESPONSE_WARN_SECONDS and ehlo_code == 250 else "warn"
    rows.append(
        Check(
            "SMTP response time",
            where,
            result,
            # A passing time is stated against the threshold only, so the table is the same on every run.
            f"connect, banner and EHLO answered within {RESPONSE_WARN_SECONDS * 1000:.0f} ms."
            if result == "pass"
            else f"connect, banner and EHLO took {elapsed * 1000:.0f} ms (warn above {RESPONSE_WARN_SECONDS * 1000:.0f} ms).",
        )
    )


def _reply(pair: tuple[int, bytes]) -> tuple[int, str]:
    code, text = pair
    return code, f"{code} {text.decode('utf-8', 'replace').splitlines()[-1] if text else ''}".strip()


def _transaction(smtp: smtplib.SMTP, sender: str, recipient: str) -> tuple[str, str]:
    """MAIL FROM and RCPT TO, then RSET (never DATA): (MAIL reply, RCPT reply or "")."""
    mail = _reply(smtp.mail(sender))[1]
    rcpt = ""
    if mail.startswith("2"):
        rcpt = _reply(smtp.rcpt(recipient))[1]
    smtp.rset()
    return mail, rcpt


def _banner(rows: list[Check], where: str, host: str, banner: str) -> None:
    """The banner's FQDN should be the name the MX record gives (MXToolbox's "SMTP Banner Check")."""
    parts = banner.split()
    fqdn = parts[1] if len(parts) > 1 else ""
    if fqdn.lower().rstrip(".") == host.lower().rstrip("."):
        rows.append(Check("SMTP banner", where, "pass", f"the banner names {fqdn}, the MX host."))
    else:
        rows.append(
            Check(
                "SMTP banner",
                where,
                "warn",
                f"the banner names `{fqdn}`, not the MX host {host} (set the receive connector's Fqdn).",
            )
        )


def _relay_row(rows: list[Check], where: str, relay: tuple[str, str]) -> None:
    mail, rcpt = relay
    if not mail.startswith("2"):
        rows.append(
            Check(
                "Open relay",
                where,
                "pass",
                f"closed: MAIL FROM:<{PROBE_SENDER}> refused ({mail}), so nothing can be relayed.",
            )
        )
    elif rcpt.startswith(facts.UNABLE_TO_RELAY):
        rows.append(Check("Open relay", where, "pass", f"closed: RCPT TO:<{RELAY_RECIPIENT}> got {rcpt}."))
    elif rcpt.startswith("2"):
        rows.append(
            Check(
                "Open relay",
                where,
                "fail",
                f"OPEN RELAY: an anonymous outsider may send to {RELAY_RECIPIENT} ({rcpt}). Remove "
                "ExchangeUsers-style rights (ms-Exch-SMTP-Accept-Any-Recipient) from anonymous connectors.",
            )
        )
    else:
        rows.append(Check("Open relay", where, "warn", f"RCPT TO:<{RELAY_RECIPIENT}> got {rcpt}, not `550 5.7.1`."))


def _anonymous_row(rows: list[Check], lab: Lab, where: str, domain: str, host: str, result: tuple[str, str]) -> None:
    mail, rcpt = result
    if mail.startswith("2") and rcpt.startswith("2"):
        rows.append(
            Check(
                "Anonymous acceptance", where, "pass", f"an anonymous sender may write to postmaster@{domain} ({rcpt})."
            )
        )
        return
    server = next((s for s in lab.servers if lab.server(s).get_accepted_domain()["DomainName"].eq(domain).any()), host)
    short = lab.server(server).identity if server in lab.servers else "MAIL"
    fix = (
        f'lab.server("{server}").set_receive_connector("{short}\\\\Default {short}", '
        'permission_groups=["AnonymousUsers", "ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers"])'
    )
    reply = mail if not mail.startswith("2") else rcpt
    rows.append(
        Check(
            "Anonymous acceptance",
            where,
            "fail",
            f"mail from the internet is refused: {reply}. Internet servers always connect anonymously "
            f"(facts §4.6). Fix: {fix}",
        )
    )

"""`lab.trace` must agree with what a real send then does, for every seed step and each misconfiguration.

Each case builds a real lab, traces, then sends for real (`lab.send_mail`, `lab.settle`) and observes the
outcome from the public API (tracking logs, queues). "Agree" means: the trace's first failing step maps
(`EXPECTED`, below) to the observed outcome; no failing step maps to "delivered".
"""

from __future__ import annotations

import pytest

import labkit
from labkit.lab import Lab
from labkit.trace import Trace
from labkit.transport import facts
from tests.conftest import StartLab

CONTOSO, XUTONGLIN = "mail.contoso.com", "mail.xutonglin.com"
SENDER, ALLEN = "contoso@contoso.com", "allen@xutonglin.com"
DEFAULT_GROUPS = ["ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers"]
WITH_ANONYMOUS = ["AnonymousUsers", *DEFAULT_GROUPS]
ACCESS_RULE = "Allow SMTP and DNS from Exchange"
PUBLISHING_RULE = "Publish mail.xutonglin.com SMTP"

# Observed outcomes (what a learner sees after `lab.settle()`).
UNREACHABLE = "Unreachable queue"
RETRY_DNS = "Retry, DNS LastError"
RETRY_CONNECT = "Retry, connect LastError"
NDR_530 = "NDR 530 5.7.1"
NDR_RELAY = "NDR 550 5.7.1 Unable to relay"
NDR_511 = "NDR 5.1.1"
DELIVERED = "delivered"

#: The trace's first failing step → the outcome a real send must show (None: no failing step).
EXPECTED: dict[str | None, str] = {
    "connector": UNREACHABLE,
    "mx": RETRY_DNS,
    "implicit-mx": RETRY_DNS,
    "a": RETRY_DNS,
    "route": RETRY_CONNECT,
    "tmg-outbound": RETRY_CONNECT,
    "publishing": RETRY_CONNECT,
    "listener": RETRY_CONNECT,
    "receive-connector": RETRY_CONNECT,
    "mail-from": NDR_530,
    "rcpt-to": NDR_RELAY,
    "recipient": NDR_511,
    "mailbox": NDR_511,
    None: DELIVERED,
}



def observe(lab: Lab, sender: str, recipient: str, message_id: str) -> str:
    """Classify what became of a sent message, from tracking logs and queues only."""
    origin = CONTOSO if sender.endswith("@contoso.com") else XUTONGLIN
    log = lab.server(origin).get_message_tracking_log(message_id=message_id)
    events = list(log["EventId"])
    if "FAIL" in events:
        status = str(log[log["EventId"] == "FAIL"].iloc[0]["RecipientStatus"])
        if status.startswith(facts.NOT_AUTHENTICATED):
            return NDR_530
        if status.startswith(facts.UNABLE_TO_RELAY):
            return NDR_RELAY
        if status.startswith(facts.RECIP_NOT_FOUND):
            return NDR_511
        return f"NDR {status}"
    if "DELIVER" in events:
        return DELIVERED
    if "SEND" in events:
        for name in lab.servers:
            remote = lab.server(name).get_message_tracking_log(message_id=message_id)
            remote = remote[remote["Source"] != "STOREDRIVER"] if name == origin else remote
            if "DELIVER" in set(remote["EventId"]):
                return DELIVERED
            fail = remote[remote["EventId"] == "FAIL"]
            if len(fail) and str(fail.iloc[0]["RecipientStatus"]).startswith(facts.RECIP_NOT_FOUND):
                return NDR_511
        return "sent, not delivered"
    messages = lab.server(origin).get_message()
    row = messages[messages["InternetMessageId"] == message_id]
    assert len(row) == 1, f"{message_id} is nowhere: {log.to_dict('records')}"
    queue = str(row.iloc[0]["Queue"])
    if queue.endswith("\\Unreachable"):
        return UNREACHABLE
    queues = lab.server(origin).get_queue()
    q = queues[queues["Identity"] == queue].iloc[0]
    assert q["Status"] == "Retry", q.to_dict()
    if str(q["LastError"]).startswith(facts.DNS_FAILED_PREFIX):
        return RETRY_DNS
    if str(q["LastError"]).startswith("451 4.4.0 Primary target IP address responded with"):
        return RETRY_CONNECT
    return f"Retry {q['LastError']}"


def agree(lab: Lab, sender: str, recipient: str) -> tuple[Trace, str]:
    """Trace, then send for real; assert they agree; return both."""
    result = lab.trace(sender, recipient)
    message_id = lab.send_mail(sender, recipient, "trace check", "Does the trace agree?")
    lab.settle()
    seen = observe(lab, sender, recipient, message_id)
    failure = result.failure
    assert EXPECTED[failure.key if failure else None] == seen, f"trace says:\n{result.text}\nbut a real send: {seen}"
    assert sum(s.status == "fail" for s in result.steps) <= 1
    return result, seen


# -- the seed story ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("step", "first_failure"),
    [(1, "connector"), (2, "connector"), (3, "connector"), (4, "mail-from"), (5, None)],
)
def test_seed_steps(start_lab: StartLab, step: int, first_failure: str | None) -> None:
    lab = start_lab(step)
    result, _ = agree(lab, SENDER, ALLEN)
    assert (result.failure.key if result.failure else None) == first_failure
    assert result.ok is (first_failure is None)


def test_step_4_fix_is_the_seed_fix(start_lab: StartLab) -> None:
    lab = start_lab(4)
    failure = lab.trace(SENDER, ALLEN).failure
    assert failure is not None and facts.NOT_AUTHENTICATED in failure.detail
    assert failure.fix.startswith('lab.server("mail.xutonglin.com").set_receive_connector("MAIL\\\\Default MAIL"')
    exec(failure.fix, {"lab": lab})  # the fix is pasteable
    assert lab.trace(SENDER, ALLEN).ok


def test_step_3_fix_creates_the_connector(start_lab: StartLab) -> None:
    lab = start_lab(3)
    failure = lab.trace(SENDER, ALLEN).failure
    assert failure is not None
    assert failure.fix == 'lab.server("mail.contoso.com").new_send_connector("Internet", ["*"])'
    assert "address spaces configured: (none)" in failure.detail


# -- misconfigurations -------------------------------------------------------------------------------------------------
def test_mx_target_at_the_internal_address(start_lab: StartLab) -> None:
    lab = start_lab(5)
    lab.dns.remove_record("xutonglin.com", "mail", "A", "100.100.100.254")
    lab.dns.add_record("xutonglin.com", "mail", "A", "192.168.8.10")
    result, _ = agree(lab, SENDER, ALLEN)
    assert result.failure is not None and result.failure.key == "route"
    assert "private address" in result.failure.detail
    exec(result.failure.fix, {"lab": lab})
    assert lab.trace(SENDER, ALLEN).ok


def test_wrong_a_address(start_lab: StartLab) -> None:
    lab = start_lab(5)
    lab.dns.remove_record("xutonglin.com", "mail", "A", "100.100.100.254")
    lab.dns.add_record("xutonglin.com", "mail", "A", "100.100.100.25")
    result, _ = agree(lab, SENDER, ALLEN)
    assert result.failure is not None and result.failure.key == "listener"
    assert "100.100.100.25:25" in result.failure.detail


def test_no_publishing_rule(start_lab: StartLab) -> None:
    lab = start_lab(5)
    assert lab.tmg is not None
    lab.tmg.remove_publishing_rule(PUBLISHING_RULE)
    result, _ = agree(lab, SENDER, ALLEN)
    assert result.failure is not None and result.failure.key == "publishing"
    exec(result.failure.fix, {"lab": lab})
    assert lab.trace(SENDER, ALLEN).ok


def test_connector_for_the_wrong_address_space(start_lab: StartLab) -> None:
    lab = start_lab(5)
    lab.server(CONTOSO).set_send_connector("Internet", address_spaces=["fabrikam.com"])
    result, _ = agree(lab, SENDER, ALLEN)
    assert result.failure is not None and result.failure.key == "connector"
    assert "SMTP:fabrikam.com;1" in result.failure.detail


def test_anonymous_off(start_lab: StartLab) -> None:
    lab = start_lab(5)
    lab.server(XUTONGLIN).set_receive_connector("MAIL\\Default MAIL", permission_groups=DEFAULT_GROUPS)
    result, _ = agree(lab, SENDER, ALLEN)
    assert result.failure is not None and result.failure.key == "mail-from"


def test_unknown_remote_recipient(start_lab: StartLab) -> None:
    lab = start_lab(5)
    result, _ = agree(lab, SENDER, "bob@xutonglin.com")
    assert result.failure is not None and result.failure.key == "recipient"


def test_unknown_local_recipient(start_lab: StartLab) -> None:
    lab = start_lab(5)
    result, _ = agree(lab, SENDER, "bob@contoso.com")
    assert result.failure is not None and result.failure.key == "mailbox"


def test_local_delivery(start_lab: StartLab) -> None:
    lab = start_lab(1)
    lab.server(CONTOSO).new_mailbox("bob@contoso.com")
    result, _ = agree(lab, SENDER, "bob@contoso.com")
    assert result.ok


def test_no_mx_and_no_apex_address(start_lab: StartLab) -> None:
    lab = start_lab(2)
    lab.server(CONTOSO).new_send_connector("Internet", ["*"])
    lab.server(XUTONGLIN).set_receive_connector("MAIL\\Default MAIL", permission_groups=WITH_ANONYMOUS)
    result, _ = agree(lab, SENDER, ALLEN)
    assert result.failure is not None and result.failure.key == "implicit-mx"
    assert result.step("mx").status == "warn"


def test_implicit_mx_delivers_to_the_apex_address(start_lab: StartLab) -> None:
    lab = start_lab(2)
    lab.server(CONTOSO).new_send_connector("Internet", ["*"])
    lab.server(XUTONGLIN).set_receive_connector("MAIL\\Default MAIL", permission_groups=WITH_ANONYMOUS)
    lab.dns.add_record("xutonglin.com", "@", "A", "100.100.100.254")
    result, _ = agree(lab, SENDER, ALLEN)
    assert result.ok and result.step("implicit-mx").status == "ok"


def test_relay_is_refused(start_lab: StartLab) -> None:
    lab = start_lab(5)
    lab.dns.add_zone("fabrikam.com")
    lab.dns.add_record("fabrikam.com", "@", "MX", "mail.xutonglin.com", preference=10)
    result, _ = agree(lab, SENDER, "someone@fabrikam.com")
    assert result.failure is not None and result.failure.key == "rcpt-to"


def test_receive_connector_refusing_the_client(start_lab: StartLab) -> None:
    lab = start_lab(5)
    lab.server(XUTONGLIN).set_receive_connector("MAIL\\Default MAIL", remote_ip_ranges=["192.168.8.0/24"])
    result, _ = agree(lab, SENDER, ALLEN)
    assert result.failure is not None and result.failure.key == "receive-connector"


# -- the reverse direction: out through TMG's NAT ------------------------------------------------------------------------
def test_reverse_direction(start_lab: StartLab) -> None:
    lab = start_lab(5)
    assert lab.tmg is not None
    result, _ = agree(lab, ALLEN, SENDER)
    assert result.failure is not None and result.failure.key == "connector"
    lab.server(XUTONGLIN).new_send_connector("Internet", ["*"])
    lab.settle()
    result, _ = agree(lab, ALLEN, SENDER)
    assert result.failure is not None and result.failure.key == "mail-from"
    assert result.step("route").detail.endswith("sees 100.100.100.254.")
    lab.server(CONTOSO).set_receive_connector("MAIL\\Default MAIL", permission_groups=WITH_ANONYMOUS)
    result, _ = agree(lab, ALLEN, SENDER)
    assert result.ok


def test_reverse_without_smtp_access_rule(start_lab: StartLab) -> None:
    lab = start_lab(5)
    assert lab.tmg is not None
    lab.server(XUTONGLIN).new_send_connector("Internet", ["*"])
    lab.server(CONTOSO).set_receive_connector("MAIL\\Default MAIL", permission_groups=WITH_ANONYMOUS)
    lab.tmg.remove_access_rule(ACCESS_RULE)
    lab.tmg.new_access_rule("Allow DNS only", protocols=["DNS"], sources=["192.168.8.10"], destinations=["External"])
    result, _ = agree(lab, ALLEN, SENDER)
    assert result.failure is not None and result.failure.key == "tmg-outbound"
    exec(result.failure.fix, {"lab": lab})
    assert lab.trace(ALLEN, SENDER).ok


def test_reverse_without_any_access_rule(start_lab: StartLab) -> None:
    lab = start_lab(5)
    assert lab.tmg is not None
    lab.server(XUTONGLIN).new_send_connector("Internet", ["*"])
    lab.tmg.remove_access_rule(ACCESS_RULE)
    result, _ = agree(lab, ALLEN, SENDER)
    assert result.failure is not None and result.failure.key == "mx"
    assert "TMG denies DNS" in result.failure.detail


# -- the result object ------------------------------------------------------------------------------------------------
def test_views_are_deterministic(start_lab: StartLab) -> None:
    lab = start_lab(4)
    first, second = lab.trace(SENDER, ALLEN), lab.trace(SENDER, ALLEN)
    assert first.text == second.text and "✘ MAIL FROM" in first.text and "✔ Send connector" in first.text
    frame = first.to_frame()
    assert list(frame.columns) == ["Step", "Status", "Detail", "Outcome", "Fix"]
    assert list(frame["Status"]).count("fail") == 1
    page = first._repr_html_()
    assert "#fce8e6" in page and "#e6f4ea" in page and "<table" in page


def test_unknown_sender(start_lab: StartLab) -> None:
    lab = start_lab(5)
    result = lab.trace("nobody@contoso.com", ALLEN)
    assert result.failure is not None and result.failure.key == "sender"
    with pytest.raises(labkit.LabkitError):
        lab.send_mail("nobody@contoso.com", ALLEN, "x", "y")

"""`lab.diagnose(domain)`: an offline MXToolbox — real DNS queries and real SMTP sessions from the outside client."""

from __future__ import annotations

import pandas as pd

from labkit.diagnose import COLUMNS, RESPONSE_WARN_SECONDS
from labkit.transport import facts
from tests.conftest import StartLab

XUTONGLIN = "mail.xutonglin.com"
TARGET = "mail.xutonglin.com (100.100.100.254:25)"



def result(report: pd.DataFrame, check: str) -> pd.Series:
    rows = report[report["Check"] == check]
    assert len(rows) == 1, report.to_string()
    return rows.iloc[0]


def test_healthy_domain(start_lab: StartLab) -> None:
    lab = start_lab(5)
    report = lab.diagnose("xutonglin.com")
    assert list(report.columns) == COLUMNS
    assert list(report["Check"]) == [
        "MX record", "MX target is a host name", "MX target is not a CNAME", "MX target resolves",
        "SMTP connection", "SMTP banner", "Open relay", "Anonymous acceptance", "SMTP response time",
    ]  # fmt: skip
    assert set(report["Result"]) == {"pass"}, report.to_string()
    assert result(report, "SMTP connection")["Target"] == TARGET
    assert facts.UNABLE_TO_RELAY in result(report, "Open relay")["Detail"]  # an open relay test that stays closed
    assert "250 2.1.5 Recipient OK" in result(report, "Anonymous acceptance")["Detail"]
    timing = result(report, "SMTP response time")["Detail"]
    assert timing == f"connect, banner and EHLO answered within {RESPONSE_WARN_SECONDS * 1000:.0f} ms."  # stable text


def test_probe_sends_no_message(start_lab: StartLab) -> None:
    lab = start_lab(5)
    lab.diagnose("xutonglin.com")
    tracking = lab.server(XUTONGLIN).get_message_tracking_log()
    assert "RECEIVE" not in set(tracking["EventId"])  # RCPT accepted, then RSET/QUIT: no DATA, nothing queued
    receive = lab.server(XUTONGLIN).get_protocol_log("receive")
    commands = [str(d).split(":")[0].split(" ")[0].upper() for d in receive[receive["event"] == "<"]["data"]]
    assert "DATA" not in commands and {"EHLO", "MAIL", "RCPT", "RSET", "QUIT"} <= set(commands)
    # The probe came from the outside client, through TMG's publishing rule.
    assert set(receive["remote-endpoint"].str.rpartition(":")[0]) == {"100.100.100.100"}


def test_no_mx_at_step_2(start_lab: StartLab) -> None:
    lab = start_lab(2)
    report = lab.diagnose("xutonglin.com")
    mx = result(report, "MX record")
    assert mx["Result"] == "fail" and 'add_record("xutonglin.com", "@", "MX"' in mx["Detail"]
    assert set(report["Result"][1:]) == {"skip"}


def test_anonymous_off_at_step_4(start_lab: StartLab) -> None:
    lab = start_lab(4)
    report = lab.diagnose("xutonglin.com")
    anonymous = result(report, "Anonymous acceptance")
    assert anonymous["Result"] == "fail" and facts.NOT_AUTHENTICATED in anonymous["Detail"]
    assert "permission_groups=" in anonymous["Detail"]
    assert result(report, "Open relay")["Result"] == "pass"  # closed: anonymous cannot even MAIL FROM
    assert result(report, "SMTP connection")["Result"] == "pass"


def test_open_relay_stays_closed_with_anonymous_on(start_lab: StartLab) -> None:
    lab = start_lab(5)
    lab.server("mail.contoso.com").set_receive_connector(
        "MAIL\\Default MAIL", permission_groups=["AnonymousUsers", "ExchangeServers"]
    )
    relay = result(lab.diagnose("contoso.com"), "Open relay")
    assert relay["Result"] == "pass" and f"got {facts.UNABLE_TO_RELAY}" in relay["Detail"]


def test_banner_not_matching_the_mx_name(start_lab: StartLab) -> None:
    lab = start_lab(5)
    lab.server(XUTONGLIN).set_receive_connector("MAIL\\Default MAIL", fqdn="exchange.xutonglin.local")
    banner = result(lab.diagnose("xutonglin.com"), "SMTP banner")
    assert banner["Result"] == "warn" and "exchange.xutonglin.local" in banner["Detail"]


def test_unreachable_mx_target(start_lab: StartLab) -> None:
    lab = start_lab(5)
    lab.dns.remove_record("xutonglin.com", "mail", "A", "100.100.100.254")
    lab.dns.add_record("xutonglin.com", "mail", "A", "192.168.8.10")
    report = lab.diagnose("xutonglin.com")
    connection = result(report, "SMTP connection")
    assert connection["Result"] == "fail" and "192.168.8.10" in connection["Detail"]
    assert result(report, "Open relay")["Result"] == "skip"


def test_mx_target_is_a_cname(start_lab: StartLab) -> None:
    lab = start_lab(5)
    lab.dns.remove_record("xutonglin.com", "@", "MX")
    lab.dns.add_record("xutonglin.com", "smtp", "CNAME", "mail.xutonglin.com")
    lab.dns.add_record("xutonglin.com", "@", "MX", "smtp.xutonglin.com", preference=10)
    report = lab.diagnose("xutonglin.com")
    assert result(report, "MX target is not a CNAME")["Result"] == "fail"
    assert result(report, "SMTP banner")["Result"] == "warn"  # the banner names mail., the MX names smtp.

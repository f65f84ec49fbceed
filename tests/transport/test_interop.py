"""Independent clients — Python's smtplib and swaks — against the real endpoint of TMG's published port.

From outside the lab a client appears as 100.100.100.100 (the scenario's outside client), and TMG's
publishing rule hands the connection to mail.xutonglin.com with that address kept (facts §6).
"""

from __future__ import annotations

import shutil
import smtplib
import subprocess

import pytest

from labkit.lab import Lab
from tests import expected, tools

from .conftest import ALLEN, CONTOSO, CONTOSO_IP, OUTSIDE_IP, SENDER, TMG_EXTERNAL, XUTONGLIN, internet_ready, smtp_to

SWAKS = shutil.which("swaks")


def test_smtplib_anonymous_refused_then_accepted(lab: Lab) -> None:
    with smtp_to(lab, TMG_EXTERNAL) as client:
        code, text = client.ehlo()
        assert code == 250 and text.decode().splitlines()[0] == f"mail.xutonglin.com Hello [{OUTSIDE_IP}]"
        assert "STARTTLS" not in text.decode()
        with pytest.raises(smtplib.SMTPSenderRefused) as info:
            client.sendmail("someone@example.org", [ALLEN], b"Subject: hi\r\n\r\nhello\r\n")
        assert (info.value.smtp_code, info.value.smtp_error.decode()) == (530, expected.NOT_AUTHENTICATED[4:])
    internet_ready(lab)
    with smtp_to(lab, TMG_EXTERNAL) as client:
        refused = client.sendmail("someone@example.org", [ALLEN], b"Subject: from smtplib\r\n\r\nhello\r\n")
        assert refused == {}
    lab.settle()
    allen = lab.mailbox(ALLEN)
    assert list(allen.messages["Subject"]) == ["from smtplib"]
    received = lab.server(XUTONGLIN).get_message_tracking_log(event_id="RECEIVE").iloc[0]
    assert received["ClientIp"] == OUTSIDE_IP and received["ClientHostname"] == "client.example"


def test_smtplib_relay_is_refused(lab: Lab) -> None:
    internet_ready(lab)
    with smtp_to(lab, TMG_EXTERNAL) as client:
        client.ehlo()
        assert client.mail("someone@example.org")[0] == 250
        code, text = client.rcpt("victim@fabrikam.com")
        assert f"{code} {text.decode()}" == expected.UNABLE_TO_RELAY
        assert f"{client.rcpt(ALLEN)[0]}" == "250"
    lab.settle()
    assert lab.server(XUTONGLIN).get_queue()["MessageCount"].sum() == 0


def test_smtplib_authenticated_submission_may_relay(lab: Lab) -> None:
    internet_ready(lab)
    with smtp_to(lab, CONTOSO_IP, 587) as client:
        client.ehlo()
        assert client.has_extn("auth")
        with pytest.raises(smtplib.SMTPAuthenticationError) as info:
            client.login(SENDER, "wrong")
        assert f"{info.value.smtp_code} {info.value.smtp_error.decode()}" == expected.AUTH_FAILED
        assert client.login(SENDER, expected.DEFAULT_PASSWORD)[0] == 235
        assert client.sendmail(SENDER, [ALLEN], b"Subject: via 587\r\n\r\nfrom my own client\r\n") == {}
        with pytest.raises(smtplib.SMTPSenderRefused) as spoof:
            client.sendmail("ceo@contoso.com", [ALLEN], b"Subject: spoof\r\n\r\n.\r\n")
        assert spoof.value.smtp_error.decode() == expected.CANNOT_SEND_AS[4:]
    lab.settle()
    assert list(lab.mailbox(ALLEN).messages["Subject"]) == ["via 587"]
    rx = lab.server(CONTOSO).get_message_tracking_log(event_id="RECEIVE").iloc[0]
    assert rx["ConnectorId"] == "MAIL\\Client MAIL"


def test_swaks(lab: Lab) -> None:
    if SWAKS is None:
        tools.missing("swaks", "swaks")
    host, port = lab.endpoint(TMG_EXTERNAL, 25)

    def swaks(*args: str) -> subprocess.CompletedProcess[str]:
        assert SWAKS is not None
        return subprocess.run(
            [SWAKS, "--server", host, "--port", str(port), "--ehlo", "swaks.example", "--timeout", "30", *args],
            capture_output=True,
            text=True,
            check=False,
        )

    refused = swaks("--from", "someone@example.org", "--to", ALLEN)
    assert refused.returncode != 0 and expected.NOT_AUTHENTICATED in refused.stdout
    internet_ready(lab)
    sent = swaks("--from", "someone@example.org", "--to", ALLEN, "--header", "Subject: from swaks")
    assert sent.returncode == 0, sent.stdout
    assert "250 2.6.0" in sent.stdout and "Queued mail for delivery" in sent.stdout
    relay = swaks("--from", "someone@example.org", "--to", "victim@fabrikam.com")
    assert relay.returncode != 0 and expected.UNABLE_TO_RELAY in relay.stdout
    lab.settle()
    assert list(lab.mailbox(ALLEN).messages["Subject"]) == ["from swaks"]

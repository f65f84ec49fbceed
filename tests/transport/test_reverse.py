"""Allen replies: out through TMG's NAT, so contoso sees TMG's external address (facts §6, §9 "reverse")."""

from __future__ import annotations

from labkit.lab import Lab
from tests import expected

from .conftest import ALLEN, CONTOSO, SENDER, TMG_EXTERNAL, WITH_ANONYMOUS, XUTONGLIN, events, internet_ready, queue_row


def test_reply_goes_out_through_nat(lab: Lab) -> None:
    internet_ready(lab)
    xutonglin, contoso = lab.server(XUTONGLIN), lab.server(CONTOSO)

    # No send connector on xutonglin yet: the reply waits in Unreachable.
    lab.send_mail(ALLEN, SENDER, "Re: Hello", "Got it")
    lab.settle()
    assert queue_row(lab, XUTONGLIN, expected.NEXT_HOP_UNREACHABLE)["MessageCount"] == 1

    # A send connector: routed, but contoso's Default connector refuses anonymous → 530 and an NDR to allen.
    xutonglin.new_send_connector("Internet", ["*"])
    lab.settle()
    assert list(lab.mailbox(ALLEN).messages["Subject"]) == ["Undeliverable: Re: Hello"]

    # Anonymous on contoso too: delivered, and contoso saw TMG's external address, not 192.168.8.10.
    contoso.set_receive_connector("Default MAIL", permission_groups=WITH_ANONYMOUS)
    reply = lab.send_mail(ALLEN, SENDER, "Re: Hello (2)", "Got it")
    lab.settle()
    assert list(lab.mailbox(SENDER).messages["Message-ID"]) == [reply]
    received = contoso.get_message_tracking_log(message_id=reply)
    assert list(zip(received["EventId"], received["Source"], strict=True)) == [
        ("RECEIVE", "SMTP"),
        ("DELIVER", "STOREDRIVER"),
    ]
    assert received.iloc[0]["ClientIp"] == TMG_EXTERNAL
    header = str(lab.mailbox(SENDER).message(0).get_all("Received")[0])  # type: ignore[index]
    assert f"({TMG_EXTERNAL})" in header and "192.168.8.10" not in header
    assert events(lab, XUTONGLIN, message_id=reply)[-1] == ("SEND", "SMTP")
    # The MX lookup crossed TMG too (the DNS query comes from TMG's address).
    assert lab.tmg is not None
    log = lab.tmg.log()
    assert {"SMTP", "DNS"} <= set(log[log["Action"] == "Allowed"]["Protocol"])


def test_tmg_denying_outbound_smtp_keeps_the_reply_in_retry(lab: Lab) -> None:
    internet_ready(lab, reverse=True)
    assert lab.tmg is not None
    lab.tmg.remove_access_rule("Allow SMTP and DNS from Exchange")
    lab.tmg.new_access_rule("Allow DNS only", protocols=["DNS"], sources=["192.168.8.10"], destinations=["External"])
    lab.send_mail(ALLEN, SENDER, "Blocked", "by TMG")
    lab.settle()
    queue = queue_row(lab, XUTONGLIN, "contoso.com")
    assert queue["Status"] == "Retry" and queue["LastError"] == expected.failover_error(expected.UNABLE_TO_CONNECT)

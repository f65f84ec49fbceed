"""The seed's story over real SMTP and DNS, step by step, as Exchange 2010 shows it (facts §9)."""

from __future__ import annotations

from labkit.lab import Lab
from tests import expected

from .conftest import (
    ALLEN,
    CONTOSO,
    CONTOSO_IP,
    SENDER,
    TMG_EXTERNAL,
    WITH_ANONYMOUS,
    XUTONGLIN,
    StartLab,
    events,
    queue_row,
)


def test_the_whole_story(lab: Lab) -> None:
    contoso, xutonglin = lab.server(CONTOSO), lab.server(XUTONGLIN)

    # Out of the box (facts §3.1, §4.1): no send connector, anonymous off on the Default connector.
    assert len(contoso.get_send_connector()) == 0
    default = xutonglin.get_receive_connector("MAIL\\Default MAIL").iloc[0]
    assert "AnonymousUsers" not in default["PermissionGroups"] and default["Bindings"] == "{0.0.0.0:25}"

    # Step 3's failure: no send connector → Unreachable, DNS never asked (facts §9 row 2).
    first = lab.send_mail(SENDER, ALLEN, "Hello Allen", "Are you there?")
    assert first == "<00000001@mail.contoso.com>"
    lab.settle()
    unreachable = queue_row(lab, CONTOSO, expected.NEXT_HOP_UNREACHABLE)
    assert (unreachable["Identity"], unreachable["Status"], unreachable["MessageCount"]) == (
        "MAIL\\Unreachable",
        "Ready",
        1,
    )
    assert unreachable["LastError"] == expected.NO_MATCHING_CONNECTOR
    message = contoso.get_message("MAIL\\Unreachable").iloc[0]
    assert (message["FromAddress"], message["Subject"], message["InternetMessageId"]) == (SENDER, "Hello Allen", first)
    assert message["LastError"] == expected.NO_MATCHING_CONNECTOR
    assert events(lab, CONTOSO) == [("SUBMIT", "STOREDRIVER"), ("RECEIVE", "STOREDRIVER")]

    # A send connector, but xutonglin.com has no MX and no apex A → Retry with InfoNoRecords (facts §9 row 2').
    contoso.new_send_connector("Internet", ["SMTP:*;1"], usage="Internet", dns_routing=True)
    lab.settle()
    queue = queue_row(lab, CONTOSO, "xutonglin.com")
    assert (queue["DeliveryType"], queue["Status"], queue["MessageCount"]) == ("DnsConnectorDelivery", "Retry", 1)
    assert queue["LastError"] == expected.DNS_INFO_NO_RECORDS
    assert queue["RetryCount"] == 1 and queue["NextRetryTime"] > queue["LastRetryTime"]
    assert expected.NEXT_HOP_UNREACHABLE not in set(contoso.get_queue()["NextHopDomain"])

    # Step 2's fix: the MX records. Retry now → xutonglin refuses anonymous: 530 at MAIL → NDR (facts §9 row 4).
    lab.dns.add_record("xutonglin.com", "@", "MX", "mail.xutonglin.com", preference=10)
    lab.dns.add_record("contoso.com", "@", "MX", "mail.contoso.com", preference=10)
    contoso.retry_queue(queue["Identity"])
    lab.settle()
    assert queue_row(lab, CONTOSO, "xutonglin.com")["MessageCount"] == 0
    fail = contoso.get_message_tracking_log(event_id="FAIL").iloc[0]
    assert (fail["Source"], fail["RecipientStatus"], fail["MessageId"]) == ("SMTP", expected.NOT_AUTHENTICATED, first)
    assert events(lab, CONTOSO)[2:] == [("FAIL", "SMTP"), ("DSN", "DSN"), ("DELIVER", "STOREDRIVER")]
    inbox = lab.mailbox(SENDER)
    assert list(inbox.messages["Subject"]) == ["Undeliverable: Hello Allen"]
    ndr = inbox.message(0)
    assert ndr.get_content_type() == "multipart/report"
    assert "mail.xutonglin.com #530 5.7.1 Client was not authenticated ##" in ndr.as_string()
    assert "Generating server: mail.contoso.com" in ndr.as_string()
    assert len(lab.mailbox(ALLEN)) == 0
    receive_log = xutonglin.get_protocol_log("receive")
    assert expected.NOT_AUTHENTICATED in set(receive_log["data"])
    assert any(str(r).startswith(f"{CONTOSO_IP}:") for r in receive_log["remote-endpoint"])

    # Step 4's fix: Anonymous users on xutonglin's Default connector → delivered (facts §9 row 4').
    xutonglin.set_receive_connector("MAIL\\Default MAIL", permission_groups=WITH_ANONYMOUS)
    second = lab.send_mail(SENDER, ALLEN, "Hello again", "Now?")
    lab.settle()
    allen = lab.mailbox(ALLEN)
    assert list(allen.messages["Message-ID"]) == [second]
    received = allen.message(0).get_all("Received")
    assert received is not None and len(received) == 2  # one per hop: contoso's mapi submission, xutonglin's SMTP
    assert f"from mail.contoso.com ({CONTOSO_IP}) by mail.xutonglin.com (192.168.8.10)" in " ".join(
        str(received[0]).split()
    )
    receive = xutonglin.get_message_tracking_log(message_id=second)
    assert list(zip(receive["EventId"], receive["Source"], strict=True)) == [
        ("RECEIVE", "SMTP"),
        ("DELIVER", "STOREDRIVER"),
    ]
    assert receive.iloc[0]["ClientIp"] == CONTOSO_IP  # TMG publishing keeps the client's address (facts §6)
    assert receive.iloc[0]["ConnectorId"] == "MAIL\\Default MAIL"
    send = contoso.get_message_tracking_log(message_id=second, event_id="SEND").iloc[0]
    assert send["ConnectorId"] == "Internet" and send["ServerIp"] == TMG_EXTERNAL
    assert send["RecipientStatus"] == expected.QUEUED.format(message_id=second)
    sent_log = contoso.get_protocol_log("send")
    assert f"EHLO {CONTOSO}" in set(sent_log["data"]) and f"{TMG_EXTERNAL}:25" in set(sent_log["remote-endpoint"])


def test_unreachable_is_resubmitted_by_retry_queue_after_enabling_a_connector(lab: Lab) -> None:
    contoso = lab.server(CONTOSO)
    lab.send_mail(SENDER, ALLEN, "Waiting", "in Unreachable")
    lab.settle()
    contoso.new_send_connector("Off", ["fabrikam.com"])  # does not cover xutonglin.com: stays Unreachable
    lab.settle()
    assert queue_row(lab, CONTOSO, expected.NEXT_HOP_UNREACHABLE)["MessageCount"] == 1
    contoso.set_send_connector("Off", address_spaces=["*.xutonglin.com;5"])  # a routing change resubmits
    lab.settle()
    assert queue_row(lab, CONTOSO, "xutonglin.com")["LastError"] == expected.DNS_INFO_NO_RECORDS
    contoso.remove_send_connector("Off")
    lab.settle()
    assert queue_row(lab, CONTOSO, expected.NEXT_HOP_UNREACHABLE)["MessageCount"] == 1
    contoso.new_send_connector("Internet", ["*"])
    contoso.retry_queue("MAIL\\Unreachable", resubmit=True)
    lab.settle()
    assert expected.NEXT_HOP_UNREACHABLE not in set(contoso.get_queue()["NextHopDomain"])


def test_nonexistent_domain_is_ndrd_at_once(lab: Lab) -> None:
    contoso = lab.server(CONTOSO)
    contoso.new_send_connector("Internet", ["*"])
    lab.send_mail(SENDER, "someone@nosuch.xutonglin.com", "Nobody", "home")
    lab.settle()
    fail = contoso.get_message_tracking_log(event_id="FAIL").iloc[0]
    assert fail["RecipientStatus"] == expected.DNS_NONEXISTENT_DOMAIN
    ndr = lab.mailbox(SENDER).message(0)
    assert "Status: 5.4.4" in ndr.as_string()


def test_unknown_local_recipient_gets_5_1_1(lab: Lab) -> None:
    lab.send_mail(SENDER, ["contoso@contoso.com", "nobody@contoso.com"], "Two", "one unknown")
    lab.settle()
    inbox = lab.mailbox(SENDER)
    assert sorted(inbox.messages["Subject"]) == ["Two", "Undeliverable: Two"]
    assert "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##" in inbox.message(1).as_string()


def test_a_refused_connection_is_retried_with_the_failover_text(start_lab: StartLab) -> None:
    lab = start_lab(step=3)  # A and MX records
    assert lab.tmg is not None
    lab.tmg.remove_publishing_rule("Publish mail.xutonglin.com SMTP")
    contoso = lab.server(CONTOSO)
    contoso.new_send_connector("Internet", ["*"])
    lab.send_mail(SENDER, ALLEN, "Closed port", "nothing listens on 100.100.100.254:25")
    lab.settle()
    queue = queue_row(lab, CONTOSO, "xutonglin.com")
    assert queue["Status"] == "Retry"
    assert queue["LastError"] == expected.failover_error(expected.UNABLE_TO_CONNECT)
    assert queue["LastError"].startswith(
        '451 4.4.0 Primary target IP address responded with: "421 4.2.1 Unable to connect."'
    )


def test_retries_follow_the_configured_interval(start_lab: StartLab) -> None:
    from datetime import timedelta

    lab = start_lab(step=3, transient_failure_retry_interval=timedelta(seconds=0.3))
    contoso = lab.server(CONTOSO)
    contoso.new_send_connector("Internet", ["*"])
    lab.send_mail(SENDER, ALLEN, "Retried", "until anonymous is allowed")
    lab.settle()
    assert queue_row(lab, CONTOSO, "xutonglin.com")["MessageCount"] == 0  # 530 → NDR; nothing to retry
    lab.server(XUTONGLIN).set_receive_connector("Default MAIL", permission_groups=WITH_ANONYMOUS)
    assert lab.tmg is not None
    lab.tmg.remove_publishing_rule("Publish mail.xutonglin.com SMTP")
    lab.send_mail(SENDER, ALLEN, "Retried", "until TMG publishes again")
    lab.settle()
    assert queue_row(lab, CONTOSO, "xutonglin.com")["Status"] == "Retry"
    lab.tmg.new_publishing_rule("Publish mail.xutonglin.com SMTP", "192.168.8.10")
    import time

    for _ in range(200):  # the queue's own timer retries (no Retry-Queue); poll until it has
        lab.settle()
        if len(lab.mailbox(ALLEN)):
            break
        time.sleep(0.05)
    assert list(lab.mailbox(ALLEN).messages["Subject"]) == ["Retried"]

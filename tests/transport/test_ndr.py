"""The NDR: RFC 3464 multipart/report in the Exchange 2010 layout (facts §2.3, §8.3)."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

from labkit.transport.ndr import Failure, NdrRequest, build_ndr
from tests import expected

ORIGINAL = (
    b"Received: from a\r\nFrom: contoso@contoso.com\r\nSubject: Hello\r\nMessage-ID: <1@x>\r\n\r\nSecret body\r\n"
)


def ndr(*failures: Failure) -> EmailMessage:
    raw = build_ndr(
        NdrRequest(
            generating_server="mail.contoso.com",
            to="contoso@contoso.com",
            from_domain="contoso.com",
            message_id="<00000009@mail.contoso.com>",
            date="Sat, 28 Nov 2026 09:00:00 +0000",
            arrival_date="Sat, 28 Nov 2026 08:59:00 +0000",
            boundary="_000_b_",
            original=ORIGINAL,
            failures=failures,
        )
    )
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_layout_for_a_remote_rejection() -> None:
    msg = ndr(Failure("allen@xutonglin.com", expected.NOT_AUTHENTICATED, "mail.xutonglin.com"))
    assert msg["Subject"] == "Undeliverable: Hello"
    assert msg["From"].addresses[0].display_name == "Microsoft Exchange"
    assert msg.get_content_type() == "multipart/report" and msg.get_param("report-type") == "delivery-status"
    human, status, headers = msg.get_payload()  # type: ignore[misc]
    text = human.get_content()
    for line in (
        "Delivery has failed to these recipients or groups:",
        "Diagnostic information for administrators:",
        "Generating server: mail.contoso.com",
        "mail.xutonglin.com #530 5.7.1 Client was not authenticated ##",
        "Your message wasn't delivered because of security policies.",
    ):
        assert line in text
    assert status.get_content_type() == "message/delivery-status"
    fields = status.as_string()
    for line in (
        "Reporting-MTA: dns;mail.contoso.com",
        "Final-Recipient: rfc822;allen@xutonglin.com",
        "Action: failed",
        "Status: 5.7.1",
        "Remote-MTA: dns;mail.xutonglin.com",
        "Diagnostic-Code: smtp;530 5.7.1 Client was not authenticated",
    ):
        assert line in fields
    assert headers.get_content_type() == "text/rfc822-headers"
    assert "Message-ID: <1@x>" in headers.as_string() and "Secret body" not in msg.as_string()


def test_local_failure_has_no_remote_mta() -> None:
    msg = ndr(Failure("bob@xutonglin.com", expected.RECIP_NOT_FOUND), Failure("eve@xutonglin.com", expected.RECIP_NOT_FOUND))
    text = msg.as_string()
    assert "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##" in text
    assert "Remote-MTA" not in text and text.count("Final-Recipient:") == 2
    assert "couldn't be found" in text


def test_status_codes() -> None:
    assert Failure("a@b.com", expected.QUEUE_EXPIRED).status == "4.4.7"
    assert Failure("a@b.com", "554 no enhanced code").status == "5.0.0"

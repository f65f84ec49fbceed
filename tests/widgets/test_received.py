"""The Received: chain parser (RFC 5321 §4.4)."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from labkit.widgets.received import parse_received, received_chain

EXCHANGE = (
    "from mail.contoso.com (100.100.100.10) by mail.xutonglin.com (192.168.8.10) "
    "with Microsoft SMTP Server id 14.0.639.21; Sat, 28 Nov 2026 09:00:01 +0000"
)


def test_exchange_style_header() -> None:
    hop = parse_received(EXCHANGE)
    assert hop == {
        "from": "mail.contoso.com (100.100.100.10)",
        "by": "mail.xutonglin.com (192.168.8.10)",
        "via": "",
        "with": "Microsoft SMTP Server",
        "id": "14.0.639.21",
        "for": "",
        "time": "Sat, 28 Nov 2026 09:00:01 +0000",
    }


def test_keywords_inside_comments_and_other_orders() -> None:
    hop = parse_received("by mx.example (Postfix, from userid 0 with love) id 42 for <a@b.com>; Mon, 1 Jan 2024 00:00:00 +0000")
    assert hop["from"] == "" and hop["by"] == "mx.example (Postfix, from userid 0 with love)"
    assert hop["id"] == "42" and hop["for"] == "<a@b.com>"
    hop = parse_received("from client (helo=x [100.100.100.100])\r\n\tby mail.contoso.com\r\n with ESMTP")
    assert hop["from"] == "client (helo=x [100.100.100.100])" and hop["by"] == "mail.contoso.com"
    assert hop["with"] == "ESMTP" and hop["time"] == ""


def test_chain_is_oldest_first_from_a_message() -> None:
    raw = (
        b"Received: from mail.contoso.com (100.100.100.254) by mail.xutonglin.com (192.168.8.10)\r\n"
        b" with Microsoft SMTP Server id 14.0.639.21; Sat, 28 Nov 2026 09:00:02 +0000\r\n"
        b"Received: from client (100.100.100.100) by mail.contoso.com (100.100.100.10)\r\n"
        b" with Microsoft SMTP Server id 14.0.639.21; Sat, 28 Nov 2026 09:00:01 +0000\r\n"
        b"Subject: hi\r\n\r\nbody\r\n"
    )
    chain = received_chain(message_from_bytes(raw, policy=default))
    assert list(chain.columns) == ["Hop", "By", "From", "With", "Time"]
    assert chain["Hop"].tolist() == [1, 2]
    assert chain["By"].tolist() == ["mail.contoso.com (100.100.100.10)", "mail.xutonglin.com (192.168.8.10)"]
    assert chain["Time"].iloc[1] == "Sat, 28 Nov 2026 09:00:02 +0000"


def test_no_received_fields() -> None:
    message = EmailMessage()
    message["Subject"] = "local"
    chain = received_chain(message)
    assert chain.empty and list(chain.columns) == ["Hop", "By", "From", "With", "Time"]
    assert received_chain("Subject: x").empty

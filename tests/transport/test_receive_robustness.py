"""Malformed SMTP input gets the product's replies, nothing half-stored, and the server keeps serving others."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest

from labkit.lab import Lab
from tests import expected

from .conftest import ALLEN, CONTOSO, CONTOSO_IP, TMG_EXTERNAL, XUTONGLIN, StartLab, internet_ready


class Raw:
    """A bare SMTP client on a blocking socket: send exact bytes, read exact replies."""

    def __init__(self, lab: Lab, ip: str, port: int = 25) -> None:
        self.sock = socket.create_connection(lab.endpoint(ip, port), timeout=30)
        self.buf = b""

    def line(self) -> str:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed; buffered {self.buf!r}")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line.decode()

    def reply(self) -> str:
        """The last line of the next reply (multi-line replies read to the end)."""
        while True:
            line = self.line()
            if len(line) < 4 or line[3] != "-":
                return line

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def lines(self, text: str) -> list[str]:
        """Every line of the reply to one command."""
        self.send(text.encode() + b"\r\n")
        result = [self.line()]
        while len(result[-1]) >= 4 and result[-1][3] == "-":
            result.append(self.line())
        return result

    def cmd(self, text: str | bytes) -> str:
        self.send((text.encode() if isinstance(text, str) else text) + b"\r\n")
        return self.reply()

    def closed(self) -> bool:
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, TimeoutError):
            return True

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def ready(lab: Lab) -> Lab:
    internet_ready(lab)
    return lab


@pytest.fixture
def raw(ready: Lab) -> Iterator[Raw]:
    client = Raw(ready, TMG_EXTERNAL)
    assert client.reply().startswith("220 mail.xutonglin.com Microsoft ESMTP MAIL Service ready at ")
    yield client
    client.close()


def still_serving(lab: Lab) -> None:
    other = Raw(lab, TMG_EXTERNAL)
    try:
        assert other.reply().startswith("220 ")
        assert other.cmd("EHLO other.example").startswith("250 ")
        assert other.cmd("QUIT") == expected.CLOSING
    finally:
        other.close()


def test_commands_out_of_order(raw: Raw, ready: Lab) -> None:
    assert raw.cmd("MAIL FROM:<a@example.org>") == expected.SEND_HELLO_FIRST
    assert raw.cmd("EHLO client.example") == "250 8BITMIME"
    assert raw.cmd("RCPT TO:<allen@xutonglin.com>") == expected.NEED_MAIL
    assert raw.cmd("DATA") == expected.NEED_RCPT
    assert raw.cmd("MAIL FROM:<a@example.org>") == expected.SENDER_OK
    assert raw.cmd("MAIL FROM:<b@example.org>") == expected.SENDER_ALREADY
    assert raw.cmd("RSET") == expected.RESETTING
    assert raw.cmd("NOOP") == expected.OK
    assert raw.cmd("VRFY allen") == expected.CANNOT_VRFY
    assert raw.cmd("HELP") == expected.HELP_LINES[-1]
    assert raw.cmd("QUIT") == expected.CLOSING


def test_unknown_verbs_and_syntax(raw: Raw, ready: Lab) -> None:
    assert raw.cmd("EHLO") == "501 5.0.0 EHLO requires domain address"
    assert raw.cmd("XYZZY plugh") == expected.UNRECOGNIZED
    assert raw.cmd("EXPN staff") == expected.UNRECOGNIZED
    assert raw.cmd("HELO client.example") == f"250 mail.xutonglin.com Hello [{'100.100.100.100'}]"
    assert raw.cmd("MAIL FROM:<not an address>") == expected.INVALID_ADDRESS
    assert raw.cmd("MAIL FROM:<a\x00b@example.org>") == expected.INVALID_ADDRESS
    assert raw.cmd("STARTTLS") == expected.TLS_NOT_AVAILABLE
    still_serving(ready)


def test_too_many_errors_closes(raw: Raw) -> None:
    assert raw.cmd("EHLO client.example").startswith("250")
    replies = [raw.cmd(f"BOGUS{i}") for i in range(5)]
    assert replies[:4] == [expected.UNRECOGNIZED] * 4 and replies[4] == expected.TOO_MANY_ERRORS
    assert raw.closed()


def test_over_long_lines(raw: Raw, ready: Lab) -> None:
    assert raw.cmd("EHLO client.example").startswith("250")
    assert raw.cmd("NOOP " + "x" * 5000) == expected.LINE_TOO_LONG
    assert raw.cmd("NOOP") == expected.OK
    assert raw.cmd("MAIL FROM:<a@example.org>") == expected.SENDER_OK
    assert raw.cmd("RCPT TO:<allen@xutonglin.com>") == expected.RECIPIENT_OK
    assert raw.cmd("DATA").startswith("354 ")
    assert raw.cmd(b"Subject: long\r\n\r\n" + b"y" * 3000 + b"\r\n.") == expected.LINE_TOO_LONG
    ready.settle()
    assert len(ready.mailbox(ALLEN)) == 0


def test_oversize_message(ready: Lab) -> None:
    ready.server(XUTONGLIN).set_receive_connector("Default MAIL", max_message_size=2048)
    raw = Raw(ready, TMG_EXTERNAL)
    try:
        raw.reply()
        assert "250-SIZE 2048" in raw.lines("EHLO a.example")
        assert raw.cmd("MAIL FROM:<a@example.org> SIZE=5000") == expected.SIZE_EXCEEDED
        assert raw.cmd("MAIL FROM:<a@example.org>") == expected.SENDER_OK
        assert raw.cmd("RCPT TO:<allen@xutonglin.com>") == expected.RECIPIENT_OK
        assert raw.cmd("DATA").startswith("354 ")
        body = b"Subject: big\r\n\r\n" + (b"z" * 70 + b"\r\n") * 100
        assert raw.cmd(body + b".") == expected.SIZE_EXCEEDED
        assert raw.cmd("NOOP") == expected.OK
    finally:
        raw.close()
    ready.settle()
    assert len(ready.mailbox(ALLEN)) == 0
    assert "RECEIVE" not in set(ready.server(XUTONGLIN).get_message_tracking_log()["EventId"])


def test_too_many_recipients(ready: Lab) -> None:
    ready.server(XUTONGLIN).set_receive_connector("Default MAIL", max_recipients_per_message=2)
    ready.server(XUTONGLIN).new_mailbox("bob@xutonglin.com")
    raw = Raw(ready, TMG_EXTERNAL)
    try:
        raw.reply()
        raw.cmd("EHLO a.example")
        raw.cmd("MAIL FROM:<a@example.org>")
        assert raw.cmd("RCPT TO:<allen@xutonglin.com>") == expected.RECIPIENT_OK
        assert raw.cmd("RCPT TO:<bob@xutonglin.com>") == expected.RECIPIENT_OK
        assert raw.cmd("RCPT TO:<carol@xutonglin.com>") == expected.TOO_MANY_RECIPIENTS
        assert raw.cmd("DATA").startswith("354")
        assert raw.cmd(b"Subject: two\r\n\r\nhi\r\n.").startswith("250 2.6.0 ")
    finally:
        raw.close()
    ready.settle()
    assert len(ready.mailbox(ALLEN)) == 1 and len(ready.mailbox("bob@xutonglin.com")) == 1


def test_bare_lf_and_nul_in_data(raw: Raw, ready: Lab) -> None:
    raw.cmd("EHLO a.example")
    raw.cmd("MAIL FROM:<a@example.org>")
    raw.cmd("RCPT TO:<allen@xutonglin.com>")
    assert raw.cmd("DATA").startswith("354")
    # A bare LF does not end a line, so "\n.\n" cannot end the data early (no SMTP smuggling).
    raw.send(b"Subject: lf\r\n\r\nline one\nline\x00two\n.\nMAIL FROM:<evil@example.org>\r\n")
    reply = raw.cmd(b".")
    assert reply.startswith("250 2.6.0 ") and reply.endswith("Queued mail for delivery")
    ready.settle()
    message = ready.mailbox(ALLEN).message(0)
    assert message["Subject"] == "lf" and "evil@example.org" in message.get_content()
    assert len(ready.mailbox(ALLEN)) == 1


def test_disconnect_mid_data_stores_nothing(ready: Lab) -> None:
    raw = Raw(ready, TMG_EXTERNAL)
    raw.reply()
    raw.cmd("EHLO a.example")
    raw.cmd("MAIL FROM:<a@example.org>")
    raw.cmd("RCPT TO:<allen@xutonglin.com>")
    assert raw.cmd("DATA").startswith("354")
    raw.send(b"Subject: half\r\n\r\nhalf a messa")
    raw.close()
    still_serving(ready)
    ready.settle()
    assert len(ready.mailbox(ALLEN)) == 0
    log = ready.server(XUTONGLIN).get_protocol_log("receive")
    assert "-" in set(log["event"])


def test_silent_client_times_out(start_lab: StartLab) -> None:
    lab = start_lab(step=3, connection_inactivity_timeout=timedelta(seconds=0.3))
    raw = Raw(lab, CONTOSO_IP)
    try:
        assert raw.reply().startswith("220 mail.contoso.com ")
        assert raw.reply() == expected.INACTIVITY_TIMEOUT  # no command sent at all
        assert raw.closed()
    finally:
        raw.close()
    log = lab.server(CONTOSO).get_protocol_log("receive")
    assert expected.INACTIVITY_TIMEOUT in set(log["data"])


def test_anonymous_errors_are_tarpitted(raw: Raw, ready: Lab) -> None:
    raw.cmd("EHLO a.example")
    raw.cmd("FOO")
    contexts = set(ready.server(XUTONGLIN).get_protocol_log("receive")["context"])
    assert "Tarpit for '0.00:00:00.2000000'" in contexts

"""Non-delivery reports in the Exchange 2010 layout, as RFC 3464 ``multipart/report`` messages.

Three parts (facts §2.3, §8.3): the human-readable text ("Delivery has failed to
these recipients or groups:", "Diagnostic information for administrators:",
"Generating server: ...", and per recipient the remote server's reply as
``host #reply ##``), the ``message/delivery-status`` fields, and the original
message's headers as ``text/rfc822-headers``.

>>> from email import message_from_bytes, policy
>>> raw = build_ndr(NdrRequest(
...     generating_server="mail.contoso.com", to="contoso@contoso.com", from_domain="contoso.com",
...     message_id="<00000002@mail.contoso.com>", date="Sat, 28 Nov 2026 09:00:00 +0000",
...     arrival_date="Sat, 28 Nov 2026 08:59:59 +0000", boundary="_000_00000002_",
...     original=b"Subject: Hello\\r\\nMessage-ID: <1@x>\\r\\n\\r\\nbody\\r\\n",
...     failures=(Failure("allen@xutonglin.com", "530 5.7.1 Client was not authenticated", "mail.xutonglin.com"),)))
>>> msg = message_from_bytes(raw, policy=policy.default)
>>> msg["Subject"], msg.get_content_type(), msg.get_param("report-type")
('Undeliverable: Hello', 'multipart/report', 'delivery-status')
>>> "mail.xutonglin.com #530 5.7.1 Client was not authenticated ##" in raw.decode()
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.header import decode_header, make_header

from labkit.transport import facts

_STATUS = re.compile(r"^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b")


@dataclass(frozen=True)
class Failure:
    """One failed recipient: its address, the reply that failed it, and the remote server (if one answered)."""

    recipient: str
    reply: str
    remote_mta: str = ""

    @property
    def status(self) -> str:
        """The enhanced status code of the reply (RFC 3463), ``5.0.0`` when the reply has none.

        >>> Failure("a@b.com", "550 4.4.7 QUEUE.Expired; message expired").status
        '4.4.7'
        """
        match = _STATUS.match(self.reply)
        return match.group(1) if match else f"{self.reply[:1] or '5'}.0.0"


@dataclass(frozen=True)
class NdrRequest:
    """Everything an NDR needs; the server fills it, `build_ndr` renders it."""

    generating_server: str
    to: str
    from_domain: str
    message_id: str
    date: str
    arrival_date: str
    boundary: str
    original: bytes
    failures: tuple[Failure, ...]


def friendly(status: str) -> str:
    """The user-facing sentence for an enhanced status code (lab's wording, facts.NDR_FRIENDLY).

    >>> friendly("5.7.1").startswith("Your message wasn't delivered because of security policies")
    True
    """
    for key in (status, status[:3]):
        if key in facts.NDR_FRIENDLY:
            return facts.NDR_FRIENDLY[key]
    return facts.NDR_FRIENDLY[""]


def original_headers(content: bytes) -> str:
    """The header block of a message, as text with CRLF line ends."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        if sep in content:
            content = content.split(sep, 1)[0]
            break
    text = content.decode("utf-8", "replace")
    return "\r\n".join(text.splitlines())


def _subject(headers: str) -> str:
    for line in headers.split("\r\n"):
        if line.lower().startswith("subject:"):
            raw = line.split(":", 1)[1].strip()
            try:
                return str(make_header(decode_header(raw)))
            except (UnicodeDecodeError, LookupError):
                return raw
    return ""


def build_ndr(req: NdrRequest) -> bytes:
    """Render the NDR as the bytes of an RFC 5322 message with CRLF line ends."""
    headers = original_headers(req.original)
    subject = facts.NDR_SUBJECT_PREFIX + _subject(headers)
    human: list[str] = [facts.NDR_HEADLINE, ""]
    for failure in req.failures:
        human += [failure.recipient, friendly(failure.status), ""]
    human += [facts.NDR_ADMIN, "", facts.NDR_GENERATING.format(server=req.generating_server), ""]
    for failure in req.failures:
        # facts §2.3: a remote rejection is written "host #reply ##", a local one "#reply ##".
        line = f"{failure.remote_mta} #{failure.reply} ##" if failure.remote_mta else f"#{failure.reply} ##"
        human += [failure.recipient, line, ""]
    human += [facts.NDR_ORIGINAL_HEADERS, "", headers, ""]
    status: list[str] = [
        f"Reporting-MTA: dns;{req.generating_server}",
        f"Received-From-MTA: dns;{req.generating_server}",
        f"Arrival-Date: {req.arrival_date}",
        "",
    ]
    for failure in req.failures:
        status += [f"Final-Recipient: rfc822;{failure.recipient}", "Action: failed", f"Status: {failure.status}"]
        if failure.remote_mta:
            status.append(f"Remote-MTA: dns;{failure.remote_mta}")
        status += [f"Diagnostic-Code: smtp;{failure.reply}", ""]
    human_text = "\r\n".join(human)
    charset = "us-ascii" if human_text.isascii() else "utf-8"
    encoding = "7bit" if human_text.isascii() else "8bit"
    subject_header = subject if subject.isascii() else str(make_header([(subject.encode("utf-8"), "utf-8")]))
    b = req.boundary
    lines = [
        f"From: {facts.NDR_FROM_NAME} <{facts.NDR_FROM_LOCAL}@{req.from_domain}>",
        f"To: <{req.to}>",
        f"Date: {req.date}",
        f"Subject: {subject_header}",
        f"Message-ID: {req.message_id}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{b}"',
        "Auto-Submitted: auto-replied",
        "",
        f"--{b}",
        f'Content-Type: text/plain; charset="{charset}"',
        f"Content-Transfer-Encoding: {encoding}",
        "",
        human_text,
        f"--{b}",
        "Content-Type: message/delivery-status",
        "",
        "\r\n".join(status),
        f"--{b}",
        "Content-Type: text/rfc822-headers",
        "",
        headers,
        "",
        f"--{b}--",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")

"""Pictures of a message: its path hop by hop and its SMTP conversation — real labs, deterministic output."""

from __future__ import annotations

import re

import pytest

from labkit.errors import UnknownObject
from labkit.lab import Lab
from labkit.pictures.picture import MERMAID_MIME, Picture
from labkit.transport import facts
from tests.conftest import StartLab

CONTOSO, XUTONGLIN = "mail.contoso.com", "mail.xutonglin.com"
SENDER, ALLEN = "contoso@contoso.com", "allen@xutonglin.com"
WITH_ANONYMOUS = ["AnonymousUsers", "ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers"]
INBOUND_HOPS = ["Mailbox", "Submission", "Routing", "MX lookup", "Connection", "TMG (publishing)", "Receive connector"]
OUTBOUND_HOPS = [
    "Mailbox",
    "Submission",
    "Routing",
    "MX lookup",
    "TMG (outbound NAT)",
    "Connection",
    "Receive connector",
]



def send(lab: Lab, sender: str = SENDER, recipient: str | list[str] = ALLEN) -> str:
    message_id = lab.send_mail(sender, recipient, "Hello", "Hello from the pictures test")
    lab.settle()
    return message_id


def hop_lines(picture: Picture) -> list[str]:
    return [ln for ln in picture.text.splitlines() if re.match(r"^  \S \s*\d+ ", ln)]


def assert_nothing_volatile(picture: Picture) -> None:
    for form in (picture.text, picture.svg, picture.mermaid):
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", form), "a timestamp"
        assert "08D0" not in form, "a session id"
        assert not re.search(r"\b\d{1,3}(\.\d{1,3}){3}:(?!25\b)\d+", form), "a real port"
        assert not re.search(r"\b\d\d:\d\d:\d\d \+0000", form), "a banner date"


# -- the path ----------------------------------------------------------------------------------------------------------
def test_path_delivered_names_every_hop(start_lab: StartLab) -> None:
    lab = start_lab(5)
    picture = lab.path(send(lab))
    lines = hop_lines(picture)
    assert [ln.split()[2] for ln in lines][:3] == ["Mailbox", "Submission", "Routing"]
    for hop in [*INBOUND_HOPS, "Mailbox"]:
        assert hop in picture.text
    assert len(lines) == 8 and all(ln.lstrip().startswith("✔") for ln in lines)
    assert "192.168.8.10:25" in picture.text and "Result: delivered." in picture.text
    assert_nothing_volatile(picture)


def test_path_marks_the_530_stop(start_lab: StartLab) -> None:
    lab = start_lab(4)
    picture = lab.path(send(lab))
    stopped = [ln for ln in hop_lines(picture) if "✘" in ln]
    assert len(stopped) == 1 and "Receive connector" in stopped[0] and facts.NOT_AUTHENTICATED in stopped[0]
    assert f"Result: stopped at Receive connector — MAIL → {facts.NOT_AUTHENTICATED}" in picture.text
    assert hop_lines(picture)[-1].lstrip().startswith("·")  # the mailbox: not reached
    assert "#fce8e6" in picture.svg and "flowchart TB" in picture.mermaid


def test_path_unreachable_stops_at_routing(start_lab: StartLab) -> None:
    lab = start_lab(3)
    picture = lab.path(send(lab))
    for hop in [*INBOUND_HOPS, "Mailbox"]:
        assert hop in picture.text
    assert f"waiting at Routing — MAIL\\Unreachable: {facts.NO_MATCHING_CONNECTOR}" in picture.text


def test_path_retry_at_tmg_without_publishing(start_lab: StartLab) -> None:
    lab = start_lab(5)
    assert lab.tmg is not None
    lab.tmg.remove_publishing_rule("Publish mail.xutonglin.com SMTP")
    picture = lab.path(send(lab))
    assert "waiting at TMG (publishing)" in picture.text
    assert facts.failover_error(facts.UNABLE_TO_CONNECT) in picture.text


def test_path_reverse_crosses_tmg_nat(start_lab: StartLab) -> None:
    lab = start_lab(5)
    lab.server(XUTONGLIN).new_send_connector("Internet", ["*"])
    lab.server(CONTOSO).set_receive_connector("MAIL\\Default MAIL", permission_groups=WITH_ANONYMOUS)
    picture = lab.path(send(lab, ALLEN, SENDER))
    for hop in [*OUTBOUND_HOPS, "Mailbox"]:
        assert hop in picture.text
    assert "TMG (publishing)" not in picture.text
    assert "192.168.8.10 → 100.100.100.254 (NAT)" in picture.text and "Result: delivered." in picture.text


def test_path_local_and_multiple_recipients(start_lab: StartLab) -> None:
    lab = start_lab(5)
    picture = lab.path(send(lab, SENDER, [ALLEN, "bob@contoso.com"]))
    assert "  to allen@xutonglin.com:" in picture.text and "  to bob@contoso.com:" in picture.text
    assert "local delivery" in picture.text and facts.RECIP_NOT_FOUND in picture.text


def test_path_is_deterministic(start_lab: StartLab) -> None:
    one, two = start_lab(4), start_lab(4)
    first, second = send(one), send(two)
    assert first == second
    a, b = one.path(first), two.path(second)
    assert (a.text, a.svg, a.mermaid) == (b.text, b.svg, b.mermaid)
    again = one.path(first)
    assert (again.text, again.svg, again.mermaid) == (a.text, a.svg, a.mermaid)


def test_unknown_message(start_lab: StartLab) -> None:
    lab = start_lab(5)
    with pytest.raises(UnknownObject):
        lab.path("<nope@example>")
    with pytest.raises(UnknownObject):
        lab.conversation("<nope@example>")


# -- the conversation ---------------------------------------------------------------------------------------------------
def test_conversation_transcript(start_lab: StartLab) -> None:
    lab = start_lab(5)
    message_id = send(lab)
    picture = lab.conversation(message_id)
    text = picture.text.splitlines()
    assert text[0] == f"SMTP conversation for {message_id}"
    assert "  C: (TCP connect to 100.100.100.254:25)" in text
    assert "  S: 220 mail.xutonglin.com Microsoft ESMTP MAIL Service ready at <date>" in text
    assert "  C: EHLO mail.contoso.com" in text
    assert "  S: 250-mail.xutonglin.com Hello [100.100.100.10]" in text
    assert "  C: RCPT TO:<allen@xutonglin.com>" in text and "  C: DATA" in text
    assert f"  S: 250 2.6.0 {message_id} Queued mail for delivery" in text
    assert "  C: QUIT" in text and f"  S: {facts.CLOSING}" in text
    # The receiver's side of the same session: what it granted the anonymous client.
    assert any("session permissions: SMTPSubmit" in ln for ln in text)
    assert picture.mermaid.startswith("sequenceDiagram\n  participant C as mail.contoso.com")
    assert "C->>S: EHLO mail.contoso.com" in picture.mermaid and "S-->>C: 220" in picture.mermaid
    assert "#lt;allen@xutonglin.com#gt;" in picture.mermaid  # angle brackets escaped for Mermaid
    assert picture.svg.startswith("<svg") and picture.svg.count('stroke-dasharray="6,4"') >= 2  # two lifelines
    bundle = picture._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "image/svg+xml", MERMAID_MIME}
    assert_nothing_volatile(picture)


def test_conversation_shows_the_refusal(start_lab: StartLab) -> None:
    lab = start_lab(4)
    picture = lab.conversation(send(lab))
    assert f"  S: {facts.NOT_AUTHENTICATED}" in picture.text
    assert "  *  session permissions: (none)" in picture.text


def test_conversation_without_a_session(start_lab: StartLab) -> None:
    lab = start_lab(3)
    picture = lab.conversation(send(lab))
    assert "no SMTP session for this message (yet)" in picture.text


def test_conversation_is_deterministic(start_lab: StartLab) -> None:
    one, two = start_lab(5), start_lab(5)
    a, b = one.conversation(send(one)), two.conversation(send(two))
    assert (a.text, a.svg, a.mermaid) == (b.text, b.svg, b.mermaid)

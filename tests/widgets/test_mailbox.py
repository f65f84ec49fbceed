"""The OWA-like mailbox view against a real lab: list, reading pane, Received: chain."""

from __future__ import annotations

from labkit.widgets import MailboxView, open_mailbox

from .conftest import StartLab, replay


def test_read_a_delivered_message_and_its_hops(start_lab: StartLab) -> None:
    lab = start_lab(5)
    lab.send_mail("contoso@contoso.com", "allen@xutonglin.com", "Hello Allen", "Hi Allen, this came over the internet.")
    lab.settle()
    view = open_mailbox(lab, "allen@xutonglin.com")
    assert view.status_kind == "ok", view.status_text
    assert view.last_call == 'lab.mailbox("allen@xutonglin.com").messages'
    assert len(view.messages) == 1 and "Hello Allen" in view.message_list.options[0][0]
    view.message_list.value = 0  # a click on the first message
    assert view.last_call == 'lab.mailbox("allen@xutonglin.com").message(0)'
    assert view.message is not None and view.message["Subject"] == "Hello Allen"
    assert "this came over the internet" in view.reading_pane.value
    hops = view.hops
    assert list(hops.columns) == ["Hop", "By", "From", "With", "Time"]
    assert len(hops) >= 1 and "mail.xutonglin.com" in hops["By"].iloc[-1]
    assert any("mail.contoso.com" in value for value in hops["From"])
    assert "Received:" in view.raw_headers.value
    replayed = replay(view.last_call, lab)
    assert replayed["Message-ID"] == view.message["Message-ID"]


def test_empty_and_bad_mailboxes(start_lab: StartLab) -> None:
    lab = start_lab(1)
    view = MailboxView(lab, "allen@xutonglin.com")
    assert view.status_kind == "ok" and len(view.messages) == 0 and view.message_list.options == ()
    view.address.value = "nobody"
    view.open_button.click()
    assert view.status_kind == "error" and "`Mailbox`" in view.status_text
    view.address.value = "nobody@xutonglin.com"
    view.load()
    assert view.status_kind == "error" and "nobody@xutonglin.com" in view.status_text

"""The shell verbs: product columns, and bad input that teaches and changes nothing."""

from __future__ import annotations

import pandas as pd
import pytest

from labkit.errors import DuplicateObject, InvalidValue, LabkitError, UnknownObject
from labkit.lab import Lab

from .conftest import ALLEN, CONTOSO, SENDER, XUTONGLIN


def snapshot(lab: Lab) -> list[pd.DataFrame]:
    s = lab.server(CONTOSO)
    return [s.get_send_connector(), s.get_receive_connector(), s.get_accepted_domain(), s.get_mailbox(), s.get_queue()]


def test_columns_follow_the_product(lab: Lab) -> None:
    s = lab.server(CONTOSO)
    assert list(s.get_queue().columns)[:5] == ["Identity", "DeliveryType", "Status", "MessageCount", "NextHopDomain"]
    assert list(s.get_message().columns)[:6] == ["Identity", "FromAddress", "Status", "Size", "SCL", "Queue"]
    assert list(s.get_message_tracking_log().columns)[:5] == [
        "EventId",
        "Source",
        "Sender",
        "Recipients",
        "MessageSubject",
    ]
    assert list(s.get_protocol_log("send").columns) == [
        "date-time", "connector-id", "session-id", "sequence-number", "local-endpoint", "remote-endpoint", "event", "data", "context",
    ]  # fmt: skip
    rc = s.get_receive_connector()
    assert list(rc["Identity"]) == ["MAIL\\Default MAIL", "MAIL\\Client MAIL"]
    assert list(rc["Bindings"]) == ["{0.0.0.0:25}", "{0.0.0.0:587}"]
    assert rc.iloc[0]["AuthMechanism"] == "Tls, Integrated, BasicAuth, BasicAuthRequireTLS, ExchangeServer"
    assert list(s.get_accepted_domain().iloc[0]) == ["contoso.com", "contoso.com", "Authoritative", True]
    sc = s.new_send_connector("Internet", "SMTP:*;1")
    assert sc.iloc[0]["AddressSpaces"] == "{SMTP:*;1}" and sc.iloc[0]["MaxMessageSize"] == "10 MB (10,485,760 bytes)"
    assert s.get_send_connector("internet").iloc[0]["Identity"] == "Internet"
    assert "Exchange server mail.contoso.com" in s._repr_html_() and "MAIL" in repr(s)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda s: s.new_send_connector("X", ["*contoso.com"]), InvalidValue, ["*.contoso.com", "1-100"]),
        (lambda s: s.new_send_connector("X", ["SMTP:*;500"]), InvalidValue, ["1-100"]),
        (lambda s: s.new_send_connector("X", ["*"], usage="Web"), InvalidValue, ["Internet", "Partner"]),
        (lambda s: s.new_send_connector("X", ["*"], dns_routing=False), InvalidValue, ["smart_hosts"]),
        (lambda s: s.new_send_connector("", ["*"]), InvalidValue, ["name"]),
        (lambda s: s.set_send_connector("Nope", enabled=False), UnknownObject, ["new_send_connector"]),
        (lambda s: s.remove_send_connector("Nope"), UnknownObject, ["Nope"]),
        (
            lambda s: s.set_receive_connector("Default MAIL", permission_groups=["Anonymous"]),
            InvalidValue,
            ["AnonymousUsers"],
        ),
        (lambda s: s.set_receive_connector("MAIL\\Nope", enabled=False), UnknownObject, ["MAIL\\Default MAIL"]),
        (lambda s: s.set_receive_connector("Default MAIL", remote_ip_ranges=["300.1.1.1"]), InvalidValue, ["CIDR"]),
        (lambda s: s.set_receive_connector("Default MAIL", bindings=["10.9.9.9:25"]), InvalidValue, ["100.100.100.10"]),
        (lambda s: s.set_receive_connector("Default MAIL", banner="Hello"), InvalidValue, ["220"]),
        (lambda s: s.new_mailbox("bob@fabrikam.com"), InvalidValue, ["@contoso.com", "new_accepted_domain"]),
        (lambda s: s.new_mailbox("not-an-address"), InvalidValue, ["name@domain"]),
        (lambda s: s.new_mailbox(SENDER), DuplicateObject, [SENDER]),
        (lambda s: s.new_accepted_domain("c", "contoso.com"), DuplicateObject, ["contoso.com"]),
        (lambda s: s.new_accepted_domain("f", "fabrikam.com", "Weird"), InvalidValue, ["InternalRelay"]),
        (lambda s: s.get_queue("MAIL\\42"), UnknownObject, ["MAIL\\Submission"]),
        (lambda s: s.retry_queue("MAIL\\Submission"), InvalidValue, ["resubmit=True"]),
        (lambda s: s.suspend_queue("MAIL\\Submission"), InvalidValue, ["delivery queue"]),
        (lambda s: s.remove_message("MAIL\\Unreachable\\99"), UnknownObject, ["get_message"]),
        (lambda s: s.get_protocol_log("both"), InvalidValue, ["receive", "send"]),
        (lambda s: s.get_message_tracking_log(event_id="LOST"), InvalidValue, ["DELIVER"]),
    ],
)
def test_bad_input_teaches_and_changes_nothing(lab: Lab, call, error, words) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(lab)
    with pytest.raises(error) as info:
        call(lab.server(CONTOSO))
    assert isinstance(info.value, LabkitError)
    for word in words:
        assert word in str(info.value), str(info.value)
    for old, new in zip(before, snapshot(lab), strict=True):
        pd.testing.assert_frame_equal(old, new)


def test_duplicate_send_connector(lab: Lab) -> None:
    lab.server(CONTOSO).new_send_connector("Internet", ["*"])
    with pytest.raises(DuplicateObject):
        lab.server(CONTOSO).new_send_connector("internet", ["contoso.com"])
    assert len(lab.server(CONTOSO).get_send_connector()) == 1


def test_lab_level_errors(lab: Lab) -> None:
    with pytest.raises(UnknownObject) as info:
        lab.send_mail("nobody@contoso.com", ALLEN, "x", "y")
    assert SENDER in str(info.value)
    with pytest.raises(InvalidValue):
        lab.send_mail(SENDER, "not an address", "x", "y")
    with pytest.raises(UnknownObject):
        lab.mailbox("who@fabrikam.com")
    with pytest.raises(UnknownObject):
        lab.mailbox(ALLEN).message(3)


def test_queue_actions(lab: Lab) -> None:
    s = lab.server(CONTOSO)
    s.new_send_connector("Internet", ["*"])
    lab.send_mail(SENDER, ALLEN, "one", "1")
    lab.send_mail(SENDER, ALLEN, "two", "2")
    lab.settle()
    queue = s.get_queue("xutonglin.com").iloc[0]
    assert (queue["Status"], queue["MessageCount"]) == ("Retry", 2)
    s.suspend_queue(queue["Identity"])
    assert s.get_queue(queue["Identity"]).iloc[0]["Status"] == "Suspended"
    with pytest.raises(InvalidValue):
        s.suspend_queue(queue["Identity"])
    s.resume_queue(queue["Identity"])
    messages = s.get_message(queue["Identity"])
    assert list(messages["Subject"]) == ["one", "two"] and set(messages["Status"]) == {"Retry"}
    s.remove_message(messages.iloc[0]["Identity"], with_ndr=False)
    s.remove_message(messages.iloc[1]["Identity"], with_ndr=True)
    lab.settle()
    inbox = lab.mailbox(SENDER)
    assert list(inbox.messages["Subject"]) == ["Undeliverable: two"]
    assert "550 4.3.2 QUEUE.Admin; message deleted by administrative action" in inbox.message(0).as_string()
    assert s.get_queue(queue["Identity"]).iloc[0]["MessageCount"] == 0


def test_new_receive_connector_and_accepted_domain(lab: Lab) -> None:
    x = lab.server(XUTONGLIN)
    x.new_accepted_domain("Fabrikam", "fabrikam.com")
    x.new_mailbox("fred@fabrikam.com", "Fred")
    assert "fred@fabrikam.com" in set(x.get_mailbox()["PrimarySmtpAddress"])
    rc = x.new_receive_connector("Partners", ["0.0.0.0:25"], ["100.100.100.10"], usage="Internet")
    assert rc.iloc[0]["PermissionGroups"] == "AnonymousUsers"
    with pytest.raises(DuplicateObject):
        x.new_receive_connector("Again", ["0.0.0.0:25"], ["100.100.100.10"])
    lab.dns.add_record("xutonglin.com", "@", "MX", "mail.xutonglin.com", preference=10)
    lab.server(CONTOSO).new_send_connector("Internet", ["*"])
    lab.send_mail(SENDER, ALLEN, "via the partner connector", "only contoso's address may use it")
    lab.settle()
    assert len(lab.mailbox(ALLEN)) == 1
    rx = x.get_message_tracking_log(event_id="RECEIVE").iloc[0]
    assert rx["ConnectorId"] == "MAIL\\Partners"  # the narrower RemoteIPRanges wins (facts §4.1)

"""Message tracking across both servers, against a real lab."""

from __future__ import annotations

import pandas as pd

from labkit.widgets import MessageTracking, open_message_tracking

from .conftest import StartLab, disabled_while_clicked, replay


def test_search_across_both_servers_and_replay(start_lab: StartLab) -> None:
    lab = start_lab(5)
    lab.send_mail("contoso@contoso.com", "allen@xutonglin.com", "Hello", "Hi Allen")
    lab.settle()
    tracking = open_message_tracking(lab)
    tracking.sender.value = "contoso@contoso.com"
    assert disabled_while_clicked(tracking.search_button) == [True, False]
    assert tracking.status_kind == "ok", tracking.status_text
    assert tracking.last_call == 'lab.get_message_tracking_log(sender="contoso@contoso.com")'
    results = tracking.results
    assert set(results["Server"]) == {"mail.contoso.com", "mail.xutonglin.com"}
    assert list(results.columns[:3]) == ["Timestamp", "Server", "EventId"]
    assert results["Timestamp"].tolist() == sorted(results["Timestamp"].tolist())
    events = results["EventId"].tolist()
    assert events[0] == "SUBMIT" and results["Server"].iloc[0] == "mail.contoso.com"
    assert {"RECEIVE", "SEND", "DELIVER"} <= set(events)  # SEND is logged once the far end said 250, so after its RECEIVE
    assert "mail.xutonglin.com" in tracking.table.value
    pd.testing.assert_frame_equal(replay(tracking.last_call, lab), results)


def test_filters_combine(start_lab: StartLab) -> None:
    lab = start_lab(5)
    lab.send_mail("contoso@contoso.com", "allen@xutonglin.com", "Hello", "Hi Allen")
    lab.settle()
    tracking = MessageTracking(lab)
    tracking.recipient.value = "allen@xutonglin.com"
    tracking.event_id.value = "DELIVER"
    assert tracking.search()
    assert tracking.last_call == 'lab.get_message_tracking_log(recipients="allen@xutonglin.com", event_id="DELIVER")'
    assert tracking.results["EventId"].tolist() == ["DELIVER"]
    assert tracking.results["Server"].tolist() == ["mail.xutonglin.com"]
    message_id = tracking.results["MessageId"].iloc[0]
    tracking.clear()
    tracking.message_id.value = message_id
    assert tracking.search()
    assert len(tracking.results) >= 3 and set(tracking.results["MessageId"]) == {message_id}
    pd.testing.assert_frame_equal(tracking.results, lab.get_message_tracking_log(message_id=message_id))


def test_bad_sender_is_an_inline_error(start_lab: StartLab) -> None:
    tracking = MessageTracking(start_lab(5))
    tracking.sender.value = "contoso"
    tracking.search_button.click()
    assert tracking.status_kind == "error" and "`Sender`" in tracking.status_text
    assert tracking.last_call is None and tracking.results.empty

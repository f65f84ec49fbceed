"""Queue Viewer against a real lab: the stuck message of step 3, resubmit, suspend/resume, remove, auto refresh."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from labkit.lab import Lab
from labkit.widgets import QueueViewer, open_queue_viewer
from labkit.widgets.calls import py_literal

from .conftest import StartLab, disabled_while_clicked, replay

CONTOSO = "mail.contoso.com"
UNREACHABLE = "MAIL\\Unreachable"


def stuck(lab: Lab) -> None:
    """Step 3's failure: no send connector, so the message waits in Unreachable on mail.contoso.com."""
    lab.send_mail("contoso@contoso.com", "allen@xutonglin.com", "Hello", "Hi Allen")
    lab.settle()


def queue_state(lab: Lab) -> pd.DataFrame:
    df = lab.server(CONTOSO).get_queue()
    return df[["Identity", "DeliveryType", "Status", "MessageCount", "NextHopDomain", "LastError"]].reset_index(drop=True)


def test_shows_the_unreachable_queue_and_its_message(start_lab: StartLab) -> None:
    lab = start_lab(3)
    stuck(lab)
    viewer = open_queue_viewer(lab, CONTOSO)
    identities = [value for _, value in viewer.queue_list.options]
    assert "MAIL\\Submission" in identities and UNREACHABLE in identities
    assert "A matching connector cannot be found" in viewer.queue_table.value
    assert viewer.message_list.options == ()  # no queue selected yet
    viewer.select_queue(UNREACHABLE)
    assert len(viewer.messages()) == 1
    assert viewer.messages()["FromAddress"].iloc[0] == "contoso@contoso.com"
    assert "Hello" in viewer.message_table.value
    with pytest.raises(Exception, match="is not listed"):
        viewer.select_queue("MAIL\\99")


def test_plain_retry_of_unreachable_is_refused(start_lab: StartLab) -> None:
    lab = start_lab(3)
    stuck(lab)
    before = queue_state(lab)
    viewer = QueueViewer(lab, CONTOSO)
    viewer.retry_button.click()
    assert viewer.status_kind == "error" and "no queue is selected" in viewer.status_text and viewer.last_call is None
    viewer.select_queue(UNREACHABLE)
    viewer.retry_button.click()
    assert viewer.status_kind == "error" and "resubmit=True" in viewer.status_text
    pd.testing.assert_frame_equal(queue_state(lab), before)


def test_retry_with_resubmit_and_replay(start_lab: StartLab) -> None:
    lab, twin = start_lab(3), start_lab(3, "-twin")
    stuck(lab)
    stuck(twin)
    viewer = QueueViewer(lab, CONTOSO)
    viewer.select_queue(UNREACHABLE)
    assert disabled_while_clicked(viewer.resubmit_button) == [True, False]
    assert viewer.status_kind == "ok", viewer.status_text
    assert viewer.last_call == 'lab.server("mail.contoso.com").retry_queue("MAIL\\\\Unreachable", resubmit=True)'
    lab.settle()
    replay(viewer.last_call, twin)
    twin.settle()
    pd.testing.assert_frame_equal(queue_state(lab), queue_state(twin))


def test_remove_with_and_without_ndr(start_lab: StartLab) -> None:
    lab = start_lab(3)
    stuck(lab)
    stuck(lab)
    viewer = QueueViewer(lab, CONTOSO)
    viewer.select_queue(UNREACHABLE)
    viewer.remove_ndr_button.click()
    assert viewer.status_kind == "error" and "no message is selected" in viewer.status_text
    first, second = [value for _, value in viewer.message_list.options]
    viewer.message_list.value = first
    viewer.remove_silent_button.click()
    assert viewer.status_kind == "ok", viewer.status_text
    assert viewer.last_call == f'lab.server("mail.contoso.com").remove_message({py_literal(first)}, with_ndr=False)'
    lab.settle()
    assert len(lab.mailbox("contoso@contoso.com").messages) == 0
    viewer.message_list.value = second
    viewer.remove(with_ndr=True)
    assert viewer.status_kind == "ok", viewer.status_text
    lab.settle()
    inbox = lab.mailbox("contoso@contoso.com")
    assert len(inbox.messages) == 1 and "Undeliverable" in str(inbox.message(0)["Subject"])
    viewer.refresh()
    assert UNREACHABLE not in [value for _, value in viewer.queue_list.options]  # listed only while it holds messages


def test_suspend_and_resume_a_delivery_queue(start_lab: StartLab) -> None:
    lab, twin = start_lab(5), start_lab(5, "-twin")
    for each in (lab, twin):
        each.send_mail("contoso@contoso.com", "allen@xutonglin.com", "Hello", "Hi Allen")
        each.settle()
    viewer = QueueViewer(lab, CONTOSO)
    delivery = next(value for _, value in viewer.queue_list.options if value not in ("MAIL\\Submission", UNREACHABLE))
    viewer.queue_list.value = delivery
    viewer.resume_button.click()
    assert viewer.status_kind == "error" and "not suspended" in viewer.status_text
    viewer.suspend_button.click()
    assert viewer.status_kind == "ok", viewer.status_text
    assert viewer.last_call == f'lab.server("mail.contoso.com").suspend_queue({py_literal(delivery)})'
    assert "Suspended" in viewer.queue_table.value
    replay(viewer.last_call, twin)
    pd.testing.assert_frame_equal(queue_state(lab), queue_state(twin))
    viewer.resume_button.click()
    assert viewer.status_kind == "ok", viewer.status_text
    assert viewer.last_call == f'lab.server("mail.contoso.com").resume_queue({py_literal(delivery)})'


def test_auto_refresh_runs_in_the_background_and_stops(start_lab: StartLab, capsys: pytest.CaptureFixture[str]) -> None:
    lab = start_lab(3)
    viewer = QueueViewer(lab, CONTOSO, interval=0.05)
    start = viewer.refresh_count
    viewer.auto_refresh.value = True  # what the toggle button does
    assert viewer.auto_refreshing()
    stuck(lab)  # the kernel thread is free while the viewer refreshes
    deadline = time.monotonic() + 10
    while viewer.refresh_count < start + 3 or UNREACHABLE not in [v for _, v in viewer.queue_list.options]:
        assert time.monotonic() < deadline, "auto refresh did not pick up the new queue"
        time.sleep(0.02)
    viewer.auto_refresh.value = False
    assert not viewer.auto_refreshing()
    count = viewer.refresh_count
    time.sleep(0.2)
    assert viewer.refresh_count == count
    viewer.start_auto_refresh()
    assert viewer.auto_refresh.value
    viewer.close()
    assert not viewer.auto_refreshing()
    assert not [t for t in threading.enumerate() if t.name == "labkit-queue-viewer"]
    assert capsys.readouterr() == ("", "")


def test_auto_refresh_stops_when_the_lab_stops(start_lab: StartLab) -> None:
    lab = start_lab(3)
    viewer = QueueViewer(lab, CONTOSO, interval=0.05)
    viewer.start_auto_refresh()
    lab.stop()
    deadline = time.monotonic() + 10
    while viewer.auto_refreshing():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert viewer.status_kind == "error" and "not running" in viewer.status_text
    assert not viewer.auto_refresh.value

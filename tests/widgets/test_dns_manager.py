"""DNS Manager widget against a real lab: New Host (A), New Mail Exchanger (MX), Delete, errors, shown calls."""

from __future__ import annotations

import pandas as pd
import pytest

from labkit.widgets import DnsManager, LabForm, open_dns_manager
from labkit.widgets.calls import ApiCall

from .conftest import StartLab, disabled_while_clicked, replay


def test_lists_zones_and_records(start_lab: StartLab) -> None:
    lab = start_lab(1)
    dns = DnsManager(lab, zone="xutonglin.com")
    assert list(dns.zone.options) == ["contoso.com", "xutonglin.com"]
    labels = [label for label, _ in dns.records_list.options]
    assert any("Start of Authority (SOA)" in label for label in labels)
    assert any("Name Server (NS)" in label for label in labels)
    assert not any("Host (A)" in label for label in labels)  # step 1: nothing added yet
    dns.zone.value = "contoso.com"
    assert all(key[0] == "contoso.com" for _, key in dns.records_list.options)


def test_fqdn_preview_is_live(start_lab: StartLab) -> None:
    dns = DnsManager(start_lab(1), zone="xutonglin.com")
    assert dns.host_fqdn.value == "xutonglin.com"  # blank name = parent domain
    dns.host_name.value = "mail"
    assert dns.host_fqdn.value == "mail.xutonglin.com"
    dns.zone.value = "contoso.com"
    assert dns.host_fqdn.value == "mail.contoso.com"
    dns.mx_host.value = "sub"
    assert dns.mx_fqdn.value == "sub.contoso.com"
    assert dns.mx_priority.value == 10


def test_add_host_and_replay_the_shown_call(start_lab: StartLab) -> None:
    lab, twin = start_lab(1), start_lab(1, "-twin")
    dns = open_dns_manager(lab, zone="xutonglin.com")
    dns.open_dialog("host")
    dns.host_name.value = "mail"
    dns.host_ip.value = "100.100.100.254"
    assert disabled_while_clicked(dns.add_host_button) == [True, False]
    assert dns.status_kind == "ok"
    assert dns.status_text == "The host record mail.xutonglin.com was successfully created."
    assert dns.last_call == 'lab.dns.add_record("xutonglin.com", "mail", "A", "100.100.100.254")'
    assert dns.last_call in dns.call_box.value.replace("&quot;", '"') and "Copy" in dns.call_box.value
    assert lab.dns.has_record("xutonglin.com", "mail", "A", "100.100.100.254")
    assert any("mail" in label and "100.100.100.254" in label for label, _ in dns.records_list.options)
    assert dns.host_name.value == "" and dns.host_ip.value == ""  # ready for the next host
    replay(dns.last_call, twin)
    pd.testing.assert_frame_equal(lab.dns.records(), twin.dns.records())


def test_bad_ip_is_an_inline_error_and_changes_nothing(start_lab: StartLab) -> None:
    lab = start_lab(1)
    dns = DnsManager(lab, zone="xutonglin.com")
    before = lab.dns.records()
    dns.host_name.value = "mail"
    dns.host_ip.value = "100.100.100.999"
    dns.add_host_button.click()
    assert dns.status_kind == "error"
    assert "not an IPv4 address" in dns.status_text and "100.100.100.999" in dns.status_text
    assert not dns.add_host_button.disabled
    pd.testing.assert_frame_equal(lab.dns.records(), before)
    # The shown call raises the same error when pasted: it is the call that was tried.
    assert dns.last_call == 'lab.dns.add_record("xutonglin.com", "mail", "A", "100.100.100.999")'
    assert dns.host_ip.value == "100.100.100.999"  # the learner's input stays for correction


def test_empty_ip_is_caught_before_any_call(start_lab: StartLab) -> None:
    lab = start_lab(1)
    dns = DnsManager(lab, zone="xutonglin.com")
    before = lab.dns.records()
    dns.host_name.value = "mail"
    dns.add_host_button.click()
    assert dns.status_kind == "error" and "`IP address`" in dns.status_text
    assert dns.last_call is None
    pd.testing.assert_frame_equal(lab.dns.records(), before)


def test_relative_name_slip_is_explained(start_lab: StartLab) -> None:
    lab = start_lab(1)
    dns = DnsManager(lab, zone="xutonglin.com")
    dns.host_name.value = "mail.xutonglin.com"
    dns.host_ip.value = "100.100.100.254"
    dns.add_host_button.click()
    assert dns.status_kind == "error" and "mail.xutonglin.com.xutonglin.com" in dns.status_text
    assert not lab.dns.has_record("xutonglin.com", type="A")


def test_new_mail_exchanger_with_default_priority(start_lab: StartLab) -> None:
    lab, twin = start_lab(2), start_lab(2, "-twin")  # step 2: A records exist
    dns = DnsManager(lab, zone="xutonglin.com")
    dns.open_dialog("mx")
    dns.mx_server.value = "mail.xutonglin.com"
    dns.add_mx_button.click()
    assert dns.status_kind == "ok", dns.status_text
    assert dns.last_call == 'lab.dns.add_record("xutonglin.com", "@", "MX", "mail.xutonglin.com", preference=10)'
    assert any("[10]  mail.xutonglin.com." in label for label, _ in dns.records_list.options)
    assert dns.mx_dialog.layout.display == "none"
    replay(dns.last_call, twin)
    pd.testing.assert_frame_equal(lab.dns.records(), twin.dns.records())


def test_mx_pointing_at_an_ip_or_bad_priority_is_refused(start_lab: StartLab) -> None:
    lab = start_lab(2)
    dns = DnsManager(lab, zone="contoso.com")
    before = lab.dns.records()
    dns.mx_server.value = "100.100.100.10"
    dns.add_mx_button.click()
    assert dns.status_kind == "error" and "must name a host" in dns.status_text
    dns.mx_server.value = "mail.contoso.com"
    dns.mx_priority.value = 70000
    dns.add_mx_button.click()
    assert dns.status_kind == "error" and "65535" in dns.status_text
    dns.mx_server.value = ""
    dns.mx_priority.value = 10
    dns.add_mx_button.click()
    assert dns.status_kind == "error" and "of mail server" in dns.status_text
    pd.testing.assert_frame_equal(lab.dns.records(), before)


def test_delete_selected_record(start_lab: StartLab) -> None:
    lab, twin = start_lab(2), start_lab(2, "-twin")
    dns = DnsManager(lab, zone="contoso.com")
    dns.delete_button.click()
    assert dns.status_kind == "error" and "no record is selected" in dns.status_text
    key = next(key for _, key in dns.records_list.options if key[2] == "A")
    dns.records_list.value = key
    dns.delete_button.click()
    assert dns.status_kind == "ok", dns.status_text
    assert dns.last_call == 'lab.dns.remove_record("contoso.com", "mail", "A", "100.100.100.10")'
    assert not lab.dns.has_record("contoso.com", "mail", "A")
    assert key not in [k for _, k in dns.records_list.options]
    replay(dns.last_call, twin)
    pd.testing.assert_frame_equal(lab.dns.records(), twin.dns.records())


def test_deleting_the_soa_is_refused(start_lab: StartLab) -> None:
    lab = start_lab(1)
    dns = DnsManager(lab, zone="contoso.com")
    before = lab.dns.records()
    dns.records_list.value = next(key for _, key in dns.records_list.options if key[2] == "SOA")
    dns.delete_button.click()
    assert dns.status_kind == "error" and "SOA" in dns.status_text
    pd.testing.assert_frame_equal(lab.dns.records(), before)


class _Broken(LabForm):
    """A form whose action hits a bug (not a LabkitError)."""

    def go(self) -> bool:
        return self.perform([], lambda: ApiCall.on("dns").method("no_such_method"), "never")


def test_unexpected_errors_are_a_visible_traceback(start_lab: StartLab, capsys: pytest.CaptureFixture[str]) -> None:
    form = _Broken(start_lab(1))
    assert form.go() is False
    assert form.status_kind == "traceback"
    assert "AttributeError" in form.status_text and "no_such_method" in form.status_text
    assert "<pre" in form.status.value
    assert capsys.readouterr() == ("", "")  # nothing printed


def test_stopped_lab_is_a_status_message(start_lab: StartLab) -> None:
    lab = start_lab(1)
    dns = DnsManager(lab, zone="contoso.com")
    lab.stop()
    dns.host_name.value = "www"
    dns.host_ip.value = "100.100.100.80"
    dns.add_host_button.click()
    assert dns.status_kind == "error" and "not running" in dns.status_text


def test_repr_is_short_and_stable(start_lab: StartLab) -> None:
    lab = start_lab(1)
    dns = DnsManager(lab)
    assert repr(dns) == f"<DnsManager of lab {lab.name!r}>"
    assert dns._repr_mimebundle_()["text/plain"] == repr(dns)

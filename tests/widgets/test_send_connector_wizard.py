"""The New Send Connector wizard against a real lab: every page's checks, Back/Next/Cancel, New, the shown call."""

from __future__ import annotations

import pandas as pd
import pytest

from labkit.lab import Lab
from labkit.widgets import NewSendConnectorWizard, open_send_connector_wizard
from labkit.widgets.send_connector_wizard import PAGES, SpaceEntry

from .conftest import StartLab, disabled_while_clicked, replay

CONTOSO = "mail.contoso.com"


def connectors(lab: Lab) -> pd.DataFrame:
    return lab.server(CONTOSO).get_send_connector()


def fill_intro(wiz: NewSendConnectorWizard, name: str = "Internet", usage: str = "Internet") -> None:
    wiz.name.value = name
    wiz.usage.value = usage
    assert wiz.next(), wiz.status_text


def add_space(wiz: NewSendConnectorWizard, address: str, cost: int = 1, subdomains: bool = False) -> None:
    wiz.add_space_button.click()
    wiz.space_address.value = address
    wiz.space_subdomains.value = subdomains
    wiz.space_cost.value = cost
    wiz.space_ok_button.click()


def to_new_page(wiz: NewSendConnectorWizard) -> None:
    fill_intro(wiz)
    add_space(wiz, "*")
    wiz.next_button.click()
    wiz.next_button.click()  # Network settings: DNS MX routing
    wiz.next_button.click()  # Source Server
    assert wiz.page_name == "New Connector", wiz.status_text


def test_pages_in_the_products_order(start_lab: StartLab) -> None:
    wiz = NewSendConnectorWizard(start_lab(3), server=CONTOSO)
    assert PAGES == ("Introduction", "Address space", "Network settings", "Source Server", "New Connector", "Completion")
    assert wiz.page_name == "Introduction"
    assert wiz.usage.options == ("Custom", "Internal", "Internet", "Partner") and wiz.usage.value == "Custom"
    assert wiz.back_button.layout.display == "none" and wiz.new_button.layout.display == "none"
    assert "<b>" not in wiz.nav.value and "font-weight:bold" in wiz.nav.value


def test_introduction_needs_a_name(start_lab: StartLab) -> None:
    wiz = NewSendConnectorWizard(start_lab(3), server=CONTOSO)
    wiz.next_button.click()
    assert wiz.page_name == "Introduction"
    assert wiz.status_kind == "error" and "`Name`" in wiz.status_text and "is empty" in wiz.status_text
    wiz.name.value = "Bad\\Name"
    wiz.next_button.click()
    assert wiz.page_name == "Introduction" and "backslash" in wiz.status_text
    wiz.name.value = "Internet"
    wiz.next_button.click()
    assert wiz.page_name == "Address space" and wiz.status_kind == ""


def test_address_space_page_checks_entries(start_lab: StartLab) -> None:
    wiz = NewSendConnectorWizard(start_lab(3), server=CONTOSO)
    fill_intro(wiz)
    wiz.next_button.click()
    assert wiz.page_name == "Address space" and "has no entries" in wiz.status_text
    add_space(wiz, "*contoso.com")
    assert wiz.status_kind == "error" and "`Address`" in wiz.status_text and "*contoso.com" in wiz.status_text
    assert wiz.spaces == [] and wiz.space_dialog.layout.display != "none"  # dialog stays open to fix
    for cost in (0, 101):
        add_space(wiz, "*", cost=cost)
        assert wiz.status_kind == "error" and "`Cost`" in wiz.status_text and "1 to 100" in wiz.status_text
        assert wiz.spaces == []
    add_space(wiz, "xutonglin.com", cost=5, subdomains=True)
    assert [s.api for s in wiz.spaces] == ["SMTP:*.xutonglin.com;5"]
    add_space(wiz, "*.xutonglin.com")
    assert "already in the list" in wiz.status_text and len(wiz.spaces) == 1
    # Edit... the selected entry, then Remove it.
    wiz.space_list.value = 0
    wiz.edit_space_button.click()
    assert wiz.space_address.value == "*.xutonglin.com" and wiz.space_cost.value == 5
    wiz.space_cost.value = 2
    wiz.space_ok_button.click()
    assert [s.api for s in wiz.spaces] == ["SMTP:*.xutonglin.com;2"]
    wiz.space_list.value = 0
    wiz.remove_space_button.click()
    assert wiz.spaces == [] and wiz.space_list.options == ()
    add_space(wiz, "*")
    wiz.next_button.click()
    assert wiz.page_name == "Network settings"


def test_smart_hosts_chosen_but_none_given(start_lab: StartLab) -> None:
    wiz = NewSendConnectorWizard(start_lab(3), server=CONTOSO)
    fill_intro(wiz)
    add_space(wiz, "*")
    wiz.next_button.click()
    assert wiz.routing.value == "dns"  # Internet usage routes by MX
    wiz.routing.value = "smarthost"
    wiz.next_button.click()
    assert wiz.page_name == "Network settings" and "`Smart hosts`" in wiz.status_text
    wiz.smart_host_input.value = "not a host"
    wiz.add_smart_host_button.click()
    assert wiz.status_kind == "error" and wiz.smart_hosts == []
    wiz.smart_host_input.value = "[100.100.100.50]"
    wiz.add_smart_host_button.click()
    assert wiz.smart_hosts == ["100.100.100.50"]
    wiz.next_button.click()
    assert wiz.page_name == "Source Server"


def test_internal_usage_defaults_to_smart_hosts(start_lab: StartLab) -> None:
    wiz = NewSendConnectorWizard(start_lab(3), server=CONTOSO)
    wiz.usage.value = "Internal"
    assert wiz.routing.value == "smarthost" and not wiz.smart_host_input.disabled
    wiz.usage.value = "Internet"
    assert wiz.routing.value == "dns" and wiz.smart_host_input.disabled


def test_source_server_is_required_and_single(start_lab: StartLab) -> None:
    lab = start_lab(3)
    wiz = NewSendConnectorWizard(lab)  # no server given: none selected
    fill_intro(wiz)
    add_space(wiz, "*")
    wiz.next_button.click()
    wiz.next_button.click()
    assert wiz.page_name == "Source Server" and wiz.source_servers.value == ()
    wiz.next_button.click()
    assert wiz.page_name == "Source Server" and "no source server" in wiz.status_text
    wiz.source_servers.value = tuple(lab.servers)
    wiz.next_button.click()
    assert wiz.page_name == "Source Server" and "different organisations" in wiz.status_text
    wiz.source_servers.value = (CONTOSO,)
    wiz.next_button.click()
    assert wiz.page_name == "New Connector"


def test_new_creates_the_connector_and_shows_the_command(start_lab: StartLab) -> None:
    lab, twin = start_lab(3), start_lab(3, "-twin")
    before = connectors(lab)
    wiz = open_send_connector_wizard(lab, server=CONTOSO)
    to_new_page(wiz)
    expected = (
        'lab.server("mail.contoso.com").new_send_connector("Internet", address_spaces=["SMTP:*;1"], '
        'usage="Internet", dns_routing=True)'
    )
    assert expected.replace('"', "&quot;") in wiz.summary.value
    pd.testing.assert_frame_equal(connectors(lab), before)  # nothing happens before New
    assert disabled_while_clicked(wiz.new_button) == [True, False]
    assert wiz.page_name == "Completion" and wiz.completed
    assert wiz.status_kind == "ok", wiz.status_text
    assert wiz.last_call == expected
    assert "completed successfully" in wiz.completion.value
    assert wiz.back_button.layout.display == "none" and wiz.finish_button.layout.display != "none"
    assert "Internet" in connectors(lab)["Identity"].tolist()
    replay(wiz.last_call, twin)
    pd.testing.assert_frame_equal(connectors(lab), connectors(twin))
    wiz.finish_button.click()
    assert wiz.page_name == "Introduction" and wiz.name.value == "" and wiz.last_call == expected


def test_smart_host_connector_call(start_lab: StartLab) -> None:
    lab, twin = start_lab(3), start_lab(3, "-twin")
    wiz = NewSendConnectorWizard(lab, server=CONTOSO)
    fill_intro(wiz, "Via ISP", "Custom")
    add_space(wiz, "fabrikam.com", cost=10)
    wiz.next_button.click()
    wiz.routing.value = "smarthost"
    wiz.smart_host_input.value = "relay.isp.example"
    wiz.add_smart_host_button.click()
    wiz.next_button.click()
    wiz.next_button.click()
    assert wiz.new(), wiz.status_text
    assert wiz.last_call == (
        'lab.server("mail.contoso.com").new_send_connector("Via ISP", address_spaces=["SMTP:fabrikam.com;10"], '
        'usage="Custom", dns_routing=False, smart_hosts=["relay.isp.example"])'
    )
    replay(wiz.last_call, twin)
    pd.testing.assert_frame_equal(connectors(lab), connectors(twin))


def test_back_keeps_values_and_cancel_creates_nothing(start_lab: StartLab) -> None:
    lab = start_lab(3)
    before = connectors(lab)
    wiz = NewSendConnectorWizard(lab, server=CONTOSO)
    to_new_page(wiz)
    for _ in range(4):
        wiz.back_button.click()
    assert wiz.page_name == "Introduction" and wiz.name.value == "Internet" and len(wiz.spaces) == 1
    wiz.cancel_button.click()
    assert wiz.page_name == "Introduction" and wiz.name.value == "" and wiz.spaces == []
    assert "no connector was created" in wiz.status_text and wiz.last_call is None
    pd.testing.assert_frame_equal(connectors(lab), before)


def test_duplicate_name_fails_on_completion_and_back_is_offered(start_lab: StartLab) -> None:
    lab = start_lab(4)  # step 4: the seed's connector exists
    existing = connectors(lab)["Identity"].tolist()
    assert existing, "step 4 should already have a send connector"
    before = connectors(lab)
    wiz = NewSendConnectorWizard(lab, server=CONTOSO)
    wiz.name.value = existing[0]
    wiz.next()
    add_space(wiz, "*")
    wiz.next()
    wiz.next()
    assert wiz.new() is False
    assert wiz.page_name == "Completion" and not wiz.completed
    assert wiz.status_kind == "error" and existing[0] in wiz.status_text
    assert "failed" in wiz.completion.value and wiz.back_button.layout.display != "none"
    pd.testing.assert_frame_equal(connectors(lab), before)
    wiz.back_button.click()
    assert wiz.page_name == "New Connector"


@pytest.mark.parametrize("page", [0, 1, 3])
def test_new_from_an_earlier_page_checks_every_page(start_lab: StartLab, page: int) -> None:
    lab = start_lab(3)
    before = connectors(lab)
    wiz = NewSendConnectorWizard(lab, server=CONTOSO if page != 3 else None)
    if page >= 1:
        wiz.name.value = "Internet"
    if page >= 3:
        wiz.spaces.append(SpaceEntry("*"))
    assert wiz.new() is False
    assert wiz.page == page and wiz.status_kind == "error"
    pd.testing.assert_frame_equal(connectors(lab), before)

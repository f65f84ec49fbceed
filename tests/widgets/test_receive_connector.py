"""Receive connector properties against a real lab: the seed's step 4 (tick Anonymous users), Apply, errors."""

from __future__ import annotations

import pandas as pd

from labkit.lab import Lab
from labkit.widgets import ReceiveConnectorProperties, open_receive_connector

from .conftest import StartLab, disabled_while_clicked, replay

XUTONGLIN = "mail.xutonglin.com"


def receive_connectors(lab: Lab) -> pd.DataFrame:
    return lab.server(XUTONGLIN).get_receive_connector()


def test_loads_the_default_connector(start_lab: StartLab) -> None:
    props = ReceiveConnectorProperties(start_lab(4), server=XUTONGLIN)
    assert props.connector.value == "MAIL\\Default MAIL"
    assert "MAIL\\Client MAIL" in props.connector.options
    assert props.tabs.titles == ("Permission Groups", "Authentication", "Network")
    assert not props.groups["AnonymousUsers"].value  # the product's default: no anonymous (facts §4.1)
    assert [props.groups[g].value for g in ("ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers")] == [True] * 3
    assert [d.description for d in props.groups.values()] == [
        "Anonymous users", "Exchange users", "Exchange servers", "Legacy Exchange Servers", "Partners",
    ]  # fmt: skip
    assert props.auth["Tls"].value and props.auth["BasicAuth"].value and not props.auth["ExternallySecured"].value
    assert props.bindings.value == "0.0.0.0:25"
    assert props.remote_ip_ranges.value == "0.0.0.0-255.255.255.255"
    props.connector.value = "MAIL\\Client MAIL"
    assert props.bindings.value == "0.0.0.0:587" and not props.groups["ExchangeServers"].value


def test_allow_anonymous_and_replay(start_lab: StartLab) -> None:
    lab, twin = start_lab(4), start_lab(4, "-twin")
    props = open_receive_connector(lab, server=XUTONGLIN)
    props.groups["AnonymousUsers"].value = True
    assert disabled_while_clicked(props.apply_button) == [True, False]
    assert props.status_kind == "ok", props.status_text
    assert props.last_call == (
        'lab.server("mail.xutonglin.com").set_receive_connector("MAIL\\\\Default MAIL", '
        'permission_groups=["AnonymousUsers", "ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers"])'
    )
    row = receive_connectors(lab).set_index("Identity").loc["MAIL\\Default MAIL"]
    assert "AnonymousUsers" in row["PermissionGroups"]
    assert props.groups["AnonymousUsers"].value  # reloaded from the server
    replay(props.last_call, twin)
    pd.testing.assert_frame_equal(receive_connectors(lab), receive_connectors(twin))


def test_only_changed_settings_are_in_the_call(start_lab: StartLab) -> None:
    lab, twin = start_lab(4), start_lab(4, "-twin")
    props = ReceiveConnectorProperties(lab, server=XUTONGLIN)
    props.auth["Integrated"].value = False
    props.remote_ip_ranges.value = "100.100.100.0/24\n192.168.8.0/24"
    assert props.apply(), props.status_text
    assert props.last_call == (
        'lab.server("mail.xutonglin.com").set_receive_connector("MAIL\\\\Default MAIL", '
        'auth_mechanism=["Tls", "BasicAuth", "BasicAuthRequireTLS", "ExchangeServer"], '
        'remote_ip_ranges=["100.100.100.0/24", "192.168.8.0/24"])'
    )
    replay(props.last_call, twin)
    pd.testing.assert_frame_equal(receive_connectors(lab), receive_connectors(twin))


def test_nothing_changed_makes_no_call(start_lab: StartLab) -> None:
    props = ReceiveConnectorProperties(start_lab(4), server=XUTONGLIN)
    props.apply_button.click()
    assert props.status_kind == "error" and "nothing was changed" in props.status_text
    assert props.last_call is None


def test_bad_network_settings_change_nothing(start_lab: StartLab) -> None:
    lab = start_lab(4)
    before = receive_connectors(lab)
    props = ReceiveConnectorProperties(lab, server=XUTONGLIN)
    props.groups["AnonymousUsers"].value = True
    props.remote_ip_ranges.value = "100.100.100.0/33"
    props.apply_button.click()
    assert props.status_kind == "error" and "100.100.100.0/33" in props.status_text
    pd.testing.assert_frame_equal(receive_connectors(lab), before)
    props.remote_ip_ranges.value = ""
    props.apply_button.click()
    assert props.status_kind == "error" and "`Remote IP ranges`" in props.status_text
    props.remote_ip_ranges.value = "0.0.0.0-255.255.255.255"
    props.bindings.value = "10.9.9.9:25"
    props.apply_button.click()
    assert props.status_kind == "error" and "10.9.9.9:25" in props.status_text
    pd.testing.assert_frame_equal(receive_connectors(lab), before)
    props.revert_button.click()
    assert props.bindings.value == "0.0.0.0:25" and not props.groups["AnonymousUsers"].value


def test_switching_server_lists_its_connectors(start_lab: StartLab) -> None:
    lab = start_lab(4)
    props = ReceiveConnectorProperties(lab, server=XUTONGLIN)
    props.server.value = "mail.contoso.com"
    assert props.connector.value == "MAIL\\Default MAIL"  # both servers are called MAIL
    props.groups["AnonymousUsers"].value = True
    assert props.apply()
    assert props.last_call is not None and props.last_call.startswith('lab.server("mail.contoso.com")')

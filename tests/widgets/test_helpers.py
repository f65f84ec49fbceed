"""Pure helpers of the widgets: call formatting, FQDN preview, address-space and smart-host checks, tables."""

from __future__ import annotations

import ast
from types import SimpleNamespace

import pandas as pd
import pytest

from labkit.errors import InvalidValue
from labkit.views import merge_logs
from labkit.widgets.base import lines, required, status_html
from labkit.widgets.calls import LAB, ApiCall, code_html, format_arguments, py_literal
from labkit.widgets.dns_manager import api_name, fqdn_preview, manager_row, record_options
from labkit.widgets.receive_connector import as_list, changes
from labkit.widgets.send_connector_wizard import address_space_entry, check_smart_host


# -- call formatting ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    ["mail", "", 'say "hi"', "MAIL\\Default MAIL", "tab\tnew\nline", "中文", "100.100.100.254", 0, 10, -3, 1.5,
     True, False, None, ["*"], ["a", "b"], ("x",), (), {"k": [1, 2]}],
)  # fmt: skip
def test_py_literal_round_trips(value: object) -> None:
    assert ast.literal_eval(py_literal(value)) == value


def test_py_literal_prefers_double_quotes_and_refuses_objects() -> None:
    assert py_literal("xutonglin.com") == '"xutonglin.com"'
    with pytest.raises(TypeError):
        py_literal(object())
    with pytest.raises(TypeError):
        py_literal(float("nan"))


def test_format_arguments_keeps_keyword_order() -> None:
    assert format_arguments(("n",), {"b": 1, "a": [True]}) == '"n", b=1, a=[True]'


def test_api_call_code_and_run_follow_the_same_path() -> None:
    calls: list[tuple[object, ...]] = []

    class Server:
        def retry_queue(self, identity: str, resubmit: bool = False) -> str:
            calls.append((identity, resubmit))
            return "ok"

    lab = SimpleNamespace(server=lambda name: Server(), dns=SimpleNamespace(zones=lambda: ["contoso.com"]))
    call = ApiCall.on_server("mail.contoso.com").method("retry_queue", "MAIL\\Unreachable", resubmit=True)
    assert call.code() == 'lab.server("mail.contoso.com").retry_queue("MAIL\\\\Unreachable", resubmit=True)'
    assert call.code("my_lab").startswith("my_lab.server(")
    assert call.run(lab) == "ok" and calls == [("MAIL\\Unreachable", True)]
    assert ApiCall.on("dns").method("zones").run(lab) == ["contoso.com"]
    assert ApiCall.on().method("mailbox", "a@b.com").attr("messages").code() == 'lab.mailbox("a@b.com").messages'


def test_api_call_refuses_arguments_it_could_not_show() -> None:
    with pytest.raises(TypeError):
        ApiCall.on("dns").method("add_record", object())


def test_module_function_call_passes_the_lab() -> None:
    call = ApiCall.function("labkit.widgets.calls", "py_literal", LAB)
    assert call.code("lab") == "labkit.widgets.calls.py_literal(lab)"
    assert call.run("value") == '"value"'  # the lab argument is the object the call runs on


def test_code_html_escapes_and_offers_copy() -> None:
    page = code_html('lab.dns.add_record("a", "<b>", "A", "1.2.3.4")')
    assert "&lt;b&gt;" in page and "<b>" not in page.replace("<b>", "", 0).split("<pre")[1]
    assert "navigator.clipboard.writeText(&quot;lab.dns.add_record(\\&quot;a\\&quot;" in page


# -- DNS Manager ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "zone", "expected"),
    [("mail", "xutonglin.com", "mail.xutonglin.com"), ("", "xutonglin.com", "xutonglin.com"),
     ("  ", "contoso.com", "contoso.com"), ("@", "contoso.com", "contoso.com"), ("a.b", "contoso.com", "a.b.contoso.com"),
     ("mail", "", "mail")],
)  # fmt: skip
def test_fqdn_preview(name: str, zone: str, expected: str) -> None:
    assert fqdn_preview(name, zone) == expected


def test_api_name_blank_is_parent_domain() -> None:
    assert api_name("") == "@" and api_name(" www ") == "www"


def test_manager_rows_look_like_dns_manager() -> None:
    soa = pd.Series({"Name": "@", "Type": "SOA", "Data": "dns.internet.lab hostmaster.contoso.com 3 900 600 86400 3600", "Preference": ""})
    assert manager_row(soa) == ("(same as parent folder)", "Start of Authority (SOA)", "[3], dns.internet.lab., hostmaster.contoso.com.")
    mx = pd.Series({"Name": "@", "Type": "MX", "Data": "mail.contoso.com", "Preference": 10.0})
    assert manager_row(mx)[2] == "[10]  mail.contoso.com."


def test_record_options_align_columns() -> None:
    df = pd.DataFrame(
        [{"Zone": "c.com", "Name": "@", "Type": "NS", "Data": "dns.internet.lab", "Preference": ""},
         {"Zone": "c.com", "Name": "mail", "Type": "A", "Data": "1.2.3.4", "Preference": ""}]
    )  # fmt: skip
    title, options = record_options(df)
    assert [key for _, key in options] == [("c.com", "@", "NS", "dns.internet.lab"), ("c.com", "mail", "A", "1.2.3.4")]
    assert {label.index("Name Server") for label, _ in options[:1]} == {title.index("Type")}
    assert options[1][0].index("Host (A)") == title.index("Type")


# -- New Send Connector wizard ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("address", "subdomains", "cost", "api"),
    [("*", False, 1, "SMTP:*;1"), ("*", True, 1, "SMTP:*;1"), ("xutonglin.com", False, 100, "SMTP:xutonglin.com;100"),
     ("Contoso.COM.", True, 5, "SMTP:*.contoso.com;5"), ("*.contoso.com", True, 1, "SMTP:*.contoso.com;1")],
)  # fmt: skip
def test_address_space_entry_accepts(address: str, subdomains: bool, cost: int, api: str) -> None:
    assert address_space_entry(address, subdomains, cost).api == api


@pytest.mark.parametrize(
    ("address", "cost", "field"),
    [("*contoso.com", 1, "Address"), ("", 1, "Address"), ("contoso", 1, "Address"), ("con toso.com", 1, "Address"),
     ("*.*.com", 1, "Address"), ("*", 0, "Cost"), ("*", 101, "Cost"), ("*", -1, "Cost")],
)  # fmt: skip
def test_address_space_entry_refuses(address: str, cost: int, field: str) -> None:
    with pytest.raises(InvalidValue) as info:
        address_space_entry(address, False, cost)
    assert info.value.field == field


def test_check_smart_host() -> None:
    assert check_smart_host("[100.100.100.50]") == "100.100.100.50"
    assert check_smart_host("Relay.ISP.example.") == "relay.isp.example"
    for bad in ("", "relay", "1.2.3.999", "a b.com"):
        with pytest.raises(InvalidValue):
            check_smart_host(bad)


# -- receive connector, tracking, base ------------------------------------------------------------------------
def test_as_list_and_changes() -> None:
    assert as_list(["Tls", " BasicAuth "]) == ["Tls", "BasicAuth"]
    assert as_list("{Tls, Integrated}") == ["Tls", "Integrated"]
    assert as_list(None) == [] and as_list(float("nan")) == []
    assert changes({"a": ["x", "y"]}, {"a": ["y", "x"]}) == {}
    assert changes({}, {"a": ["x"]}) == {"a": ["x"]}


def test_merge_logs_orders_by_time_and_names_the_server() -> None:
    a = pd.DataFrame({"EventId": ["SEND"], "Timestamp": ["2026-11-28T09:00:02.000Z"]})
    b = pd.DataFrame({"EventId": ["RECEIVE", "DELIVER"], "Timestamp": ["2026-11-28T09:00:03.000Z", "2026-11-28T09:00:03.000Z"]})
    merged = merge_logs({"mail.contoso.com": a, "mail.xutonglin.com": b})
    assert list(merged.columns[:3]) == ["Timestamp", "Server", "EventId"]
    assert merged["EventId"].tolist() == ["SEND", "RECEIVE", "DELIVER"]  # same time: the server's own order kept
    empty = merge_logs({"mail.contoso.com": a.iloc[0:0]})
    assert empty.empty and "Server" in empty.columns


def test_status_and_inputs() -> None:
    assert status_html("error", "bad <x>") == '<div style="color:#b42318">✖ bad &lt;x&gt;</div>'
    assert "<pre" in status_html("traceback", "Traceback ...")
    assert lines("a\n b, c\n\n") == ["a", "b", "c"]
    with pytest.raises(InvalidValue) as info:
        required("IP address", "  ", "100.100.100.254")
    assert info.value.field == "IP address"

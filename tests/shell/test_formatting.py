"""PowerShell's output layout and the Where-Object / -Filter comparisons, with literal expected text."""

from __future__ import annotations

import pytest

from labkit.shell.errors import ShellError
from labkit.shell.formatting import PSObject, default_view, listing, table, text
from labkit.shell.predicate import compile_predicate
from labkit.shell.tokens import ScriptBlock

QUEUES = [
    PSObject("Queue", {"Identity": "MAIL\\Submission", "DeliveryType": "Undefined", "Status": "Ready",
                       "MessageCount": 0, "NextHopDomain": "Submission", "LastError": ""},
             ("Identity", "DeliveryType", "Status", "MessageCount", "NextHopDomain")),
    PSObject("Queue", {"Identity": "MAIL\\Unreachable", "DeliveryType": "Unreachable", "Status": "Ready",
                       "MessageCount": 1, "NextHopDomain": "Unreachable Domain",
                       "LastError": "A matching connector cannot be found to route the external recipient"},
             ("Identity", "DeliveryType", "Status", "MessageCount", "NextHopDomain")),
]  # fmt: skip


def test_default_table_is_the_product_layout() -> None:
    # The facts reference's Get-Queue sample (§1.2), with the lab's server name.
    assert default_view(QUEUES) == (
        "Identity         DeliveryType Status MessageCount NextHopDomain\n"
        "--------         ------------ ------ ------------ -------------\n"
        "MAIL\\Submission  Undefined    Ready  0            Submission\n"
        "MAIL\\Unreachable Unreachable  Ready  1            Unreachable Domain"
    )


def test_list_pads_names_and_separates_objects() -> None:
    assert listing(QUEUES, ["Identity", "MessageCount"]) == (
        "Identity     : MAIL\\Submission\nMessageCount : 0\n\nIdentity     : MAIL\\Unreachable\nMessageCount : 1"
    )


def test_collections_booleans_and_null() -> None:
    assert [text(v) for v in (["SMTP:*;1"], [], True, False, None, 25)] == ["{SMTP:*;1}", "{}", "True", "False", "", "25"]


def test_long_lines_are_cut_to_the_console_width() -> None:
    out = table(QUEUES * 1, ["Identity", "LastError", "NextHopDomain"])
    widths = {len(line) for line in out.splitlines()}
    assert max(widths) <= 120
    wide = [PSObject("X", {"A": "x" * 200, "B": "y"})]
    cut = table(wide, ["A", "B"])
    assert cut.splitlines()[2] == "x" * 115 + "... y"


def test_objects_without_a_view_follow_powershells_rule() -> None:
    few = [PSObject("", {"A": 1, "B": 2})]
    many = [PSObject("", {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5})]
    assert default_view(few) == "A B\n- -\n1 2"
    assert default_view(many) == "A : 1\nB : 2\nC : 3\nD : 4\nE : 5"


@pytest.mark.parametrize(
    ("source", "bare", "passes", "fails"),
    [
        ("$_.Status -eq 'retry'", False, {"Status": "Retry"}, {"Status": "Ready"}),
        ("$_.Status -ne 'Retry'", False, {"Status": "Ready"}, {"Status": "Retry"}),
        ("$_.Identity -like 'mail\\*'", False, {"Identity": "MAIL\\1"}, {"Identity": "EX\\1"}),
        ("$_.MessageCount -gt 9", False, {"MessageCount": 10}, {"MessageCount": 9}),
        ("$_.MessageCount -lt '10'", False, {"MessageCount": 9}, {"MessageCount": 10}),
        ("$_.Enabled -eq $true", False, {"Enabled": True}, {"Enabled": False}),
        ("$_.Recipients -like 'allen@*'", False, {"Recipients": ["x@y", "allen@xutonglin.com"]}, {"Recipients": ["x@y"]}),
        ("Status -eq 'Retry' -and MessageCount -gt 0", True, {"Status": "Retry", "MessageCount": 1},
         {"Status": "Retry", "MessageCount": 0}),
        ("Status -eq 'Ready' -or Status -eq 'Retry'", True, {"Status": "Retry"}, {"Status": "Active"}),
    ],
)
def test_comparisons(source: str, bare: bool, passes: dict[str, object], fails: dict[str, object]) -> None:
    predicate = compile_predicate(ScriptBlock(source, 0), "Where-Object", bare=bare)
    assert predicate.test(passes) is True
    assert predicate.test(fails) is False


def test_where_needs_dollar_underscore() -> None:
    with pytest.raises(ShellError, match="comparisons like"):
        compile_predicate(ScriptBlock("Status -eq 'Retry'", 0), "Where-Object")

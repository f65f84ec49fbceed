"""Address spaces and SMTP addresses: parsing, validation, matching (facts §3.3, §3.4)."""

from __future__ import annotations

import pytest

from labkit.errors import InvalidValue
from labkit.transport.addressing import AddressSpace, normalize_address, parse_address_space, split_address


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*", AddressSpace("*", 1)),
        ("SMTP:*;1", AddressSpace("*", 1)),
        ("contoso.com", AddressSpace("contoso.com", 1)),
        ("*.contoso.com", AddressSpace("*.contoso.com", 1)),
        ("smtp:Contoso.COM;100", AddressSpace("contoso.com", 100)),
        (" *.contoso.com;7 ", AddressSpace("*.contoso.com", 7)),
    ],
)
def test_parse_accepts_the_product_forms(text: str, expected: AddressSpace) -> None:
    assert parse_address_space(text) == expected


@pytest.mark.parametrize(
    "text", ["*contoso.com", "contoso", "SMTP:*;0", "SMTP:*;101", "X400:*;1", "*;x", "", "a..b.com", "*.*"]
)
def test_parse_rejects_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_address_space(text)
    assert "`*.contoso.com`" in str(info.value) and "1-100" in str(info.value)


def test_str_is_the_shell_form() -> None:
    assert str(parse_address_space("contoso.com;5")) == "SMTP:contoso.com;5"


def test_matching_and_specificity() -> None:
    star, exact, wild = AddressSpace("*"), AddressSpace("exchangeexchange.com"), AddressSpace("*.exchangeexchange.com")
    chicago = AddressSpace("chicago.exchangeexchange.com")
    domain = "chicago.exchangeexchange.com"
    assert star.matches(domain) and wild.matches(domain) and chicago.matches(domain)
    assert not exact.matches(domain)  # a bare domain does not cover its subdomains (facts §3.4)
    specs = {a.address: a.specificity(domain) for a in (star, wild, chicago)}
    assert specs["chicago.exchangeexchange.com"] > specs["*.exchangeexchange.com"] > specs["*"]  # type: ignore[operator]
    assert exact.specificity("exchangeexchange.com") > wild.specificity("exchangeexchange.com")  # type: ignore[operator]


def test_addresses() -> None:
    assert split_address("Allen@XUTONGLIN.com") == ("Allen", "xutonglin.com")
    assert normalize_address("<Allen@xutonglin.com>") == "allen@xutonglin.com"
    for bad in ["allen", "allen@", "@x.com", "a b@x.com", "allen@localhost", "a@b@c.com"]:
        with pytest.raises(InvalidValue):
            split_address(bad)

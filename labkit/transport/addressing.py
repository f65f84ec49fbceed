"""Pure address logic: SMTP addresses, domain names, and send-connector address spaces.

Address spaces follow facts §3.3-§3.4: ``*`` matches every domain, ``contoso.com``
only that domain, ``*.contoso.com`` the domain's subdomains (the "Include all
subdomains" box) — and, as the lab's choice [U], the domain itself too; ``*contoso.com``
is invalid. The product form ``SMTP:<address>;<cost>`` is accepted, cost 1-100.

>>> space = parse_address_space("SMTP:*;1")
>>> str(space), space.matches("xutonglin.com")
('SMTP:*;1', True)
>>> parse_address_space("*.contoso.com;5").matches("chicago.contoso.com")
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from labkit.errors import InvalidValue
from labkit.transport import facts

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


def is_domain(text: str) -> bool:
    """Whether `text` is a DNS domain name of two or more labels (letters, digits, hyphens).

    >>> is_domain("xutonglin.com"), is_domain("localhost"), is_domain("-bad.com"), is_domain("a..b")
    (True, False, False, False)
    """
    labels = text.lower().rstrip(".").split(".")
    return len(labels) >= 2 and len(text) <= 253 and all(_LABEL.match(label) for label in labels)


def split_address(address: str) -> tuple[str, str]:
    """Split ``local@domain`` into its parts, the domain lower-cased; raise on anything else.

    >>> split_address("Allen@Xutonglin.com")
    ('Allen', 'xutonglin.com')

    Raises:
        InvalidValue: not an address of the form ``name@domain.tld``.
    """
    text = address.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    local, at, domain = text.rpartition("@")
    if not at or not _LOCAL.match(local) or len(local) > 64 or not is_domain(domain):
        raise InvalidValue(
            "address", address, "is not an SMTP address", "Write it as name@domain, e.g. `allen@xutonglin.com`."
        )
    return local, domain.lower().rstrip(".")


def normalize_address(address: str) -> str:
    """The address in the lab's canonical form (lower case, no angle brackets).

    >>> normalize_address("<Contoso@CONTOSO.com>")
    'contoso@contoso.com'

    Raises:
        InvalidValue: not an SMTP address.
    """
    local, domain = split_address(address)
    return f"{local.lower()}@{domain}"


def domain_of(address: str) -> str:
    """The domain part of an address, lower case (no validation beyond the ``@``).

    >>> domain_of("allen@XUTONGLIN.com")
    'xutonglin.com'
    """
    return address.rpartition("@")[2].lower().rstrip(".>")


@dataclass(frozen=True, order=True)
class AddressSpace:
    """One entry of a send connector's AddressSpaces: type, address and cost.

    Attributes:
        address: ``*``, ``contoso.com`` or ``*.contoso.com`` (lower case).
        cost: 1-100, lower is preferred (facts §3.5 step 4).
        type: the address type; only ``SMTP`` is routed by the lab.
    """

    address: str
    cost: int = 1
    type: str = "SMTP"

    def __str__(self) -> str:
        return f"{self.type}:{self.address};{self.cost}"

    def specificity(self, domain: str) -> tuple[int, int] | None:
        """How specifically this space matches `domain`, or None when it does not match.

        Longer matched suffixes are more specific (facts §3.4, "most specific = longest"); an exact
        match beats a wildcard of the same length.

        >>> AddressSpace("*").specificity("contoso.com")
        (0, 0)
        >>> AddressSpace("contoso.com").specificity("contoso.com")
        (11, 1)
        >>> AddressSpace("*.contoso.com").specificity("chicago.contoso.com")
        (12, 0)
        >>> AddressSpace("contoso.com").specificity("chicago.contoso.com") is None
        True
        """
        domain = domain.lower().rstrip(".")
        if self.address == "*":
            return (0, 0)
        if self.address.startswith("*."):
            parent = self.address[2:]
            if domain == parent:
                return (len(parent), 0)
            if domain.endswith("." + parent):
                return (len(parent) + 1, 0)
            return None
        return (len(self.address), 1) if domain == self.address else None

    def matches(self, domain: str) -> bool:
        """Whether this space covers `domain`."""
        return self.specificity(domain) is not None


def parse_address_space(text: str) -> AddressSpace:
    """Parse one address space in any of the product's forms.

    >>> parse_address_space("contoso.com")
    AddressSpace(address='contoso.com', cost=1, type='SMTP')
    >>> parse_address_space("smtp:*.Contoso.com;10")
    AddressSpace(address='*.contoso.com', cost=10, type='SMTP')
    >>> parse_address_space("*contoso.com")
    Traceback (most recent call last):
    ...
    labkit.errors.InvalidValue: `address_spaces` = '*contoso.com': is not a valid SMTP address space. \
Use `*`, a domain such as `contoso.com`, or `*.contoso.com` for its subdomains, optionally as `SMTP:<space>;<cost>` \
with a cost of 1-100.

    Raises:
        InvalidValue: a bad type, address or cost; the message lists the accepted forms.
    """
    fix = (
        "Use `*`, a domain such as `contoso.com`, or `*.contoso.com` for its subdomains, optionally as "
        "`SMTP:<space>;<cost>` with a cost of 1-100."
    )
    raw = str(text).strip()
    body = raw
    kind = "SMTP"
    if ":" in body:
        kind, _, body = body.partition(":")
        if kind.upper() != "SMTP":
            raise InvalidValue("address_spaces", text, f"has address type `{kind}`; the lab routes only SMTP", fix)
        kind = "SMTP"
    cost = 1
    if ";" in body:
        body, _, cost_text = body.partition(";")
        low, high = facts.ADDRESS_SPACE_COST_RANGE
        if not cost_text.strip().isdigit() or not low <= int(cost_text) <= high:
            raise InvalidValue("address_spaces", text, f"has cost `{cost_text}`; a cost is a whole number 1-100", fix)
        cost = int(cost_text)
    address = body.strip().lower().rstrip(".")
    valid = address == "*" or is_domain(address) or (address.startswith("*.") and is_domain(address[2:]))
    if not valid:
        raise InvalidValue("address_spaces", text, "is not a valid SMTP address space", fix)
    return AddressSpace(address, cost, kind)

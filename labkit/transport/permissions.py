"""Receive-connector permission groups → the extended rights an SMTP session holds (facts §4.3).

>>> rights = session_rights(["AnonymousUsers", "ExchangeUsers"], authenticated=False)
>>> SUBMIT in rights, ACCEPT_ANY_RECIPIENT in rights
(True, False)
>>> log_text(rights)
'SMTPSubmit SMTPAcceptAnySender SMTPAcceptAuthoritativeDomainSender AcceptRoutingHeaders'
>>> session_rights(["ExchangeUsers"], authenticated=False)
frozenset()
"""

from __future__ import annotations

from collections.abc import Iterable

from labkit.errors import InvalidValue

SUBMIT = "ms-Exch-SMTP-Submit"
ACCEPT_ANY_RECIPIENT = "ms-Exch-SMTP-Accept-Any-Recipient"
ACCEPT_ANY_SENDER = "ms-Exch-SMTP-Accept-Any-Sender"
ACCEPT_AUTHORITATIVE_DOMAIN_SENDER = "ms-Exch-SMTP-Accept-Authoritative-Domain-Sender"
ACCEPT_AUTHENTICATION_FLAG = "ms-Exch-SMTP-Accept-Authentication-Flag"
ACCEPT_EXCH50 = "ms-Exch-SMTP-Accept-Exch50"
BYPASS_ANTI_SPAM = "ms-Exch-Bypass-Anti-Spam"
BYPASS_MESSAGE_SIZE_LIMIT = "ms-Exch-Bypass-Message-Size-Limit"
ACCEPT_HEADERS_ROUTING = "ms-Exch-Accept-Headers-Routing"
ACCEPT_HEADERS_ORGANIZATION = "ms-Exch-Accept-Headers-Organization"
ACCEPT_HEADERS_FOREST = "ms-Exch-Accept-Headers-Forest"

_SERVER_RIGHTS = frozenset(
    {
        SUBMIT, ACCEPT_ANY_RECIPIENT, ACCEPT_ANY_SENDER, ACCEPT_AUTHORITATIVE_DOMAIN_SENDER,
        ACCEPT_AUTHENTICATION_FLAG, ACCEPT_EXCH50, BYPASS_ANTI_SPAM, BYPASS_MESSAGE_SIZE_LIMIT,
        ACCEPT_HEADERS_ROUTING, ACCEPT_HEADERS_ORGANIZATION, ACCEPT_HEADERS_FOREST,
    }
)  # fmt: skip

#: Permission group → (security principal, rights granted); facts §4.3 table.
GROUPS: dict[str, tuple[str, frozenset[str]]] = {
    "AnonymousUsers": (
        "NT AUTHORITY\\ANONYMOUS LOGON",
        frozenset({SUBMIT, ACCEPT_ANY_SENDER, ACCEPT_AUTHORITATIVE_DOMAIN_SENDER, ACCEPT_HEADERS_ROUTING}),
    ),
    "ExchangeUsers": (
        "NT AUTHORITY\\Authenticated Users",
        frozenset({SUBMIT, ACCEPT_ANY_RECIPIENT, BYPASS_ANTI_SPAM, ACCEPT_HEADERS_ROUTING}),
    ),
    "ExchangeServers": ("MS Exchange\\Hub Transport Servers", _SERVER_RIGHTS),
    "ExchangeLegacyServers": ("MS Exchange\\Legacy Exchange Servers", _SERVER_RIGHTS),
    "Partners": ("MS Exchange\\Partner Servers", frozenset({SUBMIT, ACCEPT_HEADERS_ROUTING})),
    "Custom": ("", frozenset()),
}

#: How the protocol log names each right (the product's Permission names, facts §4.3 log sample), in log order.
LOG_NAMES: dict[str, str] = {
    SUBMIT: "SMTPSubmit",
    ACCEPT_ANY_RECIPIENT: "SMTPAcceptAnyRecipient",
    ACCEPT_AUTHENTICATION_FLAG: "SMTPAcceptAuthenticationFlag",
    ACCEPT_ANY_SENDER: "SMTPAcceptAnySender",
    ACCEPT_AUTHORITATIVE_DOMAIN_SENDER: "SMTPAcceptAuthoritativeDomainSender",
    BYPASS_ANTI_SPAM: "BypassAntiSpam",
    BYPASS_MESSAGE_SIZE_LIMIT: "BypassMessageSizeLimit",
    ACCEPT_EXCH50: "SMTPAcceptEXCH50",
    ACCEPT_HEADERS_ROUTING: "AcceptRoutingHeaders",
    ACCEPT_HEADERS_FOREST: "AcceptForestHeaders",
    ACCEPT_HEADERS_ORGANIZATION: "AcceptOrgHeaders",
}

#: Groups whose members prove who they are by logging in (the lab implements Basic AUTH for mailbox users).
AUTHENTICATED_GROUPS = frozenset({"ExchangeUsers"})


def check_groups(groups: Iterable[str]) -> tuple[str, ...]:
    """Validate permission-group names (case-insensitive) and return them in the product's spelling.

    >>> check_groups(["anonymoususers", "ExchangeUsers"])
    ('AnonymousUsers', 'ExchangeUsers')

    Raises:
        InvalidValue: an unknown group; the message lists the valid ones.
    """
    result: list[str] = []
    canonical = {name.lower(): name for name in GROUPS}
    items = [groups] if isinstance(groups, str) else list(groups)
    for item in items:
        for part in str(item).split(","):
            name = canonical.get(part.strip().lower())
            if name is None:
                raise InvalidValue(
                    "permission_groups",
                    part.strip(),
                    "is not a permission group",
                    f"Use any of {', '.join(GROUPS)} (e.g. add `AnonymousUsers` to accept mail from the internet).",
                )
            if name not in result:
                result.append(name)
    return tuple(result)


def session_rights(groups: Iterable[str], authenticated: bool) -> frozenset[str]:
    """The rights of a session on a connector with these groups.

    An anonymous session holds the rights of ``AnonymousUsers`` when that group is
    ticked; a session that logged in as a mailbox user holds those of ``ExchangeUsers``
    when that group is ticked (facts §4.3).
    """
    names = set(groups)
    chosen = names & AUTHENTICATED_GROUPS if authenticated else names & {"AnonymousUsers"}
    rights: set[str] = set()
    for name in chosen:
        rights |= GROUPS[name][1]
    return frozenset(rights)


def log_text(rights: Iterable[str]) -> str:
    """The rights as the protocol log's `Set Session Permissions` line writes them."""
    held = set(rights)
    return " ".join(name for right, name in LOG_NAMES.items() if right in held)

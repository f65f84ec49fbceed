"""Permission groups → rights (facts §4.3)."""

from __future__ import annotations

import pytest

from labkit.errors import InvalidValue
from labkit.transport import permissions as p


def test_anonymous_cannot_relay_but_can_submit() -> None:
    rights = p.session_rights(["AnonymousUsers"], authenticated=False)
    assert p.SUBMIT in rights and p.ACCEPT_ANY_RECIPIENT not in rights
    assert p.ACCEPT_AUTHORITATIVE_DOMAIN_SENDER in rights


def test_default_connector_gives_anonymous_nothing() -> None:
    assert (
        p.session_rights(["ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers"], authenticated=False)
        == frozenset()
    )


def test_authenticated_users_may_relay() -> None:
    rights = p.session_rights(["ExchangeUsers"], authenticated=True)
    assert p.SUBMIT in rights and p.ACCEPT_ANY_RECIPIENT in rights
    assert p.session_rights(["AnonymousUsers"], authenticated=True) == frozenset()


def test_log_text_matches_the_product_sample() -> None:
    rights = p.session_rights(["AnonymousUsers"], authenticated=False)
    assert (
        p.log_text(rights) == "SMTPSubmit SMTPAcceptAnySender SMTPAcceptAuthoritativeDomainSender AcceptRoutingHeaders"
    )


def test_check_groups() -> None:
    assert p.check_groups("AnonymousUsers, exchangeusers") == ("AnonymousUsers", "ExchangeUsers")
    with pytest.raises(InvalidValue) as info:
        p.check_groups(["Anonymous"])
    assert "AnonymousUsers" in str(info.value) and "ExchangeLegacyServers" in str(info.value)

"""``labkit.transport.facts`` says what the tests' literal table says, string for string."""

from __future__ import annotations

import pytest

from labkit.transport import facts
from tests import expected


@pytest.mark.parametrize("name", expected.PINNED)
def test_facts_matches_the_literal_table(name: str) -> None:
    assert getattr(facts, name) == getattr(expected, name), f"facts.{name} differs from the reference"


@pytest.mark.parametrize("reply", ["421 4.2.1 Unable to connect", "421 4.4.1 Connection timed out."])
def test_failover_frame_matches_the_literal_table(reply: str) -> None:
    assert facts.failover_error(reply) == expected.failover_error(reply)

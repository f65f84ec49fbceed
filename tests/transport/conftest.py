"""Fixtures for the transport tests: real labs (`labkit.start`) on real loopback sockets, never a mock server."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import labkit
from labkit.lab import Lab
from labkit.transport.settings import TransportSettings

CONTOSO = "mail.contoso.com"
XUTONGLIN = "mail.xutonglin.com"
SENDER = "contoso@contoso.com"
ALLEN = "allen@xutonglin.com"
TMG_EXTERNAL = "100.100.100.254"
CONTOSO_IP = "100.100.100.10"
OUTSIDE_IP = "100.100.100.100"
DEFAULT_GROUPS = ["ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers"]
WITH_ANONYMOUS = ["AnonymousUsers", *DEFAULT_GROUPS]

StartLab = Callable[..., Lab]


@pytest.fixture
def start_lab(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StartLab]:
    """`start_lab(step, **settings)`: a real lab named after the test, with its own data directory; stopped after."""
    labs: list[Lab] = []

    def start(step: int = 1, suffix: str = "", **settings: Any) -> Lab:
        name = f"transport-{request.node.name}{suffix}"
        lab = labkit.start(
            step=step,
            name=name,
            data_dir=tmp_path / f"data{suffix}",
            settings=TransportSettings.lab(**settings),
        )
        labs.append(lab)
        return lab

    yield start
    for lab in labs:
        lab.stop()


@pytest.fixture
def lab(start_lab: StartLab) -> Lab:
    """The seed's lab with the A records done (step 2): no MX yet, no send connector, anonymous off."""
    return start_lab(step=2)


def internet_ready(lab: Lab, *, reverse: bool = False) -> None:
    """Do the seed's fixes: MX records, contoso's send connector, anonymous on xutonglin (and the reverse)."""
    if not lab.dns.has_record("xutonglin.com", "@", "MX"):
        lab.dns.add_record("xutonglin.com", "@", "MX", "mail.xutonglin.com", preference=10)
    if not lab.dns.has_record("contoso.com", "@", "MX"):
        lab.dns.add_record("contoso.com", "@", "MX", "mail.contoso.com", preference=10)
    lab.server(CONTOSO).new_send_connector("Internet", ["*"])
    lab.server(XUTONGLIN).set_receive_connector("MAIL\\Default MAIL", permission_groups=WITH_ANONYMOUS)
    if reverse:
        lab.server(XUTONGLIN).new_send_connector("Internet", ["*"])
        lab.server(CONTOSO).set_receive_connector("Default MAIL", permission_groups=WITH_ANONYMOUS)


def queue_row(lab: Lab, server: str, next_hop: str) -> pd.Series:
    """The Get-Queue row of `server` whose NextHopDomain is `next_hop` (fails the test if there is none)."""
    df = lab.server(server).get_queue()
    rows = df[df["NextHopDomain"] == next_hop]
    assert len(rows) == 1, f"no single queue for {next_hop}: {df.to_dict('records')}"
    return rows.iloc[0]


def events(lab: Lab, server: str, **filters: Any) -> list[tuple[str, str]]:
    """(EventId, Source) pairs of a server's tracking log, oldest first."""
    df = lab.server(server).get_message_tracking_log(**filters)
    return list(zip(df["EventId"], df["Source"], strict=True))


def smtp_to(lab: Lab, ip: str, port: int = 25, helo: str = "client.example") -> smtplib.SMTP:
    """Python's smtplib connected from outside the lab to the real endpoint behind virtual `ip:port`."""
    host, real = lab.endpoint(ip, port)
    client = smtplib.SMTP(host, real, local_hostname=helo, timeout=30)
    return client

"""Fixtures for the shell tests: real labs, never a mock server; helpers that read the lab's state."""

from __future__ import annotations

import pandas as pd

from labkit.lab import Lab

CONTOSO = "mail.contoso.com"
XUTONGLIN = "mail.xutonglin.com"
SENDER = "contoso@contoso.com"
ALLEN = "allen@xutonglin.com"


def state(lab: Lab) -> list[pd.DataFrame]:
    """Everything a cmdlet or dnscmd can change: both servers' configuration and queues, and the DNS records.

    Guid and time columns are dropped (they are compared between two labs).
    """
    frames = []
    for name in lab.servers:
        s = lab.server(name)
        frames += [s.get_send_connector().drop(columns=["Guid"]), s.get_receive_connector(), s.get_accepted_domain(),
                   s.get_mailbox(), s.get_queue()[["Identity", "DeliveryType", "Status", "MessageCount", "NextHopDomain"]],
                   s.get_message()[["Identity", "FromAddress", "Status", "Queue", "Subject"]]]  # fmt: skip
    frames.append(lab.dns.records())
    return frames


def same(a: list[pd.DataFrame], b: list[pd.DataFrame]) -> bool:
    """Whether two `state` lists are equal, table by table."""
    return len(a) == len(b) and all(x.reset_index(drop=True).equals(y.reset_index(drop=True)) for x, y in zip(a, b, strict=True))

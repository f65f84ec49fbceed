"""Nothing accepted is lost: a lab SIGKILLed mid-queue resumes on the same data directory, delivering each
accepted message exactly once (DESIGN.md §1.7). The lab runs in a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import labkit
from tests import procio

pytestmark = pytest.mark.slow

CHILD = r"""
import json, sys, time
import labkit

data_dir, phase, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
groups = ["AnonymousUsers", "ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers"]
# "queue"/"fix": A records only (no MX: deliveries wait in Retry); "flow"/"check": A and MX records.
lab = labkit.start(step=2 if phase in ("queue", "fix") else 3, name="crash", data_dir=data_dir)
contoso, xutonglin = lab.server("mail.contoso.com"), lab.server("mail.xutonglin.com")
contoso.new_send_connector("Internet", ["*"])  # configuration is the scenario's, re-applied at each start
xutonglin.set_receive_connector("Default MAIL", permission_groups=groups)
if phase in ("queue", "flow"):
    for i in range(count):
        print(lab.send_mail("contoso@contoso.com", "allen@xutonglin.com", f"crash {i}", "body"), flush=True)
    if phase == "queue":
        lab.settle()
        print("SETTLED", flush=True)
    time.sleep(600)  # until SIGKILL
else:
    if phase == "fix":
        lab.dns.add_record("xutonglin.com", "@", "MX", "mail.xutonglin.com", preference=10)
    lab.settle(timeout=120)
    for row in contoso.get_queue().itertuples():
        if row.Status == "Retry":
            contoso.retry_queue(row.Identity)
    lab.settle(timeout=120)
    ids = list(lab.mailbox("allen@xutonglin.com").messages["Message-ID"])
    left = int(contoso.get_queue()["MessageCount"].sum()) + int(xutonglin.get_queue()["MessageCount"].sum())
    print(json.dumps({"ids": ids, "left": left}), flush=True)
    lab.stop()
"""


def child(data_dir: Path, phase: str, count: int = 0) -> subprocess.Popen[str]:
    env = dict(os.environ)
    root = str(Path(labkit.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir), phase, str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def accepted_then_kill(proc: subprocess.Popen[str], count: int, until: str | None) -> list[str]:
    assert proc.stdout is not None
    accepted: list[str] = []
    while True:
        line = procio.readline(proc)
        assert line, f"the lab exited early: {proc.stderr.read() if proc.stderr else ''}"
        line = line.strip()
        if line == until:
            break
        accepted.append(line)
        if until is None and len(accepted) == count:
            break
    proc.send_signal(signal.SIGKILL)
    procio.communicate(proc)  # reap it and close its pipes
    assert proc.returncode == -signal.SIGKILL
    return accepted


def restart(data_dir: Path, phase: str) -> dict[str, object]:
    proc = child(data_dir, phase)
    out, err = procio.communicate(proc)
    assert proc.returncode == 0, err
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return result


def test_killed_with_messages_in_retry(tmp_path: Path) -> None:
    accepted = accepted_then_kill(child(tmp_path, "queue", 20), 20, "SETTLED")
    assert len(accepted) == 20 and len(set(accepted)) == 20
    result = restart(tmp_path, "fix")  # same data directory; the cause (no MX) is fixed after the start
    ids = result["ids"]
    assert isinstance(ids, list)
    assert Counter(ids) == Counter(accepted)  # every accepted message, each exactly once
    assert result["left"] == 0


def test_killed_mid_delivery(tmp_path: Path) -> None:
    accepted = accepted_then_kill(child(tmp_path, "flow", 150), 60, None)
    result = restart(tmp_path, "check")
    ids = result["ids"]
    assert isinstance(ids, list)
    counts = Counter(ids)
    assert all(n == 1 for n in counts.values()), [i for i, n in counts.items() if n > 1]
    assert set(accepted) <= set(counts)
    assert result["left"] == 0

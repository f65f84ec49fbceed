"""The `labkit` command: `up --json` in a real subprocess, then dig, swaks and the other subcommands against it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import procio, tools

LABKIT = [sys.executable, "-m", "labkit.cli"]


def run(args: list[str], state: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LABKIT, "--state-file", str(state), *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def lab_up(tmp_path: Path) -> Iterator[tuple[dict, Path, Path]]:
    """`labkit up --step 5 --json` running in a subprocess; yields (printed document, state file, data dir)."""
    state = tmp_path / "up.json"
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [*LABKIT, "--state-file", str(state), "up", "--step", "5", "--data-dir", str(data), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = procio.readline(proc)
        assert line, "labkit up printed nothing"
        yield json.loads(line), state, data
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=30)  # also closes the pipes
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate(timeout=30)
            raise
        assert proc.returncode == 0, err
        assert not state.exists()  # removed on a clean shutdown


def real(doc: dict, virtual: str) -> tuple[str, str]:
    endpoint = next(e["real"] for e in doc["endpoints"] if e["virtual"] == virtual)
    host, port = endpoint.split(":")
    return host, port


def test_dig_against_the_printed_dns_endpoint(lab_up: tuple[dict, Path, Path]) -> None:
    tools.require("dig", "dnsutils")
    doc, _, _ = lab_up
    host, port = real(doc, "100.100.100.2:53/udp")
    out = subprocess.run(["dig", f"@{host}", "-p", port, "+short", "xutonglin.com", "MX"], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "10 mail.xutonglin.com."


def test_swaks_against_the_printed_tmg_endpoint(lab_up: tuple[dict, Path, Path]) -> None:
    tools.require("swaks", "swaks")
    doc, state, _ = lab_up
    host, port = real(doc, "100.100.100.254:25/tcp")
    out = subprocess.run(
        ["swaks", "--server", f"{host}:{port}", "--from", "someone@example.org", "--to", "allen@xutonglin.com",
         "--helo", "client.internet.lab", "--header", "Subject: from swaks"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "250 2.6.0" in out.stdout and "Queued mail for delivery" in out.stdout
    status = run(["status", "--json"], state)
    assert status.returncode == 0 and json.loads(status.stdout)["step"] == 5


def test_nslookup_and_trace_ask_the_running_lab(lab_up: tuple[dict, Path, Path]) -> None:
    _, state, _ = lab_up
    ns = run(["nslookup", "mail.xutonglin.com"], state)
    assert ns.returncode == 0
    assert "Name:    mail.xutonglin.com\nAddress:  100.100.100.254" in ns.stdout
    missing = run(["nslookup", "nosuch.xutonglin.com"], state)
    assert missing.returncode == 1 and "Non-existent domain" in missing.stdout
    trace = run(["trace", "contoso@contoso.com", "allen@xutonglin.com"], state)
    assert trace.returncode == 0, trace.stdout + trace.stderr
    assert "allen@xutonglin.com" in trace.stdout


def test_no_lab_running_is_a_clear_error(tmp_path: Path) -> None:
    out = run(["status"], tmp_path / "none.json")
    assert out.returncode == 1
    assert "No lab is running" in out.stderr and "labkit up" in out.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run([], tmp_path / "s.json").returncode == 2
    bad = run(["up", "--step", "nine"], tmp_path / "s.json")
    assert bad.returncode == 2 and "invalid int value" in bad.stderr


def test_bad_step_is_reported_not_a_traceback(tmp_path: Path) -> None:
    out = run(["up", "--step", "9"], tmp_path / "s.json")
    assert out.returncode == 1
    assert "`step` = 9" in out.stderr and "Traceback" not in out.stderr


def test_sigterm_stops_cleanly_and_keeps_queued_mail(tmp_path: Path) -> None:
    """Mail accepted and queued before SIGTERM is delivered by the next lab on the same data directory."""
    import smtplib

    import labkit
    from tests import expected

    state, data = tmp_path / "up.json", tmp_path / "data"
    proc = subprocess.Popen([*LABKIT, "--state-file", str(state), "up", "--step", "3", "--data-dir", str(data), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        doc = json.loads(procio.readline(proc))
        host, port = real(doc, "100.100.100.10:587/tcp")  # contoso's Client connector: authenticated submission
        with smtplib.SMTP(host, int(port), local_hostname="client.internet.lab", timeout=30) as smtp:
            smtp.login("contoso@contoso.com", expected.DEFAULT_PASSWORD)
            smtp.sendmail("contoso@contoso.com", ["allen@xutonglin.com"], b"Subject: queued\r\n\r\nbefore SIGTERM\r\n")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:  # a failed step above must not leave the lab running
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert not state.exists()
    # Step 3: no send connector yet, so the message waited in Unreachable; finish the steps on the same data.
    with labkit.start(step=5, data_dir=data, name="test-cli-resume") as lab:
        lab.server("mail.contoso.com").retry_queue("MAIL\\Unreachable", resubmit=True)
        lab.settle()
        subjects = list(lab.mailbox("allen@xutonglin.com").messages["Subject"])
    assert subjects == ["queued"]

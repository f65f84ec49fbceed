"""The lab's lifecycle: start only when listening, stop idempotently, re-run safely, never interfere."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import labkit
from labkit.errors import InvalidValue, LabNotRunning, UnknownObject
from labkit.lab import Lab


def lab_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("labkit-")]


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.fixture
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    lab = labkit.start(name=f"test-lab-{request.node.name}")
    yield lab
    lab.stop()


def test_importing_starts_nothing() -> None:
    code = "import threading, labkit; assert [t.name for t in threading.enumerate()] == ['MainThread']; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "ok", out.stderr


def test_start_returns_when_every_service_listens(lab: Lab) -> None:
    virtual = set(lab.endpoints()["Virtual endpoint"])
    assert {
        "100.100.100.2:53/udp",
        "100.100.100.2:53/tcp",
        "100.100.100.254:25/tcp",
        "100.100.100.10:25/tcp",
        "192.168.8.10:25/tcp",
    } <= virtual
    for real in lab.endpoints()["Real endpoint"]:
        host, port = real.split(":")
        assert host == "127.0.0.1"
    _, port = lab.endpoint("100.100.100.254", 25)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        assert sock.recv(100).startswith(b"220 ")


def test_stop_is_idempotent_and_releases_sockets_and_threads() -> None:
    lab = labkit.start(name="test-stop")
    ports = [int(r.split(":")[1]) for r, v in zip(lab.endpoints()["Real endpoint"], lab.endpoints()["Virtual endpoint"], strict=True) if v.endswith("/tcp")]
    assert lab_threads()
    lab.stop()
    lab.stop()
    assert not [t for t in lab_threads() if t.name == "labkit-test-stop"]
    assert all(refused(p) for p in ports)
    with pytest.raises(LabNotRunning, match=r"labkit\.start"):
        lab.endpoints()


def test_context_manager_stops() -> None:
    with labkit.start(name="test-with") as lab:
        assert lab.running
    assert not lab.running


def test_rerunning_the_same_cell_replaces_the_lab() -> None:
    first = labkit.start(name="test-rerun")
    second = labkit.start(name="test-rerun")
    try:
        assert not first.running and second.running
        assert [lab for lab in labkit.running_labs() if lab.name == "test-rerun"] == [second]
    finally:
        second.stop()


def test_two_labs_do_not_interfere() -> None:
    a = labkit.start(name="test-a")
    b = labkit.start(name="test-b")
    try:
        a.dns.add_record("contoso.com", "mail", "A", "100.100.100.10")
        assert a.nslookup("mail.contoso.com").addresses == ["100.100.100.10"]
        assert b.nslookup("mail.contoso.com").rcode == "NXDOMAIN"
        assert set(a.endpoints()["Real endpoint"]).isdisjoint(b.endpoints()["Real endpoint"])
    finally:
        a.stop()
        b.stop()


def test_step_one_has_only_soa_and_ns(lab: Lab) -> None:
    assert set(lab.dns.records()["Type"]) == {"SOA", "NS"}


def test_step_two_has_the_a_records() -> None:
    with labkit.start(step=2, name="test-step2") as lab:
        assert lab.nslookup("mail.contoso.com").addresses == ["100.100.100.10"]
        assert lab.nslookup("mail.xutonglin.com").addresses == ["100.100.100.254"]
        assert lab.nslookup("xutonglin.com", "MX").mx == []


@pytest.mark.parametrize("step", [0, 99, "2", True])
def test_bad_step_starts_nothing(step: object) -> None:
    before = len(lab_threads())
    with pytest.raises(InvalidValue, match="step"):
        labkit.start(step=step, name="test-badstep")  # type: ignore[arg-type]
    assert len(lab_threads()) == before


def test_unknown_broken_lab() -> None:
    with pytest.raises(UnknownObject, match="broken lab"):
        labkit.start(broken="no-such-thing", name="test-broken")


def test_failed_start_raises_the_real_error_and_leaves_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data directory should be")
    before = len(lab_threads())
    with pytest.raises(OSError):
        labkit.start(name="test-fail", data_dir=blocker)
    assert len(lab_threads()) == before


def test_nslookup_from_both_sides_crosses_the_right_path() -> None:
    with labkit.start(step=2, name="test-sides") as lab:
        assert lab.nslookup("mail.contoso.com", host="mail.xutonglin.com").addresses == ["100.100.100.10"]
        assert lab.nslookup("mail.xutonglin.com", host="mail.contoso.com").addresses == ["100.100.100.254"]
        log = lab.dns.queries()
        assert list(log["Client"])[-2:] == ["100.100.100.254", "100.100.100.10"]  # LAN query left through TMG's NAT


def test_connect_through_tmg_from_a_lab_host(lab: Lab) -> None:
    with lab.connect("mail.contoso.com", "100.100.100.254", 25) as sock:
        assert sock.recv(200).startswith(b"220 mail.xutonglin.com")
    log = lab.tmg.log()
    assert log.iloc[-1]["Client IP"] == "100.100.100.10"


def test_lab_stopped_at_interpreter_exit(tmp_path: Path) -> None:
    code = "import labkit; lab = labkit.start(); print('started', flush=True)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "started", out.stderr
    assert "Traceback" not in out.stderr

"""Inbound mail throughput of the lab, driven by Postfix's smtp-source, against two sinks, in one run.

Run as a script (not by pytest): ``python benchmarks/bench_mail.py [MESSAGES]``. Each server runs in its own
process pinned to core 0 (``taskset -c 0``); the load generator, Postfix's ``smtp-source`` (C, from Debian's
postfix package), is pinned to core 1, so the generator is not what is measured. One line per figure:

* the lab's full inbound path: smtp-source → TMG's published 100.100.100.254:25 → NAT → mail.xutonglin.com's
  Default receive connector (anonymous, step 5) → categorizer → Allen's mailbox on disk; timed from the first
  connection to the last message in the mailbox;
* a bare aiosmtpd server with a sink handler (the library labkit's receive connector is built on);
* Postfix's ``smtp-sink``, the ceiling;
* the ratios lab/bare-aiosmtpd (target: at least 0.5) and lab/smtp-sink;
* a queue of 1,000 messages held back by TMG, then drained: how many were delivered (nothing accepted is lost).

Bounded in count (``MESSAGES``, default 500) and time (every wait has a timeout); every socket is on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MESSAGES = int(sys.argv[1]) if len(sys.argv) > 1 else 500
SESSIONS = 8  # concurrent SMTP sessions of smtp-source
MESSAGE_BYTES = 1024
DRAIN = 1000
ALLEN = "allen@xutonglin.com"
SERVER_CORE, LOAD_CORE = "0", "1"
WAIT = 600.0  # seconds: a hang guard, not a speed limit

LAB_CHILD = r"""
import json, os, sys
import labkit
lab = labkit.start(step=5, name="bench-mail", data_dir=sys.argv[1])
host, port = lab.endpoint("100.100.100.254", 25)
print(json.dumps({"host": host, "port": port}), flush=True)
# Count the Maildir's files, not lab.mailbox(): that parses every message and would be timed too.
new = os.path.join(sys.argv[1], "mail.xutonglin.com", "mailboxes", "allen@xutonglin.com", "new")
for line in sys.stdin:
    if line.strip() == "settle":
        lab.settle(timeout=600)
        print(len(os.listdir(new)), flush=True)
lab.stop()
"""

SINK_CHILD = r"""
import asyncio
from aiosmtpd.smtp import SMTP

class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Sink(), hostname="sink.example", loop=loop), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, input)  # run until the parent closes stdin

asyncio.run(main())
"""


def pinned(core: str, *argv: str) -> list[str]:
    """``argv`` run on one core only (the figures mean nothing if server and generator share a core)."""
    return ["taskset", "-c", core, *argv]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def read_line(proc: subprocess.Popen[str], timeout: float = WAIT) -> str:
    """The child's next line, or an error if it prints nothing within ``timeout`` seconds."""
    import selectors

    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            proc.kill()
            raise TimeoutError(f"child {proc.args!r} printed nothing in {timeout:.0f} s")
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"child {proc.args!r} exited: {proc.stderr.read() if proc.stderr else ''}")
    return line.strip()


def smtp_source(port: int, count: int) -> float:
    """Send ``count`` messages with smtp-source from core 1; return the wall time in seconds."""
    argv = pinned(
        LOAD_CORE, "/usr/sbin/smtp-source", "-s", str(SESSIONS), "-m", str(count), "-l", str(MESSAGE_BYTES),
        "-M", "client.internet.lab", "-f", "sender@example.org", "-t", ALLEN, f"127.0.0.1:{port}",
    )  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=WAIT)
    if done.returncode != 0:
        raise RuntimeError(f"smtp-source failed ({done.returncode}): {done.stderr.strip()}")
    return time.perf_counter() - start


def lab_inbound(data_dir: Path) -> float:
    """Messages per second through the lab's published SMTP endpoint, until each is in the mailbox."""
    lab = subprocess.Popen(
        pinned(SERVER_CORE, sys.executable, "-c", LAB_CHILD, str(data_dir)),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(),
    )  # fmt: skip
    try:
        endpoint = json.loads(read_line(lab))
        smtp_source(endpoint["port"], 20)  # warm-up: first connections, first files
        assert lab.stdin is not None
        lab.stdin.write("settle\n")
        lab.stdin.flush()
        before = int(read_line(lab))
        start = time.perf_counter()
        smtp_source(endpoint["port"], MESSAGES)
        lab.stdin.write("settle\n")
        lab.stdin.flush()
        after = int(read_line(lab))
        elapsed = time.perf_counter() - start
        if after - before != MESSAGES:
            raise RuntimeError(f"{after - before} of {MESSAGES} messages reached the mailbox")
        return MESSAGES / elapsed
    finally:
        stop(lab)


def bare_aiosmtpd() -> float:
    sink = subprocess.Popen(
        pinned(SERVER_CORE, sys.executable, "-c", SINK_CHILD),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(),
    )  # fmt: skip
    try:
        port = int(read_line(sink))
        smtp_source(port, 20)
        return MESSAGES / smtp_source(port, MESSAGES)
    finally:
        stop(sink)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def as_nobody() -> list[str]:
    """smtp-sink refuses to run as root without a user to switch to (containers and CI run as root)."""
    return ["-u", "nobody"] if os.geteuid() == 0 else []


def postfix_sink() -> float:
    port = free_port()
    sink = subprocess.Popen(
        pinned(SERVER_CORE, "/usr/sbin/smtp-sink", *as_nobody(), "-c", f"127.0.0.1:{port}", "256"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:  # smtp-sink has bound the port once a connection succeeds
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or sink.poll() is not None:
                    raise RuntimeError(f"smtp-sink did not start: {sink.stderr.read() if sink.stderr else ''}") from None
                time.sleep(0.05)
        smtp_source(port, 20)
        return MESSAGES / smtp_source(port, MESSAGES)
    finally:
        stop(sink)


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.stdin is not None:
        proc.stdin.close()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


def drain(data_dir: Path) -> tuple[int, float]:
    """1,000 messages queued at contoso while TMG does not publish, then released: how many arrive."""
    import labkit

    lab = labkit.start(step=5, name="bench-drain", data_dir=data_dir)
    try:
        assert lab.tmg is not None
        lab.tmg.remove_publishing_rule("Publish mail.xutonglin.com SMTP")  # xutonglin unreachable: contoso queues
        for i in range(DRAIN):
            lab.send_mail("contoso@contoso.com", ALLEN, f"drain {i}", "A short benchmark message.\n")
        lab.settle(timeout=WAIT)
        contoso = lab.server("mail.contoso.com")
        queue = contoso.get_queue("xutonglin.com").iloc[0]
        assert (queue["Status"], queue["MessageCount"]) == ("Retry", DRAIN), queue.to_dict()
        lab.tmg.new_publishing_rule("Publish mail.xutonglin.com SMTP", "192.168.8.10")
        start = time.perf_counter()
        contoso.retry_queue(queue["Identity"])
        lab.settle(timeout=WAIT)
        elapsed = time.perf_counter() - start
        subjects = set(map(str, lab.mailbox(ALLEN).messages["Subject"]))
        return len(subjects & {f"drain {i}" for i in range(DRAIN)}), elapsed
    finally:
        lab.stop()


def main() -> None:
    for tool in ("taskset", "/usr/sbin/smtp-source", "/usr/sbin/smtp-sink"):
        if shutil.which(tool) is None:
            sys.exit(f"bench_mail: {tool} is missing: apt-get install util-linux postfix (.ci/run installs postfix)")
    if (os.cpu_count() or 1) < 2:
        sys.exit("bench_mail: needs two cores, one for the servers and one for smtp-source")
    with tempfile.TemporaryDirectory(prefix="labkit-bench-") as tmp:
        lab = lab_inbound(Path(tmp) / "inbound")
        bare = bare_aiosmtpd()
        ceiling = postfix_sink()
        print(f"smtp-source ({SESSIONS} sessions, {MESSAGES} x {MESSAGE_BYTES} B) on core {LOAD_CORE}; servers on core {SERVER_CORE}")
        print(f"lab inbound path (TMG -> mail.xutonglin.com -> mailbox): {lab:.1f} msg/s")
        print(f"bare aiosmtpd sink: {bare:.1f} msg/s")
        print(f"Postfix smtp-sink (ceiling): {ceiling:.1f} msg/s")
        print(f"ratio lab/bare aiosmtpd: {lab / bare:.2f} (target >= 0.5)")
        print(f"ratio lab/smtp-sink: {lab / ceiling:.3f}")
        delivered, seconds = drain(Path(tmp) / "drain")
        print(f"drain: {DRAIN} queued, {delivered} delivered, {DRAIN - delivered} lost, in {seconds:.1f} s")


if __name__ == "__main__":
    main()

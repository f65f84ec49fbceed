"""End-to-end mail throughput and latency of the lab, against a bare aiosmtpd sink, on loopback only.

Run as a script (not by pytest): ``python benchmarks/bench_mail.py``. Prints one line per figure:

* full path contoso → DNS (MX, A) → TMG → xutonglin → mailbox, with 1 and 8 concurrent senders
  (each sender submits as a mailbox, like Outlook; latency = SUBMIT on contoso → DELIVER on xutonglin);
* a bare aiosmtpd server with a sink handler, fed by smtplib with 1 and 8 concurrent clients;
* the ratio full/sink (target: at least 1/4);
* a queue of 1,000 messages held back by TMG, then drained: how many were delivered.

Bounded in count; every socket is on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.smtp import SMTP, Envelope, Session

import labkit
from labkit.lab import Lab
from labkit.transport.logs import TrackingEvent

MESSAGES = 200  # per configuration
DRAIN = 1000
GROUPS = ["AnonymousUsers", "ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers"]
BODY = "A short benchmark message.\n" * 10


def ready_lab(data_dir: Path, name: str) -> Lab:
    lab = labkit.start(step=3, name=name, data_dir=data_dir)
    lab.server("mail.contoso.com").new_send_connector("Internet", ["*"])
    lab.server("mail.xutonglin.com").set_receive_connector("Default MAIL", permission_groups=GROUPS)
    return lab


def run_senders(senders: int, count: int, send: Callable[[int], None]) -> float:
    """Call `send(i)` for i in range(count) from `senders` threads; return the wall time."""
    start = time.perf_counter()
    with ThreadPoolExecutor(senders) as pool:
        list(pool.map(send, range(count)))
    return time.perf_counter() - start


def submit(lab: Lab, i: int) -> None:
    lab.send_mail("contoso@contoso.com", "allen@xutonglin.com", f"bench {i}", BODY)


def full_path(senders: int, data_dir: Path) -> tuple[float, float]:
    lab = ready_lab(data_dir, f"bench-full-{senders}")
    try:
        lab.send_mail("contoso@contoso.com", "allen@xutonglin.com", "warm-up", BODY)
        lab.settle(timeout=60)
        lab.events.clear(TrackingEvent)
        start = time.perf_counter()
        run_senders(senders, MESSAGES, lambda i: submit(lab, i))
        lab.settle(timeout=300)
        elapsed = time.perf_counter() - start
        records = lab.events.of(TrackingEvent)
        submitted = {r.message_id: r.time for r in records if r.event_id == "SUBMIT"}
        delivered = {
            r.message_id: r.time for r in records if r.event_id == "DELIVER" and r.server == "mail.xutonglin.com"
        }
        assert len(delivered) == MESSAGES, f"{len(delivered)} of {MESSAGES} delivered"
        latency = statistics.median((delivered[m] - submitted[m]).total_seconds() for m in delivered)
        return MESSAGES / elapsed, latency
    finally:
        lab.stop()


class Sink:
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


def bare_sink(senders: int) -> tuple[float, float]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def serve() -> asyncio.AbstractServer:
        return await loop.create_server(lambda: SMTP(Sink(), hostname="sink.example", loop=loop), "127.0.0.1", 0)

    server = asyncio.run_coroutine_threadsafe(serve(), loop).result()
    port = server.sockets[0].getsockname()[1]
    local = threading.local()
    latencies: list[float] = []
    clients: list[smtplib.SMTP] = []
    message = f"Subject: bench\r\n\r\n{BODY}".encode()

    def send(i: int) -> None:
        if not hasattr(local, "client"):
            local.client = smtplib.SMTP("127.0.0.1", port, local_hostname="bench.example", timeout=30)
            clients.append(local.client)
        t0 = time.perf_counter()
        local.client.sendmail("a@example.org", ["b@example.net"], message)
        latencies.append(time.perf_counter() - t0)

    try:
        elapsed = run_senders(senders, MESSAGES, send)
        return MESSAGES / elapsed, statistics.median(latencies)
    finally:
        for client in clients:
            client.quit()
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def drain(data_dir: Path) -> tuple[int, float]:
    lab = ready_lab(data_dir, "bench-drain")
    try:
        assert lab.tmg is not None
        lab.tmg.remove_publishing_rule("Publish mail.xutonglin.com SMTP")  # xutonglin unreachable: contoso queues
        for i in range(DRAIN):
            lab.send_mail("contoso@contoso.com", "allen@xutonglin.com", f"drain {i}", BODY)
        lab.settle(timeout=300)
        contoso = lab.server("mail.contoso.com")
        queue = contoso.get_queue("xutonglin.com").iloc[0]
        assert (queue["Status"], queue["MessageCount"]) == ("Retry", DRAIN), queue.to_dict()
        lab.tmg.new_publishing_rule("Publish mail.xutonglin.com SMTP", "192.168.8.10")
        start = time.perf_counter()
        contoso.retry_queue(queue["Identity"])
        lab.settle(timeout=600)
        elapsed = time.perf_counter() - start
        subjects = set(lab.mailbox("allen@xutonglin.com").messages["Subject"])
        return len(subjects & {f"drain {i}" for i in range(DRAIN)}), elapsed
    finally:
        lab.stop()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="labkit-bench-") as tmp:
        root = Path(tmp)
        for senders in (1, 8):
            rate, latency = full_path(senders, root / f"full-{senders}")
            sink_rate, sink_latency = bare_sink(senders)
            print(f"full path, {senders} sender(s): {rate:.1f} msg/s, median latency {latency * 1000:.1f} ms")
            print(
                f"bare aiosmtpd sink, {senders} sender(s): {sink_rate:.1f} msg/s, median latency {sink_latency * 1000:.1f} ms"
            )
            print(f"ratio full/sink, {senders} sender(s): {rate / sink_rate:.2f} (target >= 0.25)")
        delivered, seconds = drain(root / "drain")
        print(f"drain: {DRAIN} queued, {delivered} delivered, {DRAIN - delivered} lost, in {seconds:.1f} s")


if __name__ == "__main__":
    main()

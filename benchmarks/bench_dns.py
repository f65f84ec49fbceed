"""DNS queries per second: the lab's DNS server vs a bare dnslib `DNSServer` (and nsd, if installed).

Run: ``python benchmarks/bench_dns.py``. Every server listens on 127.0.0.1 on a
free port and answers the same A question (``mail.xutonglin.com``). The load is
the same for each: a separate process (this script with ``--client``) runs
`CLIENTS` concurrent asyncio UDP clients, each sending one query and waiting for
its reply before the next, for `DURATION` seconds after a short warm-up. Total
run time stays well under 30 s. Prints one line per figure, then the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QNAME = "mail.xutonglin.com"
ADDRESS = "100.100.100.254"
CLIENTS = 32
DURATION = 4.0
WARMUP = 0.5
REPLY_TIMEOUT = 1.0
TARGET = 1.5


# -- the load: runs in its own process -------------------------------------------------------------
class _Client(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.waiter: asyncio.Future[bytes] | None = None

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(data)


def _query(query_id: int) -> bytes:
    # A standard query, RD=0, one question, no EDNS: the same bytes for every server.
    labels = b"".join(bytes([len(p)]) + p.encode() for p in QNAME.split(".")) + b"\x00"
    return struct.pack("!HHHHHH", query_id, 0, 1, 0, 0, 0) + labels + struct.pack("!HH", 1, 1)


async def _load(port: int, duration: float, clients: int) -> tuple[int, int]:
    loop = asyncio.get_running_loop()
    answered = lost = 0
    counting = False

    async def one(index: int) -> None:
        nonlocal answered, lost
        transport, proto = await loop.create_datagram_endpoint(_Client, remote_addr=("127.0.0.1", port))
        try:
            n = 0
            while not stop.is_set():
                n = (n + 1) & 0xFFFF
                proto.waiter = loop.create_future()
                transport.sendto(_query((index * 2048 + n) & 0xFFFF))
                try:
                    await asyncio.wait_for(proto.waiter, REPLY_TIMEOUT)
                except TimeoutError:
                    lost += counting
                    continue
                answered += counting
        finally:
            transport.close()

    stop = asyncio.Event()
    tasks = [asyncio.create_task(one(i)) for i in range(clients)]
    await asyncio.sleep(WARMUP)
    counting = True
    started = loop.time()
    await asyncio.sleep(duration)
    counting = False
    elapsed = loop.time() - started
    stop.set()
    await asyncio.gather(*tasks)
    return int(answered / elapsed), lost


def client_main(port: int, duration: float, clients: int) -> None:
    qps, lost = asyncio.run(_load(port, duration, clients))
    print(qps, lost)


def measure(port: int) -> tuple[int, int]:
    """Run the load process against `port`; return (queries per second, lost queries)."""
    done = subprocess.run(
        [sys.executable, __file__, "--client", str(port), str(DURATION), str(CLIENTS)],
        capture_output=True,
        text=True,
        check=True,
        timeout=DURATION + 20,
    )
    qps, lost = done.stdout.split()
    return int(qps), int(lost)


def answers(port: int) -> bool:
    """True when the server at `port` answers our question with the expected address."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        try:
            sock.sendto(_query(4242), ("127.0.0.1", port))
            data = sock.recv(2048)
        except OSError:
            return False
    return data[:2] == struct.pack("!H", 4242) and socket.inet_aton(ADDRESS) in data


# -- the servers ------------------------------------------------------------------------------------------
@contextlib.contextmanager
def lab_server() -> Iterator[int]:
    from labkit.dns.server import DnsServer
    from labkit.dns.zone import ZoneStore
    from labkit.events import EventLog
    from labkit.net.network import LabNetwork
    from labkit.runtime import LabRuntime
    from labkit.scenario import load_scenario

    scenario = load_scenario()
    store = ZoneStore.from_scenario(scenario)
    store.add_record("xutonglin.com", "mail", "A", ADDRESS)
    events = EventLog()
    runtime = LabRuntime("bench")
    runtime.start()

    async def build() -> tuple[LabNetwork, DnsServer]:
        network = LabNetwork(scenario, events)
        server = DnsServer(store, network, events, scenario.dns_server, "100.100.100.2")
        await server.start()
        return network, server

    network, server = runtime.run(build())
    try:
        assert server.udp is not None
        yield server.udp.real_port
    finally:
        runtime.run(server.stop())
        runtime.run(network.close())
        runtime.stop()


@contextlib.contextmanager
def dnslib_server() -> Iterator[int]:
    from dnslib.fixedresolver import FixedResolver  # type: ignore[import-untyped, unused-ignore]
    from dnslib.server import DNSLogger, DNSServer  # type: ignore[import-untyped, unused-ignore]

    resolver = FixedResolver(f"{QNAME}. 3600 IN A {ADDRESS}")
    logger = DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data", logf=lambda _: None)
    server = DNSServer(resolver, port=0, address="127.0.0.1", logger=logger)
    server.start_thread()
    try:
        yield server.server.server_address[1]
    finally:
        server.stop()
        server.server.server_close()


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = int(u.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port on 127.0.0.1")


@contextlib.contextmanager
def nsd_server(nsd: str) -> Iterator[int]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="labkit-nsd-") as tmp:
        work = Path(tmp)
        (work / "xutonglin.com.zone").write_text(
            "$TTL 3600\n"
            "@ IN SOA dns.internet.lab. hostmaster.xutonglin.com. 1 900 600 86400 3600\n"
            "@ IN NS dns.internet.lab.\n"
            f"mail IN A {ADDRESS}\n",
            encoding="ascii",
        )
        conf = work / "nsd.conf"
        conf.write_text(
            "server:\n"
            f"  ip-address: 127.0.0.1@{port}\n"
            f"  port: {port}\n"
            "  server-count: 1\n"
            "  verbosity: 0\n"
            '  username: ""\n'
            f'  chroot: ""\n'
            f'  zonesdir: "{work}"\n'
            f'  pidfile: "{work}/nsd.pid"\n'
            f'  logfile: "{work}/nsd.log"\n'
            f'  xfrdfile: "{work}/xfrd.state"\n'
            f'  zonelistfile: "{work}/zone.list"\n'
            f'  xfrdir: "{work}"\n'
            '  database: ""\n'
            # Response rate limiting would drop most of a load that all comes from 127.0.0.1.
            "  rrl-ratelimit: 0\n"
            "  rrl-whitelist-ratelimit: 0\n"
            "remote-control:\n"
            "  control-enable: no\n"
            "zone:\n"
            "  name: xutonglin.com\n"
            '  zonefile: "xutonglin.com.zone"\n',
            encoding="ascii",
        )
        proc = subprocess.Popen([nsd, "-d", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 10
            while not answers(port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                    raise RuntimeError(f"nsd did not start: {err.strip()[:300]}")
                time.sleep(0.1)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stderr:
                proc.stderr.close()


def run(name: str, server: Callable[[], contextlib.AbstractContextManager[int]]) -> int:
    with server() as port:
        if not answers(port):
            raise RuntimeError(f"{name} does not answer {QNAME}")
        qps, lost = measure(port)
    print(f"dns_qps_{name}={qps} lost={lost} clients={CLIENTS} duration={DURATION:g}s", flush=True)
    return qps


def main() -> int:
    print(
        f"bench_dns: {CLIENTS} concurrent UDP clients, {DURATION:g} s each, 127.0.0.1, python {sys.version.split()[0]}, cpus={os.cpu_count()}"
    )
    lab = run("lab", lab_server)
    bare = run("dnslib", dnslib_server)
    ratio = lab / bare if bare else float("inf")
    print(f"dns_qps lab={lab} dnslib={bare} ratio={ratio:.2f} (target >= {TARGET})")
    nsd = shutil.which("nsd")
    if nsd is None:
        print("dns_qps nsd: not found (install nsd to measure the ceiling)")
    else:
        try:
            ceiling = run("nsd", lambda: nsd_server(nsd))
            print(f"dns_qps nsd={ceiling} (ceiling; lab is {lab / ceiling:.0%} of it)")
        except (RuntimeError, subprocess.SubprocessError) as exc:
            print(f"dns_qps nsd: could not be measured ({exc})")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--client", nargs=3, metavar=("PORT", "DURATION", "CLIENTS"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.client:
        client_main(int(options.client[0]), float(options.client[1]), int(options.client[2]))
        sys.exit(0)
    sys.exit(main())

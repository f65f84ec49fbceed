"""The `labkit` command: run the lab in a terminal, look into it, release and grade notebooks.

``labkit up`` runs a lab until Ctrl-C (or SIGTERM) and prints its real
endpoints, so ``dig @127.0.0.1 -p PORT``, ``swaks --server 127.0.0.1:PORT`` or
``telnet`` work against it. It also opens a small control socket on loopback
(its address and a random token are in the state file) through which
``labkit status``, ``labkit nslookup`` and ``labkit trace`` ask the running lab.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from labkit.errors import LabkitError

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def default_state_file() -> Path:
    """Where `labkit up` says how to reach it: $LABKIT_STATE, else ~/.labkit/up.json."""
    env = os.environ.get("LABKIT_STATE")
    return Path(env) if env else Path.home() / ".labkit" / "up.json"


# -- the control channel ------------------------------------------------------------------------
class _ControlHandler(socketserver.StreamRequestHandler):
    server: _ControlServer

    def handle(self) -> None:
        line = self.rfile.readline(65536)
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or not secrets.compare_digest(str(request.get("token", "")), self.server.token):
                reply: dict[str, Any] = {"ok": False, "error": "bad token: read the state file of this `labkit up`"}
            else:
                reply = self.server.dispatch(str(request.get("command", "")), dict(request.get("args", {})))
        except LabkitError as exc:
            reply = {"ok": False, "error": str(exc)}
        except (ValueError, TypeError) as exc:
            reply = {"ok": False, "error": f"bad request: {exc}"}
        self.wfile.write(json.dumps(reply).encode() + b"\n")


class _ControlServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, token: str, dispatch: Callable[[str, dict[str, Any]], dict[str, Any]]) -> None:
        super().__init__(("127.0.0.1", 0), _ControlHandler)
        self.token = token
        self.dispatch = dispatch


def ask(state_file: Path, command: str, args: dict[str, Any] | None = None, timeout: float = 60.0) -> dict[str, Any]:
    """Send one command to a running `labkit up`; raise LookupError if none is running."""
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError):
        raise LookupError(f"No lab is running (no state file {state_file}). Start one with `labkit up`.") from None
    try:
        with socket.create_connection(("127.0.0.1", int(state["control"])), timeout=timeout) as sock:
            sock.sendall(json.dumps({"token": state["token"], "command": command, "args": args or {}}).encode() + b"\n")
            data = sock.makefile("rb").readline()
    except OSError:
        raise LookupError(f"The lab of {state_file} is not answering (pid {state.get('pid')}). Start one with `labkit up`.") from None
    reply: dict[str, Any] = json.loads(data)
    return reply


# -- commands --------------------------------------------------------------------------------------------
def _endpoint_rows(lab: Any) -> list[dict[str, str]]:
    df = lab.endpoints()
    return [
        {"host": r["Host"], "service": r["Service"], "virtual": r["Virtual endpoint"], "real": r["Real endpoint"]}
        for _, r in df.iterrows()
    ]


def _print_endpoints(rows: list[dict[str, str]], out: TextIO) -> None:
    width = max(len(r["virtual"]) for r in rows)
    out.write(f"{'virtual endpoint':<{width}}  real endpoint     host / service\n")
    for r in rows:
        out.write(f"{r['virtual']:<{width}}  {r['real']:<16}  {r['host']} / {r['service']}\n")
    dns = next((r for r in rows if r["virtual"].endswith(":53/udp")), None)
    tmg = next((r for r in rows if r["host"] == "tmg"), None)
    if dns:
        port = dns["real"].split(":")[1]
        out.write(f"\ntry:  dig @127.0.0.1 -p {port} mail.xutonglin.com\n")
    if tmg:
        port = tmg["real"].split(":")[1]
        out.write(f"      swaks --server 127.0.0.1:{port} --to allen@xutonglin.com --from you@example.org\n")


def cmd_up(args: argparse.Namespace, out: TextIO) -> int:
    import labkit

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    lab = labkit.start(step=args.step, broken=args.broken, data_dir=args.data_dir, name="cli")
    token = secrets.token_hex(16)

    def dispatch(command: str, cargs: dict[str, Any]) -> dict[str, Any]:
        return _dispatch(lab, command, cargs)

    control = _ControlServer(token, dispatch)
    threading.Thread(target=control.serve_forever, name="labkit-control", daemon=True).start()
    rows = _endpoint_rows(lab)
    state_file: Path = args.state_file
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state = {"pid": os.getpid(), "control": control.server_address[1], "token": token, "step": lab.step, "endpoints": rows}
    tmp = state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    os.chmod(tmp, 0o600)  # the token lets its reader drive the lab
    tmp.replace(state_file)
    try:
        if args.json:
            out.write(json.dumps({"step": lab.step, "state_file": str(state_file), "endpoints": rows}) + "\n")
        else:
            out.write(f"labkit lab running (step {lab.step}); Ctrl-C stops it.\n\n")
            _print_endpoints(rows, out)
        out.flush()
        while not stop.wait(0.2):
            pass
    finally:
        control.shutdown()
        control.server_close()
        lab.stop()
        if state_file.exists() and json.loads(state_file.read_text()).get("pid") == os.getpid():
            state_file.unlink()
        if not args.json:
            out.write("lab stopped\n")
            out.flush()
    return EXIT_OK


def _dispatch(lab: Any, command: str, args: dict[str, Any]) -> dict[str, Any]:
    if command == "status":
        queues: list[dict[str, str]] = []
        for name in lab.servers:
            df = lab.server(name).get_queue()
            queues.extend({"server": name, **{k: str(v) for k, v in row.items()}} for _, row in df.iterrows())
        return {"ok": True, "step": lab.step, "endpoints": _endpoint_rows(lab), "queues": queues}
    if command == "nslookup":
        result = lab.nslookup(str(args["name"]), str(args.get("type", "A")), host=args.get("host"))
        return {"ok": True, "text": result.text, "rcode": result.rcode}
    if command == "trace":
        trace = lab.trace(str(args["sender"]), str(args["recipient"]))
        return {"ok": True, "text": trace.text, "passed": trace.ok}
    return {"ok": False, "error": f"unknown command `{command}`; use status, nslookup or trace"}


def cmd_status(args: argparse.Namespace, out: TextIO) -> int:
    reply = ask(args.state_file, "status")
    if not reply.get("ok"):
        raise LabkitError(reply.get("error", "the lab refused"))
    if args.json:
        out.write(json.dumps(reply) + "\n")
        return EXIT_OK
    out.write(f"lab running, step {reply['step']}\n\n")
    _print_endpoints(reply["endpoints"], out)
    out.write("\nqueues:\n")
    for q in reply["queues"]:
        out.write(f"  {q['server']:<20} {q.get('Identity', ''):<18} {q.get('Status', ''):<8} {q.get('MessageCount', '')}  {q.get('LastError', '')}\n")
    return EXIT_OK


def cmd_nslookup(args: argparse.Namespace, out: TextIO) -> int:
    reply = ask(args.state_file, "nslookup", {"name": args.name, "type": args.type, "host": args.host})
    if not reply.get("ok"):
        raise LabkitError(reply.get("error", "the lab refused"))
    out.write(reply["text"].rstrip("\n") + "\n")
    return EXIT_OK if reply.get("rcode") == "NOERROR" else EXIT_FAIL


def cmd_trace(args: argparse.Namespace, out: TextIO) -> int:
    reply = ask(args.state_file, "trace", {"sender": args.sender, "recipient": args.recipient})
    if not reply.get("ok"):
        raise LabkitError(reply.get("error", "the lab refused"))
    out.write(reply["text"].rstrip("\n") + "\n")
    return EXIT_OK if reply.get("passed") else EXIT_FAIL


def cmd_release(args: argparse.Namespace, out: TextIO) -> int:
    """`labkit release SRC_DIR OUT_DIR`: write the student copies."""
    from labkit.grading import GradingError, release

    try:
        written = release(args.src_dir, args.out_dir)
    except GradingError as exc:
        sys.stderr.write(f"labkit release: {exc}\n")
        return EXIT_USAGE
    for path in written:
        out.write(f"released {path}\n")
    return EXIT_OK


def _progress_printer(stream: TextIO) -> Callable[[Any], None]:
    """A progress bar on a terminal, one line per finished submission otherwise."""
    tty = stream.isatty()

    def show(p: Any) -> None:
        what = f"{p.learner}/{p.notebook}"
        result = f"not graded: {p.problem}" if p.problem else f"{p.earned}/{p.points} points"
        if tty:
            filled = round(24 * p.done / p.total)
            stream.write(f"\r\x1b[K[{'#' * filled}{'.' * (24 - filled)}] {p.done}/{p.total} {what}: {result}")
            if p.done == p.total:
                stream.write("\n")
        else:
            stream.write(f"[{p.done:>{len(str(p.total))}}/{p.total}] {what}: {result}\n")
        stream.flush()

    return show


def cmd_grade(args: argparse.Namespace, out: TextIO) -> int:
    """`labkit grade SUBMISSIONS... --key DIR --out DIR`: grade, write grades.csv and feedback."""
    from labkit.grading import GradingError, grade

    if args.timeout <= 0 or args.workers < 0:
        sys.stderr.write("labkit grade: --timeout must be > 0 and --workers >= 0\n")
        return EXIT_USAGE
    try:
        book = grade(
            args.submissions,
            args.key,
            args.out,
            timeout=args.timeout,
            workers=args.workers,
            progress=_progress_printer(sys.stderr),
        )
    except GradingError as exc:
        sys.stderr.write(f"labkit grade: {exc}\n")
        return EXIT_USAGE
    out.write(f"graded {len(book.learners)} learner(s), out of {book.max_total} points\n")
    width = max(len(g.learner) for g in book.learners)
    for g in book.learners:
        out.write(f"  {g.learner:<{width}}  {g.total:>3}\n")
    out.write(f"grades:   {book.out_dir / 'grades.csv'}\nfeedback: {book.out_dir / 'feedback'}/ (index: {book.out_dir / 'index.html'})\n")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `labkit` command."""
    parser = argparse.ArgumentParser(prog="labkit", description="Run and inspect the labkit mail lab.")
    parser.add_argument("--state-file", type=Path, default=None, help="where `labkit up` records how to reach it (default: $LABKIT_STATE or ~/.labkit/up.json)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="run the lab until Ctrl-C and print its real endpoints")
    up.add_argument("--step", type=int, default=1, help="start ready for this step of the seed (1-5)")
    up.add_argument("--broken", default=None, help="start a named broken lab (troubleshooting)")
    up.add_argument("--data-dir", type=Path, default=None, help="keep queues, logs and mailboxes here")
    up.add_argument("--json", action="store_true", help="print the endpoints as JSON")
    up.set_defaults(run=cmd_up)

    status = sub.add_parser("status", help="show the running lab's endpoints and queues")
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=cmd_status)

    ns = sub.add_parser("nslookup", help="query the lab's public DNS like Windows nslookup")
    ns.add_argument("name")
    ns.add_argument("type", nargs="?", default="A")
    ns.add_argument("--host", default=None, help="the lab host to ask from (default: your machine)")
    ns.set_defaults(run=cmd_nslookup)

    trace = sub.add_parser("trace", help="explain what the sender's server would do with a message now")
    trace.add_argument("sender")
    trace.add_argument("recipient")
    trace.set_defaults(run=cmd_trace)

    rel = sub.add_parser("release", help="write student copies: each `fix` cell becomes a prompt")
    rel.add_argument("src_dir", type=Path, help="the instructor's notebooks, e.g. notebooks/")
    rel.add_argument("out_dir", type=Path, help="where the student copies go")
    rel.set_defaults(run=cmd_release)

    gr = sub.add_parser("grade", help="grade submissions with nbval; write grades.csv, feedback and executed notebooks")
    gr.add_argument("submissions", nargs="+", type=Path, help="notebooks or folders (submitted/<learner>/NN-name.ipynb)")
    gr.add_argument("--key", type=Path, required=True, help="the instructor's notebooks, e.g. notebooks/")
    gr.add_argument("--out", type=Path, required=True, help="where grades.csv, feedback/ and executed/ go")
    gr.add_argument("--timeout", type=float, default=60.0, help="seconds a cell may run (default: 60)")
    gr.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="notebooks run in parallel (default: CPUs; 0 = one by one)")
    gr.set_defaults(run=cmd_grade)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of the `labkit` console script; returns the exit code."""
    stream = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.state_file is None:
        args.state_file = default_state_file()
    try:
        code: int = args.run(args, stream)
    except (LabkitError, LookupError) as exc:
        sys.stderr.write(f"labkit: {exc}\n")
        return EXIT_FAIL
    return code


if __name__ == "__main__":
    sys.exit(main())

"""The DNS server's Command Prompt: ``nslookup`` (non-interactive) and ``dnscmd``, with their own texts.

``dnscmd [server] /RecordAdd zone node [ttl] type data``, ``/RecordDelete zone node
type [data] [/f]``, ``/EnumRecords zone node``, ``/ZoneAdd zone /Primary`` act on
the lab's public DNS through `lab.dns` (so every change is served on the wire at
once); failures print dnscmd's ``Command failed:`` line with the Win32/DNS error
name and code, and change nothing. ``nslookup [-type=MX] name [server]`` sends a
real query through the lab network (`lab.nslookup`).
"""

from __future__ import annotations

import ipaddress
import json
from typing import TYPE_CHECKING

from labkit.dns.zone import Record
from labkit.errors import DuplicateObject, InvalidValue, LabkitError, UnknownObject
from labkit.shell.result import CMD_PROMPT, ShellResult

if TYPE_CHECKING:
    from labkit.core import LabCore

OK = "Command completed successfully."
#: Win32 / DNS error codes dnscmd prints (winerror.h).
CODES = {
    "ERROR_INVALID_DATA": 13,
    "ERROR_INVALID_PARAMETER": 87,
    "ERROR_INVALID_NAME": 123,
    "RPC_S_SERVER_UNAVAILABLE": 1722,
    "DNS_ERROR_INVALID_IP_ADDRESS": 9552,
    "DNS_ERROR_ZONE_DOES_NOT_EXIST": 9601,
    "DNS_ERROR_ZONE_ALREADY_EXISTS": 9609,
    "DNS_ERROR_RECORD_DOES_NOT_EXIST": 9701,
    "DNS_ERROR_CNAME_COLLISION": 9709,
    "DNS_ERROR_RECORD_ALREADY_EXISTS": 9711,
    "DNS_ERROR_NAME_DOES_NOT_EXIST": 9714,
    "DNS_ERROR_DS_UNAVAILABLE": 9717,
}
USAGE = {
    "/recordadd": "Usage: DnsCmd <ServerName> /RecordAdd <Zone> <NodeName> [/Aging] [/OpenAcl] [/CreatePTR] "
    "[<Ttl>] <RRType> <RRData>",
    "/recorddelete": "Usage: DnsCmd <ServerName> /RecordDelete <Zone> <NodeName> <RRType> <RRData> [/f]",
    "/enumrecords": "Usage: DnsCmd <ServerName> /EnumRecords <Zone> <NodeName> [/Type <RRType>]",
    "/zoneadd": "Usage: DnsCmd <ServerName> /ZoneAdd <Zone> <ZoneType> [<Options>]",
}


def failed(name: str) -> str:
    """dnscmd's failure line, e.g. ``Command failed:  DNS_ERROR_ZONE_DOES_NOT_EXIST     9601    0x2581``."""
    code = CODES[name]
    return f"Command failed:  {name}     {code}    0x{code:X}"


def split(line: str) -> list[str]:
    """A command line split as cmd.exe hands it to a program: blanks separate, double quotes group.

    >>> split('dnscmd /RecordAdd xutonglin.com "mail" A 100.100.100.254')
    ['dnscmd', '/RecordAdd', 'xutonglin.com', 'mail', 'A', '100.100.100.254']
    """
    words: list[str] = []
    current: list[str] = []
    quoted = started = False
    for ch in line:
        if ch == '"':
            quoted, started = not quoted, True
        elif ch.isspace() and not quoted:
            if started:
                words.append("".join(current))
            current, started = [], False
        else:
            current.append(ch)
            started = True
    if started:
        words.append("".join(current))
    return words


def _code_for(error: LabkitError) -> str:
    if isinstance(error, UnknownObject):
        return "DNS_ERROR_ZONE_DOES_NOT_EXIST" if error.kind == "zone" else "DNS_ERROR_RECORD_DOES_NOT_EXIST"
    if isinstance(error, DuplicateObject):
        return "DNS_ERROR_ZONE_ALREADY_EXISTS" if error.kind == "zone" else "DNS_ERROR_RECORD_ALREADY_EXISTS"
    if isinstance(error, InvalidValue):
        if "CNAME" in str(error) and error.field in ("type", "name"):
            return "DNS_ERROR_CNAME_COLLISION"
        if error.field == "name":
            return "ERROR_INVALID_NAME"
        if error.field == "data":
            return "ERROR_INVALID_DATA"
    return "ERROR_INVALID_PARAMETER"


class CommandPrompt:
    """The DNS server's prompt: one lab, one run's output and notes."""

    def __init__(self, lab: LabCore) -> None:
        self.lab = lab
        self.dns_ip = lab.scenario.host(lab.scenario.dns_server).address
        self.dns_names = {".", "localhost", "127.0.0.1", self.dns_ip, lab.scenario.dns_server.lower(),
                          lab.scenario.host(lab.scenario.dns_server).fqdn.lower()}  # fmt: skip
        self.out: list[str] = []
        self.notes: list[str] = []
        self.python: list[str] = []

    def fail(self, text: str, note: str = "") -> None:
        """Print a failure (and keep the lab's explanation as a note)."""
        self.out.append(text)
        self.notes.append(note or text)

    def run(self, words: list[str]) -> None:
        """Run one command line."""
        program = words[0].lower().removesuffix(".exe")
        if program == "nslookup":
            self.nslookup(words[1:])
        elif program == "dnscmd":
            self.dnscmd(words[1:])
        else:
            self.fail(f"'{words[0]}' is not recognized as an internal or external command,\n"
                      "operable program or batch file.")  # fmt: skip

    # -- nslookup ----------------------------------------------------------------------------------------------
    def nslookup(self, args: list[str]) -> None:
        """``nslookup [-type=T] name [server]`` (the non-interactive forms)."""
        qtype, rest = "A", []
        for arg in args:
            key, _, value = arg.lstrip("-/").partition("=")
            if arg.startswith("-") and key.lower() in ("type", "q", "querytype", "qt") and value:
                qtype = value.upper()
            elif arg.startswith("-") and len(arg) > 1:
                self.fail(f"*** Invalid option: {arg[1:]}")
                return
            else:
                rest.append(arg)
        if not rest or rest == ["-"] or len(rest) > 2:
            self.fail("The lab's Command Prompt runs nslookup non-interactively: nslookup [-type=MX] name [server]")
            return
        name, server = rest[0], rest[1] if len(rest) > 1 else None
        if server is not None:
            try:
                ipaddress.IPv4Address(server)
            except ValueError:
                self.fail(f"*** Can't find address for server {server}: Non-existent domain")
                return
        try:
            result = self.lab.nslookup(name, qtype, server=server)
        except LabkitError as exc:
            self.fail(f"*** {exc}")
            return
        self.out.append(result.text)
        args_text = ", ".join([json.dumps(name), *([json.dumps(qtype)] if qtype != "A" else [])]
                              + ([f"server={json.dumps(server)}"] if server else []))  # fmt: skip
        self.python.append(f"lab.nslookup({args_text})")

    # -- dnscmd ------------------------------------------------------------------------------------------------
    def dnscmd(self, args: list[str]) -> None:
        """``dnscmd [server] /Command ...``."""
        server = "."
        if args and not args[0].startswith("/"):
            server, args = args[0], args[1:]
        if not args:
            self.fail("Usage: DnsCmd <ServerName> <Command> [<Command Parameters>]")
            return
        command, params = args[0].lower(), args[1:]
        handlers = {"/recordadd": self.record_add, "/recorddelete": self.record_delete,
                    "/enumrecords": self.enum_records, "/zoneadd": self.zone_add}  # fmt: skip
        if command not in handlers:
            self.fail(f'Unknown Command "{args[0]}" Specified -- type DnsCmd -? for help.')
            return
        if server.lower() not in self.dns_names:
            self.fail(failed("RPC_S_SERVER_UNAVAILABLE"),
                      f"The lab has one DNS server, {self.dns_ip}; give that address, `.`, or no server.")  # fmt: skip
            return
        handlers[command](params)

    def _fqdn(self, zone: str, node: str) -> str:
        if node == "@":
            return zone.lower().rstrip(".")
        return node.rstrip(".") if node.endswith(".") else f"{node}.{zone}".lower()

    def record_add(self, params: list[str]) -> None:
        """``/RecordAdd zone node [/Aging] [/OpenAcl] [/CreatePTR] [ttl] type data``."""
        plain = [p for p in params if p.lower() not in ("/aging", "/openacl", "/createptr")]
        if len(plain) < 4:
            self.fail(USAGE["/recordadd"])
            return
        zone, node, rest = plain[0], plain[1], plain[2:]
        ttl = None
        if rest[0].isdigit():
            ttl, rest = int(rest[0]), rest[1:]
        if len(rest) < 2:
            self.fail(USAGE["/recordadd"])
            return
        rtype, data = rest[0].upper(), rest[1:]
        preference = None
        if rtype == "MX":
            if len(data) != 2 or not data[0].isdigit():
                self.fail(USAGE["/recordadd"])
                return
            preference, data = int(data[0]), data[1:]
        value = " ".join(data) if rtype == "TXT" else data[0]
        self.out.append(f"Add {rtype} Record for {self._fqdn(zone, node)} at {zone}")
        extra = ([f"preference={preference}"] if preference is not None else []) + ([f"ttl={ttl}"] if ttl else [])
        call = ", ".join([json.dumps(zone), json.dumps(node), json.dumps(rtype), json.dumps(value), *extra])
        self.python.append(f"lab.dns.add_record({call})")
        try:
            if ttl is not None:
                self.lab.dns.add_record(zone, node, rtype, value, preference, ttl)
            else:
                self.lab.dns.add_record(zone, node, rtype, value, preference)
        except LabkitError as exc:
            code = _code_for(exc)
            if rtype == "A" and code == "ERROR_INVALID_DATA":
                code = "DNS_ERROR_INVALID_IP_ADDRESS"
            self.fail(failed(code), str(exc))
            return
        self.out.append(OK)

    def record_delete(self, params: list[str]) -> None:
        """``/RecordDelete zone node type [data] [/f]``; without ``/f`` dnscmd asks first (the lab cannot answer)."""
        force = any(p.lower() == "/f" for p in params)
        plain = [p for p in params if p.lower() != "/f"]
        if len(plain) < 3:
            self.fail(USAGE["/recorddelete"])
            return
        zone, node, rtype, data = plain[0], plain[1], plain[2].upper(), plain[3:]
        if rtype == "MX" and len(data) == 2:
            data = data[1:]  # "10 mail.contoso.com": the record is named by its host
        value = " ".join(data) if data else None
        if not force:
            self.fail("Are you sure you want to delete record? (y/n)",
                      "The lab's Command Prompt cannot answer prompts: add /f to delete without being asked.")  # fmt: skip
            return
        call = ", ".join([json.dumps(zone), json.dumps(node), json.dumps(rtype), *([json.dumps(value)] if value else [])])
        self.python.append(f"lab.dns.remove_record({call})")
        try:
            self.lab.dns.remove_record(zone, node, rtype, value)
        except LabkitError as exc:
            self.fail(failed(_code_for(exc)), str(exc))
            return
        self.out += [f"Deleted {rtype} record(s) at {zone}", OK]

    def enum_records(self, params: list[str]) -> None:
        """``/EnumRecords zone node [/Type T]``: the node and every name below it, names relative to the node."""
        plain, rtype = [], None
        i = 0
        while i < len(params):
            if params[i].lower() == "/type" and i + 1 < len(params):
                rtype, i = params[i + 1].upper(), i + 2
                continue
            plain.append(params[i])
            i += 1
        if len(plain) < 2:
            self.fail(USAGE["/enumrecords"])
            return
        zone, node = plain[0], plain[1]
        self.python.append(f"lab.dns.records({json.dumps(zone)})")
        try:
            records = self.lab.dns.get_record(zone)
        except LabkitError as exc:
            self.fail(failed(_code_for(exc)), str(exc))
            return
        top = self._fqdn(zone, node)
        chosen = [r for r in records if (r.fqdn == top or r.fqdn.endswith("." + top)) and rtype in (None, r.type)]
        if not chosen:
            self.fail(failed("DNS_ERROR_NAME_DOES_NOT_EXIST"), f"No records at or below `{top}`.")
            return
        self.out += ["Returned records:", *enum_lines(chosen, top), "", OK]

    def zone_add(self, params: list[str]) -> None:
        """``/ZoneAdd zone /Primary [/file name]`` (a standalone server: no ``/DsPrimary``)."""
        if len(params) < 2:
            self.fail(USAGE["/zoneadd"])
            return
        zone, kind = params[0], params[1].lower()
        if kind in ("/dsprimary", "/dp"):
            self.fail(failed("DNS_ERROR_DS_UNAVAILABLE"),
                      "The lab's public DNS is not a domain controller: use /Primary (a file-backed zone).")  # fmt: skip
            return
        if kind != "/primary":
            self.fail(USAGE["/zoneadd"], "The lab's DNS server holds primary zones: use /Primary.")
            return
        self.python.append(f"lab.dns.add_zone({json.dumps(zone)})")
        try:
            name = self.lab.dns.add_zone(zone)
        except LabkitError as exc:
            self.fail(failed(_code_for(exc)), str(exc))
            return
        self.out += [f"DNS Server . created zone {name}:", "", OK]


def enum_lines(records: list[Record], top: str) -> list[str]:
    """dnscmd's record listing: the node name on its first record, a tab before the others; host data absolute.

    >>> enum_lines([Record("contoso.com", "@", "MX", "mail.contoso.com", 10),
    ...             Record("contoso.com", "mail", "A", "100.100.100.10")], "contoso.com")
    ['@ 3600 MX\\t10 mail.contoso.com.', 'mail 3600 A\\t100.100.100.10']
    """
    lines, previous = [], None
    for record in records:
        label = "@" if record.fqdn == top else record.fqdn[: -len(top) - 1]
        if record.type in ("MX", "NS", "CNAME", "PTR"):
            data = f"{record.data}."
        elif record.type == "SOA":
            parts = record.data.split()
            data = " ".join([f"{parts[0]}.", f"{parts[1]}.", *parts[2:]])
        elif record.type == "TXT":
            data = f'"{record.data}"'
        else:
            data = record.data
        if record.preference is not None:
            data = f"{record.preference} {data}"
        head = label if label != previous else "\t"
        lines.append(f"{head} {record.ttl} {record.type}\t{data}" if head != "\t" else f"\t{record.ttl} {record.type}\t{data}")
        previous = label
    return lines


def run_cmd(lab: LabCore, command: str) -> ShellResult:
    """Run Command Prompt lines (``nslookup``, ``dnscmd``) on the lab's DNS server; one result for all lines.

    Args:
        lab: the running lab.
        command: one command per line.

    Returns:
        What the prompt printed; ``.errors`` holds the lab's explanation of each failure.

    Raises:
        LabNotRunning: the lab has stopped.
    """
    prompt = CommandPrompt(lab)
    blocks = []
    for line in command.splitlines():
        words = split(line)
        if words:
            before = len(prompt.out)
            prompt.run(words)
            blocks.append((line.strip(), "\n".join(prompt.out[before:])))
    result = ShellResult("Command Prompt", command, "\n".join(prompt.out), errors=prompt.notes,
                         python="\n".join(prompt.python), where=f"DNS server {prompt.dns_ip}", prompt=CMD_PROMPT, blocks=blocks)  # fmt: skip
    return result

"""One Exchange server's configuration objects — accepted domains, mailboxes, connectors — and their checks.

Each object is an immutable record; a change builds a new record, so a failed
check leaves the configuration untouched (DESIGN.md §4). Receive-connector
selection by binding and RemoteIPRanges is pure and lives here too.

>>> parse_ip_range("192.168.8.0/24")
(3232237568, 3232237823)
>>> choose = [ReceiveConnector("Default MAIL", "MAIL"), ReceiveConnector("Relay", "MAIL",
...           remote_ip_ranges=("100.100.100.10",))]
>>> select_receive_connector(choose, "192.168.8.10", 25, "100.100.100.10").name
'Relay'
>>> select_receive_connector(choose, "192.168.8.10", 25, "100.100.100.20").name
'Default MAIL'
"""

from __future__ import annotations

import functools
import ipaddress
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from labkit.errors import InvalidValue
from labkit.transport import facts
from labkit.transport.addressing import AddressSpace, is_domain, parse_address_space


@dataclass(frozen=True)
class AcceptedDomain:
    """An accepted domain (facts §5.1): ``Authoritative``, ``InternalRelay`` or ``ExternalRelay``."""

    name: str
    domain_name: str
    domain_type: str = "Authoritative"
    default: bool = False


@dataclass(frozen=True)
class MailboxUser:
    """A mailbox-enabled user: its primary SMTP address, display name, alias and (lab) password."""

    address: str
    display_name: str
    alias: str
    password: str = facts.DEFAULT_PASSWORD


@dataclass(frozen=True)
class SendConnector:
    """A send connector (facts §3.3); org-wide in the product, one server per org in the lab."""

    name: str
    address_spaces: tuple[AddressSpace, ...]
    usage: str = "Internet"
    dns_routing_enabled: bool = True
    smart_hosts: tuple[str, ...] = ()
    max_message_size: int = facts.MAX_MESSAGE_SIZE
    fqdn: str = ""
    enabled: bool = True
    port: int = facts.SMTP_PORT
    source_transport_servers: tuple[str, ...] = ()
    protocol_logging_level: str = "None"
    connection_inactivity_timeout: timedelta = timedelta(minutes=10)

    @property
    def guid(self) -> str:
        """A stable GUID for NextHopConnector (derived from the name, so it is deterministic)."""
        return _connector_guid(self.name)


@functools.lru_cache(maxsize=256)
def _connector_guid(name: str) -> str:
    """`SendConnector.guid`, computed once per name (routing asks for it with every message)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"labkit:send-connector:{name}"))


@dataclass(frozen=True)
class ReceiveConnector:
    """A receive connector (facts §4.1, §4.4); identity ``SERVER\\Name``."""

    name: str
    server: str
    bindings: tuple[str, ...] = ("0.0.0.0:25",)
    remote_ip_ranges: tuple[str, ...] = (facts.ALL_IPV4,)
    auth_mechanism: tuple[str, ...] = facts.DEFAULT_CONNECTOR_AUTH
    permission_groups: tuple[str, ...] = facts.DEFAULT_CONNECTOR_GROUPS
    max_message_size: int = facts.MAX_MESSAGE_SIZE
    max_recipients_per_message: int = facts.MAX_RECIPIENTS
    fqdn: str = ""
    banner: str | None = None
    enabled: bool = True
    usage: str = "Custom"
    protocol_logging_level: str = "None"

    @property
    def identity(self) -> str:
        """``MAIL\\Default MAIL``."""
        return f"{self.server}\\{self.name}"

    def ports(self) -> set[int]:
        """The ports of every binding."""
        return {parse_binding(b)[1] for b in self.bindings}


def size_text(size: int) -> str:
    """A size as the shell prints a ByteQuantifiedSize.

    >>> size_text(10485760), size_text(2**31 - 1)
    ('10 MB (10,485,760 bytes)', 'Unlimited')
    """
    if size >= 2**31 - 1:
        return "Unlimited"
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            value = size / factor
            text = f"{value:.0f}" if size % factor == 0 else f"{value:.3g}"
            return f"{text} {unit} ({size:,} bytes)"
    return f"{size} B ({size:,} bytes)"


def multi(values: Iterable[object]) -> str:
    """A multi-valued property as the shell prints it: ``{a, b}``."""
    return "{" + ", ".join(str(v) for v in values) + "}"


# -- checks -------------------------------------------------------------------------------------------------------------
def check_name(kind: str, name: object) -> str:
    """A non-empty object name, stripped.

    Raises:
        InvalidValue: empty or not text.
    """
    if not isinstance(name, str) or not name.strip() or "\\" in name:
        raise InvalidValue("name", name, f"is not a usable {kind} name", f"Give the {kind} a name, e.g. `Internet`.")
    return name.strip()


def check_choice(field: str, value: object, choices: Sequence[str]) -> str:
    """`value` as spelled in `choices` (case-insensitive).

    >>> check_choice("usage", "internet", facts.SEND_USAGES)
    'Internet'

    Raises:
        InvalidValue: not one of the choices.
    """
    for choice in choices:
        if isinstance(value, str) and value.lower() == choice.lower():
            return choice
    raise InvalidValue(field, value, "is not one of the allowed values", f"Use one of: {', '.join(choices)}.")


def check_size(field: str, value: object) -> int:
    """A size in bytes (int) or text such as ``10MB``/``10240KB``; ``Unlimited`` is 2**31-1.

    >>> check_size("max_message_size", "20MB")
    20971520

    Raises:
        InvalidValue: not a positive size.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str):
        text = value.strip().upper().replace(" ", "")
        if text == "UNLIMITED":
            return 2**31 - 1
        for suffix, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024), ("B", 1)):
            if text.endswith(suffix) and text[: -len(suffix)].isdigit() and int(text[: -len(suffix)]) > 0:
                return int(text[: -len(suffix)]) * factor
        if text.isdigit() and int(text) > 0:
            return int(text)
    raise InvalidValue(field, value, "is not a message size", "Give bytes (e.g. 10485760), or text like `10MB`.")


def check_positive_int(field: str, value: object) -> int:
    """A whole number > 0.

    Raises:
        InvalidValue: anything else.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise InvalidValue(field, value, "is not a whole number above 0", "Give a number such as 200.")


def check_fqdn(field: str, value: object) -> str:
    """A host name for HELO/EHLO or a banner, or "" (use the server's FQDN).

    Raises:
        InvalidValue: not a domain name.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, str) and is_domain(value):
        return value.lower().rstrip(".")
    raise InvalidValue(field, value, "is not a fully qualified domain name", "Use a name like `mail.contoso.com`.")


def check_address_spaces(spaces: object) -> tuple[AddressSpace, ...]:
    """Parse a list of address spaces (a single string is one space).

    Raises:
        InvalidValue: none given, or one is invalid.
    """
    items = [spaces] if isinstance(spaces, str) else list(spaces) if isinstance(spaces, Iterable) else [spaces]
    if not items:
        raise InvalidValue("address_spaces", spaces, "is empty", "Give at least one address space, e.g. `['*']`.")
    parsed = tuple(parse_address_space(str(item)) for item in items)
    seen: set[str] = set()
    for space in parsed:
        if space.address in seen:
            raise InvalidValue("address_spaces", spaces, f"lists `{space.address}` twice", "List each address once.")
        seen.add(space.address)
    return parsed


def check_smart_hosts(hosts: object) -> tuple[str, ...]:
    """Smart hosts: FQDNs or IPv4 addresses (``[1.2.3.4]`` accepted).

    Raises:
        InvalidValue: a host that is neither.
    """
    if hosts is None:
        return ()
    items = [hosts] if isinstance(hosts, str) else list(hosts) if isinstance(hosts, Iterable) else [hosts]
    result: list[str] = []
    for item in items:
        text = str(item).strip().strip("[]")
        try:
            ipaddress.IPv4Address(text)
        except ValueError:
            if not is_domain(text):
                raise InvalidValue(
                    "smart_hosts", item, "is neither an IP address nor an FQDN", "Use e.g. `smtp.isp.example`."
                ) from None
            text = text.lower()
        result.append(text)
    return tuple(result)


def parse_binding(text: str) -> tuple[str, int]:
    """``ip:port`` → (ip, port); ``0.0.0.0`` means every address of the server.

    >>> parse_binding("0.0.0.0:25")
    ('0.0.0.0', 25)

    Raises:
        InvalidValue: not an IPv4 address and port.
    """
    ip, _, port = str(text).strip().rpartition(":")
    try:
        ipaddress.IPv4Address(ip)
        number = int(port)
        if not 0 < number < 65536:
            raise ValueError(port)
    except ValueError:
        raise InvalidValue(
            "bindings", text, "is not an `ip:port` binding", "Use e.g. `0.0.0.0:25` (all addresses, port 25)."
        ) from None
    return ip, number


def check_bindings(bindings: object) -> tuple[str, ...]:
    """Validate bindings; at least one.

    Raises:
        InvalidValue: none, or a bad one.
    """
    items = [bindings] if isinstance(bindings, str) else list(bindings) if isinstance(bindings, Iterable) else []
    if not items:
        raise InvalidValue("bindings", bindings, "is empty", "Give at least one, e.g. `['0.0.0.0:25']`.")
    return tuple(f"{ip}:{port}" for ip, port in (parse_binding(str(b)) for b in items))


def parse_ip_range(text: str) -> tuple[int, int]:
    """A RemoteIPRanges entry — address, ``a-b`` range, or CIDR — as (first, last) integers.

    Raises:
        InvalidValue: none of those forms.
    """
    raw = str(text).strip()
    try:
        if "-" in raw:
            low, _, high = raw.partition("-")
            first, last = int(ipaddress.IPv4Address(low.strip())), int(ipaddress.IPv4Address(high.strip()))
            if first > last:
                raise ValueError(raw)
            return first, last
        net = ipaddress.IPv4Network(raw, strict=False)
        return int(net.network_address), int(net.broadcast_address)
    except ValueError:
        raise InvalidValue(
            "remote_ip_ranges",
            text,
            "is not an IPv4 address, range or CIDR",
            "Use e.g. `0.0.0.0-255.255.255.255`, `100.100.100.0/24` or `100.100.100.10`.",
        ) from None


def check_ip_ranges(ranges: object) -> tuple[str, ...]:
    """Validate RemoteIPRanges; at least one.

    Raises:
        InvalidValue: none, or a bad one.
    """
    items = [ranges] if isinstance(ranges, str) else list(ranges) if isinstance(ranges, Iterable) else []
    if not items:
        raise InvalidValue("remote_ip_ranges", ranges, "is empty", f"Give at least one, e.g. `['{facts.ALL_IPV4}']`.")
    for item in items:
        parse_ip_range(str(item))
    return tuple(str(item).strip() for item in items)


def check_auth(mechanisms: object) -> tuple[str, ...]:
    """Validate AuthMechanism values (``Tls, BasicAuth`` or a list).

    Raises:
        InvalidValue: an unknown mechanism.
    """
    items = (
        [mechanisms] if isinstance(mechanisms, str) else list(mechanisms) if isinstance(mechanisms, Iterable) else []
    )
    result: list[str] = []
    for item in items:
        for part in str(item).split(","):
            if part.strip():
                name = check_choice("auth_mechanism", part.strip(), facts.AUTH_MECHANISMS)
                if name not in result:
                    result.append(name)
    return tuple(result) or ("None",)


def range_span(ranges: Iterable[str], ip: str) -> int | None:
    """The size of the narrowest range in `ranges` containing `ip`, or None when none does."""
    value = int(ipaddress.IPv4Address(ip))
    spans = [last - first for first, last in (parse_ip_range(r) for r in ranges) if first <= value <= last]
    return min(spans) if spans else None


def select_receive_connector(
    connectors: Iterable[ReceiveConnector], local_ip: str, port: int, peer_ip: str
) -> ReceiveConnector | None:
    """The enabled connector bound to `local_ip:port` whose RemoteIPRanges most specifically hold `peer_ip`.

    A binding on a specific address beats ``0.0.0.0``; then the narrowest range wins (facts §4.1).
    """
    best: tuple[int, int, str] | None = None
    chosen: ReceiveConnector | None = None
    for conn in connectors:
        if not conn.enabled:
            continue
        bound = [ip for ip, p in (parse_binding(b) for b in conn.bindings) if p == port and ip in (local_ip, "0.0.0.0")]
        if not bound:
            continue
        span = range_span(conn.remote_ip_ranges, peer_ip)
        if span is None:
            continue
        key = (0 if local_ip in bound else 1, span, conn.name)
        if best is None or key < best:
            best, chosen = key, conn
    return chosen


def default_receive_connectors(server: str, settings_level: str) -> tuple[ReceiveConnector, ReceiveConnector]:
    """The two connectors setup creates (facts §4.1): ``Default SERVER`` on 25 and ``Client SERVER`` on 587."""
    default = ReceiveConnector(f"Default {server}", server, usage="Internal", protocol_logging_level=settings_level)
    client = ReceiveConnector(
        f"Client {server}",
        server,
        bindings=(f"0.0.0.0:{facts.SUBMISSION_PORT}",),
        auth_mechanism=facts.CLIENT_CONNECTOR_AUTH,
        permission_groups=facts.CLIENT_CONNECTOR_GROUPS,
        usage="Client",
        protocol_logging_level=settings_level,
    )
    return default, client


#: Permission groups and auth a new receive connector gets from its usage (facts §4.2).
USAGE_DEFAULTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Client": (("ExchangeUsers",), ("Tls", "BasicAuth", "BasicAuthRequireTLS", "Integrated")),
    "Custom": ((), ("Tls",)),
    "Internal": (("ExchangeLegacyServers", "ExchangeServers"), ("Tls", "ExchangeServer")),
    "Internet": (("AnonymousUsers",), ("Tls",)),
    "Partner": (("Partners",), ("Tls",)),
}

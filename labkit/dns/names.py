"""Pure checks of DNS names: LDH labels, lengths, and names relative to a zone (RFC 1034 §3.5, RFC 1123 §2.1).

Every check raises `InvalidValue` naming the field and the fix, before anything
in a zone changes.
"""

from __future__ import annotations

import ipaddress
import re

from labkit.errors import InvalidValue

_LDH = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_UNDERSCORE = re.compile(r"^_[a-z0-9-]{1,62}$")


def name_error(field: str, value: object, problem: str, fix: str = "") -> InvalidValue:
    return InvalidValue(
        field,
        value,
        problem,
        fix or "Use letters, digits and hyphens, labels of 1-63 characters separated by dots (e.g. `mail`).",
    )


def check_domain_name(value: str, field: str = "name", *, underscore: bool = False) -> str:
    """Check an absolute domain name and return it in lower case without the trailing dot.

    Args:
        value: e.g. ``mail.xutonglin.com`` or ``mail.xutonglin.com.``.
        field: the parameter named in the error.
        underscore: allow labels starting with ``_`` (RFC 8552; TXT owners).

    Returns:
        The normalised name.

    Raises:
        InvalidValue: an empty or illegal label, a label over 63 octets, or a
            name over 255 octets on the wire (RFC 1035 §2.3.4).

    >>> check_domain_name("Mail.XUTONGLIN.com.")
    'mail.xutonglin.com'
    >>> check_domain_name("mail_1.contoso.com")
    Traceback (most recent call last):
    ...
    labkit.errors.InvalidValue: `name` = 'mail_1.contoso.com': label `mail_1` is not a valid host name label. \
Use letters, digits and hyphens, labels of 1-63 characters separated by dots (e.g. `mail`).
    """
    if not isinstance(value, str):
        raise name_error(field, value, "is not text")
    name = value.strip().lower()
    name = name[:-1] if name.endswith(".") else name
    if not name:
        raise name_error(field, value, "is empty")
    for label in name.split("."):
        if not label:
            raise name_error(field, value, "has an empty label (two dots in a row, or a leading dot)")
        if len(label.encode()) > 63:
            raise name_error(
                field,
                value,
                f"label `{label[:20]}...` is {len(label.encode())} octets; the limit is 63 (RFC 1035 §2.3.4)",
            )
        if not (_LDH.match(label) or (underscore and _UNDERSCORE.match(label))):
            raise name_error(field, value, f"label `{label}` is not a valid host name label")
    wire = sum(len(label.encode()) + 1 for label in name.split(".")) + 1
    if wire > 255:
        raise name_error(
            field,
            value,
            f"is {wire} octets long on the wire; the limit is 255 (RFC 1035 §2.3.4)",
            "Use a shorter name.",
        )
    return name


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip().rstrip("."))
    except ValueError:
        return False
    return True


def relative_name(name: str, zone: str, *, underscore: bool = False) -> str:
    """Turn a record name as typed into its stored form relative to `zone`.

    Args:
        name: ``"@"`` or ``""`` for the apex, a relative name (``"mail"``), or an
            absolute name with a trailing dot inside the zone.
        zone: the zone, already normalised.
        underscore: allow ``_label`` labels (TXT owners).

    Returns:
        ``"@"`` or the relative name in lower case.

    Raises:
        InvalidValue: illegal name, an absolute name outside the zone, or a
            relative name that repeats the zone name.

    >>> relative_name("@", "contoso.com"), relative_name("MAIL", "contoso.com")
    ('@', 'mail')
    >>> relative_name("mail.contoso.com.", "contoso.com"), relative_name("contoso.com.", "contoso.com")
    ('mail', '@')
    """
    if not isinstance(name, str):
        raise name_error("name", name, "is not text")
    text = name.strip().lower()
    if text in ("", "@", f"{zone}."):
        return "@"
    if text.endswith("."):
        absolute = check_domain_name(text, "name", underscore=underscore)
        if not absolute.endswith("." + zone):
            raise name_error(
                "name",
                name,
                f"is not inside zone `{zone}`",
                f"Use a name ending in `.{zone}.`, or a relative name such as `mail`.",
            )
        return absolute[: -len(zone) - 1]
    if text == zone or text.endswith("." + zone):
        short = text[: -len(zone) - 1] or "@"
        raise name_error(
            "name",
            name,
            f"is relative to the zone, so this would be `{text}.{zone}`",
            f"Write `{short}` (or the absolute `{text}.` with a trailing dot).",
        )
    check_domain_name(f"{text}.{zone}", "name", underscore=underscore)
    return text

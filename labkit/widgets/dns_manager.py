"""DNS Manager: the public DNS server's zones and records, "New Host (A)" and "New Mail Exchanger (MX)".

The dialogs follow Windows DNS Manager (facts §7.2): a blank name means the
parent domain, the FQDN box previews the full name as you type, and the mail
server priority starts at 10. Every action is one `lab.dns` call, shown as code.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from labkit.errors import InvalidValue
from labkit.widgets.base import TABLE_CSS, LabForm, button, heading, required, show
from labkit.widgets.calls import ApiCall

if TYPE_CHECKING:
    from labkit.lab import Lab

#: How DNS Manager names each record type in its Type column.
TYPE_NAMES = {
    "SOA": "Start of Authority (SOA)",
    "NS": "Name Server (NS)",
    "A": "Host (A)",
    "AAAA": "IPv6 Host (AAAA)",
    "MX": "Mail Exchanger (MX)",
    "CNAME": "Alias (CNAME)",
    "TXT": "Text (TXT)",
    "PTR": "Pointer (PTR)",
}
PARENT = "(same as parent folder)"

RecordKey = tuple[str, str, str, str]  # zone, name, type, data — what `remove_record` needs


def fqdn_preview(name: str, zone: str) -> str:
    """The FQDN box of the New Host / New MX dialogs: a blank name (or ``@``) means the parent domain.

    >>> fqdn_preview("mail", "xutonglin.com"), fqdn_preview("  ", "xutonglin.com"), fqdn_preview("@", "contoso.com")
    ('mail.xutonglin.com', 'xutonglin.com', 'contoso.com')
    >>> fqdn_preview("Mail.", "contoso.com")
    'Mail.contoso.com'
    """
    text = name.strip().rstrip(".")
    zone = zone.strip().rstrip(".")
    if text in ("", "@"):
        return zone
    return f"{text}.{zone}" if zone else text


def api_name(name: str) -> str:
    """The record name for `lab.dns`: ``@`` for the parent domain, else the name as typed.

    >>> api_name(""), api_name(" mail ")
    ('@', 'mail')
    """
    text = name.strip()
    return text or "@"


def manager_row(row: pd.Series) -> tuple[str, str, str]:
    """One `lab.dns.records()` row as DNS Manager shows it: Name, Type, Data.

    >>> manager_row(pd.Series({"Name": "@", "Type": "MX", "Data": "mail.contoso.com", "Preference": 10}))
    ('(same as parent folder)', 'Mail Exchanger (MX)', '[10]  mail.contoso.com.')
    >>> manager_row(pd.Series({"Name": "mail", "Type": "A", "Data": "100.100.100.10", "Preference": ""}))
    ('mail', 'Host (A)', '100.100.100.10')
    """
    name = PARENT if row["Name"] == "@" else str(row["Name"])
    rtype = str(row["Type"])
    data = str(row["Data"])
    if rtype == "MX":
        pref = row["Preference"]
        if isinstance(pref, float) and pref.is_integer():
            pref = int(pref)  # pandas stores a column with blanks as floats
        data = f"[{pref}]  {data}."
    elif rtype in ("NS", "CNAME", "PTR"):
        data = f"{data}."
    elif rtype == "SOA":
        parts = data.split()
        if len(parts) >= 3:
            data = f"[{parts[2]}], {parts[0]}., {parts[1]}."
    return name, TYPE_NAMES.get(rtype, rtype), data


def record_options(df: pd.DataFrame) -> tuple[str, list[tuple[str, RecordKey]]]:
    """The record list: an aligned ``Name  Type  Data`` title line, and options (label, key to delete by).

    >>> df = pd.DataFrame([{"Zone": "contoso.com", "Name": "mail", "Type": "A", "Data": "100.100.100.10", "Preference": ""}])
    >>> title, options = record_options(df)
    >>> title
    'Name  Type      Data'
    >>> options
    [('mail  Host (A)  100.100.100.10', ('contoso.com', 'mail', 'A', '100.100.100.10'))]
    """
    rows = [(manager_row(r), (str(r["Zone"]), str(r["Name"]), str(r["Type"]), str(r["Data"]))) for _, r in df.iterrows()]
    width_name = max([len("Name")] + [len(cells[0]) for cells, _ in rows])
    width_type = max([len("Type")] + [len(cells[1]) for cells, _ in rows])
    title = f"{'Name':<{width_name}}  {'Type':<{width_type}}  Data"
    return title, [(f"{n:<{width_name}}  {t:<{width_type}}  {d}", key) for (n, t, d), key in rows]


class DnsManager(LabForm):
    """The DNS Manager console for the lab's public DNS server.

    Pick a zone to see its records; "New Host (A)..." and "New Mail
    Exchanger (MX)..." open the product's dialogs; select a record and press
    Delete to remove it. Each action shows the `lab.dns` call it made.

    Args:
        lab: the running lab.
        zone: the zone selected at first (the first zone by default).
        lab_var: the lab's variable name in the shown code.

    Example::

        dns = DnsManager(lab)
        dns.host_name.value = "mail"; dns.host_ip.value = "100.100.100.254"
        dns.add_host_button.click()
        dns.last_call   # 'lab.dns.add_record("xutonglin.com", "mail", "A", "100.100.100.254")'
    """

    def __init__(self, lab: Lab, zone: str | None = None, *, lab_var: str = "lab") -> None:
        super().__init__(lab, lab_var=lab_var)
        zones = list(lab.dns.zones())
        self.zone = widgets.Dropdown(description="Zone", options=zones, value=zone or (zones[0] if zones else None))
        self.records_list = widgets.Select(options=[], rows=8, layout=widgets.Layout(width="100%"))
        self.records_list.add_class("labkit-mono")
        self.header = widgets.HTML()
        self.new_host_button = button("New Host (A)...", "Right-click zone > New Host (A or AAAA)...")
        self.new_mx_button = button("New Mail Exchanger (MX)...", "Right-click zone > New Mail Exchanger (MX)...")
        self.delete_button = button("Delete", "Delete the selected record", style="danger")
        self.refresh_button = button("Refresh")

        # New Host (A or AAAA) dialog
        wide = widgets.Layout(width="420px")
        style = {"description_width": "initial"}
        self.host_name = widgets.Text(description="Name (uses parent domain name if blank):", style=style, layout=wide)
        self.host_fqdn = widgets.Text(description="Fully qualified domain name (FQDN):", disabled=True, style=style, layout=wide)
        self.host_ip = widgets.Text(description="IP address:", placeholder="e.g. 100.100.100.254", style=style, layout=wide)
        self.add_host_button = button("Add Host", style="primary")
        self.host_done_button = button("Done")
        self.host_dialog = widgets.VBox(
            [heading("New Host", 4), self.host_name, self.host_fqdn, self.host_ip,
             widgets.HBox([self.add_host_button, self.host_done_button])],
            layout=widgets.Layout(border="1px solid #ccd", padding="4px", margin="4px 0"),
        )  # fmt: skip

        # New Resource Record: Mail Exchanger (MX) dialog
        self.mx_host = widgets.Text(description="Host or child domain:", style=style, layout=wide)
        self.mx_fqdn = widgets.Text(description="Fully qualified domain name (FQDN):", disabled=True, style=style, layout=wide)
        self.mx_server = widgets.Text(
            description="Fully qualified domain name (FQDN) of mail server:", placeholder="e.g. mail.xutonglin.com",
            style=style, layout=widgets.Layout(width="520px"),
        )  # fmt: skip
        self.mx_priority = widgets.IntText(description="Mail server priority:", value=10, style=style)
        self.add_mx_button = button("OK", "Create the MX record", style="primary")
        self.mx_cancel_button = button("Cancel")
        self.mx_dialog = widgets.VBox(
            [heading("New Resource Record — Mail Exchanger (MX)", 4), self.mx_host, self.mx_fqdn, self.mx_server,
             self.mx_priority, widgets.HBox([self.add_mx_button, self.mx_cancel_button])],
            layout=widgets.Layout(border="1px solid #ccd", padding="4px", margin="4px 0"),
        )  # fmt: skip
        show(self.host_dialog, False)
        show(self.mx_dialog, False)

        self.zone.observe(lambda _: self.guard(self.refresh), "value")
        self.host_name.observe(lambda _: self._preview(), "value")
        self.mx_host.observe(lambda _: self._preview(), "value")
        self.new_host_button.on_click(lambda _: self.open_dialog("host"))
        self.new_mx_button.on_click(lambda _: self.open_dialog("mx"))
        self.host_done_button.on_click(lambda _: self.open_dialog(None))
        self.mx_cancel_button.on_click(lambda _: self.open_dialog(None))
        self.add_host_button.on_click(lambda _: self.add_host())
        self.add_mx_button.on_click(lambda _: self.add_mail_exchanger())
        self.delete_button.on_click(lambda _: self.delete())
        self.refresh_button.on_click(lambda _: self.guard(self.refresh))

        self.children = [
            widgets.HTML(TABLE_CSS),
            heading("DNS Manager — public DNS server"),
            widgets.HBox([self.zone, self.new_host_button, self.new_mx_button, self.delete_button, self.refresh_button]),
            self.header,
            self.records_list,
            self.host_dialog,
            self.mx_dialog,
            *self.footer(),
        ]
        self._preview()
        self.guard(self.refresh)

    # -- view ------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the zone's records from the server."""
        zone = self.zone.value
        df = self.query(ApiCall.on("dns").method("records", zone)) if zone else pd.DataFrame()
        title, options = record_options(df) if not df.empty else ("", [])
        keep = self.records_list.value
        self.records_list.options = options
        if keep in [key for _, key in options]:
            self.records_list.value = keep
        self.header.value = (
            f'<pre style="margin:0;font-size:12px;font-weight:bold">{html.escape(title)}</pre>'
            if options
            else '<div style="color:#777">(no records)</div>'
        )
        self._preview()

    def records(self) -> pd.DataFrame:
        """The selected zone's records as `lab.dns.records(zone)` returns them."""
        result: pd.DataFrame = self.query(ApiCall.on("dns").method("records", self.zone.value))
        return result

    def _preview(self) -> None:
        zone = self.zone.value or ""
        self.host_fqdn.value = fqdn_preview(self.host_name.value, zone)
        self.mx_fqdn.value = fqdn_preview(self.mx_host.value, zone)

    def open_dialog(self, which: str | None) -> None:
        """Show the ``"host"`` or ``"mx"`` dialog (None closes both)."""
        show(self.host_dialog, which == "host")
        show(self.mx_dialog, which == "mx")
        self._preview()

    # -- actions ------------------------------------------------------------------------------
    def _zone(self) -> str:
        zone = self.zone.value
        if not zone:
            raise InvalidValue("Zone", zone, "no zone is selected", "Pick a zone first.")
        return str(zone)

    def add_host(self) -> bool:
        """Add Host: create the A record from the New Host dialog. Returns True on success."""

        def build() -> ApiCall:
            zone = self._zone()
            ip = required("IP address", self.host_ip.value, "100.100.100.254")
            return ApiCall.on("dns").method("add_record", zone, api_name(self.host_name.value), "A", ip)

        fqdn = self.host_fqdn.value
        return self.perform(
            self.add_host_button,
            build,
            lambda _: f"The host record {fqdn} was successfully created.",
            after=lambda _: self._host_added(),
        )

    def _host_added(self) -> None:
        # DNS Manager keeps the dialog open for the next host, with empty fields.
        self.host_name.value = ""
        self.host_ip.value = ""
        self.refresh()

    def add_mail_exchanger(self) -> bool:
        """OK in the New MX dialog: create the MX record. Returns True on success."""

        def build() -> ApiCall:
            zone = self._zone()
            server = required("Fully qualified domain name (FQDN) of mail server", self.mx_server.value, "mail.xutonglin.com")
            priority = self.mx_priority.value
            return ApiCall.on("dns").method(
                "add_record", zone, api_name(self.mx_host.value), "MX", server, preference=priority
            )

        fqdn = self.mx_fqdn.value
        return self.perform(
            self.add_mx_button,
            build,
            lambda _: f"The mail exchanger record for {fqdn} was successfully created.",
            after=lambda _: self._mx_added(),
        )

    def _mx_added(self) -> None:
        self.open_dialog(None)
        self.mx_host.value = ""
        self.mx_server.value = ""
        self.mx_priority.value = 10
        self.refresh()

    def delete(self) -> bool:
        """Delete the record selected in the list. Returns True on success."""
        key: Any = self.records_list.value

        def build() -> ApiCall:
            if key is None:
                raise InvalidValue("record", None, "no record is selected", "Select a record in the list, then press Delete.")
            zone, name, rtype, data = key
            return ApiCall.on("dns").method("remove_record", zone, name, rtype, data)

        return self.perform(
            self.delete_button,
            build,
            lambda _: f"Deleted {key[2]} record {fqdn_preview(key[1], key[0])} → {key[3]}." if key else "Deleted.",
            after=lambda _: self.refresh(),
        )

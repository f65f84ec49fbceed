"""The Exchange Management Console's New Send Connector wizard (facts §3.2), page by page.

Introduction → Address space → Network settings → Source Server → New
Connector → Completion, with Back / Next / Cancel. Each page is checked before
Next moves on; nothing reaches the server before "New", which makes one
`lab.server(...).new_send_connector(...)` call and shows it.
"""

from __future__ import annotations

import html
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from labkit.errors import InvalidValue
from labkit.transport.addressing import is_domain
from labkit.widgets.base import LabForm, button, heading, required, show
from labkit.widgets.calls import ApiCall

if TYPE_CHECKING:
    from labkit.lab import Lab

PAGES = ("Introduction", "Address space", "Network settings", "Source Server", "New Connector", "Completion")
USAGES = ("Custom", "Internal", "Internet", "Partner")
#: What each intended use means (paraphrase of the wizard's own descriptions, facts §3.2).
USAGE_HELP = {
    "Custom": "Send mail to non-Exchange servers.",
    "Internal": "Send mail to Exchange servers in your organisation, configured as smart hosts.",
    "Internet": "Send mail to the internet, routing by DNS MX records.",
    "Partner": "Send mail only to partner domains authenticated with domain-secure TLS.",
}
DNS_ROUTING = 'Use domain name system (DNS) "MX" records to route mail automatically'
SMART_HOST_ROUTING = "Route mail through the following smart hosts:"
COST_RANGE = (1, 100)
_SPACE_FIX = "Use `*` (every domain), a domain such as `contoso.com`, or tick Include all subdomains."


@dataclass(frozen=True)
class SpaceEntry:
    """One row of the Address space page: the address as stored, its type and cost."""

    address: str
    cost: int = 1
    type: str = "SMTP"

    @property
    def api(self) -> str:
        """The product form the API takes: ``SMTP:<address>;<cost>``."""
        return f"{self.type}:{self.address};{self.cost}"


def address_space_entry(address: str, include_subdomains: bool, cost: object) -> SpaceEntry:
    """Check the SMTP Address Space dialog and return its entry.

    "Include all subdomains" turns ``contoso.com`` into ``*.contoso.com`` (facts §3.4).

    >>> address_space_entry("*", False, 1).api
    'SMTP:*;1'
    >>> address_space_entry("Contoso.com", True, 5).api
    'SMTP:*.contoso.com;5'
    >>> address_space_entry("*contoso.com", False, 1)
    Traceback (most recent call last):
    ...
    labkit.errors.InvalidValue: `Address` = '*contoso.com': is not a valid SMTP address space (a `*` must stand \
alone or be followed by a dot). Use `*` (every domain), a domain such as `contoso.com`, or tick Include all subdomains.

    Raises:
        InvalidValue: an empty or malformed address, or a cost outside 1-100.
    """
    text = address.strip().lower().rstrip(".")
    if not text:
        raise InvalidValue("Address", address, "is empty", _SPACE_FIX)
    if text != "*":
        bare = text[2:] if text.startswith("*.") else text
        if "*" in bare:
            raise InvalidValue(
                "Address", address, "is not a valid SMTP address space (a `*` must stand alone or be followed by a dot)", _SPACE_FIX
            )
        if not is_domain(bare):
            raise InvalidValue("Address", address, "is not a domain name", _SPACE_FIX)
        if include_subdomains and not text.startswith("*."):
            text = "*." + text
    low, high = COST_RANGE
    if isinstance(cost, bool) or not isinstance(cost, int) or not low <= cost <= high:
        raise InvalidValue("Cost", cost, f"must be a whole number from {low} to {high}", "Use 1 unless another connector should be preferred.")
    return SpaceEntry(text, cost)


def check_smart_host(host: str) -> str:
    """A smart host as typed in the Add smart host dialog: an IPv4 address or an FQDN.

    >>> check_smart_host(" Relay.ISP.example "), check_smart_host("[100.100.100.50]")
    ('relay.isp.example', '100.100.100.50')

    Raises:
        InvalidValue: neither.
    """
    text = host.strip().strip("[]").lower().rstrip(".")
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        pass
    if text.replace(".", "").isdigit():
        raise InvalidValue("Smart host", host, "is not a valid IPv4 address", "Write four numbers 0-255 separated by dots.")
    if not is_domain(text):
        raise InvalidValue("Smart host", host, "is neither an IP address nor a fully qualified domain name", "Use e.g. `smtp.isp.example` or `100.100.100.50`.")
    return text


class NewSendConnectorWizard(LabForm):
    """New Send Connector wizard of the Exchange Management Console.

    Args:
        lab: the running lab.
        server: the source server selected at first (e.g. ``"mail.contoso.com"``); none when None.
        lab_var: the lab's variable name in the shown code.

    Fill a page, press ``next_button`` (or call `next`); on New Connector press
    ``new_button``; the Completion page shows the command that ran, also in
    `last_call`.
    """

    def __init__(self, lab: Lab, server: str | None = None, *, lab_var: str = "lab") -> None:
        super().__init__(lab, lab_var=lab_var)
        self.page = 0
        self.spaces: list[SpaceEntry] = []
        self.smart_hosts: list[str] = []
        self.completed = False
        style = {"description_width": "initial"}

        # Introduction
        self.name = widgets.Text(description="Name:", placeholder="e.g. Internet", style=style, layout=widgets.Layout(width="420px"))
        self.usage = widgets.Dropdown(
            description="Select the intended use for this Send connector:",
            options=USAGES,
            value="Custom",
            style=style,
            layout=widgets.Layout(width="auto"),  # a long description would squeeze the value out of sight
        )
        self.usage_help = widgets.HTML()
        intro = widgets.VBox([
            widgets.HTML("This wizard helps you create a new Send connector."),
            self.name, self.usage, self.usage_help,
        ])  # fmt: skip

        # Address space
        self.space_list = widgets.Select(options=[], rows=5, layout=widgets.Layout(width="420px"))
        self.space_list.add_class("labkit-mono")
        self.add_space_button = button("Add...")
        self.edit_space_button = button("Edit...")
        self.remove_space_button = button("Remove")
        self.space_address = widgets.Text(description="Address:", placeholder="*", style=style)
        self.space_subdomains = widgets.Checkbox(description="Include all subdomains", value=False, indent=False)
        self.space_cost = widgets.IntText(description="Cost:", value=1, style=style, layout=widgets.Layout(width="160px"))
        self.space_ok_button = button("OK", style="primary")
        self.space_cancel_button = button("Cancel")
        self.space_dialog = widgets.VBox(
            [heading("SMTP Address Space", 4), self.space_address, self.space_subdomains, self.space_cost,
             widgets.HBox([self.space_ok_button, self.space_cancel_button])],
            layout=widgets.Layout(border="1px solid #ccd", padding="4px", margin="4px 0"),
        )  # fmt: skip
        self._editing: int | None = None
        show(self.space_dialog, False)
        address_page = widgets.VBox([
            widgets.HTML("Specify the address space(s) to which this connector will route mail:"),
            widgets.HBox([self.add_space_button, self.edit_space_button, self.remove_space_button]),
            widgets.HTML('<pre style="margin:0;font-size:12px;font-weight:bold">' + _space_title() + "</pre>"),
            self.space_list, self.space_dialog,
        ])  # fmt: skip

        # Network settings
        self.routing = widgets.RadioButtons(
            options=[(DNS_ROUTING, "dns"), (SMART_HOST_ROUTING, "smarthost")], value="dns", layout=widgets.Layout(width="auto")
        )
        self.smart_host_input = widgets.Text(placeholder="IP address or FQDN of a smart host")
        self.add_smart_host_button = button("Add...")
        self.remove_smart_host_button = button("Remove")
        self.smart_host_list = widgets.Select(options=[], rows=3, layout=widgets.Layout(width="320px"))
        self.smart_host_box = widgets.VBox([
            widgets.HBox([self.smart_host_input, self.add_smart_host_button, self.remove_smart_host_button]),
            self.smart_host_list,
        ], layout=widgets.Layout(margin="0 0 0 24px"))  # fmt: skip
        network_page = widgets.VBox([
            widgets.HTML("Select how to send mail with this connector:"), self.routing, self.smart_host_box,
        ])  # fmt: skip

        # Source Server
        servers = list(lab.servers)
        self.source_servers = widgets.SelectMultiple(
            description="Source servers:", options=servers, value=[server] if server in servers else [], rows=len(servers) or 2,
            style=style,
        )  # fmt: skip
        source_page = widgets.VBox([
            widgets.HTML("Add the Hub Transport servers that will send mail through this connector:"),
            self.source_servers,
        ])  # fmt: skip

        # New Connector, Completion
        self.summary = widgets.HTML()
        self.completion = widgets.HTML()
        new_page = widgets.VBox([widgets.HTML("The wizard will create the following connector. Click New to continue."), self.summary])
        completion_page = widgets.VBox([self.completion])

        self.pages: list[widgets.Widget] = [intro, address_page, network_page, source_page, new_page, completion_page]
        self.nav = widgets.HTML()
        self.title = widgets.HTML()
        self.page_box = widgets.VBox(layout=widgets.Layout(min_height="220px", padding="0 8px"))
        self.back_button = button("< Back")
        self.next_button = button("Next >", style="primary")
        self.new_button = button("New", style="primary")
        self.finish_button = button("Finish", style="primary")
        self.cancel_button = button("Cancel")

        self.usage.observe(lambda _: self._usage_changed(), "value")
        self.routing.observe(lambda _: self._routing_changed(), "value")
        self.add_space_button.on_click(lambda _: self.open_space_dialog())
        self.edit_space_button.on_click(lambda _: self.open_space_dialog(edit=True))
        self.remove_space_button.on_click(lambda _: self.remove_space())
        self.space_ok_button.on_click(lambda _: self.save_space())
        self.space_cancel_button.on_click(lambda _: show(self.space_dialog, False))
        self.add_smart_host_button.on_click(lambda _: self.add_smart_host())
        self.remove_smart_host_button.on_click(lambda _: self.remove_smart_host())
        self.back_button.on_click(lambda _: self.back())
        self.next_button.on_click(lambda _: self.next())
        self.new_button.on_click(lambda _: self.new())
        self.finish_button.on_click(lambda _: self.finish())
        self.cancel_button.on_click(lambda _: self.cancel())

        self.children = [
            heading("New Send Connector"),
            widgets.HBox([self.nav, widgets.VBox([self.title, self.page_box])]),
            widgets.HBox([self.back_button, self.next_button, self.new_button, self.finish_button, self.cancel_button]),
            *self.footer(),
        ]
        self._usage_changed()
        self._routing_changed()
        self.go(0)

    # -- navigation -----------------------------------------------------------------------------
    @property
    def page_name(self) -> str:
        """The title of the page shown."""
        return PAGES[self.page]

    def go(self, page: int) -> None:
        """Show page `page` (0 = Introduction) without checking anything."""
        self.page = page
        self.page_box.children = [self.pages[page]]
        self.title.value = f'<h4 style="margin:2px 0 6px 0">{html.escape(PAGES[page])}</h4>'
        items = []
        for i, name in enumerate(PAGES):
            weight = "bold" if i == page else "normal"
            colour = "#000" if i == page else "#666"
            items.append(f'<div style="font-weight:{weight};color:{colour};padding:2px 0">{html.escape(name)}</div>')
        self.nav.value = '<div style="border-right:1px solid #ccd;padding-right:10px;min-width:130px">' + "".join(items) + "</div>"
        last_input = PAGES.index("Source Server")
        show(self.back_button, page > 0 and not (page == len(PAGES) - 1 and self.completed))
        show(self.next_button, page <= last_input)
        show(self.new_button, page == PAGES.index("New Connector"))
        show(self.finish_button, page == len(PAGES) - 1)
        show(self.cancel_button, page < len(PAGES) - 1)
        if page == PAGES.index("New Connector"):
            self.guard(self._summarise)

    def next(self) -> bool:
        """Check the page and move to the next one. Returns False (and says why) when the page is not valid."""
        if self.page >= PAGES.index("New Connector"):
            return False

        def check() -> None:
            self.validate_page(self.page)
            self.set_status("", "")
            self.go(self.page + 1)

        return self.guard(check)

    def back(self) -> None:
        """Go back one page (nothing is checked or lost)."""
        if self.page > 0:
            self.set_status("", "")
            self.go(self.page - 1)

    def cancel(self) -> None:
        """Close the wizard without creating anything: every field back to its start."""
        self._reset()
        self.set_status("info", "Cancelled; no connector was created.")

    def finish(self) -> None:
        """Close the completed wizard (back to an empty Introduction page; the status and command stay)."""
        self._reset()

    def _reset(self) -> None:
        self.name.value = ""
        self.usage.value = "Custom"
        self.spaces.clear()
        self.smart_hosts.clear()
        self._refresh_lists()
        self.routing.value = "dns"
        self.completed = False
        show(self.space_dialog, False)
        self.go(0)

    # -- per-page checks ------------------------------------------------------------------------------
    def validate_page(self, page: int) -> None:
        """Check one page's fields.

        Raises:
            InvalidValue: what is wrong, naming the field as the wizard labels it.
        """
        name = PAGES[page]
        if name == "Introduction":
            text = required("Name", self.name.value, "Internet")
            if "\\" in text:
                raise InvalidValue("Name", text, "contains a backslash", "Use letters, digits, spaces and hyphens.")
        elif name == "Address space":
            if not self.spaces:
                raise InvalidValue("Address space", [], "has no entries", "Click Add... and enter an address space such as `*`.")
        elif name == "Network settings":
            if self.routing.value == "smarthost" and not self.smart_hosts:
                raise InvalidValue(
                    "Smart hosts", [], "you chose to route through smart hosts but listed none",
                    "Add at least one smart host, or choose DNS MX routing.",
                )  # fmt: skip
        elif name == "Source Server":
            chosen = list(self.source_servers.value)
            if not chosen:
                raise InvalidValue("Source servers", [], "no source server is selected", "Select the Hub Transport server that will send the mail, e.g. `mail.contoso.com`.")
            if len(chosen) > 1:
                raise InvalidValue(
                    "Source servers", chosen, "these servers belong to different organisations",
                    "A send connector belongs to one organisation; select that organisation's server only.",
                )  # fmt: skip

    def validate(self) -> None:
        """Check every input page (what New does before making the call)."""
        for page in range(PAGES.index("New Connector")):
            try:
                self.validate_page(page)
            except InvalidValue:
                self.go(page)
                raise

    # -- Introduction and Network settings --------------------------------------------------------------
    def _usage_changed(self) -> None:
        usage = self.usage.value
        self.usage_help.value = f'<div style="color:#555;margin-left:4px">{html.escape(USAGE_HELP.get(usage, ""))}</div>'
        # Internal connectors are for smart hosts; the others route by MX (facts §3.2).
        self.routing.value = "smarthost" if usage == "Internal" else "dns"

    def _routing_changed(self) -> None:
        enabled = self.routing.value == "smarthost"
        for w in (self.smart_host_input, self.add_smart_host_button, self.remove_smart_host_button, self.smart_host_list):
            w.disabled = not enabled

    # -- Address space dialog ----------------------------------------------------------------------------
    def open_space_dialog(self, edit: bool = False) -> None:
        """Open the SMTP Address Space dialog, empty (Add...) or with the selected entry (Edit...)."""
        if edit:
            index = self.space_list.index
            if index is None:
                self.set_status("error", "Select an address space to edit.")
                return
            entry = self.spaces[index]
            self._editing = index
            self.space_address.value = entry.address
            self.space_subdomains.value = False
            self.space_cost.value = entry.cost
        else:
            self._editing = None
            self.space_address.value = ""
            self.space_subdomains.value = False
            self.space_cost.value = 1
        show(self.space_dialog, True)

    def save_space(self) -> bool:
        """OK in the SMTP Address Space dialog: check the entry and add (or replace) it."""

        def work() -> None:
            entry = address_space_entry(self.space_address.value, self.space_subdomains.value, self.space_cost.value)
            others = [s for i, s in enumerate(self.spaces) if i != self._editing]
            if any(s.address == entry.address for s in others):
                raise InvalidValue("Address", entry.address, "is already in the list", "Edit that entry instead.")
            if self._editing is None:
                self.spaces.append(entry)
            else:
                self.spaces[self._editing] = entry
            self._editing = None
            self._refresh_lists()
            show(self.space_dialog, False)
            self.set_status("", "")

        return self.guard(work)

    def remove_space(self) -> None:
        """Remove the selected address space."""
        index = self.space_list.index
        if index is None:
            self.set_status("error", "Select an address space to remove.")
            return
        del self.spaces[index]
        self._refresh_lists()

    def add_smart_host(self) -> bool:
        """Add... in Network settings: check the typed smart host and list it."""

        def work() -> None:
            host = check_smart_host(self.smart_host_input.value)
            if host in self.smart_hosts:
                raise InvalidValue("Smart host", host, "is already in the list", "Add a different host.")
            self.smart_hosts.append(host)
            self.smart_host_input.value = ""
            self._refresh_lists()
            self.set_status("", "")

        return self.guard(work)

    def remove_smart_host(self) -> None:
        """Remove the selected smart host."""
        index = self.smart_host_list.index
        if index is not None:
            del self.smart_hosts[index]
            self._refresh_lists()

    def _refresh_lists(self) -> None:
        self.space_list.options = [(_space_row(s), i) for i, s in enumerate(self.spaces)]
        self.smart_host_list.options = list(self.smart_hosts)

    # -- New --------------------------------------------------------------------------------------------
    def build_call(self) -> ApiCall:
        """The `new_send_connector` call the wizard's pages describe.

        Raises:
            InvalidValue: a page is not valid (the wizard shows that page).
        """
        self.validate()
        server = self.source_servers.value[0]
        kwargs: dict[str, Any] = {
            "address_spaces": [s.api for s in self.spaces],
            "usage": self.usage.value,
            "dns_routing": self.routing.value == "dns",
        }
        if self.routing.value == "smarthost":
            kwargs["smart_hosts"] = list(self.smart_hosts)
        return ApiCall.on_server(server).method("new_send_connector", self.name.value.strip(), **kwargs)

    def _summarise(self) -> None:
        call = self.build_call()
        routing = "DNS MX records" if self.routing.value == "dns" else "smart hosts: " + ", ".join(self.smart_hosts)
        rows = [
            ("Name", self.name.value.strip()),
            ("Intended use", self.usage.value),
            ("Address space", ", ".join(f"{s.address} (cost {s.cost})" for s in self.spaces)),
            ("Network settings", routing),
            ("Source server", ", ".join(self.source_servers.value)),
        ]
        table = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>" for k, v in rows)
        self.summary.value = (
            f'<table style="font-size:12px">{table}</table>'
            '<div style="margin-top:6px;color:#555">Command that New will run:</div>'
            f'<pre style="background:#f5f5f5;padding:4px;white-space:pre-wrap">{html.escape(call.code(self.lab_var))}</pre>'
        )

    def new(self) -> bool:
        """New: create the connector, then show the Completion page. Returns True on success."""
        if self.page != PAGES.index("New Connector"):
            if not self.guard(self.validate):
                return False
            self.go(PAGES.index("New Connector"))
        name = self.name.value.strip()
        ok = self.perform(
            [self.new_button, self.back_button, self.cancel_button],
            self.build_call,
            lambda _: f"The Send connector {name} was created.",
        )
        if self.page != PAGES.index("New Connector"):  # a page check failed; the wizard shows that page
            return False
        self.completed = ok
        word = "completed successfully" if ok else "failed"
        detail = "" if ok else f'<div style="color:#b42318">{html.escape(self.status_text)}</div>'
        outcome = "Completed" if ok else "Failed"
        self.completion.value = (
            f"<div>The wizard {word}. Click Finish to close this wizard.</div>"
            f'<div style="margin-top:6px"><b>{html.escape(name)}</b> — {outcome}</div>{detail}'
            '<div style="margin-top:6px;color:#555">Exchange Management Shell command '
            f"{'completed' if ok else 'attempted'}:</div>"
            f'<pre style="background:#f5f5f5;padding:4px;white-space:pre-wrap">{html.escape(self.last_call or "")}</pre>'
        )
        self.go(len(PAGES) - 1)
        return ok


def _space_row(entry: SpaceEntry) -> str:
    return f"{entry.address:<30}  {entry.type:<5}  {entry.cost}"


def _space_title() -> str:
    return f"{'Address':<30}  {'Type':<5}  Cost"

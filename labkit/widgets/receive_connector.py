"""Receive connector Properties: Permission Groups, Authentication and Network tabs (facts §4.1).

Pick a server and one of its receive connectors; the tabs show its current
settings; Apply makes one `set_receive_connector` call with only the settings
you changed — as the console's Apply does — and shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from labkit.errors import InvalidValue
from labkit.widgets.base import LabForm, button, heading, lines
from labkit.widgets.calls import ApiCall

if TYPE_CHECKING:
    from labkit.lab import Lab

#: Permission Groups tab: check-box label → PermissionGroups value (facts §4.1), in the tab's order.
PERMISSION_GROUPS: tuple[tuple[str, str], ...] = (
    ("Anonymous users", "AnonymousUsers"),
    ("Exchange users", "ExchangeUsers"),
    ("Exchange servers", "ExchangeServers"),
    ("Legacy Exchange Servers", "ExchangeLegacyServers"),
    ("Partners", "Partners"),
)
#: Authentication tab: check-box label → AuthMechanism value; None = shown but not simulated by the lab.
AUTH_OPTIONS: tuple[tuple[str, str | None], ...] = (
    ("Transport Layer Security (TLS)", "Tls"),
    ("Enable Domain Security (Mutual Auth TLS)", None),
    ("Basic Authentication", "BasicAuth"),
    ("Offer Basic authentication only after starting TLS", "BasicAuthRequireTLS"),
    ("Exchange Server authentication", "ExchangeServer"),
    ("Integrated Windows authentication", "Integrated"),
    ("Externally Secured (for example, with IPsec)", "ExternallySecured"),
)
#: The order the shell prints AuthMechanism values in.
AUTH_ORDER = ("Tls", "Integrated", "BasicAuth", "BasicAuthRequireTLS", "ExchangeServer", "ExternallySecured")


def as_list(value: object) -> list[str]:
    """A multi-valued property from a table cell: a list or tuple, or text like ``{a, b}`` / ``a,b``.

    >>> as_list(("Tls", "BasicAuth")), as_list("{AnonymousUsers, ExchangeUsers}"), as_list(""), as_list("None")
    (['Tls', 'BasicAuth'], ['AnonymousUsers', 'ExchangeUsers'], [], [])
    """
    if isinstance(value, list | tuple | set | frozenset):
        items = [str(v).strip() for v in value]
    elif value is None or (isinstance(value, float) and value != value):  # NaN
        items = []
    else:
        items = [part.strip() for part in str(value).strip().strip("{}").split(",")]
    return [item for item in items if item and item != "None"]


def changes(current: dict[str, list[str]], wanted: dict[str, list[str]]) -> dict[str, list[str]]:
    """The settings whose value differs (order-insensitive), in `wanted`'s order.

    >>> changes({"permission_groups": ["ExchangeUsers"], "bindings": ["0.0.0.0:25"]},
    ...         {"permission_groups": ["AnonymousUsers", "ExchangeUsers"], "bindings": ["0.0.0.0:25"]})
    {'permission_groups': ['AnonymousUsers', 'ExchangeUsers']}
    """
    return {k: v for k, v in wanted.items() if sorted(v) != sorted(current.get(k, []))}


class ReceiveConnectorProperties(LabForm):
    """The Properties dialog of a receive connector.

    Args:
        lab: the running lab.
        server: the server selected at first (the first of `lab.servers` by default).
        connector: the connector identity selected at first (the server's first, usually ``Default <SERVER>``).
        lab_var: the lab's variable name in the shown code.

    Tick ``groups["AnonymousUsers"]`` and press ``apply_button`` (or call `apply`)
    to let the internet send mail to this server — the seed's step 4.
    """

    def __init__(self, lab: Lab, server: str | None = None, connector: str | None = None, *, lab_var: str = "lab") -> None:
        super().__init__(lab, lab_var=lab_var)
        servers = list(lab.servers)
        self.server = widgets.Dropdown(description="Server", options=servers, value=server or (servers[0] if servers else None))
        self.connector = widgets.Dropdown(description="Connector", options=[], layout=widgets.Layout(width="360px"))
        self.groups = {value: widgets.Checkbox(description=label, indent=False) for label, value in PERMISSION_GROUPS}
        self.auth: dict[str, widgets.Checkbox] = {}
        auth_boxes = []
        for label, value in AUTH_OPTIONS:
            box = widgets.Checkbox(description=label, indent=False, layout=widgets.Layout(width="auto"))
            if value is None:
                box.disabled = True
                box.description = label + " — not simulated in the lab"
            else:
                self.auth[value] = box
            auth_boxes.append(box)
        area = widgets.Layout(width="360px", height="80px")
        self.bindings = widgets.Textarea(layout=area, placeholder="0.0.0.0:25")
        self.remote_ip_ranges = widgets.Textarea(layout=area, placeholder="0.0.0.0-255.255.255.255")
        self.tabs = widgets.Tab(
            children=[
                widgets.VBox([widgets.HTML("Specify who is allowed to connect to this Receive connector:"), *self.groups.values()]),
                widgets.VBox([widgets.HTML("Specify which security mechanisms are available for incoming connections:"), *auth_boxes]),
                widgets.VBox([
                    widgets.HTML("Use these local IP addresses to receive mail (<i>ip:port</i>, one per line):"), self.bindings,
                    widgets.HTML("Receive mail from remote servers that have these IP addresses (address, range or CIDR):"),
                    self.remote_ip_ranges,
                ]),
            ],
            titles=("Permission Groups", "Authentication", "Network"),
        )  # fmt: skip
        self.tabs.selected_index = 0
        self.current: dict[str, list[str]] = {}
        self._loading = False
        self.apply_button = button("Apply", style="primary")
        self.revert_button = button("Revert", "Discard your changes and show the connector's settings again")
        self.server.observe(lambda _: self.guard(self.load_connectors), "value")
        self.connector.observe(lambda _: None if self._loading else self.guard(self.revert), "value")
        self.apply_button.on_click(lambda _: self.apply())
        self.revert_button.on_click(lambda _: self.guard(self.revert))
        self.children = [
            heading("Receive connector properties"),
            widgets.HBox([self.server, self.connector]),
            self.tabs,
            widgets.HBox([self.apply_button, self.revert_button]),
            *self.footer(),
        ]
        self.guard(lambda: self.load_connectors(connector))

    # -- reading --------------------------------------------------------------------------------------
    def _table(self) -> pd.DataFrame:
        df: pd.DataFrame = self.query(ApiCall.on_server(self.server.value).method("get_receive_connector"))
        return df

    def load_connectors(self, select: str | None = None) -> None:
        """List the selected server's receive connectors and show the first (or `select`)."""
        if not self.server.value:
            return
        identities = [str(i) for i in self._table()["Identity"]]
        keep = select or self.connector.value
        self._loading = True
        try:
            self.connector.options = identities
            self.connector.value = keep if keep in identities else (identities[0] if identities else None)
        finally:
            self._loading = False
        self.revert()

    def settings(self) -> dict[str, list[str]]:
        """The selected connector's settings on the server: permission_groups, auth_mechanism, bindings, remote_ip_ranges."""
        df = self._table()
        rows = df[df["Identity"] == self.connector.value]
        if rows.empty:
            raise InvalidValue("Connector", self.connector.value, "is not a receive connector of this server", "Pick one from the list.")
        row = rows.iloc[0]
        return {
            "permission_groups": as_list(row["PermissionGroups"]),
            "auth_mechanism": as_list(row["AuthMechanism"]),
            "bindings": as_list(row["Bindings"]),
            "remote_ip_ranges": as_list(row["RemoteIPRanges"]),
        }

    def revert(self) -> None:
        """Show the connector's settings as they are on the server (discarding edits)."""
        if not self.connector.value:
            return
        self.current = self.settings()
        for value, box in self.groups.items():
            box.value = value in self.current["permission_groups"]
        for value, box in self.auth.items():
            box.value = value in self.current["auth_mechanism"]
        self.bindings.value = "\n".join(self.current["bindings"])
        self.remote_ip_ranges.value = "\n".join(self.current["remote_ip_ranges"])

    # -- Apply ------------------------------------------------------------------------------------------
    def wanted(self) -> dict[str, list[str]]:
        """The settings as the tabs show them now."""
        extra = [g for g in self.current.get("permission_groups", []) if g not in self.groups]  # e.g. Custom: kept
        return {
            "permission_groups": [v for v, box in self.groups.items() if box.value] + extra,
            "auth_mechanism": [v for v in AUTH_ORDER if v in self.auth and self.auth[v].value] or ["None"],
            "bindings": lines(self.bindings.value),
            "remote_ip_ranges": lines(self.remote_ip_ranges.value),
        }

    def build_call(self) -> ApiCall:
        """The `set_receive_connector` call for what changed.

        Raises:
            InvalidValue: nothing changed, or a list the connector cannot do without is empty.
        """
        if not self.connector.value:
            raise InvalidValue("Connector", None, "no connector is selected", "Pick a server and a connector first.")
        wanted = self.wanted()
        for field, label, example in (("bindings", "Bindings", "0.0.0.0:25"), ("remote_ip_ranges", "Remote IP ranges", "0.0.0.0-255.255.255.255")):
            if not wanted[field]:
                raise InvalidValue(label, "", "is empty; the connector would receive nothing", f"Enter at least one, e.g. `{example}`.")
        current = dict(self.current)
        current["auth_mechanism"] = current.get("auth_mechanism") or ["None"]
        diff = changes(current, wanted)
        if not diff:
            raise InvalidValue("settings", "unchanged", "nothing was changed", "Tick or untick a box (or edit a list), then Apply.")
        return ApiCall.on_server(self.server.value).method("set_receive_connector", self.connector.value, **_as_kwargs(diff))

    def apply(self) -> bool:
        """Apply: save the changed settings to the server. Returns True on success."""
        identity = self.connector.value
        return self.perform(
            [self.apply_button, self.revert_button],
            self.build_call,
            lambda _: f"Saved the settings of receive connector {identity}.",
            after=lambda _: self.revert(),
        )


def _as_kwargs(diff: dict[str, list[str]]) -> dict[str, Any]:
    order: Sequence[str] = ("permission_groups", "auth_mechanism", "bindings", "remote_ip_ranges")
    return {k: diff[k] for k in order if k in diff}

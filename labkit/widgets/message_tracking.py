"""Message tracking across the lab's servers: filter by sender, recipient, event id, message id (facts §5.2).

Exchange 2010's Tracking Log Explorer searches one server at a time; following
a message from contoso.com to xutonglin.com needs both, so the widget searches
every server and merges the rows into one time-ordered table with a Server
column — the same thing `tracking_log(lab, ...)` returns in a cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from labkit.errors import InvalidValue
from labkit.transport.facts import EVENT_IDS
from labkit.views import TRACKING_LEADING
from labkit.widgets.base import TABLE_CSS, LabForm, button, heading, table_html
from labkit.widgets.calls import ApiCall

if TYPE_CHECKING:
    from labkit.lab import Lab

#: Columns shown first (Get-MessageTrackingLog's default table after the time and server); the rest follow.
LEADING = TRACKING_LEADING
#: The columns the widget's table shows.
SHOWN = (*LEADING, "ConnectorId", "ClientIp", "ServerIp", "MessageId")


def tracking_log(
    lab: Lab,
    sender: str | None = None,
    recipients: str | None = None,
    event_id: str | None = None,
    message_id: str | None = None,
) -> pd.DataFrame:
    """The same as ``lab.get_message_tracking_log(...)`` (kept for code written against the widget)."""
    return lab.get_message_tracking_log(sender=sender, recipients=recipients, event_id=event_id, message_id=message_id)


class MessageTracking(LabForm):
    """Search the message tracking logs of every server in the lab.

    Args:
        lab: the running lab.
        lab_var: the lab's variable name in the shown code.

    Fill any of ``sender``, ``recipient``, ``event_id``, ``message_id`` and press
    ``search_button`` (or call `search`); the rows are in `results`.
    """

    def __init__(self, lab: Lab, *, lab_var: str = "lab") -> None:
        super().__init__(lab, lab_var=lab_var)
        style = {"description_width": "110px"}
        wide = widgets.Layout(width="420px")
        self.sender = widgets.Text(description="Sender:", placeholder="contoso@contoso.com", style=style, layout=wide)
        self.recipient = widgets.Text(description="Recipients:", placeholder="allen@xutonglin.com", style=style, layout=wide)
        self.event_id = widgets.Dropdown(description="EventId:", options=[("(any)", ""), *[(e, e) for e in EVENT_IDS]], value="", style=style)
        self.message_id = widgets.Text(description="MessageId:", placeholder="<00000001@mail.contoso.com>", style=style, layout=wide)
        self.search_button = button("Search", style="primary")
        self.clear_button = button("Clear")
        self.table = widgets.HTML()
        self.count = widgets.HTML()
        self.results = pd.DataFrame()
        self.search_button.on_click(lambda _: self.search())
        self.clear_button.on_click(lambda _: self.clear())
        self.children = [
            widgets.HTML(TABLE_CSS),
            heading("Message tracking — every server"),
            self.sender, self.recipient, self.event_id, self.message_id,
            widgets.HBox([self.search_button, self.clear_button]),
            self.count, self.table,
            *self.footer(),
        ]  # fmt: skip

    def filters(self) -> dict[str, str]:
        """The filters filled in, as `tracking_log` keyword arguments."""
        values = {
            "sender": self.sender.value.strip(),
            "recipients": self.recipient.value.strip(),
            "event_id": self.event_id.value or "",
            "message_id": self.message_id.value.strip(),
        }
        for field, value in (("Sender", values["sender"]), ("Recipients", values["recipients"])):
            if value and "@" not in value:
                raise InvalidValue(field, value, "is not an SMTP address", "Write it as name@domain, e.g. `allen@xutonglin.com`.")
        return {k: v for k, v in values.items() if v}

    def search(self) -> bool:
        """Search every server with the filters; the rows go to `results` and the table."""

        def build() -> ApiCall:
            return ApiCall.on().method("get_message_tracking_log", **self.filters())

        return self.perform(
            [self.search_button, self.clear_button], build, lambda df: f"{len(df)} tracking event(s) found.", after=self._show
        )

    def _show(self, df: Any) -> None:
        self.results = df
        shown = df[[c for c in SHOWN if c in df.columns]]
        self.count.value = f"<i>{len(df)} row(s), oldest first</i>"
        self.table.value = table_html(shown, "(no tracking events match)")

    def clear(self) -> None:
        """Empty the filters and the results."""
        self.sender.value = self.recipient.value = self.message_id.value = ""
        self.event_id.value = ""
        self.results = pd.DataFrame()
        self.table.value = self.count.value = ""
        self.set_status("", "")

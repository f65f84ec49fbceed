"""An OWA-like mailbox: the message list, a reading pane, and the headers with the ``Received:`` chain.

The headers view answers the lab's favourite question — which servers did this
message pass through? — as a table of hops (`received_chain`).
"""

from __future__ import annotations

import html
from email.message import EmailMessage, Message
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from labkit.errors import InvalidValue
from labkit.widgets.base import TABLE_CSS, LabForm, button, heading, table_html
from labkit.widgets.calls import ApiCall
from labkit.widgets.received import received_chain

if TYPE_CHECKING:
    from labkit.lab import Lab

#: Which `Mailbox.messages` column to show for each part of a list line (first that exists).
LIST_FIELDS = {
    "from": ("From", "Sender", "FromAddress"),
    "subject": ("Subject", "MessageSubject"),
    "date": ("Received", "Date", "DateReceived", "Time"),
}


def _first(row: pd.Series, names: tuple[str, ...]) -> str:
    for name in names:
        if name in row.index and row[name] is not None and str(row[name]) != "nan":
            return str(row[name])
    return ""


def message_label(row: pd.Series) -> str:
    """One line of the message list: From, Subject, date.

    >>> message_label(pd.Series({"From": "contoso@contoso.com", "Subject": "Hello", "Received": "2026-11-28T09:00:00Z"}))
    'contoso@contoso.com — Hello — 2026-11-28T09:00:00Z'
    """
    subject = _first(row, LIST_FIELDS["subject"]) or "(no subject)"
    return f"{_first(row, LIST_FIELDS['from'])} — {subject} — {_first(row, LIST_FIELDS['date'])}"


def body_text(message: Message) -> str:
    """The readable text of a message: its first text/plain part (for an NDR, the human-readable part).

    >>> m = EmailMessage(); m.set_content("Hi Allen"); body_text(m).strip()
    'Hi Allen'
    """
    for part in message.walk():
        if part.get_content_type() == "text/plain" and part.get_content_disposition() != "attachment":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
            return str(part.get_payload())
    return "(this message has no text part)"


def reading_pane_html(message: Message) -> str:
    """The reading pane: the main header fields and the text, escaped."""
    fields = "".join(
        f"<tr><td style='color:#555;padding-right:8px'>{name}:</td><td>{html.escape(str(message.get(name, '')))}</td></tr>"
        for name in ("From", "To", "Cc", "Subject", "Date")
        if message.get(name) is not None
    )
    return (
        f'<table style="font-size:12px">{fields}</table>'
        '<pre style="white-space:pre-wrap;border-top:1px solid #ddd;padding-top:6px;font-size:12px">'
        f"{html.escape(body_text(message))}</pre>"
    )


def headers_text(message: Message) -> str:
    """Every header field, one per line, as the "Message headers" box shows them."""
    return "\n".join(f"{name}: {value}" for name, value in message.items())


class MailboxView(LabForm):
    """An Outlook Web App-like view of one mailbox.

    Args:
        lab: the running lab.
        address: the mailbox shown first (the first mailbox of the scenario by default).
        lab_var: the lab's variable name in the shown code.

    ``open_button`` (or `load`) loads the message list; selecting a message in
    ``message_list`` (or `read`) shows it; the Headers tab lists the
    ``Received:`` chain in ``hops`` (a DataFrame).
    """

    def __init__(self, lab: Lab, address: str | None = None, *, lab_var: str = "lab") -> None:
        super().__init__(lab, lab_var=lab_var)
        addresses = [a for org in lab.scenario.organisations for a in org.mailboxes]
        first = address or (addresses[0] if addresses else "")
        if first and first not in addresses:
            addresses.append(first)
        self.address = widgets.Combobox(
            description="Mailbox", options=addresses, value=first, ensure_option=False, layout=widgets.Layout(width="360px")
        )
        self.open_button = button("Open", "Open this mailbox (and reload its messages)", style="primary")
        self.message_list = widgets.Select(options=[], rows=8, layout=widgets.Layout(width="100%"))
        self.reading_pane = widgets.HTML()
        self.hop_table = widgets.HTML()
        self.raw_headers = widgets.Textarea(layout=widgets.Layout(width="100%", height="160px"), disabled=True)
        self.tabs = widgets.Tab(
            children=[self.reading_pane, widgets.VBox([widgets.HTML("<b>Received: chain</b> (hop 1 = first server)"), self.hop_table,
                                                        widgets.HTML("<b>All headers</b>"), self.raw_headers])],
            titles=("Message", "Headers"),
        )  # fmt: skip
        self.messages = pd.DataFrame()
        self.message: EmailMessage | None = None
        self.hops = pd.DataFrame()
        self.opened: str | None = None
        self.open_button.on_click(lambda _: self.load())
        self.message_list.observe(self._selected, "value")
        self.children = [
            widgets.HTML(TABLE_CSS),
            heading("Outlook Web App"),
            widgets.HBox([self.address, self.open_button]),
            self.message_list,
            self.tabs,
            *self.footer(),
        ]
        if first:
            self.load()

    def _address(self) -> str:
        address = str(self.address.value).strip()
        if "@" not in address:
            raise InvalidValue("Mailbox", address, "is not an SMTP address", "Pick a mailbox such as `allen@xutonglin.com`.")
        return address

    def load(self) -> bool:
        """Open: load the mailbox's message list (oldest first, as the mailbox orders them).

        (Not ``open``: that name belongs to ipywidgets.)
        """
        address = self.address.value.strip()
        ok = self.perform(
            self.open_button,
            lambda: ApiCall.on().method("mailbox", self._address()).attr("messages"),
            lambda df: f"{address}: {len(df)} message(s).",
            after=lambda df: self._list(address, df),
        )
        return ok

    def _list(self, address: str, df: pd.DataFrame) -> None:
        self.opened = address
        self.messages = df
        self.message_list.options = [(message_label(row), i) for i, (_, row) in enumerate(df.iterrows())]
        self.message_list.value = None
        self._clear_pane()

    def _clear_pane(self) -> None:
        self.message = None
        self.hops = pd.DataFrame()
        self.reading_pane.value = '<div style="color:#777">(select a message to read it)</div>'
        self.hop_table.value = ""
        self.raw_headers.value = ""

    def _selected(self, change: dict[str, Any]) -> None:
        if change["new"] is not None:
            self.read(int(change["new"]))

    def read(self, index: int) -> bool:
        """Show message `index` of the list (0 = the first row of `messages`) in the reading pane."""
        if self.opened is None:
            self.set_status("error", "Open a mailbox first.")
            return False
        address = self.opened
        return self.perform(
            self.open_button,
            lambda: ApiCall.on().method("mailbox", address).method("message", index),
            lambda m: f"Reading: {m.get('Subject', '(no subject)')}",
            after=self._show,
        )

    def _show(self, message: EmailMessage) -> None:
        self.message = message
        self.reading_pane.value = reading_pane_html(message)
        self.hops = received_chain(message)
        self.hop_table.value = table_html(self.hops, "(no Received: fields — the message never left its server)")
        self.raw_headers.value = headers_text(message)

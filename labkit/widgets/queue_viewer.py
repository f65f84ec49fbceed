"""Queue Viewer: a server's queues and the messages in them, with the product's actions (facts §1.4).

Retry, Retry with resubmit, Suspend and Resume act on the selected queue;
Remove (with NDR) and Remove (without sending NDR) on the selected message.
Refresh reloads; the auto-refresh toggle reloads every few seconds from a
background thread that only updates widget values — it never prints and
never blocks the kernel — and stops when toggled off or when the widget is
closed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import ipywidgets as widgets
import pandas as pd

from labkit.errors import InvalidValue, LabNotRunning
from labkit.widgets.base import TABLE_CSS, LabForm, button, heading, table_html
from labkit.widgets.calls import ApiCall

if TYPE_CHECKING:
    from labkit.lab import Lab

#: Queues tab columns (Get-Queue names, facts §1.2) in the order shown.
QUEUE_VIEW = ("Identity", "DeliveryType", "Status", "MessageCount", "NextHopDomain", "NextRetryTime", "LastError")
#: Messages tab columns (Get-Message names, facts §1.3) in the order shown.
MESSAGE_VIEW = ("Identity", "FromAddress", "Status", "Size", "SCL", "Queue", "MessageSourceName", "Subject", "LastError")


def pick(df: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """The columns of `df` that exist, in the given order (a view robust to extra or missing columns).

    >>> list(pick(pd.DataFrame({"Status": ["Ready"], "Identity": ["MAIL\\\\Submission"], "X": [1]}), ("Identity", "Status")).columns)
    ['Identity', 'Status']
    """
    return df[[c for c in columns if c in df.columns]]


def queue_label(row: pd.Series) -> str:
    """One line of the queue list: identity, status, message count and next hop.

    >>> queue_label(pd.Series({"Identity": "MAIL\\\\Unreachable", "Status": "Ready", "MessageCount": 1,
    ...                        "NextHopDomain": "Unreachable Domain"}))
    'MAIL\\\\Unreachable  [Ready, 1 message]  Unreachable Domain'
    """
    count = int(row.get("MessageCount", 0) or 0)
    plural = "" if count == 1 else "s"
    return f"{row['Identity']}  [{row.get('Status', '')}, {count} message{plural}]  {row.get('NextHopDomain', '')}"


class QueueViewer(LabForm):
    """Exchange 2010 Queue Viewer for one server.

    Args:
        lab: the running lab.
        server: the server to connect to (the first of `lab.servers` by default).
        interval: seconds between automatic refreshes when ``auto_refresh`` is on.
        lab_var: the lab's variable name in the shown code.

    Select a queue in ``queue_list`` (a message in ``message_list``) and press an
    action button, or call the method of the same name.
    """

    def __init__(self, lab: Lab, server: str | None = None, *, interval: float = 5.0, lab_var: str = "lab") -> None:
        super().__init__(lab, lab_var=lab_var)
        servers = list(lab.servers)
        self.interval = interval
        self.server = widgets.Dropdown(description="Server", options=servers, value=server or (servers[0] if servers else None))
        self.queue_list = widgets.Select(options=[], rows=5, layout=widgets.Layout(width="100%"))
        self.queue_list.add_class("labkit-mono")
        self.queue_table = widgets.HTML()
        self.message_list = widgets.Select(options=[], rows=5, layout=widgets.Layout(width="100%"))
        self.message_list.add_class("labkit-mono")
        self.message_table = widgets.HTML()
        self.retry_button = button("Retry", "Retry-Queue: connect now (queues in Retry)")
        self.resubmit_button = button("Retry with resubmit", "Retry-Queue -Resubmit $true: route the messages again")
        self.suspend_button = button("Suspend", "Suspend-Queue")
        self.resume_button = button("Resume", "Resume-Queue")
        self.remove_ndr_button = button("Remove (with NDR)", "Remove-Message -WithNDR $true", style="danger")
        self.remove_silent_button = button("Remove (without sending NDR)", "Remove-Message -WithNDR $false", style="danger")
        self.refresh_button = button("Refresh")
        self.auto_refresh = widgets.ToggleButton(value=False, description="Auto refresh", tooltip=f"Refresh every {interval:g} s")
        self.action_buttons = [
            self.retry_button, self.resubmit_button, self.suspend_button, self.resume_button,
            self.remove_ndr_button, self.remove_silent_button,
        ]  # fmt: skip
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._refresh_lock = threading.Lock()
        self.refresh_count = 0

        self.server.observe(lambda _: self.guard(self.refresh), "value")
        self.queue_list.observe(lambda _: self.guard(self._show_messages), "value")
        self.retry_button.on_click(lambda _: self.retry())
        self.resubmit_button.on_click(lambda _: self.retry(resubmit=True))
        self.suspend_button.on_click(lambda _: self.suspend())
        self.resume_button.on_click(lambda _: self.resume())
        self.remove_ndr_button.on_click(lambda _: self.remove(with_ndr=True))
        self.remove_silent_button.on_click(lambda _: self.remove(with_ndr=False))
        self.refresh_button.on_click(lambda _: self.guard(self.refresh))
        self.auto_refresh.observe(lambda change: self._toggle(bool(change["new"])), "value")

        self._queues = pd.DataFrame()
        self._messages = pd.DataFrame()
        self.children = [
            widgets.HTML(TABLE_CSS),
            heading("Queue Viewer"),
            widgets.HBox([self.server, self.refresh_button, self.auto_refresh]),
            widgets.HTML("<b>Queues</b>"),
            self.queue_list,
            self.queue_table,
            widgets.HBox([self.retry_button, self.resubmit_button, self.suspend_button, self.resume_button]),
            widgets.HTML("<b>Messages</b> in the selected queue"),
            self.message_list,
            self.message_table,
            widgets.HBox([self.remove_ndr_button, self.remove_silent_button]),
            *self.footer(),
        ]
        self.guard(self.refresh)

    # -- view ------------------------------------------------------------------------------------------
    def _server_call(self) -> ApiCall:
        server = self.server.value
        if not server:
            raise InvalidValue("Server", server, "no server is selected", "Pick a server.")
        return ApiCall.on_server(str(server))

    def queues(self) -> pd.DataFrame:
        """The queues as the viewer last loaded them (Get-Queue columns)."""
        return self._queues

    def messages(self) -> pd.DataFrame:
        """The messages of the selected queue as last loaded (Get-Message columns)."""
        return self._messages

    def refresh(self) -> None:
        """Reload the queues and the messages of the selected queue from the server."""
        with self._refresh_lock:
            self._queues = self.query(self._server_call().method("get_queue"))
            all_messages: pd.DataFrame = self.query(self._server_call().method("get_message"))
            self._all_messages = all_messages
            options = [(queue_label(row), str(row["Identity"])) for _, row in self._queues.iterrows()]
            keep = self.queue_list.value
            self.queue_list.options = options
            identities = [value for _, value in options]
            self.queue_list.value = keep if keep in identities else None
            self.queue_table.value = table_html(pick(self._queues, QUEUE_VIEW), "(no queues)")
            self._show_messages()
            self.refresh_count += 1

    def _show_messages(self) -> None:
        messages = getattr(self, "_all_messages", pd.DataFrame())
        queue = self.queue_list.value
        if queue is None or messages.empty or "Queue" not in messages.columns:
            self._messages = messages.iloc[0:0] if not messages.empty else messages
        else:
            self._messages = messages[messages["Queue"] == queue]
        keep = self.message_list.value
        options = [
            (f"{row['Identity']}  {row.get('FromAddress', '')}  {row.get('Status', '')}  {row.get('Subject', '')}", str(row["Identity"]))
            for _, row in self._messages.iterrows()
        ]
        self.message_list.options = options
        self.message_list.value = keep if keep in [v for _, v in options] else None
        empty = "(select a queue)" if queue is None else "(no messages in this queue)"
        self.message_table.value = table_html(pick(self._messages, MESSAGE_VIEW), empty)

    def select_queue(self, identity: str) -> None:
        """Select a queue by identity (``MAIL\\Unreachable``) or by next hop domain (``xutonglin.com``)."""
        for _, row in self._queues.iterrows():
            if identity in (row["Identity"], row.get("NextHopDomain")):
                self.queue_list.value = row["Identity"]
                return
        known = [str(i) for i in self._queues.get("Identity", [])]
        raise InvalidValue("queue", identity, "is not listed", f"Queues: {', '.join(known) or '(none)'}. Press Refresh first.")

    # -- actions ------------------------------------------------------------------------------------------
    def _queue(self) -> str:
        queue = self.queue_list.value
        if queue is None:
            raise InvalidValue("queue", None, "no queue is selected", "Select a queue in the list first.")
        return str(queue)

    def _message(self) -> str:
        message = self.message_list.value
        if message is None:
            raise InvalidValue("message", None, "no message is selected", "Select a queue, then a message in it.")
        return str(message)

    def _act(self, build: Callable[[], ApiCall], done: str) -> bool:
        # Every action button is disabled while one runs: a queue must not be retried while it is being removed.
        return self.perform(self.action_buttons, build, done, after=lambda _: self.refresh())

    def retry(self, resubmit: bool = False) -> bool:
        """Retry (or Retry with resubmit) the selected queue. Returns True on success."""

        def build() -> ApiCall:
            queue = self._queue()
            if resubmit:
                return self._server_call().method("retry_queue", queue, resubmit=True)
            return self._server_call().method("retry_queue", queue)

        word = "Resubmitted the messages of" if resubmit else "Retried"
        return self._act(build, f"{word} the selected queue.")

    def suspend(self) -> bool:
        """Suspend the selected queue: it keeps accepting messages, but nothing leaves it."""
        return self._act(lambda: self._server_call().method("suspend_queue", self._queue()), "Suspended the queue.")

    def resume(self) -> bool:
        """Resume the selected (suspended) queue."""
        return self._act(lambda: self._server_call().method("resume_queue", self._queue()), "Resumed the queue.")

    def remove(self, with_ndr: bool = True) -> bool:
        """Remove the selected message, with an NDR to its sender (or silently)."""

        def build() -> ApiCall:
            return self._server_call().method("remove_message", self._message(), with_ndr=with_ndr)

        done = "Removed the message; an NDR goes to its sender." if with_ndr else "Removed the message without an NDR."
        return self._act(build, done)

    # -- auto refresh ---------------------------------------------------------------------------------------
    def _toggle(self, on: bool) -> None:
        if on:
            self.start_auto_refresh()
        else:
            self.stop_auto_refresh()

    def start_auto_refresh(self) -> None:
        """Refresh every `interval` seconds from a daemon thread until stopped (or the lab stops)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop = threading.Event()
        stop = self._stop
        self._thread = threading.Thread(target=self._loop, args=(stop,), name="labkit-queue-viewer", daemon=True)
        self._thread.start()
        if not self.auto_refresh.value:
            self.auto_refresh.value = True

    def _loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            try:
                self.refresh()
            except LabNotRunning as exc:  # the lab was stopped: nothing more to show
                self.show_error(exc)
                stop.set()
            except Exception as exc:  # shown in the widget; printing from a thread would land in a random cell
                self.show_error(exc)
        if self.auto_refresh.value and stop is self._stop:
            self.auto_refresh.value = False

    def stop_auto_refresh(self) -> None:
        """Stop the background refresh (idempotent); waits for a refresh in progress to finish."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=max(self.interval, 1.0) + 30)
        if self.auto_refresh.value:
            self.auto_refresh.value = False

    def auto_refreshing(self) -> bool:
        """True while the background refresh thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Stop the auto refresh, then close the widget and its children."""
        self.stop_auto_refresh()
        super().close()

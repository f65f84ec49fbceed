"""The lab's consoles as ipywidgets: DNS Manager, the New Send Connector wizard, receive connector
properties, Queue Viewer, message tracking and an OWA-like mailbox.

Each is a class that is returned, never displayed from inside: put it last in a
cell to show it. Every action is one public API call, shown under the widget
as code with a copy button (``widget.last_call``), so whatever you click can
also be typed — and graded::

    from labkit.widgets import open_dns_manager
    dns = open_dns_manager(lab, zone="xutonglin.com")
    dns
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from labkit.views import merge_logs
from labkit.widgets.base import LabForm
from labkit.widgets.calls import LAB, ApiCall
from labkit.widgets.dns_manager import DnsManager, fqdn_preview
from labkit.widgets.mailbox import MailboxView
from labkit.widgets.message_tracking import MessageTracking, tracking_log
from labkit.widgets.queue_viewer import QueueViewer
from labkit.widgets.receive_connector import ReceiveConnectorProperties
from labkit.widgets.received import parse_received, received_chain
from labkit.widgets.send_connector_wizard import NewSendConnectorWizard

if TYPE_CHECKING:
    from labkit.lab import Lab

__all__ = [
    "LAB",
    "ApiCall",
    "DnsManager",
    "LabForm",
    "MailboxView",
    "MessageTracking",
    "NewSendConnectorWizard",
    "QueueViewer",
    "ReceiveConnectorProperties",
    "fqdn_preview",
    "merge_logs",
    "open_dns_manager",
    "open_mailbox",
    "open_message_tracking",
    "open_queue_viewer",
    "open_receive_connector",
    "open_send_connector_wizard",
    "parse_received",
    "received_chain",
    "tracking_log",
]


def open_dns_manager(lab: Lab, zone: str | None = None) -> DnsManager:
    """DNS Manager for the lab's public DNS, showing `zone` (the first zone by default)."""
    return DnsManager(lab, zone)


def open_send_connector_wizard(lab: Lab, server: str | None = None) -> NewSendConnectorWizard:
    """The New Send Connector wizard, with `server` (e.g. ``"mail.contoso.com"``) as the source server."""
    return NewSendConnectorWizard(lab, server)


def open_receive_connector(lab: Lab, server: str | None = None, connector: str | None = None) -> ReceiveConnectorProperties:
    """The Properties of a receive connector of `server` (its first connector unless `connector` is given)."""
    return ReceiveConnectorProperties(lab, server, connector)


def open_queue_viewer(lab: Lab, server: str | None = None, interval: float = 5.0) -> QueueViewer:
    """Queue Viewer for `server`; auto refresh (when switched on) every `interval` seconds."""
    return QueueViewer(lab, server, interval=interval)


def open_message_tracking(lab: Lab) -> MessageTracking:
    """Message tracking across every server of the lab."""
    return MessageTracking(lab)


def open_mailbox(lab: Lab, address: str | None = None) -> MailboxView:
    """The mailbox `address` (e.g. ``"allen@xutonglin.com"``) in an OWA-like view."""
    return MailboxView(lab, address)

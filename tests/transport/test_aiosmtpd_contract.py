"""The aiosmtpd and nbval internals labkit builds on are still there, with the shapes it relies on.

labkit's receive connector (labkit/transport/receive.py) subclasses aiosmtpd's ``SMTP`` and overrides or
reads private members; the grading plugin (labkit/grading/plugin.py) replaces nbval's
``RunningKernel.await_reply``. pyproject.toml caps both packages below their next minor release; this test is
what to run before lifting a cap: it fails naming the member that moved, instead of a learner meeting a
``500 Error`` or a grade of zero.
"""

from __future__ import annotations

import inspect

import aiosmtpd
import pytest
from aiosmtpd.smtp import SMTP

#: Members of aiosmtpd's SMTP that receive.py overrides, calls through ``super()`` or reads, with the
#: parameters it passes.
SMTP_MEMBERS = {
    "_cb_client_connected": ["self", "reader", "writer"],
    "_timeout_cb": ["self"],
    "_getaddr": ["self", "arg"],
    "push": ["self", "status"],
    "connection_made": ["self", "transport"],
    "connection_lost": ["self", "error"],
    "smtp_AUTH": ["self", "arg"],
    "smtp_HELP": ["self", "arg"],
    "smtp_EXPN": ["self", "arg"],
    "smtp_STARTTLS": ["self", "arg"],
}
#: Attributes receive.py reads or sets on a session object.
SMTP_ATTRIBUTES = ("command_size_limit", "command_size_limits", "local_part_limit")


@pytest.mark.parametrize("name", sorted(SMTP_MEMBERS))
def test_aiosmtpd_smtp_member_keeps_its_signature(name: str) -> None:
    member = getattr(SMTP, name, None)
    assert member is not None, f"aiosmtpd {aiosmtpd.__version__} has no SMTP.{name}: update labkit/transport/receive.py"
    params = list(inspect.signature(member).parameters)
    assert params == SMTP_MEMBERS[name], (
        f"aiosmtpd {aiosmtpd.__version__} changed SMTP.{name}{inspect.signature(member)}: "
        "labkit/transport/receive.py overrides it with the old parameters"
    )


@pytest.mark.parametrize("name", SMTP_ATTRIBUTES)
def test_aiosmtpd_smtp_attribute_is_there(name: str) -> None:
    assert hasattr(SMTP, name), f"aiosmtpd {aiosmtpd.__version__} dropped SMTP.{name}, which receive.py uses"


def test_aiosmtpd_session_sets_its_reader_and_writer_in_cb_client_connected() -> None:
    # receive.py wraps self._reader after super()._cb_client_connected(); that needs the method to set it.
    source = inspect.getsource(SMTP._cb_client_connected)
    assert "self._reader" in source and "self._writer" in source, (
        "aiosmtpd no longer sets _reader/_writer in _cb_client_connected: receive.py's command logging breaks"
    )


def test_aiosmtpd_banner_reads_the_per_session_ident() -> None:
    # receive.py sets self.__ident__ per session so the banner carries the connection's date (facts §4.5).
    source = inspect.getsource(SMTP._handle_client)
    assert "self.__ident__" in source, "aiosmtpd's banner no longer reads self.__ident__: the 220 line loses its date"


def test_aiosmtpd_calls_the_handler_hooks_by_name() -> None:
    # labkit's handler answers with handle_<VERB> hooks and handle_exception; aiosmtpd finds them by name.
    assert "handle_" in inspect.getsource(SMTP._call_handler_hook), "aiosmtpd no longer looks up handle_<VERB>"
    assert "event_handler.handle_exception" in inspect.getsource(SMTP.handle_exception), (
        "aiosmtpd no longer delegates exceptions to the handler's handle_exception"
    )


def test_nbval_running_kernel_await_reply_is_replaceable() -> None:
    from nbval.kernel import RunningKernel

    member = getattr(RunningKernel, "await_reply", None)
    assert member is not None, "nbval has no RunningKernel.await_reply: update labkit/grading/plugin.py"
    params = list(inspect.signature(member).parameters)
    assert params[:3] == ["self", "msg_id", "timeout"], (
        f"nbval changed RunningKernel.await_reply{inspect.signature(member)}: labkit/grading/plugin.py replaces it"
    )
    for used in ("get_message", "is_alive"):
        assert hasattr(RunningKernel, used), f"nbval dropped RunningKernel.{used}, which the grading plugin calls"

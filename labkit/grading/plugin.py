"""The pytest plugin of a grading run (``pytest -p labkit.grading.plugin --nbval-lax ...``).

It runs inside the grading subprocess and its pytest-xdist workers, next to nbval,
and records, for every executed cell, what happened: outcome, nbval's message, and
the outputs (so the executed notebook can be written and a check's hint read from
its ``CheckFailed`` error). Records go to ``--labkit-records DIR``, one file per
notebook named after the notebook's folder (each submission has its own), one JSON
line per cell as soon as it ran, then a ``done`` line when the notebook's kernel is
gone — the grader watches those lines for progress and still has every finished cell
if the run is cut short. The folder is outside every kernel's working folder, so a
submission does not write into it by accident.

It also makes a kernel crash cost seconds instead of the whole cell timeout: nbval
waits for a dead kernel's reply until the timeout, so the wait is polled in slices
and gives up as soon as the kernel process has died.
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator
from pathlib import Path
from queue import Empty
from typing import Any

import pytest

RECORDS_OPTION = "--labkit-records"
KERNEL_DIED = "The kernel died while running this cell (the process crashed or exited)"


class KernelDied(RuntimeError):
    """The kernel process ended while a cell was running."""


def results_path(records: Path, notebook: Path) -> Path:
    """Where the records of `notebook` (alone in its folder) are written."""
    return records / f"{notebook.parent.name}.jsonl"


def _append(item: pytest.Item, record: dict[str, Any]) -> None:
    records = item.config.getoption("labkit_records")
    if not records:
        return
    with results_path(Path(records), Path(str(item.fspath))).open("a", encoding="utf-8") as f:
        f.write(json.dumps(record, default=str) + "\n")


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--labkit-records DIR``: where to write the cell records."""
    parser.addoption(RECORDS_OPTION, dest="labkit_records", default=None, help="labkit grading: cell records folder")


def _await_reply(self: Any, msg_id: str, timeout: float | None = None) -> None:
    """nbval's `RunningKernel.await_reply`, polled in 1 s slices that notice a dead kernel."""
    deadline = None if timeout is None else time.monotonic() + float(timeout)
    while True:
        left = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
        if left <= 0:
            raise Empty
        try:
            msg = self.get_message(stream="shell", timeout=left)
        except Empty:
            if not self.is_alive():
                raise KernelDied(KERNEL_DIED) from None
            continue
        if msg["parent_header"].get("msg_id") == msg_id:
            if msg["content"]["status"] == "aborted":
                raise RuntimeError("Kernel aborted execution request")
            return


def pytest_configure(config: pytest.Config) -> None:
    """Install the crash-aware wait into nbval's kernel wrapper."""
    from nbval.kernel import RunningKernel

    RunningKernel.await_reply = _await_reply


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Record each cell's outcome (and a failed kernel start) with its outputs."""
    report = yield
    cell = getattr(item, "cell", None)
    if cell is not None and (call.when == "call" or (call.when == "setup" and call.excinfo is not None)):
        excinfo = call.excinfo
        if excinfo is None:
            outcome, message = "passed", ""
        elif excinfo.errisinstance(pytest.skip.Exception):
            outcome, message = "skipped", str(excinfo.value)
        else:
            outcome, message = ("failed" if call.when == "call" else "error"), str(excinfo.value)
        outputs = getattr(item, "test_outputs", None) or []
        _append(
            item,
            {
                "cell": getattr(item, "cell_num", -1),
                "id": cell.get("id"),
                "outcome": outcome,
                "message": message[:4000],
                "duration": round(call.duration, 3),
                "outputs": json.loads(json.dumps(outputs, default=str)),
            },
        )
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, Any, Any]:
    """After a notebook's last cell (and its kernel's shutdown), write its ``done`` line."""
    try:
        return (yield)
    finally:
        if getattr(item, "cell", None) is not None and (nextitem is None or nextitem.parent is not item.parent):
            _append(item, {"done": True})

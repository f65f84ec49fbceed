"""`Lab`: the running lab with the learner's faces, and `labkit.start()`.

`labkit.core.LabCore` runs the lab; this module, one floor above the faces
(trace, pictures, checks, diagnose), joins them to it so that a learner writes
``lab.trace(...)`` or ``lab.check("a-records")``. The faces themselves are typed
against the small protocol in `labkit.snapshot`, never against `Lab`, so the
import graph runs one way: faces → core, and this module → both.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from labkit.checks import CheckResult, run_check
from labkit.core import LabCore, fill_slot, running_labs, stop_all, take_slot
from labkit.diagnose import diagnose
from labkit.pictures.conversation import conversation
from labkit.pictures.path import message_path
from labkit.pictures.picture import Picture
from labkit.pictures.topology import topology
from labkit.scenario import Scenario, load_scenario
from labkit.trace import Trace, trace
from labkit.transport.settings import TransportSettings

if TYPE_CHECKING:
    from labkit.shell.result import ShellResult

__all__ = ["Lab", "running_labs", "start", "stop_all"]


class Lab(LabCore):
    """One running copy of the lab, with the faces a learner uses on it.

    Prefer `labkit.start()`, which also replaces a lab left running by an earlier
    run of the same cell. A `Lab` is a context manager: ``with labkit.start() as lab:``.
    Everything but the faces is `LabCore`'s (see there for the arguments).
    """

    def start(self, step: int = 1, broken: str | None = None) -> Lab:
        """Start every service and bring the lab to `step` (see `LabCore.start`)."""
        super().start(step, broken)
        return self

    def __enter__(self) -> Lab:
        super().__enter__()
        return self

    def topology(self) -> Picture:
        """A picture of the lab: networks, hosts with their addresses, TMG between them, the public DNS."""
        return topology(self.scenario)

    def path(self, message_id: str) -> Picture:
        """A picture of the path a message took (or tried to take), hop by hop, and where it stopped."""
        self._require_running()
        return message_path(self, message_id)

    def conversation(self, message_id: str) -> Picture:
        """The SMTP conversation between the two servers for a message, as a sequence diagram."""
        self._require_running()
        return conversation(self, message_id)

    def trace(self, sender: str, recipient: str) -> Trace:
        """Dry-run what `sender`'s server would do with a message to `recipient` now, step by step, with fixes."""
        self._require_running()
        return trace(self, sender, recipient)

    def diagnose(self, domain: str) -> pd.DataFrame:
        """An offline MXToolbox for a lab domain: MX, A, banner, open relay, anonymous acceptance, response time."""
        self._require_running()
        return diagnose(self, domain)

    def check(self, name: str) -> CheckResult:
        """Run the named step check: a ✔ result when the step is done, `CheckFailed` with a hint when not.

        See `labkit.checks.CHECKS` for the names (``a-records``, ``mx-records``, ``send-connector``...).
        """
        self._require_running()
        return run_check(self, name)

    def ems(self, command: str, server: str | None = None) -> ShellResult:
        """Run Exchange Management Shell commands on `server` (the lab's first Exchange server by default).

        ``lab.ems('Get-SendConnector | fl Name,AddressSpaces')`` returns a `ShellResult`: PowerShell's
        output, the errors, and the Python call that does the same (see `labkit.shell`, docs/shell.md).
        """
        from labkit.shell import run_ems

        return run_ems(self, command, server=server)

    def cmd(self, command: str) -> ShellResult:
        """Run the DNS server's Command Prompt lines: ``nslookup ...``, ``dnscmd /RecordAdd ...``."""
        from labkit.shell import run_cmd

        return run_cmd(self, command)


def start(
    step: int = 1,
    *,
    broken: str | None = None,
    name: str = "default",
    data_dir: str | Path | None = None,
    scenario: Scenario | str | Path | None = None,
    settings: TransportSettings | None = None,
) -> Lab:
    """Start the lab ready for `step` of the seed, and return it once every service listens.

    A lab started earlier under the same `name` (by an earlier run of the same
    cell, say) is stopped first, so re-running a cell or a whole notebook never
    fails. Use different names to run two labs side by side.

    Args:
        step: 1 = the beginning; 2 = A records done; 3 = MX records done;
            4 = send connector done; 5 = everything done.
        broken: a named misconfiguration to troubleshoot (see the scenario's `[broken]` table).
        name: which lab slot this is.
        data_dir: keep queues, logs and mailboxes here (a temporary folder by default).
        scenario: a `Scenario` or the path of a TOML scenario file; the seed's by default.
        settings: transport timers and limits.

    Raises:
        LabkitError: bad arguments or scenario; nothing is left running.
    """
    chosen = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    previous = take_slot(name)
    if previous is not None:
        previous.stop()
    lab = Lab(chosen, name=name, data_dir=data_dir, settings=settings)
    lab.start(step, broken=broken)
    fill_slot(name, lab)
    return lab



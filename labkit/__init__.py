"""labkit: a hands-on lab of internet mail between two Exchange 2010 organisations.

Importing labkit starts nothing and prints nothing; `labkit.start()` brings the
lab to life::

    import labkit
    lab = labkit.start()          # step 1: nothing configured on the public DNS
    lab.dns.add_record("contoso.com", "mail", "A", "100.100.100.10")
    lab.nslookup("mail.contoso.com")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from labkit.errors import LabkitError
from labkit.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from labkit.lab import Lab, running_labs, start, stop_all

__all__ = ["Lab", "LabkitError", "Scenario", "load_scenario", "running_labs", "start", "stop_all"]
__version__ = "0.1.0"

_LAZY = {"Lab", "start", "stop_all", "running_labs"}


def _register_magics() -> None:
    # In IPython (a notebook's kernel), `%%ems` and `%%cmd` exist as soon as labkit is imported; elsewhere
    # nothing changes. Registering imports only labkit.shell.magics, which loads the lab when a cell runs.
    import sys

    if "IPython" not in sys.modules:
        return
    from IPython import get_ipython

    ipython = get_ipython()
    if ipython is not None:
        from labkit.shell.magics import register

        register(ipython)


_register_magics()


def __getattr__(name: str) -> Any:
    # The runtime (pandas, aiosmtpd, dnslib) loads on first use, so `import labkit` stays cheap.
    if name in _LAZY:
        from labkit import lab

        return getattr(lab, name)
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")

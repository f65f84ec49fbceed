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


def __getattr__(name: str) -> Any:
    # The runtime (pandas, aiosmtpd, dnslib) loads on first use, so `import labkit` stays cheap.
    if name in _LAZY:
        from labkit import lab

        return getattr(lab, name)
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")

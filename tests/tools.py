"""Third-party tools the tests drive (dig, swaks, smtp-sink, dnsperf, Chromium): skipped on a laptop that
lacks one, a failure on CI, where ``.ci/run`` installs them all (``CI=true``), so a broken install never
turns into a quietly green run."""

from __future__ import annotations

import os
import shutil

import pytest


def on_ci() -> bool:
    """True where every tool must be present: ``.ci/run`` exports ``CI=true``."""
    return os.environ.get("CI", "").lower() == "true"


def missing(tool: str, package: str, *, module_level: bool = False) -> None:
    """Skip (on a laptop) or fail (on CI) because ``tool`` from Debian's ``package`` is not installed."""
    why = f"{tool} is not installed: apt-get install {package} (.ci/run does)"
    if on_ci():
        pytest.fail(f"CI=true but {why}", pytrace=False)
    pytest.skip(why, allow_module_level=module_level)


def require(tool: str, package: str, *, module_level: bool = False) -> str:
    """The path of ``tool``, or a skip/failure (see ``missing``) when it is not on PATH."""
    path = shutil.which(tool)
    if path is None:
        missing(tool, package, module_level=module_level)
        raise AssertionError("unreachable")  # pragma: no cover - missing() always raises
    return path

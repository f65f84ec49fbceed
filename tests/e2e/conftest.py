"""Fixtures for the end-to-end test: a real JupyterLab, a real Chromium, screenshots as artefacts.

What only a browser shows (STYLE.md §12): that the curriculum's widgets render and answer
clicks, and that the pictures are drawn. Everything runs on loopback:

- `jupyter_lab` starts ``sys.executable -m jupyter lab`` (this environment's JupyterLab and
  kernel) on 127.0.0.1 with ``--port=0``, a random token, a temporary root holding a copy of
  ``notebooks/`` (outputs stripped, so every output seen is fresh and nothing dirties the repo)
  and temporary Jupyter config/data/runtime/settings/workspace directories; it waits for
  ``/api/status`` and stops the server and its kernels whatever happens.
- `browser` launches Debian's Chromium through Playwright's ``executable_path`` (Playwright's
  own browser download is never used). Without Chromium the test is skipped, saying so.
- `artifacts` is the folder screenshots go to: ``$LABKIT_ARTIFACTS`` or ``artifacts/e2e/``
  (git-ignored), printed at the start of the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import tools

#: Helpers, not tests: kept out of `--doctest-modules` collection, which would import Playwright
#: even where the test is skipped for want of Chromium.
collect_ignore = ["jlab.py"]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
#: How long JupyterLab may take to answer /api/status, and to stop.
START_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0
#: Chromium flags for a machine with no screen and a closed network (machines/python.md).
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
#: JupyterLab user settings for a quiet, deterministic page: no news or update toasts
#: (they would cover widgets and reach for the internet), every cell attached to the DOM.
LAB_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": {"enabled": False},
}


def find_chromium() -> str | None:
    """Debian's Chromium: ``$LABKIT_CHROMIUM``, ``chromium`` on PATH, or /usr/bin/chromium."""
    for candidate in (os.environ.get("LABKIT_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        tools.missing("chromium", "chromium")
    return path


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots and JupyterLab's log go; this test's files from a previous run are removed."""
    folder = Path(os.environ.get("LABKIT_ARTIFACTS") or ROOT / "artifacts" / "e2e").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for pattern in ("[0-9][0-9]-*.png", "FAILED-*.png", "jupyterlab.log"):
        for old in folder.glob(pattern):
            old.unlink()
    sys.stderr.write(f"\n[e2e] screenshots and logs: {folder}\n")
    return folder


@dataclass
class JupyterLab:
    """A running JupyterLab: where it listens, its token, its root folder and its log."""

    url: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen[bytes]

    def tree(self, notebook: str) -> str:
        """The page URL that opens `notebook` (relative to the root) in JupyterLab."""
        return f"{self.url}lab/tree/{notebook}?token={self.token}"

    def api(self, path: str, method: str = "GET", timeout: float = 5.0) -> Any:
        """A REST call to the server (``path`` without the leading slash), decoded from JSON."""
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def notebooks_source() -> Path:
    """The curriculum folder to serve: ``$LABKIT_E2E_NOTEBOOKS`` (a draft elsewhere) or notebooks/."""
    return Path(os.environ.get("LABKIT_E2E_NOTEBOOKS") or NOTEBOOKS).resolve()


def copy_notebooks(source: Path, target: Path) -> None:
    """Copy the curriculum into `target` as a learner gets it: student copies, no outputs.

    A student copy (`labkit.grading.release`) has each step's ``fix`` cell replaced by a
    prompt; in the instructor's notebook the fix cell would do the step in code during
    Run All, before any click, and the console would then have nothing left to do.
    Outputs and saved widget state are dropped as well, so every output the browser
    shows comes from this run's kernel (stored outputs are untrusted in a fresh server).
    """
    import nbformat

    from labkit.grading.release import release_notebook

    for item in sorted(source.iterdir()):
        if item.name.startswith("."):
            continue
        if item.suffix == ".ipynb":
            nb = release_notebook(nbformat.read(item, as_version=4))
            for cell in nb.cells:
                if cell.cell_type == "code":
                    cell.outputs = []
                    cell.execution_count = None
                    cell.metadata.pop("execution", None)
            nb.metadata.pop("widgets", None)
            nbformat.write(nb, target / item.name)
        elif item.is_file():
            shutil.copy2(item, target / item.name)


def _wait_for_server(process: subprocess.Popen[bytes], runtime: Path, token: str, log: Path) -> str:
    """Read the port JupyterLab chose from its runtime file, then poll /api/status until it answers."""
    deadline = time.monotonic() + START_TIMEOUT
    url = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"JupyterLab exited with code {process.returncode} before it was ready; log {log}:\n"
                + log.read_text(errors="replace")[-4000:]
            )
        if url is None:
            for info_file in runtime.glob("jpserver-*.json"):
                with contextlib.suppress(ValueError, OSError):
                    info = json.loads(info_file.read_text())
                    if info.get("pid") == process.pid:
                        url = f"http://127.0.0.1:{info['port']}{info.get('base_url', '/')}"
        if url is not None:
            try:
                request = urllib.request.Request(f"{url}api/status", headers={"Authorization": f"token {token}"})
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        return url
            except (urllib.error.URLError, OSError):
                pass
        time.sleep(0.25)
    raise RuntimeError(
        f"JupyterLab did not answer /api/status within {START_TIMEOUT:.0f} s; log {log}:\n"
        + log.read_text(errors="replace")[-4000:]
    )


def _check_kernel(lab: JupyterLab) -> None:
    """The notebooks' kernel ``python3`` must run this environment's Python (where labkit is installed)."""
    specs = lab.api("api/kernelspecs")["kernelspecs"]
    if "python3" not in specs:
        raise RuntimeError(
            f"JupyterLab finds no `python3` kernel (it has {sorted(specs)}); install ipykernel in {sys.prefix}"
        )
    program = specs["python3"]["spec"]["argv"][0]
    # jupyter_client runs a spec whose program is `python`/`python3` with the server's own sys.executable.
    if program not in ("python", "python3", f"python{sys.version_info[0]}.{sys.version_info[1]}", sys.executable):
        raise RuntimeError(f"the `python3` kernel runs {program!r}, not this environment's {sys.executable}")


def _descendants(pid: int) -> list[Any]:
    try:
        import psutil

        return list(psutil.Process(pid).children(recursive=True))
    except Exception:  # psutil missing or the process gone: nothing more to find
        return []


def stop_server(lab: JupyterLab) -> None:
    """Stop JupyterLab and every kernel it started: /api/shutdown, then SIGTERM, then SIGKILL.

    Kernels run in sessions of their own (jupyter_client starts them with
    ``start_new_session``), so killing the server alone would leak them: they are
    collected first and killed if they outlive the server.
    """
    process = lab.process
    children = _descendants(process.pid)
    if process.poll() is None:
        with contextlib.suppress(Exception):
            lab.api("api/shutdown", method="POST")
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT / 2)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
    for child in children:
        with contextlib.suppress(Exception):
            if child.is_running():
                child.kill()
                child.wait(5)


@pytest.fixture(scope="package")
def jupyter_lab(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[JupyterLab]:
    """JupyterLab from this environment on 127.0.0.1, a random port and token, a temporary root."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root, home = base / "root", base / "jupyter"
    root.mkdir()
    copy_notebooks(notebooks_source(), root)
    dirs = {name: home / name for name in ("config", "data", "runtime", "settings", "workspaces", "ipython")}
    for folder in dirs.values():
        folder.mkdir(parents=True)
    for name, settings in LAB_SETTINGS.items():
        path = dirs["settings"] / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    token = secrets.token_hex(24)
    env = {
        **os.environ,
        # The user-level Jupyter folders are temporary; the environment's own share/jupyter
        # (kernel spec, lab extensions such as ipywidgets') is still on the path as sys.prefix.
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
        "IPYTHONDIR": str(dirs["ipython"]),
        "JUPYTER_PLATFORM_DIRS": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    log = artifacts / "jupyterlab.log"
    command = [
        sys.executable, "-m", "jupyter", "lab",
        "--ip=127.0.0.1", "--port=0", "--no-browser",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        "--ServerApp.port_retries=0",
        "--LabApp.news_url=None",  # no announcements feed: the network is closed
        "--ServerApp.shutdown_no_activity_timeout=900",  # a server orphaned by a crash of this test ends itself
        "--MappingKernelManager.cull_idle_timeout=900",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI runs as root; JupyterLab refuses that unless told
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT
        )
    lab = JupyterLab(url="", token=token, root=root, log=log, process=process)
    try:
        lab.url = _wait_for_server(process, dirs["runtime"], token, log)
        _check_kernel(lab)
        sys.stderr.write(f"[e2e] JupyterLab {lab.url} (root {root}, pid {process.pid})\n")
        yield lab
    finally:
        stop_server(lab)


# Package scope, not session: Playwright's sync API keeps an asyncio loop running on the main
# thread while it is open, and later tests that call asyncio.run() would fail under it.
@pytest.fixture(scope="package")
def browser(chromium: str) -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (never Playwright's own browser download)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: it is in the test extra (pip install -e '.[test]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True, timeout=60_000)
        try:
            yield browser
        finally:
            browser.close()

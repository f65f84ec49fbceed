"""Execute rebuilt notebooks with nbval in one pytest run (pytest-xdist for parallelism) and read the records.

One subprocess runs ``python -m pytest --nbval-lax`` over every rebuilt notebook:
a fresh kernel per notebook (nbval starts one per file), ``--dist loadfile`` so a
notebook's cells stay in one worker, each notebook in its own folder (the kernel's
working directory), labs on OS-chosen ports — so submissions graded side by side
share neither files nor ports. Lax mode, because the checks judge the lab's state:
output comparison would only punish work that is right but prints differently.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import labkit
from labkit.grading.plugin import RECORDS_OPTION, results_path

PYTEST_INI = "[pytest]\n# written by labkit grade: no project settings leak into a grading run\n"


@dataclass
class CellRecord:
    """What happened to one code cell in the grading run (see `labkit.grading.plugin`)."""

    cell: int  # index among the notebook's code cells
    id: str | None
    outcome: str  # passed | failed | skipped | error
    message: str
    duration: float
    outputs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def error(self) -> dict[str, Any] | None:
        """The cell's error output (``ename``, ``evalue``), if it raised."""
        return next((o for o in self.outputs if o.get("output_type") == "error"), None)

    @property
    def timed_out(self) -> bool:
        """True when nbval stopped the cell at the cell timeout."""
        return self.message.startswith("Timeout of")


@dataclass
class NotebookRun:
    """The records of one notebook, and whether its run reached the end."""

    records: dict[int, CellRecord]
    done: bool


def records_dir(workdir: Path) -> Path:
    """The folder of a run's cell records."""
    return workdir / "records"


def read_records(workdir: Path, notebook: Path) -> NotebookRun:
    """The records written for `notebook` in the run of `workdir` so far (a partly written last line is ignored)."""
    path = results_path(records_dir(workdir), notebook)
    records: dict[int, CellRecord] = {}
    done = False
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if data.get("done"):
                done = True
            elif "cell" in data:
                records[int(data["cell"])] = CellRecord(
                    int(data["cell"]),
                    data.get("id"),
                    str(data.get("outcome", "")),
                    str(data.get("message", "")),
                    float(data.get("duration", 0.0)),
                    list(data.get("outputs", [])),
                )
    return NotebookRun(records, done)


def pytest_command(notebooks: Sequence[Path], workdir: Path, timeout: float, workers: int) -> list[str]:
    """The pytest command line of a grading run."""
    cmd = [
        sys.executable, "-m", "pytest",
        "-c", str(workdir / "pytest.ini"), "--rootdir", str(workdir),
        "-p", "labkit.grading.plugin", "-p", "no:cacheprovider", f"{RECORDS_OPTION}={records_dir(workdir)}",
        "--nbval-lax", "--nbval-current-env",
        f"--nbval-cell-timeout={timeout:g}", "--nbval-kernel-startup-timeout=120",
        "-v", "--color=no", "-o", "console_output_style=classic",
    ]  # fmt: skip
    if workers > 0:
        cmd += ["-n", str(min(workers, len(notebooks))), "--dist", "loadfile"]
    else:
        cmd += ["-p", "no:xdist"]
    return cmd + [str(p) for p in notebooks]


def run_notebooks(
    notebooks: Sequence[Path],
    workdir: Path,
    *,
    timeout: float,
    workers: int,
    on_done: Callable[[Path], None] | None = None,
    poll: float = 0.2,
) -> tuple[int, str]:
    """Run nbval over `notebooks` in a pytest subprocess; call `on_done(notebook)` as each one finishes.

    Args:
        notebooks: the rebuilt notebooks, each in its own folder under `workdir`.
        workdir: the run's folder (pytest.ini and the log go there).
        timeout: seconds per cell before nbval interrupts the kernel.
        workers: pytest-xdist workers; 0 runs the notebooks one after another in one process.
        on_done: progress callback, called once per notebook, in the order they finish.
        poll: seconds between looks at the records.

    Returns:
        pytest's exit code (1 just means some cell failed) and the tail of its output.
    """
    (workdir / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
    records_dir(workdir).mkdir(exist_ok=True)
    env = dict(os.environ)
    env["LABKIT_GRADING"] = "1"  # a "being graded" switch a notebook or labkit may look at
    source_root = str(Path(labkit.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH", "")) if p)
    env.pop("PYTEST_ADDOPTS", None)
    pending = list(notebooks)
    log_path = workdir / "pytest.log"

    def sweep(final: bool) -> None:
        for nb in list(pending):
            if final or read_records(workdir, nb).done:
                pending.remove(nb)
                if on_done is not None:
                    on_done(nb)

    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            pytest_command(notebooks, workdir, timeout, workers),
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # Ctrl-C in the terminal reaches the grader, which stops this run
        )
        try:
            while proc.poll() is None:
                sweep(final=False)
                time.sleep(poll)
        finally:
            if proc.poll() is None:  # interrupted: stop pytest and its xdist workers (kernels follow their parent)
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    sweep(final=True)
    tail = log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
    return proc.returncode, tail

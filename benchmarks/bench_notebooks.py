"""How long each notebook takes headless, how much memory its kernel needs, and the lab's share of the time.

Each notebook runs in a fresh kernel (nbclient), exactly as nbval and grading run
it. A first cell (not saved anywhere) times every call into the lab loop, so the
lab's share — the servers' work plus waiting for mail to settle — can be told
apart from the kernel's own (imports, pandas, rendering). The kernel's peak
resident memory (VmHWM) is read from /proc. Baseline in the same run: an empty
notebook (kernel start-up and shutdown only).

Prints one line per notebook and one for the whole curriculum.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TARGET_KERNEL_MB = 200

PROBE = """
import time as _t, labkit.runtime as _rt
_labkit_bench = [0.0]
_labkit_run = _rt.LabRuntime.run
def _labkit_timed(self, *a, **k):
    t0 = _t.perf_counter()
    try:
        return _labkit_run(self, *a, **k)
    finally:
        _labkit_bench[0] += _t.perf_counter() - t0
_rt.LabRuntime.run = _labkit_timed
"""
REPORT = "import json as _j; print(_j.dumps({'lab': _labkit_bench[0]}))"


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(path: Path | None) -> tuple[float, float, float]:
    """Execute a notebook (None: an empty one); return (wall seconds, lab seconds, kernel peak MB)."""
    nb = nbformat.read(path, as_version=4) if path else nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PROBE), *nb.cells, nbformat.v4.new_code_cell(REPORT)] if path else []
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(ROOT / "notebooks")}}
    )
    t0 = time.perf_counter()
    with client.setup_kernel():
        pid = client.km.provisioner.process.pid  # type: ignore[union-attr]
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        peak = peak_mb(pid)
    wall = time.perf_counter() - t0
    lab = 0.0
    if path:
        text = "".join(o.get("text", "") for o in nb.cells[-1].get("outputs", []))
        lab = json.loads(text.strip().splitlines()[-1])["lab"] if text.strip() else float("nan")
    return wall, lab, peak


def main(argv: list[str]) -> None:
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    base_wall, _, base_peak = run(None)
    print(f"notebook_baseline empty_kernel wall={base_wall:.2f}s kernel_peak={base_peak:.0f}MB")
    total_wall = total_lab = 0.0
    worst = 0.0
    for path in paths:
        wall, lab, peak = run(path)
        total_wall += wall
        total_lab += lab
        worst = max(worst, peak)
        print(
            f"notebook {path.stem} wall={wall:.2f}s (x{wall / base_wall:.1f} empty) lab_share={lab / wall:.0%} "
            f"kernel_peak={peak:.0f}MB target<{TARGET_KERNEL_MB}MB {'OK' if peak < TARGET_KERNEL_MB else 'MISSED'}"
        )
    print(
        f"curriculum notebooks={len(paths)} wall={total_wall:.1f}s lab_share={total_lab / total_wall:.0%} "
        f"worst_kernel_peak={worst:.0f}MB"
    )


if __name__ == "__main__":
    main(sys.argv[1:])

"""Start-up time and memory of a lab.

- `labkit.start()` to ready, median over several starts in one process (imports
  excluded: they are paid once per kernel), against the baseline of starting and
  stopping a bare asyncio loop thread in the same run.
- Resident memory of a process with a started lab, minus that of the same
  interpreter before importing labkit (measured in fresh subprocesses).

Prints one line per figure.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

STARTS = 15
TARGET_START_S = 0.3
TARGET_MEMORY_MB = 80

MEMORY_PROBE = r"""
import resource, sys
def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
base = rss_mb()
if sys.argv[1] == "lab":
    import labkit
    lab = labkit.start(step=5)
    lab.nslookup("mail.contoso.com")
    after = rss_mb()
    lab.stop()
else:
    after = rss_mb()
print(f"{base:.1f} {after:.1f}")
"""


def bare_loop_start() -> float:
    from labkit.runtime import LabRuntime

    t0 = time.perf_counter()
    rt = LabRuntime("bench")
    rt.start()
    rt.stop()
    return time.perf_counter() - t0


def lab_start() -> float:
    import labkit

    t0 = time.perf_counter()
    lab = labkit.start(name="bench")
    elapsed = time.perf_counter() - t0
    lab.stop()
    return elapsed


def main() -> None:
    import labkit

    labkit.start(name="bench").stop()  # warm-up: imports and first-use caches
    starts = [lab_start() for _ in range(STARTS)]
    bare = [bare_loop_start() for _ in range(STARTS)]
    median = statistics.median(starts)
    print(
        f"lab_start median={median * 1000:.1f}ms bare_loop={statistics.median(bare) * 1000:.2f}ms "
        f"ratio={median / statistics.median(bare):.0f}x target<{TARGET_START_S * 1000:.0f}ms "
        f"{'OK' if median < TARGET_START_S else 'MISSED'}"
    )

    def probe(kind: str) -> tuple[float, float]:
        out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, kind], capture_output=True, text=True, check=True)
        base, after = out.stdout.split()
        return float(base), float(after)

    interp, _ = probe("bare")
    base, with_lab = probe("lab")
    extra = with_lab - base
    print(
        f"lab_memory rss_with_lab={with_lab:.1f}MB interpreter={interp:.1f}MB above_interpreter={extra:.1f}MB "
        f"target<{TARGET_MEMORY_MB}MB {'OK' if extra < TARGET_MEMORY_MB else 'MISSED'}"
    )


if __name__ == "__main__":
    main()

"""Grading throughput: 30 synthetic submissions, with and without pytest-xdist parallelism.

Run: ``python benchmarks/bench_grading.py [--submissions N] [--workers W]``. Builds a
small key notebook (two real steps: A records → ``a-records``, MX records →
``mx-records``), N complete submissions from its student copy in nbgrader's
``submitted/<learner>/`` layout, and grades them twice with `labkit.grading.grade`:
``workers=0`` (one pytest process, notebooks one after another) and ``workers=W``
(``-n W --dist loadfile``). Each submission costs a fresh kernel, ``import labkit``
and a lab start, so the figure is dominated by kernel start-up, as in a real class.
Prints one line per figure, then the ratio. Takes a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labkit.grading import grade, release_notebook  # noqa: E402
from tools.nbbuild import code, md, write  # noqa: E402

FIX_A = 'lab.dns.add_record("contoso.com", "mail", "A", "100.100.100.10")\nlab.dns.add_record("xutonglin.com", "mail", "A", "100.100.100.254")'
FIX_MX = 'lab.dns.add_record("contoso.com", "@", "MX", "mail.contoso.com", preference=10)\nlab.dns.add_record("xutonglin.com", "@", "MX", "mail.xutonglin.com", preference=10)'
NAME = "01-dns.ipynb"


def build(base: Path, submissions: int) -> Path:
    """Write the key notebook and `submissions` complete submissions under `base`; return the key folder."""
    import nbformat

    key = base / "key"
    key.mkdir()
    write(
        key / NAME,
        [
            md("# DNS (benchmark key)"),
            code("import labkit\n\nlab = labkit.start(step=1)"),
            code(FIX_A, tags=["fix"]),
            code('lab.check("a-records")', tags=["check"]),
            code(FIX_MX, tags=["fix"]),
            code('lab.check("mx-records")', tags=["check"]),
            code("lab.stop()"),
        ],
    )
    student = release_notebook(nbformat.read(key / NAME, as_version=4))
    fixes = [c for c in student.cells if "fix" in c.metadata.get("tags", [])]
    fixes[0].source, fixes[1].source = FIX_A, FIX_MX
    for n in range(submissions):
        path = base / "submitted" / f"learner{n:02d}" / NAME
        path.parent.mkdir(parents=True)
        nbformat.write(student, path)
    return key


def measure(base: Path, key: Path, workers: int, submissions: int) -> float:
    """Grade the class once; return the wall time (and check everyone got full marks)."""
    t0 = time.perf_counter()
    book = grade([base / "submitted"], key, base / f"out-{workers}", timeout=60, workers=workers)
    elapsed = time.perf_counter() - t0
    full = sum(1 for g in book.learners if g.total == book.max_total)
    if full != submissions:
        raise SystemExit(f"only {full}/{submissions} submissions got full marks with workers={workers}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        base = Path(tmp)
        key = build(base, args.submissions)
        print(f"grading {args.submissions} submissions on {os.cpu_count()} cores (2 checks, 7 cells each)")
        serial = measure(base, key, 0, args.submissions)
        print(f"workers=0 (-p no:xdist) wall={serial:.1f}s rate={args.submissions / serial * 60:.1f} submissions/min")
        parallel = measure(base, key, args.workers, args.submissions)
        print(
            f"workers={args.workers} (-n {args.workers} --dist loadfile) wall={parallel:.1f}s "
            f"rate={args.submissions / parallel * 60:.1f} submissions/min"
        )
        print(f"speed-up workers={args.workers} vs workers=0: {serial / parallel:.2f}x")


if __name__ == "__main__":
    main()

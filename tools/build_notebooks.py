"""Write the curriculum's notebooks from tools/curriculum/nbNN.py, then execute them to store outputs.

Usage: python -m tools.build_notebooks [NN ...]     (default: all)
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from tools.nbbuild import write
from tools.run_notebooks import run

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> None:
    names = argv or sorted(p.stem[2:] for p in (ROOT / "tools" / "curriculum").glob("nb[0-9][0-9].py"))
    for nn in names:
        module = importlib.import_module(f"tools.curriculum.nb{nn}")
        path = ROOT / module.PATH
        write(path, module.CELLS)
        run(path)


if __name__ == "__main__":
    main(sys.argv[1:])

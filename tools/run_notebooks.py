"""Execute notebooks in place (fresh kernel, this environment) so their stored outputs are current.

Usage: python tools/run_notebooks.py [notebooks/NN-name.ipynb ...]   (default: every notebook)

nbval then compares a fresh run against these outputs in `make test`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def run(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nb.metadata.pop("widgets", None)  # widget state holds random model ids; nbval ignores widget views anyway
    nbformat.write(nb, path)
    sys.stdout.write(f"executed {path.relative_to(ROOT)}\n")


def main(argv: list[str]) -> None:
    paths = [Path(a).resolve() for a in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    for path in paths:
        run(path)


if __name__ == "__main__":
    main(sys.argv[1:])

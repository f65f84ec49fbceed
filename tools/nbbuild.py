"""Write a notebook from a compact list of cells (used when authoring the curriculum).

    from tools.nbbuild import md, code, write
    write("notebooks/00-start-here.ipynb", [md("# Title"), code("import labkit", tags=["setup"])])

Then `python tools/run_notebooks.py notebooks/00-start-here.ipynb` stores the outputs.
Cell tags used by the curriculum: ``fix`` (a step's fix: removed in student copies),
``check`` (a step's check), ``raises-exception`` (a cell that shows an intended
error), ``nbval-ignore-output`` (output that cannot be stable).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode


def md(text: str) -> NotebookNode:
    """A Markdown cell (the text is dedented)."""
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip())


def code(text: str, tags: list[str] | None = None) -> NotebookNode:
    """A code cell with optional tags."""
    cell = nbformat.v4.new_code_cell(textwrap.dedent(text).strip())
    if tags:
        cell.metadata["tags"] = tags
    return cell


def write(path: str | Path, cells: list[NotebookNode]) -> None:
    """Write the notebook (without outputs; run tools/run_notebooks.py next)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, Path(path))

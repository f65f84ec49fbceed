"""A small key notebook over real lab steps, and learners' submissions made from its student copy.

The key has four steps, as the curriculum writes them (``fix`` cells, ``check`` cells):

1. A records → ``a-records``;  2. MX records → ``mx-records``;
3. the Send connector → ``send-connector``;
4. anonymous receive and a message → ``anonymous-receive`` and ``mail-delivered`` (needs step 3).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbformat.notebooknode import NotebookNode

from labkit.checks import CHECKS
from labkit.grading import release_notebook
from tools.nbbuild import code, md, write

NAME = "01-mail.ipynb"

FIX_A = """
lab.dns.add_record("contoso.com", "mail", "A", "100.100.100.10")
lab.dns.add_record("xutonglin.com", "mail", "A", "100.100.100.254")
"""
FIX_MX = """
lab.dns.add_record("contoso.com", "@", "MX", "mail.contoso.com", preference=10)
lab.dns.add_record("xutonglin.com", "@", "MX", "mail.xutonglin.com", preference=10)
"""
FIX_SEND = 'lab.server("mail.contoso.com").new_send_connector("Internet", ["*"], usage="Internet")'
FIX_ANON = """
lab.server("mail.xutonglin.com").set_receive_connector(
    "MAIL\\\\Default MAIL",
    permission_groups=["AnonymousUsers", "ExchangeUsers", "ExchangeServers", "ExchangeLegacyServers"],
)
lab.send_mail("contoso@contoso.com", "allen@xutonglin.com", "Hello", "Hi Allen")
lab.settle()
"""
ANSWERS = [FIX_A, FIX_MX, FIX_SEND, FIX_ANON]
CHECK_NAMES = ["a-records", "mx-records", "send-connector", "anonymous-receive", "mail-delivered"]
FULL = sum(CHECKS[c].points for c in CHECK_NAMES)
#: Writes a file in the kernel's working folder, and reads it back after the lab has worked a while:
#: two submissions sharing a folder would see each other's file.
SCRATCH_WRITE = 'import os\nopen("scratch.txt", "w").write(str(os.getpid()))'
SCRATCH_READ = 'assert open("scratch.txt").read() == str(os.getpid()), "another submission wrote here"\nos.getpid()'


def key_cells() -> list[NotebookNode]:
    """The key notebook's cells: text, setup, fix and check cells."""
    return [
        md("# Mail between two organisations (test key)"),
        code("import labkit\n\nlab = labkit.start(step=1)"),
        code(SCRATCH_WRITE),
        md("## Step 1: A records"),
        code(FIX_A, tags=["fix"]),
        code('lab.nslookup("mail.contoso.com")'),
        code('lab.check("a-records")', tags=["check"]),
        md("## Step 2: MX records"),
        code("from labkit.widgets import open_dns_manager\n\nopen_dns_manager(lab)"),
        code(FIX_MX, tags=["fix"]),
        code('lab.check("mx-records")', tags=["check"]),
        md("## Step 3: a Send connector"),
        code(FIX_SEND, tags=["fix"]),
        code('lab.check("send-connector")', tags=["check"]),
        md("## Step 4: anonymous receive"),
        code(FIX_ANON, tags=["fix"]),
        code('lab.check("anonymous-receive")', tags=["check"]),
        code('lab.check("mail-delivered")', tags=["check"]),
        code(SCRATCH_READ),
        code("lab.stop()"),
    ]


def make_key(folder: Path) -> Path:
    """Write the key notebook into `folder` (outputs faked on the fix cells, to see them go); return `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    cells = key_cells()
    for cell in cells:
        if "fix" in cell.metadata.get("tags", []):
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="the answer\n")]
            cell.execution_count = 1
    write(folder / NAME, cells)
    return folder


def student_copy(key_dir: Path) -> NotebookNode:
    """The released notebook a learner starts from."""
    return release_notebook(nbformat.read(key_dir / NAME, as_version=4))


def fix_cells(nb: NotebookNode) -> list[NotebookNode]:
    """The notebook's fix cells, in order."""
    return [c for c in nb.cells if "fix" in c.metadata.get("tags", [])]


def make_submission(
    base: Path,
    key_dir: Path,
    name: str,
    answers: list[str | None] | None = None,
    edit: Callable[[NotebookNode], None] | None = None,
) -> Path:
    """Write ``base/submitted/<name>/01-mail.ipynb``: the student copy with `answers` (None = left undone)."""
    nb = student_copy(key_dir)
    for cell, answer in zip(fix_cells(nb), ANSWERS if answers is None else answers, strict=True):
        if answer is not None:
            cell.source = answer.strip()
    if edit is not None:
        edit(nb)
    path = base / "submitted" / name / NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    """A folder with the key notebook."""
    return make_key(tmp_path / "key")


def corrupt(tmp_path: Path, name: str) -> Path:
    """A submission that is not JSON (a half-saved file)."""
    path = tmp_path / "submitted" / name / NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"cells": [{"cell_type": "code", "sour')
    return path


def strip_ids(nb: NotebookNode) -> None:
    """Save the notebook as nbformat 4.4, without cell ids (an older Jupyter, or a copy-paste)."""
    nb.nbformat_minor = 4
    for cell in nb.cells:
        cell.pop("id", None)


def read_json(path: Path) -> dict[str, object]:
    """A notebook file as plain JSON."""
    data: dict[str, object] = json.loads(path.read_text())
    return data

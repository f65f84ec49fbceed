"""Rebuilding a submission from the key, without running it: which cells are the learner's."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from labkit.grading import rebuild
from tests.grading.conftest import ANSWERS, NAME, fix_cells, strip_ids, student_copy


def key(key_dir: Path) -> NotebookNode:
    return nbformat.read(key_dir / NAME, as_version=4)


def answered(key_dir: Path) -> NotebookNode:
    nb = student_copy(key_dir)
    for cell, answer in zip(fix_cells(nb), ANSWERS, strict=True):
        cell.source = answer.strip()
    return nb


def test_answers_go_into_the_keys_fix_cells_and_everything_else_is_the_keys(key_dir: Path) -> None:
    nb = answered(key_dir)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = "learner's notes"
    nb.cells.insert(0, nbformat.v4.new_code_cell("import os\nos.system('rm -rf ~')"))  # above every answer: dropped
    rebuilt = rebuild(key(key_dir), nb)
    assert [c.source for c in fix_cells(rebuilt.nb)] == [a.strip() for a in ANSWERS]
    k = key(key_dir)
    for mine, theirs in zip(rebuilt.nb.cells, k.cells, strict=True):
        assert mine.id == theirs.id
        if "fix" not in theirs.metadata.get("tags", []):
            assert mine.source == theirs.source
    assert rebuilt.missing == [] and set(rebuilt.answers.values()) == {"id"}
    assert all(c.get("outputs", []) == [] for c in rebuilt.nb.cells)


def test_without_ids_answers_are_matched_by_the_order_of_fix_cells(key_dir: Path) -> None:
    nb = answered(key_dir)
    strip_ids(nb)
    rebuilt = rebuild(key(key_dir), nb)
    assert [c.source for c in fix_cells(rebuilt.nb)] == [a.strip() for a in ANSWERS]
    assert set(rebuilt.answers.values()) == {"order"}


def test_deleted_answers_are_missing_and_edited_checks_noted(key_dir: Path) -> None:
    nb = answered(key_dir)
    nb.cells.remove(fix_cells(nb)[1])
    check = next(c for c in nb.cells if c.source == 'lab.check("a-records")')
    check.source = "lab.check = print"
    rebuilt = rebuild(key(key_dir), nb)
    k = key(key_dir)
    assert rebuilt.missing == [k.cells.index(fix_cells(k)[1])]
    assert fix_cells(rebuilt.nb)[1].source.startswith("# ✎ Your turn")  # the prompt, never the key's answer
    assert any("check cell was edited" in n for n in rebuilt.notes)
    assert 'lab.check("a-records")' in [c.source for c in rebuilt.nb.cells]


def test_answers_that_reach_into_the_checks_are_flagged(key_dir: Path) -> None:
    nb = answered(key_dir)
    fix_cells(nb)[2].source += "\nlab.check = lambda name: None"
    rebuilt = rebuild(key(key_dir), nb)
    k = key(key_dir)
    assert rebuilt.flagged == [k.cells.index(fix_cells(k)[2])]
    assert any("review it by hand" in n for n in rebuilt.notes)

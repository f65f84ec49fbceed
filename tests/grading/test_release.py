"""Student copies: fix cells become prompts with the same ids; deterministic, idempotent, no answers left."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from labkit.grading import GradingError, release
from labkit.grading.release import PROMPT, WIDGET_PROMPT
from tests.grading.conftest import ANSWERS, NAME, fix_cells


def test_release_replaces_fix_cells_with_prompts_keeping_ids_and_tags(key_dir: Path, tmp_path: Path) -> None:
    [out] = release(key_dir, tmp_path / "release")
    key = nbformat.read(key_dir / NAME, as_version=4)
    student = nbformat.read(out, as_version=4)
    assert [c.id for c in student.cells] == [c.id for c in key.cells]
    for k, s in zip(fix_cells(key), fix_cells(student), strict=True):
        assert s.metadata == k.metadata
        assert s.source.startswith("# ✎ Your turn")
        assert s.outputs == [] and s.execution_count is None
    code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    for call in ("add_record(", "new_send_connector(", "set_receive_connector(", "send_mail("):
        assert call in "".join(ANSWERS) and call not in code, call
    text = out.read_text()
    assert "the answer" not in text  # the fix cells' outputs are gone
    assert 'lab.check("a-records")' in code  # checks stay


def test_prompt_names_the_step_and_the_widget(key_dir: Path, tmp_path: Path) -> None:
    [out] = release(key_dir, tmp_path / "release")
    prompts = [c.source for c in fix_cells(nbformat.read(out, as_version=4))]
    assert prompts[0] == PROMPT.format(what=" — Step 1 — A records on the public DNS")
    # step 2 opens DNS Manager above its fix cell: use it, or paste the call it shows
    assert prompts[1] == WIDGET_PROMPT.format(what=" — Step 2 — MX records on the public DNS")
    assert "widget" not in prompts[2]


def test_release_is_deterministic_and_idempotent(key_dir: Path, tmp_path: Path) -> None:
    [first] = release(key_dir, tmp_path / "a")
    once = first.read_bytes()
    [second] = release(key_dir, tmp_path / "b")
    assert second.read_bytes() == once  # same key, same bytes
    release(key_dir, tmp_path / "a")
    assert first.read_bytes() == once  # again into the same folder
    [again] = release(tmp_path / "a", tmp_path / "c")
    assert again.read_bytes() == once  # releasing a student copy changes nothing


def test_release_refuses_an_empty_source_and_overwriting_the_key(key_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(GradingError, match="No notebooks"):
        release(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(GradingError, match="key folder itself"):
        release(key_dir, key_dir)

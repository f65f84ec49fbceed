"""`labkit release` and `labkit grade`: files in, files out, exit codes, progress on stderr."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from labkit.cli import EXIT_OK, EXIT_USAGE, main
from tests.grading.conftest import FULL, NAME, make_submission


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, out=out), out.getvalue()


def test_release_command_writes_student_copies(key_dir: Path, tmp_path: Path) -> None:
    code, text = run(["release", str(key_dir), str(tmp_path / "release")])
    assert code == EXIT_OK
    assert (tmp_path / "release" / NAME).exists() and "released" in text


def test_grade_command_grades_and_reports_progress(key_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_submission(tmp_path, key_dir, "alice")
    code, text = run(["grade", str(tmp_path / "submitted"), "--key", str(key_dir), "--out", str(tmp_path / "out"), "--timeout", "30", "--workers", "1"])
    assert code == EXIT_OK
    assert f"alice  {FULL:>3}" in text and "grades.csv" in text
    assert f"alice/{NAME}: {FULL}/{FULL} points" in capsys.readouterr().err
    assert (tmp_path / "out" / "grades.csv").read_text().splitlines()[1].startswith(f"alice,2,2,2,2,2,{FULL}")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        ("no-key", "No key notebooks in"),
        ("no-submissions", "No submissions found"),
        ("missing-path", "does not exist"),
        ("no-match", "No submission is named like a key notebook"),
    ],
)
def test_usage_errors_exit_non_zero_with_a_clear_message(
    make: str, message: str, key_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, subs = key_dir, tmp_path / "submitted"
    subs.mkdir()
    if make == "no-key":
        key = tmp_path / "nothing"
        make_submission(tmp_path, key_dir, "alice")
    elif make == "missing-path":
        subs = tmp_path / "typo"
    elif make == "no-match":
        (subs / "alice").mkdir()
        (subs / "alice" / "other.ipynb").write_text("{}")
    code, _ = run(["grade", str(subs), "--key", str(key), "--out", str(tmp_path / "out")])
    assert code == EXIT_USAGE
    assert message in capsys.readouterr().err

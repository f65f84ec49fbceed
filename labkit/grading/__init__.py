"""The instructor's workflow: release student copies, rebuild submissions from the key, grade with nbval.

- `release(src_dir, out_dir)`: student copies — each ``fix`` cell becomes a prompt (same id).
- `rebuild(key, submission)`: the key notebook with the learner's answers in its ``fix`` cells.
- `grade(submissions, key_dir, out_dir)`: rebuild, execute with nbval (pytest-xdist in parallel),
  score with the checks of `labkit.checks`, write ``grades.csv``, feedback pages, executed notebooks.

The `labkit release` and `labkit grade` commands are thin wrappers; see docs/instructors.md.
Nothing here prints: progress is a callback.
"""

from __future__ import annotations

from labkit.grading.grade import Progress, find_submissions, grade
from labkit.grading.notebook import GradingError, InvalidNotebook
from labkit.grading.rebuild import Rebuilt, rebuild
from labkit.grading.release import release, release_notebook
from labkit.grading.report import GradeBook, LearnerGrade
from labkit.grading.scoring import StepResult

__all__ = [
    "GradeBook",
    "GradingError",
    "InvalidNotebook",
    "LearnerGrade",
    "Progress",
    "Rebuilt",
    "StepResult",
    "find_submissions",
    "grade",
    "rebuild",
    "release",
    "release_notebook",
]

"""Grade a class: rebuild each submission from the key, run them all with nbval, score, write the reports.

    from labkit.grading import grade
    book = grade(["submitted/"], key_dir="notebooks", out_dir="graded", workers=2)
    book.row("alice")        # {'a-records': 2, 'mx-records': 2, ..., 'total': 6}

Files in, files out: no JupyterHub, no database. A submission is a notebook whose
parent folder names the learner (nbgrader's ``submitted/<learner>/NN-name.ipynb``)
and whose file name names its key notebook (``<key_dir>/NN-name.ipynb``).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nbformat.notebooknode import NotebookNode

from labkit.checks import CHECKS
from labkit.grading.notebook import GradingError, InvalidNotebook, Step, name_items, read, steps, write
from labkit.grading.rebuild import Rebuilt, rebuild
from labkit.grading.report import GradeBook, LearnerGrade, feedback_html, index_html, write_csv
from labkit.grading.runner import read_records, run_notebooks
from labkit.grading.scoring import StepResult, executed, score, zero


@dataclass(frozen=True)
class Progress:
    """One submission finished grading (passed to the `progress` callback)."""

    done: int
    total: int
    learner: str
    notebook: str
    earned: int
    points: int
    problem: str = ""  # set when the submission could not be run at all


@dataclass
class _Submission:
    learner: str
    path: Path
    key: Path | None
    steps: list[Step] = field(default_factory=list)
    rebuilt: Rebuilt | None = None
    workfile: Path | None = None
    results: list[StepResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def find_submissions(paths: Iterable[str | Path]) -> list[Path]:
    """The notebooks to grade: files as given, folders searched recursively (checkpoints skipped), sorted.

    Raises:
        GradingError: a path does not exist, or no notebook was found.
    """
    found: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.update(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts and p.is_file())
        elif path.is_file():
            found.add(path)
        else:
            raise GradingError(f"`{path}` does not exist", "Give submission notebooks or the folders that hold them")
    if not found:
        raise GradingError("No submissions found", "Give notebooks or folders such as `submitted/` (submitted/<learner>/NN-name.ipynb)")
    return sorted(found, key=lambda p: (p.parent.name, p.name, str(p)))


def _keys(key_dir: Path) -> dict[str, Path]:
    keys = {p.name: p for p in sorted(key_dir.glob("*.ipynb"))} if key_dir.is_dir() else {}
    if not keys:
        raise GradingError(f"No key notebooks in `{key_dir}`", "Pass the instructor's notebooks with --key, e.g. `--key notebooks/`")
    return keys


def _key_steps(key: Path) -> list[Step]:
    try:
        found = steps(read(key))
    except InvalidNotebook as exc:
        raise GradingError(f"The key notebook {exc}", "Repair it, or give another --key folder") from None
    unknown = sorted({s.check for s in found} - set(CHECKS))
    if unknown:
        raise GradingError(
            f"`{key}` runs checks labkit does not have: {', '.join(unknown)}",
            f"Use one of: {', '.join(sorted(CHECKS))}",
        )
    return found


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "_"


def grade(
    submissions: Iterable[str | Path],
    key_dir: str | Path,
    out_dir: str | Path,
    *,
    timeout: float = 60.0,
    workers: int = 0,
    progress: Callable[[Progress], None] | None = None,
) -> GradeBook:
    """Grade every submission and write ``grades.csv``, ``feedback/``, ``executed/`` and ``index.html`` to `out_dir`.

    Args:
        submissions: notebooks, or folders searched for them; the learner is each notebook's parent folder.
        key_dir: the instructor's notebooks; a submission is graded against the key of the same file name.
        out_dir: where the reports go (created; files of an earlier run are overwritten).
        timeout: seconds a cell may run before it is interrupted (and its step earns 0).
        workers: notebooks executed in parallel (pytest-xdist ``-n``); 0 runs them one by one.
        progress: called once per submission as it finishes.

    Returns:
        The grade book (also written as files).

    Raises:
        GradingError: no key notebooks, no submissions, none matching a key, a key with unknown checks,
            or two submissions of one notebook by one learner.
    """
    keys = _keys(Path(key_dir))
    paths = find_submissions(submissions)
    subs: list[_Submission] = []
    seen: dict[tuple[str, str], Path] = {}
    for path in paths:
        learner = path.resolve().parent.name
        if (learner, path.name) in seen:
            raise GradingError(
                f"Two submissions of `{path.name}` for `{learner}`: `{seen[learner, path.name]}` and `{path}`",
                "Keep one notebook per learner and name",
            )
        seen[learner, path.name] = path
        subs.append(_Submission(learner, path, keys.get(path.name)))
    used = sorted({s.key for s in subs if s.key is not None})
    if not used:
        raise GradingError(
            f"No submission is named like a key notebook in `{key_dir}` ({', '.join(keys)})",
            "Check --key, and that submissions keep their released file names",
        )
    key_steps = {key: _key_steps(key) for key in used}
    key_nbs: dict[Path, NotebookNode] = {key: read(key) for key in used}  # readable: _key_steps read them
    name_items([s for key in used for s in key_steps[key]])
    columns = [s.item for key in used for s in key_steps[key]]

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="labkit-grade-"))
    total, done = len(subs), 0

    def report(sub: _Submission, problem: str = "") -> None:
        nonlocal done
        done += 1
        if progress is not None:
            earned = sum(r.earned for r in sub.results)
            points = sum(CHECKS[s.check].points for s in sub.steps)
            progress(Progress(done, total, sub.learner, sub.path.name, earned, points, problem))

    try:
        runnable: dict[Path, _Submission] = {}
        for n, sub in enumerate(subs):
            if sub.key is None:
                sub.notes.append(f"`{sub.path.name}` matches no key notebook ({', '.join(keys)}): not graded")
                report(sub, "no key notebook of that name")
                continue
            sub.steps = key_steps[sub.key]
            try:
                sub.rebuilt = rebuild(key_nbs[sub.key], read(sub.path))
            except InvalidNotebook as exc:
                sub.notes.append(f"{exc}; every check of it earns 0")
                sub.results = [zero(s, sub.path.name, f"not graded: {exc}") for s in sub.steps]
                report(sub, str(exc))
                continue
            sub.notes += [f"{sub.path.name}: {note}" for note in sub.rebuilt.notes]
            sub.workfile = work / f"{n:04d}-{_safe(sub.learner)}" / sub.path.name
            write(sub.rebuilt.nb, sub.workfile)
            runnable[sub.workfile] = sub

        def finished(notebook: Path) -> None:
            sub = runnable[notebook]
            assert sub.rebuilt is not None
            run = read_records(work, notebook)
            sub.results = score(sub.steps, sub.rebuilt, run, sub.path.name, timeout)
            if not run.done:
                sub.notes.append(f"{sub.path.name}: the grading run stopped before the end of the notebook")
            target = out / "executed" / _safe(sub.learner) / sub.path.name
            write(executed(sub.rebuilt, run), target)
            report(sub)

        if runnable:
            run_notebooks(list(runnable), work, timeout=timeout, workers=workers, on_done=finished)
            shutil.copyfile(work / "pytest.log", out / "pytest.log")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    book = _book(subs, columns, key_steps, out)
    write_csv(book, out / "grades.csv")
    for grade_ in book.learners:
        links = [f"../{p.relative_to(out).as_posix()}" for p in grade_.executed]
        page = out / "feedback" / f"{_safe(grade_.learner)}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(feedback_html(book, grade_, links), encoding="utf-8")
    (out / "index.html").write_text(index_html(book), encoding="utf-8")
    return book


def _book(subs: list[_Submission], columns: list[str], key_steps: dict[Path, list[Step]], out: Path) -> GradeBook:
    """One grade per learner: every item of every key notebook graded, 0 for notebooks not handed in."""
    step_of = {s.item: (key.name, s) for key, found in key_steps.items() for s in found}
    learners = []
    for learner in sorted({s.learner for s in subs}):
        mine = [s for s in subs if s.learner == learner]
        results: dict[str, StepResult] = {}
        for sub in mine:
            results.update((r.item, r) for r in sub.results)
        notes = [n for s in mine for n in s.notes]
        for item in columns:
            if item not in results:
                missing, step = step_of[item]
                results[item] = zero(step, missing, f"`{missing}` was not handed in")
                if not any(s.path.name == missing for s in mine):
                    note = f"`{missing}` was not handed in"
                    if note not in notes:
                        notes.append(note)
        executed_files = [
            out / "executed" / _safe(learner) / s.path.name for s in mine if s.workfile is not None
        ]
        learners.append(LearnerGrade(learner, results, notes, executed_files))
    return GradeBook(columns, {item: CHECKS[step_of[item][1].check].points for item in columns}, learners, out)

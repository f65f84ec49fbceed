"""What a grading run hands back: ``grades.csv``, one HTML feedback page per learner, an index page.

    grades.csv            learner, one column per check (points earned), total, notes
    feedback/<learner>.html
    index.html            the class at a glance, linking every feedback page
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from labkit.grading.scoring import StepResult

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d0d7de;padding:.4rem;text-align:left;
vertical-align:top}.ok{color:#1a7f37}.no{color:#cf222e}.note{color:#57606a;font-size:.9em}
code{background:#f6f8fa;padding:0 .2em}
"""


@dataclass
class LearnerGrade:
    """Everything graded for one learner: a result per check, notes, the executed notebooks."""

    learner: str
    results: dict[str, StepResult]  # by item
    notes: list[str] = field(default_factory=list)
    executed: list[Path] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Points earned over every check."""
        return sum(r.earned for r in self.results.values())


@dataclass
class GradeBook:
    """The outcome of `labkit.grading.grade`: the graded items (the CSV's columns) and each learner's grade.

    An item is one check cell of a key notebook, named after its check (``name#k`` when a check is graded
    more than once, like ``mail-flows`` in each troubleshooting exercise).
    """

    columns: list[str]
    points: dict[str, int]
    learners: list[LearnerGrade]
    out_dir: Path

    @property
    def max_total(self) -> int:
        """The most a learner can earn."""
        return sum(self.points[c] for c in self.columns)

    def __getitem__(self, learner: str) -> LearnerGrade:
        for grade in self.learners:
            if grade.learner == learner:
                return grade
        raise KeyError(learner)

    def row(self, learner: str) -> dict[str, int]:
        """One learner's points per item, plus ``total``."""
        grade = self[learner]
        return {**{c: grade.results[c].earned for c in self.columns}, "total": grade.total}


def write_csv(book: GradeBook, path: Path) -> None:
    """``learner``, one column per check (points earned), ``total``, ``notes`` — one row per learner."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["learner", *book.columns, "total", "notes"])
        for grade in book.learners:
            row = book.row(grade.learner)
            writer.writerow([grade.learner, *(row[c] for c in book.columns), row["total"], " | ".join(grade.notes)])


def feedback_html(book: GradeBook, grade: LearnerGrade, executed_links: list[str]) -> str:
    """A learner's feedback page: each check, passed or not, with the hint that says what to fix."""
    rows = []
    for item in book.columns:
        r = grade.results[item]
        mark = '<b class="ok">✔</b>' if r.passed else '<b class="no">✘</b>'
        notes = "".join(f'<div class="note">{escape(n)}</div>' for n in r.notes)
        label = "" if r.passed else "<b>What to do:</b> "
        rows.append(
            f"<tr><td>{mark}</td><td>{escape(r.title)}<div class='note'><code>{escape(item)}</code> · "
            f"{escape(r.notebook)}</div></td><td>{r.earned}/{r.points}</td><td>{label}{escape(r.reason)}{notes}</td></tr>"
        )
    notes = "".join(f"<li>{escape(n)}</li>" for n in grade.notes)
    links = "".join(f'<li><a href="{escape(href)}">{escape(Path(href).name)}</a></li>' for href in executed_links)
    return (
        f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>Feedback — {escape(grade.learner)}</title>"
        f"<style>{_STYLE}</style></head><body>\n<h1>Feedback for {escape(grade.learner)}</h1>\n"
        f"<p><b>{grade.total} / {book.max_total} points</b></p>\n"
        + (f"<h2>About your submission</h2><ul>{notes}</ul>\n" if notes else "")
        + "<table><tr><th></th><th>Step</th><th>Points</th><th>Result</th></tr>\n"
        + "\n".join(rows)
        + "</table>\n"
        + (f"<h2>Your notebooks, as graded</h2><ul>{links}</ul>\n" if links else "")
        + "</body></html>\n"
    )


def index_html(book: GradeBook) -> str:
    """The class at a glance: one line per learner with a link to the feedback page."""
    head = "".join(f"<th>{escape(c)}</th>" for c in book.columns)
    body = []
    for grade in book.learners:
        cells = "".join(
            f"<td class='{'ok' if grade.results[c].passed else 'no'}'>{grade.results[c].earned}</td>" for c in book.columns
        )
        body.append(
            f"<tr><td><a href='feedback/{escape(grade.learner)}.html'>{escape(grade.learner)}</a></td>{cells}"
            f"<td><b>{grade.total}</b></td><td class='note'>{escape(' | '.join(grade.notes))}</td></tr>"
        )
    return (
        f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>Grades</title><style>{_STYLE}</style>"
        f"</head><body>\n<h1>Grades</h1><p>Out of {book.max_total} points.</p>\n"
        f"<table><tr><th>learner</th>{head}<th>total</th><th>notes</th></tr>\n" + "\n".join(body) + "</table>\n"
        "</body></html>\n"
    )

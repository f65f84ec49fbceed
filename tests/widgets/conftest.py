"""Fixtures for the headless widget tests: real labs (no mocks), and replaying the code a widget showed."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from typing import Any

import ipywidgets as widgets
import pytest

import labkit
from labkit.lab import Lab

StartLab = Callable[..., Lab]


@pytest.fixture
def start_lab(request: pytest.FixtureRequest) -> Iterator[StartLab]:
    """`start_lab(step)` starts a real lab named after the test (a second one with `suffix`); all stop afterwards."""
    labs: list[Lab] = []

    def start(step: int = 1, suffix: str = "") -> Lab:
        last = labkit.load_scenario().last_step
        if step > last:
            pytest.skip(f"the seed scenario has no step {step} yet (steps 1-{last}); add steps 3 and 4 to seed.toml")
        lab = labkit.start(step=step, name=f"widgets-{request.node.name}{suffix}")
        labs.append(lab)
        return lab

    yield start
    for lab in labs:
        lab.stop()


def replay(code: str, lab: Lab) -> Any:
    """Run the code a widget showed, as a learner pasting it into a cell would; return the last expression's value."""
    namespace: dict[str, Any] = {"lab": lab, "labkit": labkit}
    tree = ast.parse(code)
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr):
        exec(compile(ast.Module(tree.body[:-1], []), "<cell>", "exec"), namespace)
        return eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
    exec(compile(tree, "<cell>", "exec"), namespace)
    return None


def disabled_while_clicked(target: widgets.Button, press: widgets.Button | None = None) -> list[bool]:
    """Click `press` (default `target`) and return the values `target.disabled` took meanwhile."""
    seen: list[bool] = []
    target.observe(lambda change: seen.append(bool(change["new"])), "disabled")
    (press or target).click()
    return seen

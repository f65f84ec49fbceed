"""Fixtures shared across the test tree."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

import labkit
from labkit.lab import Lab

StartLab = Callable[..., Lab]


@pytest.fixture
def start_lab(request: pytest.FixtureRequest) -> Iterator[StartLab]:
    """`start_lab(step, **kwargs)`: a real lab named after the test; every lab it started is stopped afterwards."""
    labs: list[Lab] = []

    def start(step: int = 1, **kwargs: object) -> Lab:
        lab = labkit.start(step=step, name=f"{request.node.nodeid}-{len(labs)}", **kwargs)  # type: ignore[arg-type]
        labs.append(lab)
        return lab

    yield start
    for lab in labs:
        lab.stop()

"""Binder: repo2docker (without Docker) renders a Dockerfile that installs labkit and the curriculum's needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rendered_dockerfile() -> str:
    exe = shutil.which("repo2docker", path=str(Path(sys.executable).parent)) or "repo2docker"
    out = subprocess.run(
        [exe, "--no-build", "--debug", str(ROOT)], capture_output=True, text=True, timeout=300, check=True
    )
    return out.stdout + out.stderr


def test_one_environment_file_only() -> None:
    binder = {p.name for p in (ROOT / "binder").iterdir()}
    assert "requirements.txt" in binder
    assert "environment.yml" not in binder  # repo2docker would ignore requirements.txt beside it
    assert not (ROOT / ".binder").exists()  # two binder folders are an error


def test_requirements_install_labkit_itself() -> None:
    lines = [ln.strip() for ln in (ROOT / "binder" / "requirements.txt").read_text().splitlines()]
    assert "." in lines  # the project, with every dependency of pyproject.toml


def test_dockerfile_installs_the_project_after_copying_it() -> None:
    dockerfile = rendered_dockerfile()
    copy = dockerfile.index("COPY --chown=0:0 src/ ${REPO_DIR}/")
    install = dockerfile.index('pip install --no-cache-dir -r "binder/requirements.txt"')
    assert copy < install  # `.` needs the repository in place
    assert re.search(r"conda environment for python=3\.1[1-9]", dockerfile), "Python 3.11+ (binder/runtime.txt)"
    assert "USER ${NB_USER}" in dockerfile[copy:install + 200]  # installed and run as a non-root user


def test_the_project_declares_what_the_curriculum_imports() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~ \[]", d)[0].lower() for d in deps}
    assert {"jupyterlab", "ipywidgets", "dnslib", "aiosmtpd", "pandas"} <= names

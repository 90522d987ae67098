"""The literate examples run (shortened under CI=1) and read as worked problems."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_there_are_at_least_two_literate_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_reads_as_statement_equations_code_result(example: pathlib.Path) -> None:
    text = example.read_text()
    order = [text.find(h) for h in ("# ## Statement", "# ## Equations", "import ")]
    assert -1 not in order and order == sorted(order), "statement, equations, then code"
    assert "CI" in text, "the example shortens itself under CI=1"
    assert "print(" in text and "assert " in text, "it prints its result and checks it"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_shortened_under_ci(example: pathlib.Path, tmp_path: pathlib.Path) -> None:
    env = dict(os.environ, CI="1", PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, str(example)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "the example prints its result"
    assert list(tmp_path.iterdir()) == [], "examples write nothing into the working folder"

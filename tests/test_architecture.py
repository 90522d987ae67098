"""The package boundaries of DESIGN.md: dependencies point one way."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("models", "sensors", "surrogates", "twin", "scenarios")
# What each package may import of ours (DESIGN.md, "Packages and what each owns").
ALLOWED = {
    "models": {"models"},
    "sensors": {"sensors"},
    "surrogates": {"surrogates", "models"},
    "twin": {"twin", "models", "sensors", "surrogates"},
    "scenarios": set(PACKAGES),
}


def _imported_packages(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_only_what_design_allows(package: str) -> None:
    offending = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = _imported_packages(path) - ALLOWED[package]
        if bad:
            offending[str(path.relative_to(ROOT))] = sorted(bad)
    assert offending == {}


def test_twin_help_answers_in_under_a_second() -> None:
    # STYLE.md rule 3: heavy backends are imported lazily.
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "twin", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - start
    assert "verify" in out.stdout
    assert elapsed < 1.5  # 1 s target plus interpreter start-up jitter on a loaded CI machine


@pytest.mark.parametrize("package", PACKAGES)
def test_package_all_is_sorted(package: str) -> None:
    module = __import__(package)
    names = list(module.__all__)
    assert names == sorted(names)

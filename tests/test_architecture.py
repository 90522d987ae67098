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
# What each package may import of ours (DESIGN.md, "Packages and what each owns"):
# scenarios drives twin and sensors from outside like a plant and takes its truth from
# the FEM (models), never from the twin's own forward model (surrogates).
ALLOWED = {
    "models": {"models"},
    "sensors": {"sensors"},
    "surrogates": {"surrogates", "models"},
    "twin": {"twin", "models", "sensors", "surrogates"},
    "scenarios": {"scenarios", "models", "sensors", "twin"},
}


def _imported_packages(path: pathlib.Path, root: pathlib.Path = ROOT) -> set[str]:
    """Our packages a file imports: absolute imports, relative ones resolved, in any scope."""
    tree = ast.parse(path.read_text(), filename=str(path))
    parts = path.relative_to(root).with_suffix("").parts  # e.g. ("twin", "cli", "model")
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level > 0:
                base = parts[: len(parts) - node.level]
                target = (*base, *(node.module.split(".") if node.module else ()))
                if target:
                    found.add(target[0])
                else:  # from the top: the imported names are packages
                    found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value.split(".")[0])
    return found & set(PACKAGES)


def _offending(root: pathlib.Path, package: str) -> dict[str, list[str]]:
    offending = {}
    for path in sorted((root / package).rglob("*.py")):
        bad = _imported_packages(path, root) - ALLOWED[package]
        if bad:
            offending[str(path.relative_to(root))] = sorted(bad)
    return offending


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_only_what_design_allows(package: str) -> None:
    assert _offending(ROOT, package) == {}


def test_every_package_is_barred_from_something_of_ours() -> None:
    # a rule that allows every import cannot fail: each package has a forbidden one
    for package, allowed in ALLOWED.items():
        assert set(PACKAGES) - allowed, package


def test_the_import_check_finds_absolute_relative_and_dynamic_imports(
    tmp_path: pathlib.Path,
) -> None:
    pkg = tmp_path / "scenarios"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "plant.py").write_text("def f():\n    from surrogates.gp import GPSurrogate\n")
    (pkg / "sub" / "replay.py").write_text("from ... import surrogates\n")
    (pkg / "fine.py").write_text("import models.service\nfrom . import plant\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "bad.py").write_text(
        "import importlib\nimportlib.import_module('twin.state')\n"
    )
    assert _offending(tmp_path, "scenarios") == {
        "scenarios/plant.py": ["surrogates"],
        "scenarios/sub/replay.py": ["surrogates"],
    }
    assert _offending(tmp_path, "models") == {"models/bad.py": ["twin"]}


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


def _surface_problems(package: str, root: pathlib.Path = ROOT) -> list[str]:
    """What is wrong with a package's curated surface (STYLE.md rule 3)."""
    import importlib

    module = importlib.import_module(package)
    names = list(getattr(module, "__all__", []))
    problems = []
    if names != sorted(names):
        problems.append("__all__ is not sorted")
    if len(set(names)) != len(names):
        problems.append("__all__ repeats a name")
    problems += [f"{n} is in __all__ but not importable" for n in names if not hasattr(module, n)]
    # public modules (not _private, not the CLI) that declare names users call
    exported = []
    for path in sorted((root / package).rglob("*.py")):
        rel = path.relative_to(root / package)
        if any(part.startswith("_") for part in rel.parts) or rel.parts[0] == "cli":
            continue
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(getattr(t, "id", "") == "__all__" for t in targets) and getattr(
                    node.value, "elts", None
                ):
                    exported.append(str(rel))
    if exported and not names:
        problems.append(f"__all__ is empty although {', '.join(exported)} export names")
    return problems


@pytest.mark.parametrize("package", PACKAGES)
def test_package_surface_is_sorted_importable_and_not_empty_when_it_has_a_surface(
    package: str,
) -> None:
    assert _surface_problems(package) == []


def test_the_surface_check_catches_an_empty_or_broken_all(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "demo_surface"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("__all__: list[str] = []\n")
    (pkg / "law.py").write_text("__all__ = ['rate']\n\ndef rate():\n    return 1\n")
    broken = tmp_path / "demo_broken"
    broken.mkdir()
    (broken / "__init__.py").write_text("__all__ = ['b', 'a', 'missing']\na = b = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _surface_problems("demo_surface", tmp_path) == [
        "__all__ is empty although law.py export names"
    ]
    assert _surface_problems("demo_broken", tmp_path) == [
        "__all__ is not sorted",
        "missing is in __all__ but not importable",
    ]

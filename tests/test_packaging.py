"""What the distribution carries: LICENSE, CHANGELOG, py.typed, examples in the sdist."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import tarfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
# sensors/ is another engineer's room in this change; its py.typed joins at the merge.
PACKAGES = ("models", "surrogates", "twin", "scenarios")


def test_license_is_the_declared_bsd_3_clause_of_the_developers() -> None:
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    text = (ROOT / "LICENSE").read_text()
    assert declared == "BSD-3-Clause"
    assert text.startswith("BSD 3-Clause License")
    assert "Copyright (c) 2026, materials-twin developers" in text
    assert "Neither the name of the copyright holder" in text  # the third clause


def test_changelog_has_an_unreleased_section_and_the_first_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in text and "## [0.1.0]" in text


def test_the_sdist_carries_license_changelog_examples_and_py_typed(tmp_path: pathlib.Path) -> None:
    # Build from a copy of the tracked files, so the worktree gets no build artefacts.
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    src = tmp_path / "src"
    for name in files:
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"from setuptools import build_meta; build_meta.build_sdist({str(dist)!r})",
        ],
        cwd=src,
        capture_output=True,
        check=True,
    )
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    expected = {"LICENSE", "CHANGELOG.md", "examples/grade91_header.toml"}
    expected |= {f"{p}/py.typed" for p in PACKAGES}
    assert expected <= names, sorted(expected - names)
    assert any(n.startswith("examples/") and n.endswith(".toml") for n in names)

"""One concept per module (STYLE.md rule 2): no library module past the ~600-line split."""

from __future__ import annotations

import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("models", "sensors", "surrogates", "twin", "scenarios")
LIMIT = 650  # lines: STYLE.md says "split at ~600"; the margin is the "~"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_library_module_is_past_the_split_size(package: str) -> None:
    sizes = {
        str(p.relative_to(ROOT)): len(p.read_text().splitlines())
        for p in (ROOT / package).rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > LIMIT} == {}


def test_life_law_tests_live_under_tests_models_life() -> None:
    stray = sorted(p.name for p in (ROOT / "tests" / "models").glob("test_life*.py"))
    assert stray == []
    kept = {p.name for p in (ROOT / "tests" / "models" / "life").glob("test_*.py")}
    assert {"test_rainflow.py", "test_creep.py", "test_fatigue.py", "test_interaction.py"} <= kept


def test_each_life_verification_module_holds_one_law_family() -> None:
    from models.verification import iter_groups

    families = {
        "life_rainflow": {"life/rainflow_astm", "life/rainflow_streaming"},
        "life_creep": {"life/creep_rate", "life/kachanov_rabotnov", "life/larson_miller"},
        "life_fatigue": {"life/strain_life"},
        "life_interaction": {"life/interaction", "life/robinson_miner"},
        "life_crack": {"life/paris"},
        "life_oxidation": {"life/oxidation"},
    }
    import importlib

    for module, groups in families.items():
        cases = importlib.import_module(f"models.verification.{module}").CASES
        assert set(cases) == groups
    every_life = {g for g, _ in iter_groups() if g.startswith("life/")}
    assert every_life == set().union(*families.values())

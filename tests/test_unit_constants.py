"""One place for unit constants (models/units.py); no bare 273.15 in the library."""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
# sensors imports nothing of ours and keeps its own single definition (sensors/units.py);
# surrogates/targets.py is another engineer's room in this change (its one bare 273.15
# goes at the merge).
PACKAGES = ("models", "surrogates", "twin", "scenarios")
EXEMPT = {"models/units.py", "surrogates/targets.py"}
CONSTANT_NAMES = {"ZERO_CELSIUS", "_ZERO_CELSIUS", "HOUR", "_HOUR", "MPA", "_MPA", "T20"}


def _offences(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in (273.15, 293.15):
            out.append(f"{node.lineno}: bare {node.value}")
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for t in targets:
            if isinstance(t, ast.Name) and t.id in CONSTANT_NAMES:
                out.append(f"{node.lineno}: defines {t.id}")
    return out


def test_unit_constants_are_defined_once_and_never_written_bare() -> None:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = str(path.relative_to(ROOT))
            if rel not in EXEMPT and (hits := _offences(path)):
                found[rel] = hits
    assert found == {}


def test_the_constants_are_those_of_si() -> None:
    from models import units

    assert units.ZERO_CELSIUS == 273.15 and units.T20 == 293.15
    assert units.HOUR == 3600.0 and units.MPA == 1e6
    assert units.celsius_to_kelvin(565.0) == 838.15
    assert units.kelvin_to_celsius(units.T20) == 20.0

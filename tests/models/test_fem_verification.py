"""The FEM verification cases of ``twin verify`` pass (references cited in each case)."""

from __future__ import annotations

import dolfinx_solver  # noqa: F401  (orders MPI before dolfinx)
import pytest

from models.verification import boundary, fem

GROUPS = {**fem.CASES, **boundary.CASES}

# Each runner compares against an independent reference (analytical solution, Bessel
# series, or a second method) with the tolerance of issue 2; see models/verification/fem.py
# and models/verification/boundary.py (prescribed surfaces, steady solve, displacement).


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_fem_verification_group_meets_its_tolerances(group: str) -> None:
    results = GROUPS[group]()
    assert results, f"{group} produced no results"
    failed = [r for r in results if not r.passed]
    assert not failed, "\n".join(
        f"{r.name}: {r.quantity}: computed {r.computed:.6g}, reference {r.reference:.6g}, "
        f"rel.err {r.rel_error:.2e} > {r.tolerance:.1e}"
        for r in failed
    )
    for r in results:
        assert r.source, r.name


def test_fem_cases_are_registered_for_twin_verify() -> None:
    from models.verification import iter_groups

    groups = {g for g, _ in iter_groups()}
    assert set(GROUPS) <= groups

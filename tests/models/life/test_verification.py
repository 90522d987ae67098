"""Life laws: the verification groups of twin verify pass (sources in each case)."""

from __future__ import annotations

import pytest

from models.verification import iter_groups

CASES = dict(g for g in iter_groups() if g[0].startswith("life/"))


@pytest.mark.parametrize("group", sorted(CASES))
def test_life_verification_group_passes(group: str) -> None:
    results = CASES[group]()
    assert results
    failed = [r for r in results if not r.passed]
    assert not failed, [(r.name, r.computed, r.reference, r.rel_error) for r in failed]

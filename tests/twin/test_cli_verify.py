"""``twin verify``: the JSON contract of the issue and the exit status."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from twin.cli import main

FIELDS = {"name", "quantity", "computed", "reference", "rel_error", "tolerance", "passed", "source"}


def test_verify_json_lists_one_object_per_case_with_the_agreed_fields() -> None:
    result = CliRunner().invoke(main, ["verify", "--json", "--only", "life/rainflow"])
    assert result.exit_code == 0, result.output
    cases = json.loads(result.output)
    assert len(cases) >= 3
    for case in cases:
        assert set(case) == FIELDS
        assert case["passed"] is True
        assert case["source"]
        # The reported error is the one recomputed from the reported numbers.
        scale = abs(case["reference"]) or 1.0
        assert abs(case["computed"] - case["reference"]) / scale <= case["tolerance"] + 1e-12


def test_verify_table_counts_passed_and_failed() -> None:
    result = CliRunner().invoke(main, ["verify", "--only", "life/rainflow"])
    assert result.exit_code == 0
    assert " passed, 0 failed" in result.output


def test_verify_rejects_a_selection_that_matches_nothing() -> None:
    result = CliRunner().invoke(main, ["verify", "--only", "no-such-group"])
    assert result.exit_code != 0
    assert "no-such-group" in result.output


def test_verify_exits_non_zero_when_a_case_fails(monkeypatch) -> None:
    # A deliberately wrong "computed" value: 1.02 against 1.0 with a 1 % tolerance.
    import models.verification as verification

    def failing() -> list:
        return [
            verification.compare(
                "demo/wrong", "x [-]", 1.02, 1.0, tolerance=0.01, source="hand check"
            )
        ]

    monkeypatch.setattr(verification, "iter_groups", lambda: iter([("demo/wrong", failing)]))
    result = CliRunner().invoke(main, ["verify", "--json"])
    assert result.exit_code == 1
    (case,) = json.loads(result.output)
    assert case["passed"] is False
    assert case["rel_error"] == pytest.approx(0.02)

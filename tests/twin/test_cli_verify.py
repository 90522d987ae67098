"""``twin verify``: the JSON contract of the issue and the exit status."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from twin.cli import main

FIELDS = {
    "name",
    "quantity",
    "computed",
    "reference",
    "rel_error",
    "tolerance",
    "passed",
    "source",
    "error_scale",  # what rel_error is relative to; 0: absolute (zero reference)
}


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
        scale = case["error_scale"] or 1.0
        recomputed = abs(case["computed"] - case["reference"]) / scale
        assert recomputed == pytest.approx(case["rel_error"], rel=1e-12, abs=1e-300)


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


def test_verify_table_shows_every_quantity_whole_and_says_what_a_zero_reference_error_is() -> None:
    # fem/lame_closed has sigma_r at the outer radius, whose reference is 0 (free surface)
    # and whose error is relative to the peak hoop stress; fem/thermal_stress_cylinder
    # has quantities longer than the old 34-character column.
    from models.verification import run_cases

    result = CliRunner().invoke(main, ["verify", "--only", "fem/lame_closed"])
    assert result.exit_code == 0, result.output
    for case in run_cases("fem/lame_closed"):
        assert case.quantity in result.output
    assert "relative to" in result.output.splitlines()[0]
    row = next(x for x in result.output.splitlines() if "sigma_r at outer radius" in x)
    assert "scale 7.143e+07" in row  # the peak hoop stress, not the zero reference
    long_q = "life/rainflow_streaming"
    result = CliRunner().invoke(main, ["verify", "--only", long_q])
    for case in run_cases(long_q):
        assert case.quantity in result.output


def test_a_zero_reference_without_a_scale_is_an_absolute_error() -> None:
    from models.verification import compare
    from twin.cli.verify import format_table

    case = compare("demo/zero", "net axial force, N", 3e-9, 0.0, tolerance=1e-6, source="x")
    assert case.error_scale == 0.0 and case.rel_error == pytest.approx(3e-9)
    assert "absolute (reference 0)" in format_table([case])

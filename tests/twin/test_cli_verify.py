"""``twin verify``: the JSON contract of the issue and the exit status."""

from __future__ import annotations

import json

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

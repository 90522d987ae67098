"""``twin verify``: run the verification cases and report them."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from twin.cli._common import quiet, reports_errors, verbosity_options

__all__ = ["format_table", "verify"]


def format_table(results: list[Any]) -> str:
    """Format verification results as a table whose columns fit their widest entry.

    The error is relative to what the ``relative to`` column says: ``|reference|``, the
    case's scale (e.g. the peak stress), or absolute when the reference is 0.

    Parameters
    ----------
    results : list of CaseResult
        The cases to show.

    Returns
    -------
    str
    """
    rows = [
        (
            r.name,
            r.quantity,
            f"{r.computed:.5g}",
            f"{r.reference:.5g}",
            f"{r.rel_error:.2e}",
            r.relative_to,
            f"{r.tolerance:.1e}",
            "yes" if r.passed else "NO",
        )
        for r in results
    ]
    header = ("case", "quantity", "computed", "reference", "error", "relative to", "tol", "ok")
    widths = [max(len(row[j]) for row in [header, *rows]) for j in range(len(header))]
    right = {2, 3, 4, 6}

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if j in right else c.ljust(w)
            for j, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    top = line(header)
    return "\n".join([top, "-" * len(top), *(line(row) for row in rows)])


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object per case.")
@click.option("--only", default=None, help="Run only the groups whose name contains this text.")
@click.option("--list", "list_groups", is_flag=True, help="List the case groups and exit.")
@verbosity_options
@reports_errors
def verify(as_json: bool, only: str | None, list_groups: bool) -> None:
    """Run the verification suite; exit non-zero if any case fails."""
    from models.verification import iter_groups, run_cases

    if list_groups:
        for group, _ in iter_groups():
            click.echo(group)
        return
    results = run_cases(only)
    if not results:
        raise click.UsageError(f"no verification group matches --only {only!r}")
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        shown = [r for r in results if not (quiet() and r.passed)]  # -q: failing cases only
        if shown:
            click.echo(format_table(shown))
        failed = sum(not r.passed for r in results)
        click.echo(f"\n{len(results) - failed} passed, {failed} failed")
        if not failed and not quiet():
            click.echo("sources: see the 'source' field of `twin verify --json`")
    if any(not r.passed for r in results):
        sys.exit(1)

"""``twin verify``: run the verification cases and report them."""

from __future__ import annotations

import json
import sys

import click

from twin.cli._common import quiet, reports_errors, verbosity_options

__all__ = ["verify"]


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
        header = f"{'case':<44} {'quantity':<34} {'computed':>12} {'reference':>12} "
        header += f"{'rel.err':>9} {'tol':>8}  ok"
        click.echo(header)
        click.echo("-" * len(header))
        for r in results:
            if quiet() and r.passed:
                continue  # -q: only the failing cases and the count
            click.echo(
                f"{r.name[:44]:<44} {r.quantity[:34]:<34} {r.computed:>12.5g} {r.reference:>12.5g} "
                f"{r.rel_error:>9.2e} {r.tolerance:>8.1e}  {'yes' if r.passed else 'NO'}"
            )
        failed = sum(not r.passed for r in results)
        click.echo(f"\n{len(results) - failed} passed, {failed} failed")
        if not failed and not quiet():
            click.echo("sources: see the 'source' field of `twin verify --json`")
    if any(not r.passed for r in results):
        sys.exit(1)

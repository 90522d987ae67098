"""The ``twin`` command line.

Subcommands live in their own modules and are imported only when invoked, so
``twin --help`` answers without loading DOLFINx, torch or paho. A subcommand module
imports only ``click`` at module level; heavy imports go inside the command body.
"""

from __future__ import annotations

import importlib
import importlib.util

import click

from twin.cli._common import verbosity_options

__all__ = ["main"]

# name -> (module, attribute, short help shown by ``twin --help``)
_SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "model": ("twin.cli.model", "model", "FEM service model: solve a component, unit responses."),
    "verify": ("twin.cli.verify", "verify", "Run the verification suite against references."),
    "ingest": ("twin.cli.sensors", "ingest", "Ingest sensor readings from MQTT into the archive."),
    "publish": (
        "twin.cli.sensors",
        "publish",
        "Publish synthetic or recorded sensor readings to MQTT.",
    ),
    "archive": ("twin.cli.sensors", "archive", "Inspect a sensor archive."),
    "surrogate": ("twin.cli.surrogate", "surrogate", "Train and validate FEM surrogates."),
    # scenarios drives the twin from outside (DESIGN.md): its commands are registered by
    # module name, so twin/ does not import scenarios.
    "scenario": (
        "scenarios.cli",
        "scenario",
        "Virtual plant: run scenarios, replay them through the twin, report.",
    ),
    "assimilate": (
        "twin.cli.assimilate",
        "assimilate",
        "Replay a sensor archive through the twin: posterior, damage, wall.",
    ),
    "forecast": (
        "twin.cli.forecast",
        "forecast",
        "Remaining life from a twin checkpoint: plans compared, operating advice, fleets.",
    ),
    "serve": ("twin.cli.serve", "serve", "Serve live twins over MQTT: state, alerts, commands."),
}


class _LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = [n for n, (mod, _, _) in _SUBCOMMANDS.items() if importlib.util.find_spec(mod)]
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _SUBCOMMANDS:
            return None
        module_name, attr, _ = _SUBCOMMANDS[cmd_name]
        if importlib.util.find_spec(module_name) is None:
            return None
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{module_name}.{attr} is not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _SUBCOMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="materials-twin")
@verbosity_options
def main() -> None:
    """Materials digital twin of components in extreme service.

    -v/-q given here apply to the command that follows (and add to its own).
    """

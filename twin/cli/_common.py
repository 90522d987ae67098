"""Conventions shared by the ``twin`` commands: verbosity, the output option, error reports.

* ``-v/--verbose`` (repeatable) and ``-q/--quiet`` on the top-level group and on every
  command: ``-q`` drops progress bars and informational lines (errors and requested
  output such as ``--json`` remain), ``-v`` shows INFO log records and the traceback of
  an error, ``-vv`` DEBUG records. Options given to the group and to the command add up.
  Without either, the logging configuration is left to the command.
* ``--out`` (aliases ``-o`` and the older ``--output``) names an output folder.
* :func:`reports_errors` turns the package errors (and OS errors) into one
  ``Error: ...`` report with exit status 1; the traceback only with ``-v``.

Only ``click`` and the standard library are imported here, so ``twin --help`` stays fast.
"""

from __future__ import annotations

import functools
import logging
import pathlib
import sys
import traceback
from collections.abc import Callable
from typing import Any

import click

__all__ = ["out_option", "quiet", "reports_errors", "verbose", "verbosity", "verbosity_options"]

_KEY = "twin.verbosity"


def _levels(ctx: click.Context) -> dict[str, int]:
    store: dict[str, int] = ctx.meta.setdefault(_KEY, {"verbose": 0, "quiet": 0})
    return store


def _configure_logging(ctx: click.Context) -> None:
    level = verbosity(ctx)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger().setLevel(
        {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(level, logging.DEBUG)
    )


def _count_verbose(ctx: click.Context, param: click.Parameter, value: int) -> None:
    if value:  # logging is left alone unless asked for (commands may configure their own)
        _levels(ctx)["verbose"] += int(value)
        _configure_logging(ctx)


def _count_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        _levels(ctx)["quiet"] += 1
        _configure_logging(ctx)


def verbosity(ctx: click.Context | None = None) -> int:
    """Return the verbosity of the running command: -1 quiet, 0 normal, 1 ``-v``, 2 ``-vv``.

    Parameters
    ----------
    ctx : click.Context, optional
        The command's context (the current one by default).

    Returns
    -------
    int
    """
    ctx = ctx or click.get_current_context(silent=True)
    if ctx is None:
        return 0
    levels = _levels(ctx)
    if levels["quiet"]:
        return -1
    return min(levels["verbose"], 2)


def quiet() -> bool:
    """Whether ``-q`` was given to the running command (or its group)."""
    return verbosity() < 0


def verbose() -> bool:
    """Whether ``-v`` was given to the running command (or its group)."""
    return verbosity() > 0


def verbosity_options[F: Callable[..., Any]](command: F) -> F:
    """Add ``-v/--verbose`` and ``-q/--quiet`` to a click command or group."""
    command = click.option(
        "-q",
        "--quiet",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_count_quiet,
        help="No progress bars or informational lines; errors and requested output remain.",
    )(command)
    command = click.option(
        "-v",
        "--verbose",
        count=True,
        expose_value=False,
        is_eager=True,
        callback=_count_verbose,
        help="More output: INFO log records and tracebacks (-vv: DEBUG).",
    )(command)
    return command


def out_option(
    *, help: str, required: bool = False, default: Any = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Return the output-folder option ``--out`` with the aliases ``-o`` and ``--output``.

    Parameters
    ----------
    help : str
        What the folder receives.
    required : bool, optional
        Whether the option must be given.
    default : object, optional
        Default value (``None``: none).

    Returns
    -------
    callable
        The click decorator; the value arrives as the ``out`` parameter (a
        :class:`pathlib.Path`).
    """
    return click.option(
        "--out",
        "-o",
        "--output",
        "out",
        required=required,
        default=default,
        metavar="DIR",
        type=click.Path(file_okay=False, path_type=pathlib.Path),
        help=f"{help} (aliases -o and --output).",
    )


def _caught() -> tuple[type[BaseException], ...]:
    from models.errors import ModelError
    from surrogates.errors import SurrogateError

    return (ModelError, SurrogateError, OSError)


def reports_errors[F: Callable[..., Any]](command: F) -> F:
    """Report package and OS errors of a command as one ``Error:`` line, exit status 1.

    With ``-v`` the traceback is printed to stderr first.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except click.ClickException:
            raise
        except Exception as err:
            if not isinstance(err, _caught()):
                raise
            if verbose():
                traceback.print_exc(file=sys.stderr)
            raise click.ClickException(f"{type(err).__name__}: {err}") from err

    return wrapper  # type: ignore[return-value]

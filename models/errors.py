"""Exceptions and warnings raised by the physics package.

Each class also subclasses the built-in exception it refines, so callers can
catch either ours or the standard one.
"""

from __future__ import annotations


class ModelError(Exception):
    """Base class of every error raised by :mod:`models`."""


class ConfigError(ModelError, ValueError):
    """A component configuration is incomplete or nonphysical.

    The message names the field (dotted path), the rule, the value received and
    the fix.
    """


class MaterialRangeError(ModelError, ValueError):
    """A material property was asked for outside its tabulated range."""


class MaterialDataError(ModelError, ValueError):
    """A material data file breaks the schema (lengths, ordering, units, sources)."""


class UnknownMaterialError(ModelError, KeyError):
    """No material data exists under the requested name."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else ""


class LawInputError(ModelError, ValueError):
    """A damage or life law received invalid input (NaN, negative range, out of range)."""


class SolverDivergedError(ModelError, RuntimeError):
    """A nonlinear or linear solve failed to converge.

    Attributes
    ----------
    step : int
        Index of the time step that failed.
    time : float
        Simulated time of that step, in s.
    residual : float
        Last residual norm reported by the solver.
    partial : object
        Results up to the last converged step (an ``xarray.Dataset``) or ``None``.
    """

    def __init__(
        self, message: str, *, step: int, time: float, residual: float, partial: object = None
    ) -> None:
        super().__init__(message)
        self.step = step
        self.time = time
        self.residual = residual
        self.partial = partial


class UnknownResponseError(ModelError, KeyError):
    """No fitted response exists under the requested key."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else ""


class RenderError(ModelError, RuntimeError):
    """Rendering an image (off-screen, in a child process) failed."""


class ModelWarning(UserWarning):
    """Warnings of the physics package (treated as errors in the test suite)."""


class ModelInputError(ModelError, ValueError):
    """A model received invalid run-time input (load history, state, particle index).

    The message names the argument, the rule, the value received and the fix.
    """

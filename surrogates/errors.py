"""Exceptions and warnings raised by the surrogate package.

Each class also subclasses the built-in exception it refines, so callers can catch
either ours or the standard one. Messages name the field or argument, the rule, the
value received and the fix.
"""

from __future__ import annotations


class SurrogateError(Exception):
    """Base class of every error raised by :mod:`surrogates`."""


class InvalidParameterError(SurrogateError, ValueError):
    """A hyperparameter or an argument of a surrogate function is invalid."""


class InvalidInputError(SurrogateError, ValueError):
    """Input arrays have the wrong shape or non-finite values."""


class ParameterSpaceError(SurrogateError, ValueError):
    """A ``[surrogate]`` config section or a parameter point is invalid."""


class TrainingDataError(SurrogateError, ValueError):
    """Training data are malformed or non-finite (the message names the offending run)."""


class ExtrapolationError(SurrogateError, ValueError):
    """A prediction was requested outside the trained parameter range."""


class NotFittedError(SurrogateError, AttributeError):
    """A surrogate was used before :meth:`fit` (or :func:`load_surrogate`)."""


class ConvergenceError(SurrogateError, RuntimeError):
    """Hyperparameter training diverged (non-finite loss or Cholesky failure)."""


class MetadataMismatchError(SurrogateError, ValueError):
    """A saved surrogate does not belong to the component config it is used with."""


class CampaignError(SurrogateError, RuntimeError):
    """FEM runs of a campaign failed; the message lists the failed runs and why."""


class SurrogateWarning(UserWarning):
    """Warnings of the surrogate package."""


class ConvergenceWarning(SurrogateWarning):
    """Hyperparameter training stopped at its iteration limit before converging."""

"""Exceptions raised by :mod:`twin`.

Each class also subclasses the built-in it refines, so callers may catch either.
Messages name the field, the rule, the value received and the fix.
"""

from __future__ import annotations

__all__ = ["TwinConfigError", "TwinError", "TwinInputError"]


class TwinError(Exception):
    """Base class of every error raised by :mod:`twin`."""


class TwinConfigError(TwinError, ValueError):
    """A twin configuration or setting is invalid (unknown key, value out of range)."""


class TwinInputError(TwinError, ValueError):
    """Data given to the twin at run time is invalid (shape, order, index, state)."""

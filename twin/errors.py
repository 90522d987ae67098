"""Errors of the twin package.

Each class also subclasses the built-in it refines, so callers that catch
``ValueError`` keep working; messages name the field, the rule, the value and the fix.
"""

from __future__ import annotations

__all__ = ["CheckpointError", "TwinConfigError", "TwinError", "TwinInputError"]


class TwinError(Exception):
    """Base class of the twin's errors."""


class TwinConfigError(TwinError, ValueError):
    """A ``[twin]`` config section, a prior or a setting is invalid."""


class TwinInputError(TwinError, ValueError):
    """Readings or arrays handed to the twin are malformed (shape, order, unknown sensor)."""


class CheckpointError(TwinError, OSError):
    """A checkpoint cannot be written, is corrupt, or belongs to another twin."""

"""Errors of the scenarios package.

Each class also subclasses the built-in it refines, so callers that catch
``ValueError`` keep working; messages name the field, the rule, the value and the fix.
"""

from __future__ import annotations

__all__ = ["ScenarioError", "ScenarioInputError", "ScenarioRunError"]


class ScenarioError(Exception):
    """Base class of the scenarios' errors."""


class ScenarioInputError(ScenarioError, ValueError):
    """A scenario file, or a value handed to the virtual plant, is invalid."""


class ScenarioRunError(ScenarioError, RuntimeError):
    """A run, replay or report cannot proceed (missing or inconsistent run folder)."""

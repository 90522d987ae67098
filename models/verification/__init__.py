"""Verification cases: every model against an analytical solution or a published example.

Each submodule of this package (not starting with ``_``) defines ``CASES``, a mapping
from a group name to a function that runs that group and returns a list of
:class:`CaseResult`. ``twin verify`` and the test suite both run them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["CaseResult", "compare", "iter_groups", "run_cases"]


@dataclass(frozen=True)
class CaseResult:
    """One checked quantity of a verification case.

    Attributes
    ----------
    name : str
        Case name, ``group/case``.
    quantity : str
        What was compared, with its unit.
    computed, reference : float
        Our value and the independent reference value (same unit).
    rel_error : float
        ``|computed - reference| / error_scale``, or the absolute error
        ``|computed - reference|`` when ``error_scale`` is 0 (a zero reference without
        a scale).
    tolerance : float
        Largest accepted ``rel_error``.
    passed : bool
        ``rel_error <= tolerance``.
    source : str
        Citation of the reference.
    error_scale : float
        What the error is relative to: ``|reference|`` unless the case gives a scale
        (e.g. the peak stress); 0 means the error is absolute (zero reference).
    """

    name: str
    quantity: str
    computed: float
    reference: float
    rel_error: float
    tolerance: float
    passed: bool
    source: str
    error_scale: float = 0.0

    @property
    def relative_to(self) -> str:
        """Words for what :attr:`rel_error` is relative to (for tables)."""
        if self.error_scale == 0.0:
            return "absolute (reference 0)"
        if self.error_scale == abs(self.reference):
            return "|reference|"
        return f"scale {self.error_scale:.4g}"

    def to_dict(self) -> dict[str, Any]:
        """Return the case as a JSON-ready dictionary."""
        return asdict(self)


def compare(
    name: str,
    quantity: str,
    computed: float,
    reference: float,
    *,
    tolerance: float,
    source: str,
    scale: float | None = None,
) -> CaseResult:
    """Compare a computed value with its reference.

    Parameters
    ----------
    name, quantity : str
        Case name and compared quantity (with unit).
    computed, reference : float
        Values to compare.
    tolerance : float
        Accepted relative error (dimensionless).
    source : str
        Citation of the reference.
    scale : float, optional
        Normaliser of the error; defaults to ``|reference|``.

    Returns
    -------
    CaseResult
    """
    denom = abs(reference) if scale is None else abs(scale)
    err = abs(float(computed) - float(reference))
    rel = err / denom if denom > 0 else err
    return CaseResult(
        name=name,
        quantity=quantity,
        computed=float(computed),
        reference=float(reference),
        rel_error=float(rel),
        tolerance=float(tolerance),
        passed=bool(rel <= tolerance),
        source=source,
        error_scale=float(denom) if denom > 0 else 0.0,
    )


def iter_groups() -> Iterator[tuple[str, Callable[[], list[CaseResult]]]]:
    """Yield ``(group, runner)`` for every case group of every verification module."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        yield from module.CASES.items()


def run_cases(select: str | None = None) -> list[CaseResult]:
    """Run the verification groups whose name contains ``select`` (all when ``None``)."""
    results: list[CaseResult] = []
    for group, runner in iter_groups():
        if select is None or select in group:
            results.extend(runner())
    return results

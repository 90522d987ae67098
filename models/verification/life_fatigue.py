"""Verification cases (``twin verify``) of one law family.

The family: the strain-life law (Coffin-Manson-Basquin with Morrow and SWT).

Each group checks the law against a published example, a closed form or an
independent numerical method, with its source in the case.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from models.verification import CaseResult, compare

__all__ = ["CASES"]

_HBB_GR91_FATIGUE = (
    "ASME III-5 design fatigue strain range of 9Cr-1Mo-V at 540 C as tabulated in the open "
    "hbbdata package's test TestFatigueData ('gr91')"
)


# (cycles, strain range) of that source.
_GR91_FATIGUE_POINTS = (
    (2e1, 0.019), (4e2, 0.0062), (2e3, 0.0044), (4e4, 0.0021),
    (1e6, 0.00163), (2e7, 0.00132), (1e8, 0.00120),
)  # fmt: skip


def _strain_life() -> list[CaseResult]:
    from scipy.optimize import brentq

    from models.life.fatigue import cycles_to_failure, strain_life

    out: list[CaseResult] = []
    k = strain_life("316H", 923.15)
    sf, b, ef, c, E = (float(v) for v in (k.sigma_f, k.b, k.eps_f, k.c, k.E))
    ea, sm, smax = 0.003, 50e6, 250e6
    eqs = {
        "none": lambda n2: sf / E * n2**b + ef * n2**c - ea,
        "morrow": lambda n2: (sf - sm) / E * n2**b + ef * n2**c - ea,
        "swt": lambda n2: sf**2 / E * n2 ** (2 * b) + sf * ef * n2 ** (b + c) - smax * ea,
    }
    for name, fn in eqs.items():
        ref = 0.5 * brentq(fn, 1.0, 1e12, xtol=1e-12, rtol=1e-14)
        got = float(
            cycles_to_failure(ea, constants=k, correction=name, mean_stress=sm, max_stress=smax)  # type: ignore[arg-type]
        )
        out.append(
            compare(
                f"life/strain_life/newton_vs_brentq_{name}",
                "cycles to failure",
                got,
                ref,
                tolerance=1e-9,
                source="Coffin-Manson-Basquin (Morrow, SWT) solved by scipy brentq",
            )
        )
    # The 316H constants were fitted to srlife's ASME III-5 design curve at 650 C.
    poly = [
        -1.093894121777072348,
        -5.672500541030017551,
        -11.91940222870781518,
        -6.595559059304094696,
    ]
    for de in (0.004, 0.008, 0.015):
        ref = float(10.0 ** np.polyval(poly, math.log10(de)))
        got = float(cycles_to_failure(de / 2, constants=k))
        out.append(
            compare(
                f"life/strain_life/316H_design_curve_{de:g}",
                "cycles to failure at 650 C",
                got,
                ref,
                tolerance=0.03,
                source="srlife/data/damage/316H.xml <nominalFatigue> curve4 (923.15 K), "
                "ASME III-5 design fatigue curve",
            )
        )
    # Grade 91: the fitted constants against every tabulated point of the design curve
    # (strain range at the tabulated life; the fit is within 7.2 % of all of them), and
    # the Newton solve on those constants returning the tabulated life.
    g = strain_life("grade91", 813.15)
    sf, b, ef, c, E = (float(v) for v in (g.sigma_f, g.b, g.eps_f, g.c, g.E))
    for n, de in _GR91_FATIGUE_POINTS:
        amp = sf / E * (2 * n) ** b + ef * (2 * n) ** c
        out.append(
            compare(
                f"life/strain_life/grade91_design_curve_{n:g}",
                "strain range at the tabulated cycles, 540 C (-)",
                2.0 * amp,
                de,
                tolerance=0.08,
                source=_HBB_GR91_FATIGUE,
            )
        )
        out.append(
            compare(
                f"life/strain_life/grade91_newton_{n:g}",
                "cycles to failure at the law's own strain amplitude",
                float(cycles_to_failure(amp, constants=g)),
                n,
                tolerance=1e-9,
                source="Coffin-Manson-Basquin evaluated forward at the tabulated cycles",
            )
        )
    return out


CASES: dict[str, Callable[[], list[CaseResult]]] = {
    "life/strain_life": _strain_life,
}

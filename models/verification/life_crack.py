"""Verification cases (``twin verify``): Paris-law fatigue crack growth.

Each group checks the law against a published example, a closed form or an
independent numerical method, with its source in the case.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from models.verification import CaseResult, compare

__all__ = ["CASES"]

def _paris() -> list[CaseResult]:
    from models.life.crack import ParisLaw

    out: list[CaseResult] = []
    # Hand check, m = 2: N = ln(af/a0) / (C (Y dsigma)^2 pi) = ln 10 / (1e-20 * 1e16 * pi).
    law2 = ParisLaw(C=1.0e-20, m=2.0, Y=1.0)
    out.append(
        compare(
            "life/paris/hand_m2",
            "cycles from 1 mm to 10 mm at 100 MPa",
            float(law2.cycles_closed_form(1e-3, 1e-2, 100e6)),
            math.log(10.0) / (1e-20 * 1e16 * math.pi),
            tolerance=1e-12,
            source="Paris law integrated by hand for m = 2 (Dowling, Mechanical Behavior of "
            "Materials, 4th ed., sec. 11.6)",
        )
    )
    # Textbook example: steel plate, stress range 100 MPa (compressive part ignored),
    # a0 = 2 mm, K_Ic = 25 MPa m^0.5 -> a_c = (K_Ic / sigma)^2 / pi ~ 0.02 m, m = 3,
    # A = 1e-12 m/cycle/(MPa m^0.5)^3 (SI: 1e-30), Y = 1: N ~ 5.5e6 cycles.
    book = ParisLaw(C=1.0e-30, m=3.0, Y=1.0)
    out.append(
        compare(
            "life/paris/textbook_steel_plate",
            "cycles from 2 mm to 20 mm at 100 MPa",
            float(book.cycles_closed_form(2.0e-3, 0.02, 100e6)),
            5.5e6,
            tolerance=0.01,
            source="Callister and Rethwisch, Materials Science and Engineering: An "
            "Introduction, chapter 'Failure', fatigue crack propagation example problem "
            "(answer 5.5e6 cycles, rounded)",
        )
    )
    # m = 3 in MPa units C = 1e-11 m/cycle/(MPa m^0.5)^3 -> SI C = 1e-11 * (1e-6)^3.
    law3 = ParisLaw(C=1.0e-29, m=3.0, Y=1.12, threshold=2.0e6)
    for ds in (80e6, 150e6):
        closed = float(law3.cycles_closed_form(0.5e-3, 20e-3, ds))
        out.append(
            compare(
                f"life/paris/closed_vs_quad_{ds / 1e6:g}MPa",
                "cycles from 0.5 mm to 20 mm",
                closed,
                law3.cycles_numerical(0.5e-3, 20e-3, ds),
                tolerance=1e-9,
                source="closed form (Dowling eq. 11.33) vs scipy.integrate.quad of da/(C dK^m)",
            )
        )
    # Cycle-by-cycle growth for the closed-form number of cycles reaches af.
    n = float(law3.cycles_closed_form(1e-3, 5e-3, 300e6))
    whole = int(n)
    a_end = float(law3.grow([1e-3], np.full(whole, 300e6))[0])
    a_ref = float(
        (1e-3**-0.5 - 0.5 * 1e-29 * (1.12 * 300e6 * math.sqrt(math.pi)) ** 3 * whole) ** -2
    )
    out.append(
        compare(
            "life/paris/cycle_by_cycle",
            "crack length after int(N) cycles (m)",
            a_end,
            a_ref,
            tolerance=1e-3,
            source="closed-form a(N) for m = 3 vs explicit cycle-by-cycle summation",
        )
    )
    return out


CASES: dict[str, Callable[[], list[CaseResult]]] = {
    "life/paris": _paris,
}

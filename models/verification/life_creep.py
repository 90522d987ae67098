"""Verification cases (``twin verify``) of one law family.

The family: creep rupture and rate laws (Larson-Miller, Norton rate, Kachanov-Rabotnov).

Each group checks the law against a published example, a closed form or an
independent numerical method, with its source in the case.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from models.units import HOUR, ZERO_CELSIUS
from models.verification import CaseResult, compare

__all__ = ["CASES"]

_SRLIFE_316H = "srlife/data/damage/316H.xml <averageRupture> (Argonne srlife material library)"


_SRLIFE_A617 = "srlife/data/damage/A617.xml <averageRupture> (Argonne srlife material library)"


_NEML_GR91_LMR = (
    "NEML examples/lm_damage_model.py 'Base LMR' (Grade 91 example): log10 sigma[MPa] = "
    "-6.65302426e-09 P^2 + 2.95224164e-04 P - 6.19561767e-01, P = T (32.064788 + log10 t_R[h])"
)


_GR91_LMR = (-6.65302426e-09, 2.95224164e-04, -6.19561767e-01, 32.064788)


def _srlife_hours(
    coeffs: list[float], powers: list[int], C: float, s_mpa: float, T: float
) -> float:
    # Independent transcription of srlife's time_to_rupture: LMP/T - C in log10 hours.
    lmp = sum(a * math.log10(s_mpa) ** n for a, n in zip(coeffs, powers, strict=True))
    return float(10.0 ** (lmp / T - C))


def _larson_miller() -> list[CaseResult]:
    from models.life.creep import larson_miller

    out: list[CaseResult] = []
    cases = [
        (
            "316H",
            [-1475.23899811, 7289.41927821, -16642.64925881, 35684.60143173],
            [3, 2, 1, 0],
            17.1605307989459,
            _SRLIFE_316H,
            [(100.0, 873.15), (60.0, 923.15), (200.0, 823.15)],
        ),
        (
            "A617",
            [-4676.95334052, 26779.11701408],
            [1, 0],
            13.222778527640372,
            _SRLIFE_A617,
            [(50.0, 1023.15), (100.0, 973.15)],
        ),
    ]
    for mat, coeffs, powers, C, src, points in cases:
        curve = larson_miller(mat)
        for s_mpa, T in points:
            got_h = float(curve.rupture_time(s_mpa * 1e6, T)) / HOUR
            ref_h = _srlife_hours(coeffs, powers, C, s_mpa, T)
            out.append(
                compare(
                    f"life/larson_miller/{mat}_{s_mpa:g}MPa_{T - ZERO_CELSIUS:g}C",
                    "mean rupture time (h)",
                    got_h,
                    ref_h,
                    tolerance=1e-10,
                    source=src,
                )
            )
    out.extend(_larson_miller_grade91())
    return out


def _gr91_hours_closed_form(s_mpa: float, T: float) -> float:
    # Independent inversion of NEML's quadratic: the root on the falling branch, by formula.
    a2, a1, a0, C = _GR91_LMR
    disc = a1 * a1 - 4.0 * a2 * (a0 - math.log10(s_mpa))
    lmp = (-a1 - math.sqrt(disc)) / (2.0 * a2)
    return float(10.0 ** (lmp / T - C))


def _larson_miller_grade91() -> list[CaseResult]:
    from models.life.creep import larson_miller

    curve = larson_miller("grade91")
    out: list[CaseResult] = []
    for s_mpa, T in [(100.0, 873.15), (60.0, 898.15), (200.0, 823.15), (35.0, 923.15)]:
        out.append(
            compare(
                f"life/larson_miller/grade91_{s_mpa:g}MPa_{T - ZERO_CELSIUS:g}C",
                "mean rupture time (h); bisection vs the quadratic-root formula",
                float(curve.rupture_time(s_mpa * 1e6, T)) / HOUR,
                _gr91_hours_closed_form(s_mpa, T),
                tolerance=1e-8,
                source=_NEML_GR91_LMR,
            )
        )
    # NEML's own direction (test_larsonmiller.py test_sR): stress to rupture in 5e4 h at
    # 550 C from the polynomial; the curve must give 5e4 h back at that stress.
    a2, a1, a0, C = _GR91_LMR
    T = 550.0 + ZERO_CELSIUS
    lmp = T * (C + math.log10(5.0e4))
    s_r = 10.0 ** (a2 * lmp**2 + a1 * lmp + a0)
    out.append(
        compare(
            "life/larson_miller/grade91_round_trip_5e4h_550C",
            f"rupture time (h) at the NEML stress to rupture {s_r:.2f} MPa",
            float(curve.rupture_time(s_r * 1e6, T)) / HOUR,
            5.0e4,
            tolerance=1e-8,
            source=_NEML_GR91_LMR,
        )
    )
    return out


def _creep_rate() -> list[CaseResult]:
    from models.life.creep import creep_rate_law

    law = creep_rate_law("grade91")
    out: list[CaseResult] = []
    # Independent evaluation in NEML's own units (MPa, mm, s, K; k in N mm/K), with E
    # interpolated from the two bracketing rows of the gr91.xml modulus table.
    rows = {873.15: ((865.639795918, 168901.22449), (881.231632653, 166868.571429)),
            923.15: ((912.415306122, 162502.857143), (928.007142857, 160222.857143))}  # fmt: skip
    for T, ((t0, e0), (t1, e1)) in rows.items():
        E = e0 + (e1 - e0) * (T - t0) / (t1 - t0)
        G = E / 2.6
        c1 = -G * (2.474e-7) ** 3 / (1.38064e-20 * T)
        for s_mpa in (60.0, 120.0):
            ref = 1.0e10 * math.exp(c1 * -0.191743605543) * (s_mpa / G) ** (c1 * -0.115015876494)
            out.append(
                compare(
                    f"life/creep_rate/grade91_{s_mpa:g}MPa_{T - ZERO_CELSIUS:g}C",
                    "minimum creep rate (1/s)",
                    float(law.rate(s_mpa * 1e6, T)),
                    ref,
                    tolerance=1e-9,
                    source="NEML examples/gr91.xml regionkm constants, NEML RegionKMCreep::g "
                    "evaluated in NEML units (MPa, mm, s)",
                )
            )
    return out


def _kachanov_rabotnov() -> list[CaseResult]:
    from models.life.creep import KachanovRabotnov

    law = KachanovRabotnov(B=1.0e-28, chi=3.0, phi=4.0)
    out: list[CaseResult] = []
    src = (
        "closed form t_R = 1/((phi+1) B sigma^chi), omega = 1-(1-t/t_R)^(1/(phi+1)) "
        "(Kachanov 1958; Rabotnov 1969) vs scipy solve_ivp (DOP853, rtol 1e-10)"
    )
    for sigma in (80e6, 150e6):
        tr = float(law.rupture_time(sigma))
        _w, t_num = law.integrate([0.0, 10 * tr], [sigma], omega_stop=0.99)
        out.append(
            compare(
                f"life/kachanov_rabotnov/rupture_{sigma / 1e6:g}MPa",
                "time to damage 0.99 (s); closed form t_R (1 - 0.01^(phi+1))",
                t_num,
                tr * (1.0 - 0.01**5),
                tolerance=1e-7,
                source=src,
            )
        )
        w_num, _t = law.integrate([0.0, 0.7 * tr], [sigma])
        out.append(
            compare(
                f"life/kachanov_rabotnov/damage_0.7tR_{sigma / 1e6:g}MPa",
                "damage at 0.7 t_R (-)",
                w_num,
                float(law.damage(0.7 * tr, sigma)),
                tolerance=1e-6,
                source=src,
            )
        )
    return out


CASES: dict[str, Callable[[], list[CaseResult]]] = {
    "life/creep_rate": _creep_rate,
    "life/kachanov_rabotnov": _kachanov_rabotnov,
    "life/larson_miller": _larson_miller,
}

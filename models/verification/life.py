"""Verification cases of the damage and life laws (``twin verify``).

Each group checks one law against a published example, a closed form or an
independent numerical method (SciPy quadrature, root finding or ODE integration).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from models.units import HOUR, ZERO_CELSIUS
from models.verification import CaseResult, compare

__all__ = ["CASES"]

_ASTM = (
    "ASTM E1049-85 (reapproved 2017), 5.4.4 and Fig. 6/Table 4: history -2,1,-3,5,-1,3,-4,4,-2 "
    "counts ranges 3 (0.5), 4 (1.5), 6 (0.5), 8 (1.0), 9 (0.5)"
)
_SRLIFE_316H = "srlife/data/damage/316H.xml <averageRupture> (Argonne srlife material library)"
_SRLIFE_A617 = "srlife/data/damage/A617.xml <averageRupture> (Argonne srlife material library)"
_NEML_GR91_LMR = (
    "NEML examples/lm_damage_model.py 'Base LMR' (Grade 91 example): log10 sigma[MPa] = "
    "-6.65302426e-09 P^2 + 2.95224164e-04 P - 6.19561767e-01, P = T (32.064788 + log10 t_R[h])"
)
_GR91_LMR = (-6.65302426e-09, 2.95224164e-04, -6.19561767e-01, 32.064788)
_HBB_GR91_FATIGUE = (
    "ASME III-5 design fatigue strain range of 9Cr-1Mo-V at 540 C as tabulated in the open "
    "hbbdata package's test TestFatigueData ('gr91')"
)
# (cycles, strain range) of that source.
_GR91_FATIGUE_POINTS = (
    (2e1, 0.019), (4e2, 0.0062), (2e3, 0.0044), (4e4, 0.0021),
    (1e6, 0.00163), (2e7, 0.00132), (1e8, 0.00120),
)  # fmt: skip


def _rainflow_astm() -> list[CaseResult]:
    from models.life.rainflow import Cycles, RainflowCounter, count_cycles

    history = [-2.0, 1.0, -3.0, 5.0, -1.0, 3.0, -4.0, 4.0, -2.0]
    expected = {3.0: 0.5, 4.0: 1.5, 6.0: 0.5, 8.0: 1.0, 9.0: 0.5}
    out: list[CaseResult] = []
    streamed = []
    for size in (1, 2, 4):
        counter = RainflowCounter()
        parts = [counter.update(history[i : i + size]) for i in range(0, len(history), size)]
        parts.append(counter.finish())
        streamed.append((f"streaming chunk {size}", Cycles.concatenate(parts)))
    for label, cyc in [("batch", count_cycles(history)), *streamed]:
        for rng, count in expected.items():
            got = float(cyc.counts[cyc.ranges == rng].sum())
            out.append(
                compare(
                    f"life/rainflow_astm/{label}",
                    f"cycles counted at range {rng:g} (load units)",
                    got,
                    count,
                    tolerance=0.0,
                    source=_ASTM,
                )
            )
    return out


def _rainflow_streaming() -> list[CaseResult]:
    from models.life.rainflow import Cycles, RainflowCounter, count_cycles

    rng = np.random.default_rng(20240601)
    out: list[CaseResult] = []
    for case in range(6):
        n = int(rng.integers(2_000, 20_000))
        x = np.round(rng.standard_normal(n).cumsum() * 4) if case % 2 else rng.standard_normal(n)
        ref = count_cycles(x).sorted()
        counter = RainflowCounter()
        parts, pos = [], 0
        while pos < n:
            size = int(rng.integers(1, 3_000))
            parts.append(counter.update(x[pos : pos + size]))
            pos += size
        parts.append(counter.finish())
        got = Cycles.concatenate(parts).sorted()
        same = len(got) == len(ref) and got.to_tuples() == ref.to_tuples()
        out.append(
            compare(
                f"life/rainflow_streaming/history{case}",
                "cycles differing from batch (range, mean, count, start, end)",
                0.0 if same else float(abs(len(got) - len(ref)) or 1),
                0.0,
                tolerance=0.0,
                scale=1.0,
                source="rainflow package 3.2 extract_cycles (ASTM E1049-85 5.4.4) on the "
                "same history",
            )
        )
    return out


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


def _robinson_miner() -> list[CaseResult]:
    from models.life.creep import LarsonMillerCurve, robinson_fraction
    from models.life.fatigue import miner_damage

    # P = 30000 - 5000 log10(sigma/MPa), C = 20: at 1000 K, 100 MPa -> t_R = 1 h;
    # 10 MPa -> t_R = 1e5 h. Holds of 0.5 h and 1e4 h give 0.5 + 0.1.
    curve = LarsonMillerCurve(
        C=20.0,
        coefficients=(-5000.0, 30000.0),
        powers=(1, 0),
        temperature_range=(900.0, 1100.0),
        stress_range=(1e6, 1e9),
    )
    dc = float(
        robinson_fraction(
            [0.5 * HOUR, 1e4 * HOUR], [100e6, 10e6], [1000.0, 1000.0], curve=curve
        )
    )
    df = float(miner_damage([1000.0, 500.0, 0.5], [1e4, 2e3, 1.0]))
    return [
        compare(
            "life/robinson/two_holds",
            "creep time fraction (-)",
            dc,
            0.6,
            tolerance=1e-12,
            source="hand: 0.5 h / 1 h + 1e4 h / 1e5 h (Robinson 1952 time-fraction rule)",
        ),
        compare(
            "life/miner/three_blocks",
            "fatigue damage (-)",
            df,
            0.1 + 0.25 + 0.5,
            tolerance=1e-12,
            source="hand: 1000/1e4 + 500/2e3 + 0.5/1 (Miner 1945)",
        ),
    ]


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


def _interaction() -> list[CaseResult]:
    from models.life.interaction import BilinearEnvelope, creep_fatigue_envelope

    src = (
        "ASME III-5 Fig. HBB-T-1420-2 bilinear envelope; the (0.02, 0.82) on-envelope and "
        "(0.02, 0.81) inside / (0.02, 0.83) outside points for knee (0.1, 0.1) are those of "
        "the open hbbdata test suite"
    )
    env = BilinearEnvelope(0.1, 0.1)
    g91 = creep_fatigue_envelope("grade91")
    return [
        compare(
            "life/interaction/on_envelope",
            "creep limit at D_f = 0.02",
            float(env.creep_limit(0.02)),
            0.82,
            tolerance=1e-12,
            source=src,
        ),  # noqa: E501
        compare(
            "life/interaction/inside",
            "inside flag (1 = inside)",
            float(env.is_inside(0.02, 0.81)),
            1.0,
            tolerance=0.0,
            source=src,
        ),  # noqa: E501
        compare(
            "life/interaction/outside",
            "inside flag (1 = inside)",
            float(env.is_inside(0.02, 0.83)),
            0.0,
            tolerance=0.0,
            scale=1.0,
            source=src,
        ),  # noqa: E501
        compare(
            "life/interaction/grade91_margin",
            "remaining multiple along the origin ray at (0.05, 0.005)",
            float(g91.margin(0.05, 0.005)),
            1.0,
            tolerance=1e-12,
            source="hand: Grade 91 knee (0.1, 0.01) (ASME III-5 Fig. HBB-T-1420-2); the ray "
            "through (0.05, 0.005) meets the envelope at the knee, twice the current damage",
        ),
    ]


def _spallmap_t91_micron(hours: float, temp_c: float) -> float:
    # SpallMap's own evaluation (x^2 = 2 kp t, micron and hours; T = T_C + 273 and
    # R = 8.3144e-3 kJ/(mol K) as in its read_input_module / parameter_module).
    kp = 1.0e12 * math.exp(-198.987 / (8.3144e-3 * (temp_c + 273.0)))
    return math.sqrt(2.0 * kp * hours)


def _oxidation() -> list[CaseResult]:
    from models.life.oxidation import ParabolicOxidation, oxidation_law

    law = ParabolicOxidation(k0=1.0e-9, Q=150e3, pilling_bedworth=2.0)
    T = 873.15
    kp = 1.0e-9 * math.exp(-150e3 / (8.314462618 * T))
    t = float(law.time_to_wall(0.030, 0.029, T, initial_thickness=100e-6))
    x = float(law.oxide_thickness([t / 3, t / 3, t / 3], T, initial_thickness=100e-6))
    return [
        compare(
            "life/oxidation/time_to_wall",
            "time to lose 1 mm of wall (s)",
            t,
            ((100e-6 + 2.0e-3) ** 2 - (100e-6) ** 2) / kp,
            tolerance=1e-12,
            source="hand: parabolic law x^2 = x0^2 + kp t with metal loss x/PBR (Wagner; "
            "Birks, Meier, Pettit 2006, ch. 3)",
        ),
        compare(
            "life/oxidation/segments_consistent",
            "metal loss after that time in three segments (m)",
            float(law.metal_loss(x - 100e-6)),
            1.0e-3,
            tolerance=1e-9,
            source="parabolic growth summed over isothermal segments equals the closed form",
        ),
        *[
            compare(
                f"life/oxidation/grade91_spallmap_{temp_c:g}C_{hours:g}h",
                f"steam-side scale thickness after {hours:g} h at {temp_c:g} C (micron)",
                float(
                    oxidation_law("grade91").oxide_thickness([hours * HOUR], temp_c + ZERO_CELSIUS)
                )
                * 1e6,
                _spallmap_t91_micron(hours, temp_c),
                # SpallMap's T_C + 273 and R = 8.3144 shift the thickness by 0.25 % at
                # 600 C and 0.28 % at 550 C; the tolerance admits that, not more.
                tolerance=3e-3,
                source="ORNL SpallMap (repository adisoft17/spallmap) T91 input "
                "oxide_growth_input3_t91.txt (198.987 kJ/mol, 1.0e12 micron^2/h) with its "
                "growth law x^2 = 2 kp t (oxide_growth_module.F90)",
            )
            for temp_c, hours in ((600.0, 1.0e4), (550.0, 1.0e5))
        ],
    ]


CASES: dict[str, Callable[[], list[CaseResult]]] = {
    "life/creep_rate": _creep_rate,
    "life/interaction": _interaction,
    "life/kachanov_rabotnov": _kachanov_rabotnov,
    "life/larson_miller": _larson_miller,
    "life/oxidation": _oxidation,
    "life/paris": _paris,
    "life/rainflow_astm": _rainflow_astm,
    "life/rainflow_streaming": _rainflow_streaming,
    "life/robinson_miner": _robinson_miner,
    "life/strain_life": _strain_life,
}

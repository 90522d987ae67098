"""Verification cases (``twin verify``) of one law family.

The family: damage sums (Robinson, Miner) and the creep-fatigue envelope.

Each group checks the law against a published example, a closed form or an
independent numerical method, with its source in the case.
"""

from __future__ import annotations

from collections.abc import Callable

from models.units import HOUR
from models.verification import CaseResult, compare

__all__ = ["CASES"]

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


CASES: dict[str, Callable[[], list[CaseResult]]] = {
    "life/interaction": _interaction,
    "life/robinson_miner": _robinson_miner,
}

"""The plant's true damage against hand formulas of the life laws.

References, each independent of the code under test:

- creep: the Larson-Miller rupture time solved by hand (quadratic formula) from the
  curve's published polynomial, NEML ``examples/lm_damage_model.py`` 'Base LMR'
  (log10 sigma[MPa] = a2 LMP^2 + a1 LMP + a0, LMP = T (C + log10 t_R[h])), read from
  ``models/data/life/grade91.toml``; the time fraction of a constant hold is
  hold / t_R (Robinson 1952);
- fatigue: the Coffin-Manson-Basquin equation (strain amplitude
  sigma_f/E (2N)^b + eps_f (2N)^c, constants fitted to the ASME III-5 design curve, same
  file) solved by bisection here; Miner's sum of N identical cycles is N / N_f;
- oxidation: the parabolic law x^2 = f k0 exp(-Q/RT) t (same file) over a constant
  hold, wall loss x / Pilling-Bedworth ratio.
"""

from __future__ import annotations

import math
import pathlib
import tomllib

import numpy as np
import pytest

from scenarios.errors import ScenarioInputError
from scenarios.truthdamage import TruthDamage

ROOT = pathlib.Path(__file__).resolve().parents[2]
LAWS = tomllib.loads((ROOT / "models" / "data" / "life" / "grade91.toml").read_text())
HOUR = 3600.0


@pytest.fixture(scope="module")
def config():
    from models.config import load_config

    return load_config(ROOT / "examples" / "grade91_header.toml")


def _values(locs, n, *, sr=0.0, st=0.0, sz=0.0, T=838.15):
    out = {}
    for loc in locs:
        for var, v in (("sigma_r", sr), ("sigma_theta", st), ("sigma_z", sz), ("temperature", T)):
            out[f"{var}@{loc}"] = np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy()
    return out


def _rupture_hours(stress_pa: float, T: float) -> float:
    lm = LAWS["larson_miller"]
    a2, a1, a0 = lm["coefficients"]  # powers 2, 1, 0
    y = math.log10(stress_pa / 1e6)
    disc = a1 * a1 - 4.0 * a2 * (a0 - y)
    lmp = (-a1 - math.sqrt(disc)) / (2.0 * a2)  # the falling branch (a2 < 0)
    assert lmp > -a1 / (2.0 * a2)
    return 10.0 ** (lmp / T - lm["C"])


def _cycles_to_failure(amplitude: float) -> float:
    sl = LAWS["strain_life"]
    sf, b, ef, c, E = (sl[k][0] for k in ("sigma_f_Pa", "b", "eps_f", "c", "E_Pa"))

    def f(logn: float) -> float:
        n2 = 2.0 * 10.0**logn
        return sf / E * n2**b + ef * n2**c - amplitude

    lo, hi = 0.0, 12.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
    return 10.0 ** (0.5 * (lo + hi))


def test_creep_of_a_constant_hold_is_hold_over_rupture_time(config) -> None:
    """Two samples of a steady hold give the exact time fraction (and split batches too)."""
    sr, st, sz, T = -2.0e6, 60.0e6, 30.0e6, 838.15
    f_c = 0.72
    td = TruthDamage(config, creep_strength_factor=f_c, oxidation_factor=1.3, t0=1.0e9)
    locs = td.locations
    hold = 1000.0 * HOUR
    td.advance(1.0e9 + np.array([0.0, 0.4 * hold]), _values(locs, 2, sr=sr, st=st, sz=sz, T=T))
    td.advance(1.0e9 + np.array([0.7 * hold, hold]), _values(locs, 2, sr=sr, st=st, sz=sz, T=T))
    vm = math.sqrt(0.5 * ((sr - st) ** 2 + (st - sz) ** 2 + (sz - sr) ** 2))
    scf = config.sections["twin"]["stress_concentration"]
    for loc in locs:
        t_r = _rupture_hours(scf[loc] * vm / f_c, T) * HOUR
        assert td.creep()[loc] == pytest.approx(hold / t_r, rel=1e-9)
        assert td.fatigue()[loc] == 0.0
    # parabolic oxidation at the bore over the same hold
    ox = LAWS["oxidation"]
    kp = ox["k0_m2_per_s"] * math.exp(-ox["Q_J_per_mol"] / (8.314462618 * T))
    x = math.sqrt(1.3 * kp * hold)
    assert td.wall_loss == pytest.approx(x / ox["pilling_bedworth_ratio"], rel=1e-6)
    assert td.failed(0.040, 0.046) is None


def test_fatigue_of_repeated_segments_is_n_times_one_cycle(config) -> None:
    """N identical 0 -> S -> 0 hoop-stress segments (each its own batch): D_f = N / N_f."""
    from models.materials import get_material

    T, S, N = 700.0, 350.0e6, 6  # 700 K: below the creep cut-off (773 K), fatigue only
    td = TruthDamage(config, creep_strength_factor=1.0, oxidation_factor=0.0, t0=0.0)
    locs = td.locations
    shape = np.array([0.0, 0.5, 1.0, 0.5, 0.0])
    for k in range(N):
        t = k * 1000.0 + np.array([0.0, 100.0, 200.0, 300.0, 400.0]) + 1.0
        td.advance(t, _values(locs, 5, st=S * shape, T=T))
    E = float(get_material("grade91").E(T))
    scf = config.sections["twin"]["stress_concentration"]
    for loc in locs:
        nf = _cycles_to_failure(0.5 * scf[loc] * S / E)
        assert td.fatigue()[loc] == pytest.approx(N / nf, rel=1e-6)
        assert td.creep()[loc] == 0.0
    assert td.margin()["bore"] > 0.0


def test_creep_failure_time_and_mechanism(config) -> None:
    """A hold to rupture fails by creep at t_R (the envelope meets the creep axis at 1)."""
    sr, st, sz, T = 0.0, 120.0e6, 60.0e6, 873.15
    td = TruthDamage(config, creep_strength_factor=1.0, oxidation_factor=0.0, t0=0.0)
    vm = math.sqrt(0.5 * ((sr - st) ** 2 + (st - sz) ** 2 + (sz - sr) ** 2))
    t_r = _rupture_hours(vm, T) * HOUR
    t = np.linspace(0.0, 2.0 * t_r, 201)
    when = td.advance_until(
        t, _values(td.locations, t.size, sr=sr, st=st, sz=sz, T=T), minimum_wall=None, wall0=0.05
    )
    assert when is not None
    assert t_r <= when < t_r + (t[1] - t[0]) + 1e-6 * t_r
    assert td.failed(None, 0.05) == "creep"
    assert td.time == when
    assert td.creep()["bore"] == pytest.approx(when / t_r, rel=1e-9)
    # restored from its state it continues identically
    again = TruthDamage.from_state_dict(config, td.state_dict())
    assert again.creep() == td.creep() and again.failed(None, 0.05) == "creep"


def test_wall_thinning_is_reported(config) -> None:
    td = TruthDamage(config, creep_strength_factor=1.0, oxidation_factor=50.0, t0=0.0)
    td.advance(np.array([0.0, 1.0e8]), _values(td.locations, 2, T=873.15))
    assert td.wall_loss > 0.0
    loss = td.wall_loss
    assert td.failed(0.046 - 1.5 * loss, 0.046) is None
    assert td.failed(0.046 - 0.5 * loss, 0.046) == "wall_thinning"
    assert td.failure(0.046 - 0.5 * loss, 0.046) == ("wall_thinning", "bore")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"creep_strength_factor": 0.0}, "creep_strength_factor"),
        ({"oxidation_factor": -1.0}, "oxidation_factor"),
        ({"t0": math.nan}, "t0"),
    ],
)
def test_bad_factors_are_refused(config, kwargs, field) -> None:
    base = {"creep_strength_factor": 1.0, "oxidation_factor": 1.0, "t0": 0.0}
    base.update(kwargs)
    with pytest.raises(ScenarioInputError, match=rf"^{field}: .*{list(kwargs.values())[0]}"):
        TruthDamage(config, **base)


def test_bad_histories_are_refused(config) -> None:
    td = TruthDamage(config, creep_strength_factor=1.0, oxidation_factor=1.0, t0=0.0)
    vals = _values(td.locations, 2)
    del vals["sigma_z@outer"]
    with pytest.raises(ScenarioInputError, match="sigma_z@outer"):
        td.advance(np.array([0.0, 10.0]), vals)
    td.advance(np.array([0.0, 10.0]), _values(td.locations, 2))
    with pytest.raises(ScenarioInputError, match=r"t\[0\].*after the last time seen.*5\.0"):
        td.advance(np.array([5.0, 20.0]), _values(td.locations, 2))  # stale times
    assert td.time == 10.0


def test_material_heat_offsets_scale_creep_and_fatigue(config) -> None:
    """A heat dC above the average Larson-Miller constant: log10 t_R = P / T - C drops by dC.

    Hand check: the constant hold's time fraction with the rupture time 10**-dC times
    the average curve's; fatigue damage of the heat with phi times the curve's life is
    the curve's damage over phi. The margin follows the envelope at the scaled point.
    """
    from models.life import creep_fatigue_envelope

    sr, st, sz, T = -2.0e6, 60.0e6, 30.0e6, 838.15
    dc, phi = 0.26, 2.0
    td = TruthDamage(
        config, creep_strength_factor=0.8, oxidation_factor=1.0, t0=1.0e9,
        larson_miller_C_offset=dc, fatigue_life_factor=phi,
    )  # fmt: skip
    locs = td.locations
    hold = 2000.0 * HOUR
    td.advance(1.0e9 + np.array([0.0, hold]), _values(locs, 2, sr=sr, st=st, sz=sz, T=T))
    vm = math.sqrt(0.5 * ((sr - st) ** 2 + (st - sz) ** 2 + (sz - sr) ** 2))
    scf = config.sections["twin"]["stress_concentration"]
    env = creep_fatigue_envelope("grade91")
    for loc in locs:
        t_r = _rupture_hours(scf[loc] * vm / 0.8, T) * HOUR * 10.0**-dc
        assert td.creep()[loc] == pytest.approx(hold / t_r, rel=1e-9)
        expect = float(env.margin([0.0], [hold / t_r])[0])
        assert td.margin()[loc] == pytest.approx(expect, rel=1e-9)
    again = TruthDamage.from_state_dict(config, td.state_dict())
    assert again.creep() == pytest.approx(td.creep(), rel=1e-12)
    td2 = TruthDamage(config, creep_strength_factor=1.0, oxidation_factor=0.0, t0=0.0,
                      fatigue_life_factor=phi)  # fmt: skip
    td1 = TruthDamage(config, creep_strength_factor=1.0, oxidation_factor=0.0, t0=0.0)
    shape = np.array([0.0, 0.5, 1.0, 0.5, 0.0])
    for td_ in (td1, td2):
        td_.advance(1.0 + np.array([0.0, 100.0, 200.0, 300.0, 400.0]),
                    _values(locs, 5, st=350.0e6 * shape, T=700.0))  # fmt: skip
    for loc in locs:
        assert td2.fatigue()[loc] == pytest.approx(td1.fatigue()[loc] / phi, rel=1e-12)

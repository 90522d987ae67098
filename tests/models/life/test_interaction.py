"""The bilinear creep-fatigue envelope (ASME III-5 Fig. HBB-T-1420-2)."""

from __future__ import annotations

import numpy as np
import pytest

from models import life
from models.errors import LawInputError, UnknownMaterialError
from models.life._data import available_materials


def _shipped_envelopes() -> list[str]:
    out = []
    for material in available_materials():
        try:
            life.creep_fatigue_envelope(material)
        except UnknownMaterialError:
            continue
        out.append(material)
    return out


def _srlife_inside_envelope(knee: tuple[float, float], fatigue: float, creep: float) -> bool:
    # srlife (Argonne National Laboratory), srlife/materials.py, inside_envelope, restated:
    # the first segment (0, 1)-(x2, y2) serves damage_fatigue < x2, the second
    # (x2, y2)-(1, 0) every other fatigue damage.
    x2, y2 = knee
    if fatigue < x2:
        return creep <= (y2 - 1.0) / x2 * fatigue + 1.0
    return creep <= (0.0 - y2) / (1.0 - x2) * (fatigue - x2) + y2


def test_every_shipped_envelope_is_found() -> None:
    assert set(_shipped_envelopes()) == {"grade91", "316h", "a617"}


@pytest.mark.parametrize("material", _shipped_envelopes())
def test_the_knee_of_every_shipped_envelope_is_on_the_envelope(material: str) -> None:
    env = life.creep_fatigue_envelope(material)
    df, dc = env.fatigue_intersection, env.creep_intersection
    # "on or inside" (docstring), margin 0 there, and srlife's inside_envelope agrees.
    assert bool(env.is_inside(df, dc))
    assert _srlife_inside_envelope((df, dc), df, dc)
    assert float(env.creep_limit(df)) == dc
    assert float(env.margin(df, dc)) == pytest.approx(0.0, abs=1e-12)
    # one rounding step outside the knee is outside
    assert not bool(env.is_inside(df, np.nextafter(dc, 1.0)))


@pytest.mark.parametrize("material", _shipped_envelopes())
def test_is_inside_agrees_with_srlife_on_a_grid_through_the_envelope(material: str) -> None:
    env = life.creep_fatigue_envelope(material)
    knee = (env.fatigue_intersection, env.creep_intersection)
    f = np.concatenate([np.linspace(0.0, 1.0, 41), [knee[0]]])
    c = np.concatenate([np.linspace(0.0, 1.0, 41), [knee[1]]])
    F, C = np.meshgrid(f, c)
    # points exactly on the envelope line, where rounding decides
    on_f = np.linspace(0.0, 1.0, 101)
    on_c = np.asarray(env.creep_limit(on_f))
    fs = np.concatenate([F.ravel(), on_f])
    cs = np.concatenate([C.ravel(), on_c])
    ours = env.is_inside(fs, cs)
    theirs = np.array([_srlife_inside_envelope(knee, a, b) for a, b in zip(fs, cs, strict=True)])
    np.testing.assert_array_equal(ours, theirs)


def test_interaction_margin_along_given_direction_matches_hand_values() -> None:
    env = life.creep_fatigue_envelope("Grade 91")
    # From the origin along pure fatigue / pure creep the envelope is reached at 1.
    assert env.margin(0.0, 0.0, direction=(1.0, 0.0)) == pytest.approx(1.0)
    assert env.margin(0.0, 0.0, direction=(0.0, 1.0)) == pytest.approx(1.0)
    # At (0.05, 0.005) pure creep can add 1 - 9.9*0.05 - 0.005 = 0.5.
    assert env.margin(0.05, 0.005, direction=(0.0, 1.0)) == pytest.approx(0.5)
    # Outside: lambda - 1 < 0 along the origin ray; (0.2, 0.02) scales by 0.5 onto segment 2.
    lam = 0.01 / (0.01 * 0.2 + 0.9 * 0.02)
    assert env.margin(0.2, 0.02) == pytest.approx(lam - 1.0)
    assert not env.is_inside(0.2, 0.02)
    with pytest.raises(LawInputError, match="direction"):
        env.margin(0.0, 0.0)


def test_envelope_intersections_are_those_of_the_design_code_per_material() -> None:
    # ASME III-5 Fig. HBB-T-1420-2 as tabulated by the open hbbdata tests.
    for mat, knee in (("grade91", (0.1, 0.01)), ("316H", (0.3, 0.3)), ("A617", (0.1, 0.1))):
        env = life.creep_fatigue_envelope(mat)
        assert (env.fatigue_intersection, env.creep_intersection) == knee

# # How many years of two-shift operation does the header's bore take?
#
# ## Statement
#
# The Grade 91 header of ``grade91_header.toml`` starts up every day (150 -> 565 degC and
# 1 -> 17 MPa in two hours), holds at full load and shuts down again (two hours back to
# 150 degC): 300 cycles a year with 14 hours at load each. Which damage mode uses the
# bore's life, and after how many years does the bore reach the ASME III-5 creep-fatigue
# envelope?
#
# ## Equations
#
# * Creep (Robinson's time fraction, Larson-Miller rupture time :math:`t_R(\sigma, T)`
#   of NEML's Grade 91 curve): :math:`D_c = \sum_k \Delta t_k / t_R(\sigma_k, T_k)`,
#   with the bore's von Mises stress of the hold.
# * Fatigue (Miner's rule on rainflow cycles, ASTM E1049; Coffin-Manson-Basquin):
#   :math:`D_f = \sum_i n_i / N_f(\varepsilon_{a,i})`,
#   :math:`\varepsilon_a = \sigma_f'/E\,(2N_f)^b + \varepsilon_f'(2N_f)^c`, with the
#   elastic strain amplitude :math:`\Delta\sigma_{eq}/(2E)` of the signed von Mises
#   stress (sign of the hoop stress).
# * Interaction: the bilinear envelope through (0, 1), (0.1, 0.01) and (1, 0); with
#   damage growing linearly in time, the years to the envelope are ``1 + margin`` times
#   the years already spent along the same direction.
#
# The hold stress is checked against Lamé's closed-end thick cylinder (the FEM's wall is
# isothermal at the end of the hold), so the creep number rests on a verified stress.
#
# Run it with ``python examples/header_creep_fatigue_life.py``; with ``CI=1`` it uses a
# coarser mesh and longer steps (the test suite runs it so).

# %%
import os
import pathlib

import dolfinx_solver  # noqa: F401  (orders MPI before DOLFINx)
import numpy as np

from models import life
from models.config import load_config
from models.service import solve
from models.units import HOUR, MPA, ZERO_CELSIUS

SHORT = bool(os.environ.get("CI"))
HERE = pathlib.Path(__file__).resolve().parent
CYCLES_PER_YEAR, HOLD_H = 300, 14.0

# ## One daily cycle through the FEM
#
# Start-up, a two-hour settling at load, shut-down; the rest of the hold is steady.

# %%
T_low, T_hot = 150.0 + ZERO_CELSIUS, 565.0 + ZERO_CELSIUS
p_low, p_hot = 1.0 * MPA, 17.0 * MPA
cfg = load_config(HERE / "grade91_header.toml").with_overrides(
    {
        "mesh.radial_cells": 12 if SHORT else 40,
        "solver.time_step_s": 120.0 if SHORT else 36.0,
        "solver.max_time_step_s": 600.0 if SHORT else 300.0,
    }
)
cycle = cfg.with_loads(
    time=np.array([0.0, 2.0, 4.0, 6.0, 8.0]) * HOUR,
    fluid_temperature=[T_low, T_hot, T_hot, T_low, T_low],
    pressure=[p_low, p_hot, p_hot, p_low, p_low],
)
ds = solve(cycle, fields=False)
bore = ds.sel(location="bore")

# ## The hold stress, against Lamé

# %%
a, b = cfg.geometry.inner_radius, cfg.geometry.outer_radius
hold = bore.sel(time=4.0 * HOUR)
k = a * a / (b * b - a * a)
lame = {"r": -p_hot, "theta": p_hot * k * (1 + b * b / a**2), "z": p_hot * k}
vm_lame = np.sqrt(
    0.5 * ((lame["r"] - lame["theta"]) ** 2 + (lame["theta"] - lame["z"]) ** 2
           + (lame["z"] - lame["r"]) ** 2)
)  # fmt: skip
vm_hold = float(hold["sigma_vm"])
print(f"bore von Mises stress in the hold: FEM {vm_hold / MPA:.2f} MPa, Lame {vm_lame / MPA:.2f}")
assert abs(vm_hold - vm_lame) / vm_lame < 0.01

# ## Creep damage of a year of holds

# %%
curve = life.larson_miller("grade91")
t_rupture = float(curve.rupture_time(vm_hold, T_hot))
creep_per_year = float(
    life.robinson_fraction([CYCLES_PER_YEAR * HOLD_H * HOUR], vm_hold, T_hot, curve=curve)
)
print(f"rupture time at {vm_hold / MPA:.1f} MPa, 565 degC: {t_rupture / HOUR:.3g} h")
print(f"creep damage per year:   {creep_per_year:.3e}")

# ## Fatigue damage of a year of cycles

# %%
sign = np.sign(bore["sigma_theta"].values)
signed_vm = sign * bore["sigma_vm"].values
cycles = life.count_cycles(signed_vm)
E_hot = float(cfg.material.E(T_hot))
amplitude = cycles.ranges / (2.0 * E_hot)
# Grade 91's strain-life constants are a fit to the ASME III-5 curve at 540 degC;
# amplitudes below its calibrated range count as below the endurance limit.
constants = life.strain_life("grade91", 540.0 + ZERO_CELSIUS)
n_f = life.cycles_to_failure(amplitude, constants=constants, below_range="endurance")
fatigue_per_year = CYCLES_PER_YEAR * float(life.miner_damage(cycles.counts, n_f))
print(
    f"largest rainflow range {cycles.ranges.max() / MPA:.1f} MPa "
    f"(strain amplitude {amplitude.max():.2e}); fatigue damage per year {fatigue_per_year:.3e}"
)

# ## Years to the envelope

# %%
envelope = life.creep_fatigue_envelope("grade91")
margin = float(envelope.margin(fatigue_per_year, creep_per_year))
years = 1.0 + margin  # damage grows along its own direction, linearly in time
mode = "creep" if creep_per_year > fatigue_per_year else "fatigue"
print(f"{mode} dominates; the bore reaches the envelope after {years:.0f} years")
assert years > 0.0 and np.isfinite(years)

# ## What would change it: a thinner wall, hotter steam
#
# Creep dominates, so the answer hangs on the hold stress and temperature. A steady
# FEM solve of the hold (``steady=True``) per case gives the bore stress; the years
# follow as above (the fatigue share stays negligible).

# %%
print("wall [mm]  steam [degC]  bore von Mises [MPa]  years to the envelope")
for wall_mm in (50.0, 40.0, 35.0):
    for steam_c in (565.0, 600.0):
        T = steam_c + ZERO_CELSIUS
        case = cfg.with_overrides({"geometry.wall_thickness_m": wall_mm / 1000.0}).with_loads(
            time=[0.0, HOUR], fluid_temperature=[T, T], pressure=[p_hot, p_hot]
        )
        vm = float(solve(case, fields=False, steady=True).sel(location="bore")["sigma_vm"][-1])
        dc = float(life.robinson_fraction([CYCLES_PER_YEAR * HOLD_H * HOUR], vm, T, curve=curve))
        n_years = 1.0 + float(envelope.margin(fatigue_per_year, dc))
        print(f"{wall_mm:9.0f}  {steam_c:12.0f}  {vm / MPA:20.1f}  {n_years:21.0f}")

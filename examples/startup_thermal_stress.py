# # The bore hoop stress of a header during a warm start-up
#
# ## Statement
#
# A Grade 91 main-steam header (inner radius a = 0.15 m, wall 50 mm, outer surface
# insulated) is warmed at a constant rate R: the steam temperature ramps from 150 to
# 565 degC in two hours. How compressive does the bore get, and does the FEM agree with
# the closed-form quasi-steady solution?
#
# ## Equations
#
# After a few wall diffusion times :math:`(b - a)^2/\kappa` the wall heats at the rate
# of the steam everywhere (quasi-steady state). With an insulated outer surface the
# through-wall profile then follows from :math:`\rho c_p R = k\, r^{-1} (r T')'` and
# :math:`T'(b) = 0`:
#
# .. math::  T(r) - T(b) = \frac{R}{4 \kappa}\Big[(r^2 - b^2) - 2 b^2 \ln\frac{r}{b}\Big] .
#
# The hoop stress of a long hollow cylinder with that temperature and no pressure
# (generalised plane strain; Timoshenko & Goodier, Theory of Elasticity, ch. 13):
#
# .. math::  \sigma_\theta(a) = \frac{\alpha E}{1 - \nu}\Big[\frac{2}{b^2 - a^2}
#            \int_a^b T\, r\,\mathrm{d}r - T(a)\Big] .
#
# The FEM solves the transient with the same constant properties (Grade 91 at 400
# degC, mid-ramp), so the two must agree to the discretisation error. A last run with
# the temperature-dependent Grade 91 tables shows what the constant-property estimate
# misses.
#
# Run it with ``python examples/startup_thermal_stress.py``; with ``CI=1`` it uses a
# coarser mesh and a one-hour ramp (the test suite runs it so).

# %%
import os
import pathlib

import dolfinx_solver  # noqa: F401  (orders MPI before DOLFINx)
import numpy as np

from models.config import load_config
from models.materials import Material, get_material
from models.service import solve
from models.units import HOUR, ZERO_CELSIUS

SHORT = bool(os.environ.get("CI"))
HERE = pathlib.Path(__file__).resolve().parent

# ## The component and its start-up
#
# The shipped example component, with the pressure held at zero to isolate the thermal
# stress, and a ramp with a hold long enough to reach the quasi-steady state.

# %%
ramp_h = 1.0 if SHORT else 2.0
T0, T1 = 150.0 + ZERO_CELSIUS, 565.0 + ZERO_CELSIUS
base = load_config(HERE / "grade91_header.toml").with_overrides(
    {
        "mesh.radial_cells": 16 if SHORT else 40,
        "solver.time_step_s": 60.0 if SHORT else 18.0,
    }
)
cfg = base.with_loads(
    time=[0.0, ramp_h * HOUR, (ramp_h + 0.5) * HOUR],
    fluid_temperature=[T0, T1, T1],
    pressure=[0.0, 0.0, 0.0],
)
a, b = cfg.geometry.inner_radius, cfg.geometry.outer_radius
R = (T1 - T0) / (ramp_h * HOUR)  # K/s

# ## Constant properties at mid-ramp

# %%
g91 = get_material("grade91")
T_mid = 400.0 + ZERO_CELSIUS
steel = Material.constant(
    E=float(g91.E(T_mid)),
    nu=float(g91.nu(T_mid)),
    alpha=float(g91.alpha_instantaneous(T_mid)),
    k=float(g91.k(T_mid)),
    rho=float(g91.rho(T_mid)),
    cp=float(g91.cp(T_mid)),
    name="grade91@400C",
)
ds = solve(cfg, material=steel, fields=False)

# ## The closed form

# %%
kappa = float(steel.k(T_mid)) / float(steel.rho(T_mid) * steel.cp(T_mid))
r = np.linspace(a, b, 20_001)
dT = R / (4.0 * kappa) * ((r**2 - b**2) - 2.0 * b**2 * np.log(r / b))  # T(r) - T(b)
E, nu, alpha = float(steel.E(T_mid)), float(steel.nu(T_mid)), float(steel.alpha_mean(T_mid))
mean_rT = np.trapezoid(dT * r, r) * 2.0 / (b**2 - a**2)
hoop_closed = alpha * E / (1.0 - nu) * (mean_rT - dT[0])

# The quasi-steady state holds at the end of the ramp, one ramp-length after start.
t_end_ramp = ramp_h * HOUR
bore = ds.sel(location="bore", time=t_end_ramp)
outer = ds.sel(location="outer", time=t_end_ramp)
hoop_fem = float(bore["sigma_theta"])
dT_fem = float(bore["temperature"] - outer["temperature"])

# ## Result

# %%
print(f"heating rate {R * HOUR:.0f} K/h, wall diffusion time {(b - a) ** 2 / kappa:.0f} s")
print(f"bore - outer temperature: FEM {dT_fem:7.2f} K, closed form {dT[0]:7.2f} K")
print(
    f"bore hoop stress:         FEM {hoop_fem / 1e6:7.2f} MPa, closed form "
    f"{hoop_closed / 1e6:7.2f} MPa"
)
error = abs(hoop_fem - hoop_closed) / abs(hoop_closed)
print(f"relative difference {error:.2%}")
assert error < (0.03 if SHORT else 0.01), "FEM and closed form disagree"

# With the temperature-dependent tables (the real material) the same start-up gives:

# %%
real = solve(cfg, fields=False).sel(location="bore", time=t_end_ramp)
print(
    f"bore hoop stress with Grade 91's tables: {float(real['sigma_theta']) / 1e6:7.2f} MPa "
    f"({float(real['sigma_theta']) / hoop_fem - 1.0:+.1%} against constant properties)"
)

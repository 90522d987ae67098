r"""Closed-form thick-cylinder stresses: an independent reference for the surrogates.

Bore hoop stress of a long thick-walled cylinder (inner radius ``a``, outer ``b``)
under internal pressure ``p`` (Lame) plus the steady logarithmic temperature field
of radial heat flow (Timoshenko & Goodier, *Theory of Elasticity*, 3rd ed., 1970,
sec. 33 and sec. 150):

.. math::

    \sigma_\theta(a) = p\,\frac{b^2 + a^2}{b^2 - a^2}
    + \frac{E\alpha\,\Delta T_w}{2(1-\nu)\ln(b/a)}
      \left[1 - \frac{2b^2}{b^2 - a^2}\ln\frac{b}{a}\right],

where the wall temperature difference follows from the series thermal resistances of
the bore film, the wall and the outer film (per unit length and radian),

.. math::

    \Delta T_w = \Delta T \frac{\ln(b/a)/k}{1/(h a) + \ln(b/a)/k + 1/(h_o b)}.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ANALYTIC_BOUNDS", "ANALYTIC_NAMES", "bore_hoop_stress", "closed_form_response"]

#: Input names and box of :func:`bore_hoop_stress` (edge units).
ANALYTIC_NAMES = (
    "thermal.bore_htc_W_m2K",
    "geometry.wall_thickness_m",
    "pressure_MPa",
    "delta_temperature_K",
)
ANALYTIC_BOUNDS = np.array([[500.0, 5000.0], [0.03, 0.07], [5.0, 20.0], [100.0, 500.0]])


def bore_hoop_stress(
    X: ArrayLike,
    *,
    inner_radius: float = 0.15,
    youngs_modulus: float = 190e9,
    poisson_ratio: float = 0.3,
    expansion: float = 12.5e-6,
    conductivity: float = 28.0,
    outer_htc: float = 20.0,
) -> NDArray[np.float64]:
    """Return the bore hoop stress (Pa) for rows ``[h W/m2K, wall m, p MPa, dT K]``.

    Parameters
    ----------
    X : array_like, shape (n, 4)
        Bore heat-transfer coefficient (W/m^2/K), wall thickness (m), internal
        pressure (MPa), fluid-to-ambient temperature difference (K).
    inner_radius : float
        Bore radius ``a`` in m.
    youngs_modulus, poisson_ratio, expansion, conductivity : float
        E (Pa), nu (-), alpha (1/K), k (W/m/K); defaults near Grade 91 at 500 degC.
    outer_htc : float
        Outer-surface film coefficient ``h_o`` in W/m^2/K.

    Returns
    -------
    ndarray, shape (n,)
        Hoop stress at the bore in Pa (tension positive).
    """
    x = np.atleast_2d(np.asarray(X, dtype=np.float64))
    h, w, p_mpa, d_t = x.T
    a = inner_radius
    b = a + w
    log_ba = np.log(b / a)
    r_wall = log_ba / conductivity
    dt_wall = d_t * r_wall / (1.0 / (h * a) + r_wall + 1.0 / (outer_htc * b))
    lame = p_mpa * 1e6 * (b**2 + a**2) / (b**2 - a**2)
    k_th = youngs_modulus * expansion * dt_wall / (2.0 * (1.0 - poisson_ratio) * log_ba)
    thermal = k_th * (1.0 - 2.0 * b**2 / (b**2 - a**2) * log_ba)
    return np.asarray(lame + thermal, dtype=np.float64)


def closed_form_response(point: dict[str, float]) -> dict[str, float]:
    """Campaign function of one point ``{name: value}`` over :data:`ANALYTIC_NAMES`.

    Returns
    -------
    dict
        ``{"bore_hoop_stress": Pa}``. A picklable stand-in for the FEM when testing the
        Dask campaign machinery against a closed form.
    """
    row = np.array([[point[n] for n in ANALYTIC_NAMES]])
    return {"bore_hoop_stress": float(bore_hoop_stress(row)[0])}

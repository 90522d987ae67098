r"""Steam-side oxidation: parabolic, Arrhenius-activated oxide growth and wall loss.

Parabolic growth (Wagner; see Birks, Meier and Pettit, *Introduction to the
High-Temperature Oxidation of Metals*, 2nd ed., 2006, ch. 3):

.. math:: x^2 = x_0^2 + k_p(T)\,t, \qquad k_p(T) = k_0 \exp(-Q / RT)

with oxide thickness :math:`x` (m), :math:`k_p` in m^2/s. Under a piecewise-constant
temperature history, :math:`x^2` grows by :math:`k_p(T_i)\,\Delta t_i` per segment.
The metal consumed is :math:`x / r` where :math:`r` is the oxide-to-metal volume
(Pilling-Bedworth) ratio, the oxide growing one-dimensionally. The time for the wall
to thin from :math:`w_0` to :math:`w_{min}` at constant temperature follows in closed
form: :math:`t = (r^2 (w_0 - w_{min} + x_0/r)^2 - x_0^2) / k_p`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.errors import LawInputError
from models.life._data import law_data
from models.life._validate import as_finite, check_range, check_sign
from models.life.creep import GAS_CONSTANT

__all__ = ["ParabolicOxidation", "oxidation_law", "pilling_bedworth_ratio"]


@dataclass(frozen=True)
class ParabolicOxidation:
    """Parabolic Arrhenius oxide growth with metal loss through a volume ratio.

    Attributes
    ----------
    k0 : float
        Pre-exponential parabolic rate constant (m^2/s).
    Q : float
        Activation energy (J/mol).
    pilling_bedworth : float
        Oxide volume per consumed metal volume (> 0).
    temperature_range : tuple of float
        Calibrated temperatures (K).
    source : str
        Citation of the constants.
    """

    k0: float
    Q: float
    pilling_bedworth: float
    temperature_range: tuple[float, float] = (0.0, np.inf)
    source: str = ""

    def __post_init__(self) -> None:
        for name in ("k0", "pilling_bedworth"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise LawInputError(f"{name}: must be finite and > 0; got {v!r}.")
        if not (np.isfinite(self.Q) and self.Q >= 0):
            raise LawInputError(f"Q: must be finite and >= 0 J/mol; got {self.Q!r}.")

    def rate_constant(
        self, temperature: ArrayLike, *, extrapolate: bool = False
    ) -> NDArray[np.float64]:
        """Return :math:`k_p(T)` in m^2/s at ``temperature`` (K)."""
        T = check_sign("temperature", as_finite("temperature", temperature), strict=True, unit="K")
        lo, hi = self.temperature_range
        check_range(
            "temperature", T, low=lo, high=hi, unit="K", extrapolate=extrapolate,
            what="the oxidation constants",
        )  # fmt: skip
        return self.k0 * np.exp(-self.Q / (GAS_CONSTANT * T))

    def oxide_thickness(
        self,
        durations: ArrayLike,
        temperature: ArrayLike,
        *,
        initial_thickness: ArrayLike = 0.0,
        extrapolate: bool = False,
        axis: int = -1,
    ) -> NDArray[np.float64]:
        """Return the oxide thickness (m) after isothermal segments.

        Parameters
        ----------
        durations : array_like, shape (..., k)
            Segment durations (s), >= 0.
        temperature : array_like
            Segment temperatures (K), broadcastable with ``durations``.
        initial_thickness : array_like, optional
            Oxide present at the start (m), >= 0.
        extrapolate : bool, optional
            Accept temperatures outside the calibrated range.
        axis : int, optional
            Axis of the segments.
        """
        dt = check_sign("durations", as_finite("durations", durations), unit="s")
        x0 = check_sign("initial_thickness", as_finite("initial_thickness", initial_thickness))
        kp = self.rate_constant(temperature, extrapolate=extrapolate)
        return np.sqrt(x0**2 + np.sum(kp * dt, axis=axis))

    def metal_loss(self, oxide_thickness: ArrayLike) -> NDArray[np.float64]:
        """Return the metal thickness (m) consumed to grow ``oxide_thickness`` (m)."""
        x = check_sign("oxide_thickness", as_finite("oxide_thickness", oxide_thickness))
        return x / self.pilling_bedworth

    def time_to_wall(
        self,
        wall: ArrayLike,
        minimum_wall: ArrayLike,
        temperature: ArrayLike,
        *,
        initial_thickness: ArrayLike = 0.0,
        extrapolate: bool = False,
    ) -> NDArray[np.float64]:
        """Return the time (s) for the wall to thin from ``wall`` to ``minimum_wall`` (m).

        ``wall`` is the remaining metal wall now, with ``initial_thickness`` of oxide
        already on it; the temperature is constant.
        """
        w = check_sign("wall", as_finite("wall", wall), strict=True, unit="m")
        wmin = check_sign("minimum_wall", as_finite("minimum_wall", minimum_wall), unit="m")
        if (wmin > w).any():
            raise LawInputError(
                f"minimum_wall: must not exceed wall; got {float(np.max(wmin))} m > "
                f"{float(np.min(w))} m. The wall is already below the minimum."
            )
        x0 = check_sign("initial_thickness", as_finite("initial_thickness", initial_thickness))
        kp = self.rate_constant(temperature, extrapolate=extrapolate)
        x_end = x0 + self.pilling_bedworth * (w - wmin)
        return (x_end**2 - x0**2) / kp


def pilling_bedworth_ratio(material: str) -> float:
    """Return the cited oxide/metal volume ratio of a material's steam-side oxide.

    The oxidation section of the data file may be marked missing (no cited kinetics)
    while still carrying this ratio.

    Raises
    ------
    UnknownMaterialError
        If the material is unknown or has no ratio on file.
    """
    from models.errors import UnknownMaterialError
    from models.life._data import _load, normalise_material

    stem = normalise_material(material)
    section = _load(stem).get("oxidation", {})
    if "pilling_bedworth_ratio" not in section:
        raise UnknownMaterialError(
            f"material: {stem!r} has no pilling_bedworth_ratio on file. Pass it explicitly."
        )
    return float(section["pilling_bedworth_ratio"])


def oxidation_law(material: str) -> ParabolicOxidation:
    """Return a material's cited parabolic oxidation constants.

    Raises
    ------
    UnknownMaterialError
        If the material is unknown or its kinetics are marked missing (the note in the
        data file says why); build a :class:`ParabolicOxidation` explicitly instead.
    """
    d = law_data(material, "oxidation")
    lo, hi = d["temperature_range_K"]
    return ParabolicOxidation(
        k0=float(d["k0_m2_per_s"]),
        Q=float(d["Q_J_per_mol"]),
        pilling_bedworth=float(d["pilling_bedworth_ratio"]),
        temperature_range=(float(lo), float(hi)),
        source=str(d["source"]),
    )

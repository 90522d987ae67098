r"""Unit responses of the linearised service model and their exponential-mode fits.

With properties frozen at a reference temperature the thermo-elastic model is linear
and time-invariant. Each output :math:`y` (temperature, stresses, strains) at each
location is then a convolution of the input histories with the unit-step responses

.. math::

    y(t) = \int_0^t \dot u(s)\, g(t - s)\,\mathrm{d}s + g(0)\,u(0) ,

for the two inputs :math:`u \in \{T_f - T_f(0),\ p\}`. :func:`unit_responses` computes
:math:`g` by the FEM (a unit step of fluid temperature, in units per K, and a unit
pressure, per Pa); :func:`fit_modes` fits each one as

.. math::

    g(t) \approx d + \sum_{i=1}^{m} b_i\,\big(1 - e^{-t/\tau_i}\big),
    \qquad \text{static gain } G = d + \sum_i b_i ,

by variable projection (time constants by nonlinear least squares, amplitudes by
linear least squares). This is the contract's :math:`G\,(1 - \sum_i a_i e^{-t/\tau_i})`
with :math:`a_i = b_i / G` and :math:`d = 0` for the thermal input; it is stored with
the amplitudes :math:`b_i` because a thermal stress can have :math:`G = 0` (insulated
outer surface: uniform temperature at steady state). Each mode is a first-order lag
:math:`\tau_i \dot x_i = u - x_i`, advanced exactly for a piecewise-linear input
(:meth:`ModalResponse.simulate`, O(modes) per sample).

References
----------
J. A. Boley and J. H. Weiner, *Theory of Thermal Stresses*, Wiley, 1960, ch. 1
(Duhamel's theorem). G. H. Golub and V. Pereyra, "The differentiation of
pseudo-inverses and nonlinear least squares problems whose variables separate",
SIAM J. Numer. Anal. 10 (1973) 413-432 (variable projection).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.errors import ConfigError, ModelInputError, UnknownResponseError

if TYPE_CHECKING:
    import xarray as xr

    from models.config import ComponentConfig
    from models.materials import Material

__all__ = ["INPUTS", "RESPONSE_OUTPUTS", "ModalResponse", "ModalSet", "fit_modes", "unit_responses"]

#: Inputs of the unit responses (name -> unit of the input).
INPUTS: dict[str, str] = {"fluid_temperature": "K", "pressure": "Pa"}
#: Outputs with a unit response (linear in the inputs; von Mises is not).
RESPONSE_OUTPUTS: dict[str, str] = {
    "temperature": "K",
    "sigma_r": "Pa",
    "sigma_theta": "Pa",
    "sigma_z": "Pa",
    "eps_r": "1",
    "eps_theta": "1",
    "eps_z": "1",
    "eps_th": "1",
}
_COLUMNS = (
    "temperature",
    "sigma_r",
    "sigma_theta",
    "sigma_z",
    "sigma_vm",
    "eps_r",
    "eps_theta",
    "eps_z",
    "eps_th",
)


def _default_property_temperature(cfg: ComponentConfig) -> float:
    tf = np.asarray(cfg.loads.fluid_temperature, dtype=float)
    return float(0.5 * (tf.min() + tf.max()))


def _response_time_grid(t_end: float, *, stages: int, stage_steps: int) -> np.ndarray:
    dt0 = t_end / (stage_steps * (2**stages - 1))
    steps = np.concatenate([np.full(stage_steps, dt0 * 2**s) for s in range(stages)])
    return np.concatenate([[0.0], np.cumsum(steps)])


def unit_responses(
    config: ComponentConfig,
    *,
    property_temperature: float | None = None,
    material: Material | None = None,
    duration: float | None = None,
    stages: int = 11,
    stage_steps: int = 50,
) -> xr.Dataset:
    """FEM step responses of every output at every location to the two unit inputs.

    Parameters
    ----------
    config : ComponentConfig
        Component config (SI); its geometry, mesh, heat-transfer coefficients and end
        condition are used, its load history is not.
    property_temperature : float, optional
        Temperature (K) at which the properties are frozen; defaults to the middle of
        the fluid-temperature range of the load history.
    material : Material, optional
        Overrides the config's material.
    duration : float, optional
        Length of the response in s; defaults to fifteen times the sum of the wall's
        slowest diffusion time ``0.4 (b - a)^2 / kappa`` and its lumped time
        ``rho c_p (b^2 - a^2) / (2 a h)``.
    stages, stage_steps : int, optional
        The time step doubles ``stages`` times, ``stage_steps`` backward-Euler steps
        each: fine steps resolve the fast bore response, long ones the slow tail. The
        run is repeated with twice the steps and Richardson-extrapolated.

    Returns
    -------
    xarray.Dataset
        Variables from :data:`RESPONSE_OUTPUTS` with dims ``(input, time, location)``;
        their unit per unit input is in ``attrs["units"]`` (e.g. ``"Pa K-1"``).
    """
    import xarray as xr

    from models.service import ServiceModel

    cfg = config
    mat = material if material is not None else cfg.material
    Tp = (
        _default_property_temperature(cfg)
        if property_temperature is None
        else float(property_temperature)
    )
    lo, hi = mat.temperature_range
    if not lo <= Tp <= hi:
        raise ConfigError(
            f"property_temperature: {Tp} K lies outside the range of material "
            f"{getattr(mat, 'name', mat)!r} [{lo}, {hi}] K; choose a temperature inside it"
        )
    if duration is None:
        a, b = cfg.geometry.inner_radius, cfg.geometry.outer_radius
        rhocp = float(mat.rho(Tp) * mat.cp(Tp))
        kappa = float(mat.k(Tp)) / rhocp
        h = cfg.thermal.bore_htc
        # a prescribed bore (h -> infinity) has no film lag
        lumped = 0.0 if h is None else rhocp * (b * b - a * a) / (2.0 * a * h)
        duration = 15.0 * (0.4 * (b - a) ** 2 / kappa + lumped)
    times = _response_time_grid(float(duration), stages=stages, stage_steps=stage_steps)
    fine = _response_time_grid(float(duration), stages=stages, stage_steps=2 * stage_steps)

    # A model of deviations: initial state 0, reference temperature 0, ambient 0.
    model = ServiceModel(cfg, material=mat, property_temperature=Tp)
    model.thermal.T_amb.value = 0.0  # type: ignore[assignment]
    # a prescribed outer surface stays at the reference 0 of the deviations
    model.thermal.T_o.value = 0.0  # type: ignore[assignment]
    model.mechanical.reference_temperature = 0.0
    cols = [_COLUMNS.index(name) for name in RESPONSE_OUTPUTS]

    def run(grid: np.ndarray) -> np.ndarray:
        model.thermal.set_temperature(0.0)
        res = np.zeros((grid.size, len(cfg.locations), len(cols)))
        for i in range(1, grid.size):
            model.thermal.step(float(grid[i] - grid[i - 1]), 1.0)
            model.mechanical.solve(0.0)
            res[i] = model.sample(model.points)[:, cols]
        return res

    # Backward Euler is first order: Richardson extrapolation of the run with half the
    # steps (every coarse time is a fine time) makes the response second order.
    coarse = run(times)
    fine_on_coarse = run(fine)[np.searchsorted(fine, times - 1e-9 * float(duration))]
    thermal = 2.0 * fine_on_coarse - coarse
    thermal[0] = 0.0  # the step is applied just after t = 0
    model.thermal.set_temperature(0.0)
    model.mechanical.solve(1.0)
    pressure_row = model.sample(model.points)[:, cols]
    pressure = np.broadcast_to(pressure_row, thermal.shape)

    data_vars = {}
    for j, (name, unit) in enumerate(RESPONSE_OUTPUTS.items()):
        per = {"fluid_temperature": f"{unit} K-1", "pressure": f"{unit} Pa-1"}
        data_vars[name] = (
            ("input", "time", "location"),
            np.stack([thermal[:, :, j], pressure[:, :, j]]),
            {
                "units": f"{per['fluid_temperature']} (input fluid_temperature), "
                f"{per['pressure']} (input pressure)",
                "long_name": f"unit-step response of {name}",
            },
        )
    return xr.Dataset(
        data_vars,
        coords={
            "input": ("input", np.array(list(INPUTS), dtype=object)),
            "time": ("time", times, {"units": "s"}),
            "location": ("location", np.array([loc.name for loc in cfg.locations], dtype=object)),
            "radius": ("location", np.array([loc.radius for loc in cfg.locations]), {"units": "m"}),
        },
        attrs={
            "config_hash": cfg.config_hash,
            "material": getattr(mat, "name", str(mat)),
            "property_temperature": Tp,
            "property_temperature_units": "K",
            "end_condition": cfg.mechanical.end_condition,
        },
    )


@dataclass(frozen=True)
class ModalResponse:
    """A step response as a static part plus first-order lags.

    ``g(t) = direct + sum_i amplitudes[i] * (1 - exp(-t / time_constants[i]))``.

    Attributes
    ----------
    direct : float
        Instantaneous part of the response (output unit per input unit).
    amplitudes : numpy.ndarray, shape (m,)
        Mode amplitudes ``b_i`` (output unit per input unit).
    time_constants : numpy.ndarray, shape (m,)
        Time constants ``tau_i`` in s, increasing.
    fit_error : float
        RMS misfit of the step response over its samples, relative to ``max |g|``.
    """

    direct: float
    amplitudes: np.ndarray = field(default_factory=lambda: np.zeros(0))
    time_constants: np.ndarray = field(default_factory=lambda: np.zeros(0))
    fit_error: float = 0.0

    @property
    def gain(self) -> float:
        """Static gain ``G = direct + sum(amplitudes)``."""
        return float(self.direct + np.sum(self.amplitudes))

    def step(self, t: ArrayLike) -> NDArray[np.float64]:
        """Evaluate the fitted step response at times ``t`` (s, >= 0)."""
        t = np.asarray(t, dtype=float)[..., None]
        modes = self.amplitudes * (1.0 - np.exp(-t / self.time_constants))
        return np.asarray(self.direct + modes.sum(axis=-1), dtype=float)

    def simulate(self, t: ArrayLike, input_history: ArrayLike) -> NDArray[np.float64]:
        """Response to a piecewise-linear input, by exact recursive convolution.

        The system starts at rest in equilibrium with ``input_history[0]``.

        Parameters
        ----------
        t : array_like, shape (n,)
            Increasing sample times in s.
        input_history : array_like, shape (n,)
            Input at the sample times (K or Pa), linear in between.

        Returns
        -------
        numpy.ndarray, shape (n,)
            The output at the sample times.
        """
        from scipy.signal import lfilter, lfilter_zi

        t = np.asarray(t, dtype=float)
        u = np.asarray(input_history, dtype=float)
        if t.shape != u.shape or t.ndim != 1:
            raise ModelInputError(
                f"t and input_history must be 1-D of equal length, got {t.shape} and {u.shape}; "
                "give one input value per sample time"
            )
        y = self.direct * u
        if self.amplitudes.size == 0 or t.size < 2:
            return np.asarray(y + np.sum(self.amplitudes) * u, dtype=float)
        dt = np.diff(t)
        if np.any(dt <= 0):
            i = int(np.flatnonzero(dt <= 0)[0]) + 1
            raise ModelInputError(
                f"t must be strictly increasing; t[{i}] = {t[i]} s follows t[{i - 1}] = "
                f"{t[i - 1]} s. Sort the samples and drop repeated times"
            )
        uniform = np.allclose(dt, dt[0], rtol=1e-9, atol=0.0)
        for b, tau in zip(self.amplitudes, self.time_constants, strict=True):
            if uniform:
                e = math.exp(-dt[0] / tau)
                c = 1.0 - tau * (1.0 - e) / dt[0]
                num, den = [c, 1.0 - e - c], [1.0, -e]
                x, _ = lfilter(num, den, u, zi=lfilter_zi(num, den) * u[0])
            else:
                e = np.exp(-dt / tau)
                c = 1.0 - tau * (1.0 - e) / dt
                x = np.empty_like(u)
                x[0] = u[0]
                for n in range(dt.size):
                    x[n + 1] = e[n] * x[n] + (1.0 - e[n]) * u[n] + c[n] * (u[n + 1] - u[n])
            y = y + b * x
        return y


def _fit_one(t: np.ndarray, y: np.ndarray, n_modes: int, *, with_direct: bool) -> ModalResponse:
    from scipy.optimize import least_squares

    scale = float(np.max(np.abs(y)))
    if scale == 0.0:
        return ModalResponse(direct=0.0)
    if np.ptp(y) <= 1e-9 * scale or n_modes == 0:
        return ModalResponse(direct=float(np.mean(y)), fit_error=float(np.std(y) / scale))
    yn = y / scale
    t_pos = t[t > 0]
    lo, hi = math.log(t_pos[0] / 10.0), math.log(10.0 * t[-1])

    def basis(theta: np.ndarray) -> np.ndarray:
        cols = [1.0 - np.exp(-t[:, None] / np.exp(theta)[None, :])]
        if with_direct:
            cols.append(np.ones((t.size, 1)))
        return np.hstack(cols)

    def resid(theta: np.ndarray) -> np.ndarray:
        Phi = basis(theta)
        coef, *_ = np.linalg.lstsq(Phi, yn, rcond=None)
        return np.asarray(Phi @ coef - yn, dtype=float)

    best = None
    for span in ((3.0, 0.3), (1.0, 0.1), (10.0, 1.0)):
        theta0 = np.linspace(math.log(t_pos[0] * span[0]), math.log(t[-1] * span[1]), n_modes)
        sol = least_squares(resid, theta0, bounds=(lo, hi), x_scale=1.0, max_nfev=400)
        if best is None or sol.cost < best.cost:
            best = sol
    assert best is not None
    theta = np.sort(best.x)
    Phi = basis(theta)
    coef, *_ = np.linalg.lstsq(Phi, yn, rcond=None)
    rms = float(np.sqrt(np.mean((Phi @ coef - yn) ** 2)))
    amps = coef[:n_modes] * scale
    direct = float(coef[n_modes] * scale) if with_direct else 0.0
    fit = ModalResponse(direct=direct, amplitudes=amps, time_constants=np.exp(theta), fit_error=rms)
    if n_modes > 1 and np.any(np.diff(theta) < math.log(1.05)):
        # two time constants within 5 %: try one mode less, which keeps the parameters
        # identifiable (no pair of cancelling amplitudes) if it fits about as well
        fewer = _fit_one(t, y, n_modes - 1, with_direct=with_direct)
        if fewer.fit_error <= max(1.5 * rms, 1e-4):
            return fewer
    return fit


@dataclass(frozen=True)
class ModalSet:
    """Fitted modal responses keyed by ``(output, location, input)``.

    Attributes
    ----------
    responses : dict
        ``{(output, location, input): ModalResponse}``.
    """

    responses: dict[tuple[str, str, str], ModalResponse]

    def __getitem__(self, key: tuple[str, str, str]) -> ModalResponse:
        """Return the response of ``(output, location, input)``."""
        try:
            return self.responses[key]
        except KeyError:
            raise UnknownResponseError(
                f"no modal response for (output, location, input) = {key}; "
                f"available outputs {sorted({k[0] for k in self.responses})}, "
                f"locations {sorted({k[1] for k in self.responses})}, inputs {list(INPUTS)}"
            ) from None

    def __iter__(self) -> Iterator[tuple[str, str, str]]:
        """Iterate over the keys."""
        return iter(self.responses)

    def __len__(self) -> int:
        """Return the number of fitted responses."""
        return len(self.responses)

    def simulate(
        self,
        output: str,
        location: str,
        t: ArrayLike,
        *,
        fluid_temperature: ArrayLike,
        pressure: ArrayLike,
    ) -> NDArray[np.float64]:
        """Change of ``output`` at ``location`` from the initial state for given loads.

        Parameters
        ----------
        output, location : str
            Keys of the responses.
        t : array_like, shape (n,)
            Sample times in s.
        fluid_temperature, pressure : array_like, shape (n,)
            Load histories (K, Pa). The initial state is the uniform temperature
            ``fluid_temperature[0]`` without pressure.

        Returns
        -------
        numpy.ndarray
            Output change (temperature and strains) or value (stresses: the uniform
            initial state is stress free) at the sample times.
        """
        tf = np.asarray(fluid_temperature, dtype=float)
        y = self[(output, location, "fluid_temperature")].simulate(t, tf - tf[0])
        return np.asarray(y + self[(output, location, "pressure")].simulate(t, pressure))

    def to_dataset(self) -> xr.Dataset:
        """Store the modes as an xarray Dataset (padded modes have amplitude 0, tau NaN)."""
        import xarray as xr

        outs = sorted({k[0] for k in self.responses}, key=list(RESPONSE_OUTPUTS).index)
        locs = list(dict.fromkeys(k[1] for k in self.responses))
        inps = list(INPUTS)
        m = max((r.amplitudes.size for r in self.responses.values()), default=0)
        shape = (len(outs), len(locs), len(inps))
        direct, gain, err = np.zeros(shape), np.zeros(shape), np.zeros(shape)
        amp, tau = np.zeros((*shape, m)), np.full((*shape, m), np.nan)
        for (o, loc, i), r in self.responses.items():
            idx = (outs.index(o), locs.index(loc), inps.index(i))
            direct[idx], gain[idx], err[idx] = r.direct, r.gain, r.fit_error
            amp[idx][: r.amplitudes.size] = r.amplitudes
            tau[idx][: r.time_constants.size] = r.time_constants
        dims = ("output", "location", "input")
        return xr.Dataset(
            {
                "gain": (
                    dims,
                    gain,
                    {"long_name": "static gain", "units": "output unit per input unit"},
                ),
                "direct": (dims, direct, {"long_name": "instantaneous part"}),
                "amplitude": ((*dims, "mode"), amp, {"long_name": "mode amplitude b_i"}),
                "time_constant": ((*dims, "mode"), tau, {"units": "s"}),
                "fit_error": (dims, err, {"units": "1", "long_name": "rms misfit / max|g|"}),
            },
            coords={
                "output": np.array(outs, dtype=object),
                "location": np.array(locs, dtype=object),
                "input": np.array(inps, dtype=object),
            },
        )

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> ModalSet:
        """Rebuild from :meth:`to_dataset`."""
        out: dict[tuple[str, str, str], ModalResponse] = {}
        for o in ds["output"].values:
            for loc in ds["location"].values:
                for i in ds["input"].values:
                    sel = ds.sel(output=o, location=loc, input=i)
                    tau = np.asarray(sel["time_constant"].values, dtype=float)
                    keep = np.isfinite(tau)
                    out[(str(o), str(loc), str(i))] = ModalResponse(
                        direct=float(sel["direct"]),
                        amplitudes=np.asarray(sel["amplitude"].values, dtype=float)[keep],
                        time_constants=tau[keep],
                        fit_error=float(sel["fit_error"]),
                    )
        return cls(out)


def fit_modes(responses: xr.Dataset, *, n_modes: int = 5) -> ModalSet:
    """Fit every unit response of :func:`unit_responses` with exponential modes.

    Parameters
    ----------
    responses : xarray.Dataset
        Output of :func:`unit_responses`.
    n_modes : int, optional
        Largest number of modes for the fluid-temperature input (fewer when two time
        constants of the fit coincide within 5 %; the pressure response of the
        quasi-static elastic model is instantaneous: no modes).

    Returns
    -------
    ModalSet
    """
    if n_modes < 1:
        raise ModelInputError(f"n_modes: must be >= 1, got {n_modes}; fit at least one mode")
    t = np.asarray(responses["time"].values, dtype=float)
    out: dict[tuple[str, str, str], ModalResponse] = {}
    for name in RESPONSE_OUTPUTS:
        if name not in responses:
            continue
        for loc in responses["location"].values:
            for inp in INPUTS:
                y = np.asarray(responses[name].sel(input=inp, location=loc).values, dtype=float)
                modes = n_modes if inp == "fluid_temperature" else 0
                out[(name, str(loc), inp)] = _fit_one(t, y, modes, with_direct=False)
    return ModalSet(out)

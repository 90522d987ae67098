r"""The component model the particle filter weighs: parameters -> modes -> sensor readings.

Per particle :math:`i` the static parameters :math:`\theta_i` (see
:mod:`twin.settings`) set the current bore heat-transfer coefficient and wall

.. math::

    h_i(t) = h_{0,i}\, e^{\dot h_i (t - t_0)}, \qquad
    w_i(t) = w_{0,i} - \Delta w_i(t),

where :math:`\Delta w_i` is the metal lost to steam oxidation so far (accounted by
:class:`twin.damage.DamageAccount` from the particle's own bore temperature history).
The mode surrogate turns :math:`(h_i, w_i)` into exponential-mode unit responses
(:class:`models.modal.ModalBank`); the stateful :class:`models.modal.ModalFilter`
advances them exactly for piecewise-linear fluid temperature and pressure. A sensor
reads

- a thermocouple at location :math:`L`: :math:`T_{f,0} + y_{T,L}(t) + b + \dot b\,(t - t_0)`;
- a strain gauge (hoop) at :math:`L`:
  :math:`\varepsilon_{th}(T_{f,0}) + y_{\varepsilon_\theta,L}(t) + o + \dot o\,(t - t_0)`
  (total hoop strain from the stress-free state at the reference temperature, plus
  the gauge's offset and drift);
- an ultrasonic thickness reading: :math:`w_i(t)`;
- a creep-strain gauge: the accumulated creep strain at the outer surface, from the
  material's creep-rate law at the outer von Mises stress divided by the particle's
  creep-strength factor.

The observation variance is the sensor noise plus the frozen-property model error
(``[twin.model_error]``) plus the mode surrogate's predictive variance, propagated to
first order through the static gain: :math:`\sigma_G^2 u^2 + \sigma_{p}^2 p^2`, with
:math:`\sigma_G^2 = \sum_i \sigma_{b_i}^2` (an upper bound for monotone inputs, since
every mode state lies between 0 and :math:`u`).

Units: SI (K, Pa, m, s).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from models.units import ZERO_CELSIUS
from twin._modetable import ModeTable as _ModeTable
from twin.errors import TwinConfigError
from twin.filter import Observations
from twin.linear import YEAR
from twin.settings import TwinSettings

__all__ = ["BlockOutputs", "ComponentModel"]

_STRESS = ("sigma_r", "sigma_theta", "sigma_z")


@dataclass
class BlockOutputs:
    """Outputs of one advanced segment.

    Attributes
    ----------
    t : numpy.ndarray, shape (n,)
    y : numpy.ndarray, shape (P, O, n)
        Modal outputs (deviations; stresses in Pa).
    u : numpy.ndarray, shape (n,)
        Fluid-temperature deviation from the start, K.
    p : numpy.ndarray, shape (n,)
        Pressure, Pa.
    """

    t: NDArray[np.float64]
    y: NDArray[np.float64]
    u: NDArray[np.float64]
    p: NDArray[np.float64]


class ComponentModel:
    """Particles' forward model: mode surrogate, modal filter, damage and sensor models.

    Parameters
    ----------
    settings : TwinSettings
    surrogate : surrogates.modes.ModeSurrogate
        Mode GP of the component (kind ``modes``).
    material : models.materials.Material
        For the strain gauges' uniform thermal strain and the damage laws.
    material_name : str
        Name of the material's life-law data (``grade91``).
    reference_temperature : float
        Stress-free temperature of the mechanical model, K.
    n_particles : int
    mode_std : bool, optional
        Also tabulate the GP's predictive standard deviations of the modes (the filter's
        observation variance needs them; a forecast that only advances the modes does
        not, and the mean alone costs a tenth). Default True.
    """

    def __init__(
        self,
        settings: TwinSettings,
        surrogate: Any,
        *,
        material: Any,
        material_name: str,
        reference_temperature: float,
        n_particles: int,
        mode_std: bool = True,
    ) -> None:
        from twin.damage import DamageAccount, DamageSettings

        self.settings = settings
        self.surrogate = surrogate
        self.material = material
        self.reference_temperature = float(reference_temperature)
        keys = list(surrogate.keys)
        self.keys = keys
        self.names = tuple(p.name for p in settings.sampled)
        self._prior = {p.name: p.prior for p in settings.parameters}
        # sensor offsets/drifts: (offset, drift per year) per observed sensor, analytic
        from twin.linear import YEAR, LinearTerms

        pm = np.zeros((len(settings.observed()), 2))
        ps = np.zeros((len(settings.observed()), 2))
        for j, sen in enumerate(settings.observed()):
            for k, pre in enumerate(
                ("bias" if sen.quantity == "temperature" else "offset", "drift")
            ):
                spec = self._prior.get(f"{pre}.{sen.id}")
                if spec is not None:
                    scale = YEAR if pre == "drift" else 1.0
                    pm[j, k], ps[j, k] = spec.a * scale, spec.b * scale
        self.linear = LinearTerms(pm, ps, n_particles=n_particles)
        # outputs each observed sensor reads
        self.observed = settings.observed()
        self.obs_output = np.full(len(self.observed), -1, dtype=np.intp)
        self.strain_temperature = np.full(len(self.observed), -1, dtype=np.intp)
        self.alpha_frozen = np.zeros(n_particles)
        self.Tp = np.zeros(n_particles)  # property temperature of each particle's modes, K
        self.last_y = np.zeros((n_particles, len(keys)))  # outputs at the last grid point
        self._tp_cols = [
            keys.index(("temperature", loc))
            for loc in ("bore", "outer")
            if ("temperature", loc) in keys
        ]
        self._tp_range = next(
            (
                (p.low + ZERO_CELSIUS, p.high + ZERO_CELSIUS)
                for p in surrogate.space.parameters
                if p.name == "loads.hold_temperature_degC"
            ),
            None,
        )
        for j, s in enumerate(self.observed):
            key = {"temperature": ("temperature", s.location), "strain": ("eps_theta", s.location)}
            want = key.get(s.quantity)
            if want is None:
                continue
            if want not in keys:
                raise TwinConfigError(
                    f"twin: sensor {s.id!r} reads {want[0]} at {want[1]!r}, which the mode "
                    f"surrogate does not output (it has {keys}); retrain it with "
                    "`twin surrogate train`"
                )
            self.obs_output[j] = keys.index(want)
            if s.quantity == "strain":
                tkey = ("temperature", s.location)
                if tkey not in keys:
                    raise TwinConfigError(
                        f"twin: strain gauge {s.id!r} needs the temperature at {s.location!r} "
                        f"from the mode surrogate (it has {keys}); retrain it with "
                        "`twin surrogate train`"
                    )
                self.strain_temperature[j] = keys.index(tkey)
        self.stress_index: dict[str, list[int]] = {}
        self.temperature_index: dict[str, int] = {}
        for loc in settings.damage_locations:
            missing = [(c, loc) for c in (*_STRESS, "temperature") if (c, loc) not in keys]
            if missing:
                raise TwinConfigError(
                    f"twin.damage_locations: the mode surrogate lacks {missing}; retrain it "
                    "with `twin surrogate train`"
                )
            self.stress_index[loc] = [keys.index((c, loc)) for c in _STRESS]
            self.temperature_index[loc] = keys.index(("temperature", loc))
        self.noise_var = np.array([s.noise_std**2 for s in self.observed])
        self.model_var = np.array(
            [settings.model_error.get(s.quantity, 0.0) ** 2 for s in self.observed]
        )
        self.damage = DamageAccount(
            DamageSettings(
                material=material_name,
                locations=settings.damage_locations,
                stress_concentration=dict(settings.stress_concentration),
            ),
            n_particles=n_particles,
            t0=0.0,
        )
        self.n_particles = n_particles
        self.theta = np.zeros((n_particles, len(self.names)))
        self.filter: Any = None
        self.t0 = 0.0
        self.T_f0 = 0.0
        self.eps_th0 = 0.0
        self.creep_strain = np.zeros(n_particles)
        self.out_of_range = np.zeros(n_particles, dtype=bool)
        self._table = _ModeTable(surrogate, settings.property_temperature, with_std=mode_std)
        self._bank_std: Any = None
        self._has_creep_gauge = any(s.quantity == "creep_strain" for s in self.observed)

    # ------------------------------------------------------------ parameters
    def physical(self, theta: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """Unconstrained particles -> SI values, (P, d)."""
        th = self.theta if theta is None else theta
        out = np.empty_like(th)
        for j, n in enumerate(self.names):
            out[:, j] = self._prior[n].from_unconstrained(th[:, j])
        return out

    def unconstrained(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """SI values -> unconstrained particles, (P, d)."""
        out = np.empty_like(values)
        for j, n in enumerate(self.names):
            out[:, j] = self._prior[n].to_unconstrained(values[:, j])
        return out

    def column(self, name: str, phys: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """One physical parameter per particle."""
        x = self.physical() if phys is None else phys
        return np.asarray(x[:, self.names.index(name)])

    def current(self, t: float) -> dict[str, NDArray[np.float64]]:
        """Heat-transfer coefficient and wall thickness of each particle at ``t`` (SI)."""
        phys = self.physical()
        h = self.column("bore_htc", phys) * np.exp(
            self.column("bore_htc_drift", phys) * (t - self.t0)
        )
        wall = self.column("wall_thickness", phys) - self.damage.wall_loss
        return {"bore_htc": h, "wall_thickness": wall}

    def _base_inputs(self, t: float) -> NDArray[np.float64]:
        """Surrogate inputs other than the property temperature, (P, d - 1) or (P, d)."""
        cur = self.current(t)
        cols = []
        for name in self.surrogate.space.names:
            if name == "thermal.bore_htc_W_m2K":
                cols.append(cur["bore_htc"])
            elif name == "geometry.wall_thickness_m":
                cols.append(cur["wall_thickness"])
            elif name == "loads.hold_temperature_degC":
                continue
            elif name.startswith("material."):
                cols.append(np.ones(self.n_particles))
            else:
                raise TwinConfigError(
                    f"twin: the mode surrogate varies {name!r}, which the twin does not "
                    "estimate; train the mode surrogate over heat-transfer coefficient, wall "
                    "thickness and hold temperature"
                )
        return np.column_stack(cols)

    def metal_property_temperature(self) -> NDArray[np.float64]:
        """Property temperature each particle's modes should have now, K.

        The fixed ``twin.property_temperature_degC`` if given, else the mean of the
        modelled bore and outer temperatures at the last point, clipped to the mode
        surrogate's trained range (quasi-linear: properties follow the metal).
        """
        if self.settings.property_temperature is not None:
            return np.full(self.n_particles, self.settings.property_temperature)
        if self._tp_cols:
            T = self.T_f0 + self.last_y[:, self._tp_cols].mean(axis=1)
        else:
            T = np.full(self.n_particles, self.T_f0)
        if self._tp_range is not None:
            T = np.clip(T, *self._tp_range)
        return np.asarray(T, dtype=np.float64)

    def refresh(self, t: float, *, force: bool = False, rtol: float = 1e-3) -> bool:
        """Bring every particle's modes up to date; return whether they changed.

        The mode table (the surrogate at each particle's heat-transfer coefficient and
        wall, at every property-temperature node) is rebuilt when forced (start, after a
        resampling move) or when a particle's coefficient or wall moved by more than
        ``rtol`` (drift, oxidation); the modes are re-interpolated from it when a
        particle's property temperature moved by more than ``twin.property_tolerance_K``.
        """
        from models.modal import ModalFilter

        base = self._base_inputs(t)
        rebuild = (
            force
            or self._table.base.shape != base.shape
            or not np.all(np.abs(base - self._table.base) <= rtol * np.abs(self._table.base))
        )
        if rebuild:
            self._table.build(base)
        Tp_new = self.metal_property_temperature()
        moved_tp = np.any(np.abs(Tp_new - self.Tp) > self.settings.property_tolerance)
        if not (rebuild or moved_tp):
            return False
        self.Tp = Tp_new
        bank, std = self._table.bank(self.Tp)
        self._bank_std = std
        self.out_of_range = self._table.flags.copy()
        d = 0.5  # the frozen thermal-expansion coefficient, as models.mechanical freezes it
        self.alpha_frozen = np.asarray(
            (self.material.thermal_strain(self.Tp + d, self.Tp - d)) / (2.0 * d), dtype=np.float64
        )
        if self.filter is None:
            self.filter = ModalFilter(bank)
        else:
            self.filter.set_bank(bank)
        return True

    # ------------------------------------------------------------ start
    def start(
        self, t0: float, fluid_temperature: float, pressure: float, theta: NDArray[np.float64]
    ) -> None:
        """Begin at rest in equilibrium with the fluid at ``t0``."""
        self.t0 = float(t0)
        self.T_f0 = float(fluid_temperature)
        self.theta = np.asarray(theta, dtype=np.float64).copy()
        self.eps_th0 = float(self.material.thermal_strain(self.T_f0, self.reference_temperature))
        self.damage = type(self.damage)(self.damage.settings, n_particles=self.n_particles, t0=t0)
        self.last_y = np.zeros_like(self.last_y)
        self.refresh(t0, force=True)
        assert self.filter is not None
        self.filter.start(t0, fluid_temperature, pressure)

    # ------------------------------------------------------------ FilterModel protocol
    def save(self) -> Any:
        """Snapshot of the modal filter's dynamic state (arrays copied)."""
        state = self.filter.state_dict()
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in state.items()}

    def load(self, snapshot: Any) -> None:
        """Return the modal filter to a snapshot (the bank is unchanged in a segment)."""
        from models.modal import ModalFilter

        bank = self.filter.bank
        self.filter = ModalFilter.from_state_dict(snapshot)
        self.filter.set_bank(bank)

    def advance(
        self, t: NDArray[np.float64], inputs: Mapping[str, NDArray[np.float64]]
    ) -> BlockOutputs:
        """Advance every particle over the grid ``t``."""
        tf = inputs["fluid_temperature"]
        p = inputs["pressure"]
        y = self.filter.advance(t, tf, p)
        return BlockOutputs(t=t, y=y, u=tf - self.T_f0, p=p)

    def predict(
        self, outputs: BlockOutputs, observations: Observations
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Predicted mean, tempered variance and stated variance (P, k) of each observation."""
        P = self.n_particles
        k = len(observations)
        mu = np.empty((P, k))
        var = np.empty((P, k))
        stated = np.empty((P, k))
        phys = self.physical()
        for j, s in enumerate(self.observed):
            sel = np.flatnonzero(observations.sensor == j)
            if sel.size == 0:
                continue
            g = observations.index[sel]
            w = observations.weight[sel][None, :]
            if s.quantity in ("temperature", "strain"):
                o = int(self.obs_output[j])
                if s.quantity == "temperature":
                    base = self.T_f0 + outputs.y[:, o, g]
                else:
                    # total hoop strain = the exact (secant) thermal strain at the modelled
                    # metal temperature + the modal mechanical strain (the modal strain
                    # minus its frozen-coefficient thermal part)
                    yT = outputs.y[:, self.strain_temperature[j], g]
                    eps_th = self.material.thermal_strain(
                        self.T_f0 + yT, self.reference_temperature
                    )
                    mech = outputs.y[:, o, g] - self.alpha_frozen[:, None] * yT
                    base = eps_th + mech
                sg2 = np.sum(self._bank_std.amplitudes[:, o, :] ** 2, axis=1)[:, None]
                sp2 = (self._bank_std.pressure_gain[:, o] ** 2)[:, None]
                gp_var = sg2 * outputs.u[g][None, :] ** 2 + sp2 * outputs.p[g][None, :] ** 2
                # tempering: a reading of weight w counts as one with variance R / w. R is
                # the same for every particle (the surrogate's variance averaged over the
                # cloud): a particle-dependent variance would let the log-determinant of
                # the inflated likelihood favour where the GP is most confident.
                R = np.broadcast_to(
                    (self.noise_var[j] + self.model_var[j] + gp_var.mean(axis=0)) / w[0], base.shape
                )
                tau = (outputs.t[g] - self.t0) / YEAR
                off, v = self.linear.predict(j, g, tau, observations.value[sel][None, :] - base, R)
                mu[:, sel] = base + off
                var[:, sel] = v
                stated[:, sel] = v - R + R * w  # the offsets' uncertainty + untempered R
            elif s.quantity == "wall_thickness":
                wall = self.column("wall_thickness", phys) - self.damage.wall_loss
                mu[:, sel] = wall[:, None]
                var[:, sel] = self.noise_var[j] / w
                stated[:, sel] = self.noise_var[j]
            elif s.quantity == "creep_strain":
                mu[:, sel] = self.creep_strain[:, None]
                spread = (0.1 * float(np.mean(self.creep_strain))) ** 2  # same for all particles
                var[:, sel] = (self.noise_var[j] + spread) / w
                stated[:, sel] = self.noise_var[j] + spread
            else:  # pragma: no cover - settings refuse other quantities
                raise TwinConfigError(f"sensor {s.id!r}: cannot assimilate {s.quantity!r}")
        return mu, var, stated

    def metal_temperature(self, outputs: BlockOutputs, location: str) -> NDArray[np.float64]:
        """Metal temperature (P, n) at a damage location, K."""
        return self.T_f0 + outputs.y[:, self.temperature_index[location], :]

    def stress(self, outputs: BlockOutputs, location: str) -> NDArray[np.float64]:
        """Stress components (P, 3, n) at a damage location, Pa."""
        return outputs.y[:, self.stress_index[location], :]

    def commit(
        self,
        t: NDArray[np.float64],
        inputs: Mapping[str, NDArray[np.float64]],
        outputs: BlockOutputs,
    ) -> None:
        """Account damage (and creep strain) over a finished segment."""
        self.linear.commit(t.size)
        self.last_y = outputs.y[:, :, -1].copy()
        phys = self.physical()
        locs = self.settings.damage_locations
        self.damage.advance(
            t,
            {loc: self.stress(outputs, loc) for loc in locs},
            {loc: self.metal_temperature(outputs, loc) for loc in locs},
            creep_factor=self.column("creep_strength_factor", phys),
            oxidation_factor=self.column("oxidation_factor", phys),
        )
        if self._has_creep_gauge and "outer" in locs:
            self._creep_strain(outputs, self.column("creep_strength_factor", phys))

    def _creep_strain(self, outputs: BlockOutputs, factor: NDArray[np.float64]) -> None:
        from models.life import creep_rate_law

        law = creep_rate_law(self.damage.settings.material)
        s = self.stress(outputs, "outer")
        vm = np.sqrt(
            0.5 * ((s[:, 0] - s[:, 1]) ** 2 + (s[:, 1] - s[:, 2]) ** 2 + (s[:, 2] - s[:, 0]) ** 2)
        )
        T = self.metal_temperature(outputs, "outer")
        lo_T, hi_T = law.temperature_range
        lo_s, hi_s = law.stress_range
        seff = vm / factor[:, None]
        ok = (T >= lo_T) & (seff >= lo_s)
        rate = np.zeros_like(vm)
        if np.any(ok):
            rate[ok] = law.rate(np.clip(seff[ok], lo_s, hi_s), np.clip(T[ok], lo_T, hi_T))
        if outputs.t.size > 1:
            dt = np.diff(outputs.t)
            self.creep_strain += np.sum(0.5 * (rate[:, 1:] + rate[:, :-1]) * dt, axis=1)

    def take(self, index: NDArray[np.intp]) -> None:
        """Keep the particles ``index``."""
        self.filter.take(index)
        self.damage.take(index)
        self.linear.take(index)
        self.creep_strain = self.creep_strain[index]
        self._table.take(index)
        self.Tp = self.Tp[index]
        self.alpha_frozen = self.alpha_frozen[index]
        self.last_y = self.last_y[index]
        if self._bank_std is not None:
            self._bank_std = self._bank_std.take(index)
        self.out_of_range = self.out_of_range[index]
        self.theta = self.theta[index]

    def set_parameters(self, theta: NDArray[np.float64]) -> None:
        """Set new unconstrained parameters; re-evaluate the modes (states are kept)."""
        self.theta = np.asarray(theta, dtype=np.float64).copy()
        self.refresh(float(self.filter.state.t_last), force=True)

    # ------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        """Arrays and JSON-able values of the model's state."""
        return {
            "theta": self.theta.copy(),
            "t0": self.t0,
            "T_f0": self.T_f0,
            "eps_th0": self.eps_th0,
            "creep_strain": self.creep_strain.copy(),
            "filter": self.filter.state_dict() if self.filter is not None else None,
            "damage": self.damage.state_dict(),
            "table_base": self._table.base.copy(),
            "linear": self.linear.state_dict(),
            "Tp": self.Tp.copy(),
            "last_y": self.last_y.copy(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (the bank is re-evaluated from the saved inputs)."""
        from models.modal import ModalFilter
        from twin.damage import DamageAccount

        self.theta = np.asarray(state["theta"], dtype=np.float64).copy()
        self.t0 = float(state["t0"])
        self.T_f0 = float(state["T_f0"])
        self.eps_th0 = float(state["eps_th0"])
        self.creep_strain = np.asarray(state["creep_strain"], dtype=np.float64).copy()
        self.damage = DamageAccount.from_state_dict(state["damage"])
        self.linear.load_state_dict(state["linear"])
        if state["filter"] is None:  # saved before the first input readings: not started
            self.filter = None
            return
        self.Tp = np.asarray(state["Tp"], dtype=np.float64).copy()
        self.last_y = np.asarray(state["last_y"], dtype=np.float64).copy()
        self._table.build(np.asarray(state["table_base"], dtype=np.float64))
        bank, std = self._table.bank(self.Tp)
        self._bank_std = std
        self.out_of_range = self._table.flags.copy()
        d = 0.5
        self.alpha_frozen = np.asarray(
            (self.material.thermal_strain(self.Tp + d, self.Tp - d)) / (2.0 * d), dtype=np.float64
        )
        self.filter = ModalFilter.from_state_dict(state["filter"])
        self.filter.set_bank(bank)

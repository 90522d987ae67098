r"""The mode surrogate in array form: mode parameters of many parameter points at once.

A mode surrogate (``kind == "modes"``, trained by ``twin surrogate train`` from
:class:`~surrogates.targets.ModeResponses`) predicts, per ``(output, location)``, the
amplitudes ``b_i`` (per K), the time constants as ``log10 tau_i`` and the pressure gain
of the linearised model's unit responses. :class:`ModeSurrogate` evaluates it for all
rows of a parameter matrix in one GP call and reshapes the columns into a
:class:`models.modal.ModalBank` of shape ``(rows, outputs, modes)`` (the particles of a
twin), with a second bank of predictive standard deviations; the standard deviation of
a time constant follows from that of its logarithm by the delta method,
:math:`\sigma_\tau = \tau \ln(10)\, \sigma_{\log_{10}\tau}`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.modal import ModalBank
from surrogates.component import ComponentSurrogate
from surrogates.errors import InvalidParameterError, SurrogateError
from surrogates.space import ParameterSpace
from surrogates.targets import mode_output_names

if TYPE_CHECKING:
    from models.config import ComponentConfig

__all__ = ["ModeSurrogate"]

_TINY = 1e-300  # floor of a standard deviation stored as a (positive) time constant


def _parse_keys(outputs: tuple[str, ...]) -> tuple[tuple[tuple[str, str], ...], int]:
    """Recover ``(keys, n_modes)`` from the output names ``mode.<name>.<loc>.<field>``."""
    keys: dict[tuple[str, str], None] = {}
    n_modes = 0
    for col in outputs:
        parts = col.split(".")
        if len(parts) < 4 or parts[0] != "mode":
            raise SurrogateError(
                f"surrogate.outputs: {col!r} is not a mode parameter (mode.<output>.<location>."
                "<field>); load a surrogate trained with kind 'modes'"
            )
        name, loc, fld = parts[1], ".".join(parts[2:-1]), parts[-1]
        keys[(name, loc)] = None
        if fld.startswith("b") and fld[1:].isdigit():
            n_modes = max(n_modes, int(fld[1:]))
    return tuple(keys), n_modes


class ModeSurrogate:
    """Mode parameters from the mode GP for many parameter points at once.

    Parameters
    ----------
    surrogate : ComponentSurrogate
        A trained surrogate of kind ``"modes"``.

    Attributes
    ----------
    keys : tuple of (str, str)
        ``(output, location)`` of each output of the banks.
    n_modes : int
        Modes per output.
    space : ParameterSpace
        The modal parameter space (columns of ``X``, edge units), e.g.
        ``thermal.bore_htc_W_m2K``, ``geometry.wall_thickness_m``,
        ``loads.hold_temperature_degC``.
    """

    def __init__(self, surrogate: ComponentSurrogate) -> None:
        if surrogate.kind != "modes":
            raise SurrogateError(
                f"surrogate.kind: {surrogate.kind!r} is not 'modes'; load the modes/ folder "
                "written by `twin surrogate train --kind modes`"
            )
        keys, n_modes = _parse_keys(surrogate.outputs)
        expected = mode_output_names(keys, n_modes=n_modes)
        if set(expected) != set(surrogate.outputs):
            missing = sorted(set(expected) - set(surrogate.outputs))
            raise SurrogateError(
                f"surrogate.outputs: incomplete mode parameters (missing {missing[:4]}); "
                "retrain with `twin surrogate train --kind modes`"
            )
        col = {name: j for j, name in enumerate(surrogate.outputs)}
        modes = range(1, n_modes + 1)
        self._b_cols = np.array([[col[f"mode.{o}.{loc}.b{i}"] for i in modes] for o, loc in keys])
        self._tau_cols = np.array(
            [[col[f"mode.{o}.{loc}.log10_tau{i}"] for i in modes] for o, loc in keys]
        )
        pg = [col.get(f"mode.{o}.{loc}.pressure_gain", -1) for o, loc in keys]
        self._pg_cols = np.array([max(c, 0) for c in pg])
        self._pg_mask = np.array([c >= 0 for c in pg], dtype=np.float64)
        self.surrogate = surrogate
        self.keys: tuple[tuple[str, str], ...] = keys
        self.n_modes: int = n_modes
        self.space: ParameterSpace = surrogate.space

    @classmethod
    def load(cls, path: str | Path, *, config: ComponentConfig) -> ModeSurrogate:
        """Load a saved mode surrogate and check it belongs to ``config``.

        Parameters
        ----------
        path : path-like
            The ``modes/`` folder written by ``twin surrogate train``, or the surrogate
            folder holding it (``<config stem>.surrogate``).
        config : ComponentConfig
            The component; a surrogate trained for another component or parameter space
            raises :class:`~surrogates.errors.MetadataMismatchError` naming the command
            that retrains it.

        Returns
        -------
        ModeSurrogate
        """
        from surrogates.persistence import load_surrogate

        folder = Path(path)
        if (folder / "modes" / "surrogate.json").is_file():
            folder = folder / "modes"
        return cls(load_surrogate(folder, config=config))

    def predict_mean_bank(
        self, X: ArrayLike, *, extrapolation: str = "flag"
    ) -> tuple[ModalBank, NDArray[np.bool_]]:
        """Predict the mean mode parameters of every row of ``X`` (no variances).

        The mean bank of :meth:`predict_bank` at a fraction of its cost (the GP's
        predictive variance is most of the work), for forecasts that propagate the
        posterior through particles rather than through the GP's variance.

        Parameters
        ----------
        X : array_like, shape (n, d)
            Parameter points in the space's edge units, columns :attr:`space` ``.names``.
        extrapolation : {"flag", "raise"}
            As in :meth:`predict_bank`.

        Returns
        -------
        mean : ModalBank
            Identical to the mean bank of :meth:`predict_bank`.
        outside : numpy.ndarray of bool, shape (n,)
            Rows outside the trained range.
        """
        if extrapolation not in ("flag", "raise"):
            raise InvalidParameterError(
                f"extrapolation: must be 'flag' or 'raise', got {extrapolation!r}"
            )
        Xa = self.space.as_array(X)
        if extrapolation == "raise":
            self.space.check(Xa)
        gp = self.surrogate.gp
        mean = gp.predict_mean(Xa, extrapolation="flag", backend="numpy")
        mean = np.asarray(mean, dtype=np.float64).reshape(Xa.shape[0], -1)
        log_tau = mean[:, self._tau_cols]
        order = np.argsort(log_tau, axis=-1, kind="stable")
        tau = 10.0 ** np.take_along_axis(log_tau, order, axis=-1)
        amps = np.take_along_axis(mean[:, self._b_cols], order, axis=-1)
        bank = ModalBank(
            outputs=self.keys,
            amplitudes=amps,
            time_constants=tau,
            direct=np.zeros(amps.shape[:2]),
            pressure_gain=mean[:, self._pg_cols] * self._pg_mask,
        )
        return bank, gp.outside(Xa)

    def predict_bank(
        self, X: ArrayLike, *, extrapolation: str = "flag"
    ) -> tuple[ModalBank, ModalBank, NDArray[np.bool_]]:
        """Predict the mode parameters of every row of ``X``.

        Parameters
        ----------
        X : array_like, shape (n, d)
            Parameter points in the space's edge units, columns :attr:`space` ``.names``.
        extrapolation : {"flag", "raise"}
            Outside the trained box: flag the row (and inflate its variance), or raise
            :class:`~surrogates.errors.ExtrapolationError`.

        Returns
        -------
        mean : ModalBank
            Predictive means, shape ``(n, outputs, modes)``; time constants
            ``10 ** mean(log10 tau)``, sorted ascending per output (amplitudes follow).
        std : ModalBank
            Predictive standard deviations of the same fields: amplitudes (per K), time
            constants in s (delta method on ``log10 tau``), pressure gains (per Pa);
            ``direct`` is 0.
        outside : numpy.ndarray of bool, shape (n,)
            Rows outside the trained range.
        """
        if extrapolation not in ("flag", "raise"):
            raise InvalidParameterError(
                f"extrapolation: must be 'flag' or 'raise', got {extrapolation!r}"
            )
        Xa = self.space.as_array(X)
        if extrapolation == "raise":
            self.space.check(Xa)
        # NumPy backend: the twin shares processes with DOLFINx (see GPSurrogate.predict)
        mean, std, flags = self.surrogate.gp.predict(
            Xa, extrapolation="flag", return_flags=True, backend="numpy"
        )
        mean = np.asarray(mean, dtype=np.float64).reshape(Xa.shape[0], -1)
        std = np.asarray(std, dtype=np.float64).reshape(Xa.shape[0], -1)
        log_tau = mean[:, self._tau_cols]  # (n, O, M)
        order = np.argsort(log_tau, axis=-1, kind="stable")
        tau = 10.0 ** np.take_along_axis(log_tau, order, axis=-1)
        tau_std = tau * math.log(10.0) * np.take_along_axis(std[:, self._tau_cols], order, -1)
        amps = np.take_along_axis(mean[:, self._b_cols], order, axis=-1)
        amps_std = np.take_along_axis(std[:, self._b_cols], order, axis=-1)
        zeros = np.zeros(amps.shape[:2])
        mean_bank = ModalBank(
            outputs=self.keys,
            amplitudes=amps,
            time_constants=tau,
            direct=zeros,
            pressure_gain=mean[:, self._pg_cols] * self._pg_mask,
        )
        std_bank = ModalBank(
            outputs=self.keys,
            amplitudes=amps_std,
            time_constants=np.maximum(tau_std, _TINY),
            direct=zeros,
            pressure_gain=std[:, self._pg_cols] * self._pg_mask,
        )
        return mean_bank, std_bank, np.asarray(flags, dtype=bool)

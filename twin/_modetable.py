"""Per-particle modes at property-temperature nodes, interpolated in between."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from models.units import ZERO_CELSIUS

__all__ = ["ModeTable"]


class ModeTable:
    """Per-particle modes at property-temperature nodes, interpolated in between.

    The quasi-linear model needs each particle's modes at its current property
    temperature, which moves through every start-up; evaluating the GP at each move
    would cost more than the rest of the filter. The table holds the GP's modes at the
    particle's heat-transfer coefficient and wall at nodes 50 K apart across the
    surrogate's trained range (or the one fixed temperature); amplitudes, log time
    constants, pressure gains and their standard deviations are interpolated linearly.
    """

    def __init__(self, surrogate: Any, fixed: float | None, *, with_std: bool = True) -> None:
        self.surrogate = surrogate
        self.with_std = with_std
        names = list(surrogate.space.names)
        self.tp_col = (
            names.index("loads.hold_temperature_degC")
            if "loads.hold_temperature_degC" in names
            else None
        )
        if self.tp_col is None:
            self.nodes = np.zeros(1)
        elif fixed is not None:
            self.nodes = np.array([fixed - ZERO_CELSIUS])
        else:
            p = surrogate.space.parameters[self.tp_col]
            k = max(2, int(np.ceil((p.high - p.low) / 50.0)) + 1)
            self.nodes = np.linspace(p.low, p.high, k)
        self.base = np.zeros((0, 0))
        self.flags = np.zeros(0, dtype=bool)
        self._mean: dict[str, NDArray[np.float64]] = {}
        self._std: dict[str, NDArray[np.float64]] = {}
        self.outputs: tuple[tuple[str, str], ...] = tuple(surrogate.keys)

    def build(self, base: NDArray[np.float64]) -> None:
        P, K = base.shape[0], self.nodes.size
        rows = np.repeat(base, K, axis=0)
        if self.tp_col is not None:
            rows = np.insert(rows, self.tp_col, np.tile(self.nodes, P), axis=1)
        banks: tuple[tuple[dict[str, NDArray[np.float64]], Any], ...]
        if self.with_std:
            mean, std, flags = self.surrogate.predict_bank(rows, extrapolation="flag")
            banks = ((self._mean, mean), (self._std, std))
        else:
            mean, flags = self.surrogate.predict_mean_bank(rows, extrapolation="flag")
            banks = ((self._mean, mean),)
        self.base = base.copy()
        self.flags = np.asarray(flags, dtype=bool).reshape(P, K).any(axis=1)
        for store, bank in banks:
            store["amplitudes"] = bank.amplitudes.reshape(P, K, *bank.amplitudes.shape[1:])
            tau = np.log(bank.time_constants) if store is self._mean else bank.time_constants
            store["time_constants"] = tau.reshape(P, K, *bank.time_constants.shape[1:])
            store["direct"] = bank.direct.reshape(P, K, -1)
            store["pressure_gain"] = bank.pressure_gain.reshape(P, K, -1)

    def take(self, index: NDArray[np.intp]) -> None:
        self.base = self.base[index]
        self.flags = self.flags[index]
        for store in (self._mean, self._std):
            for k in store:
                store[k] = store[k][index]

    def bank(self, Tp: NDArray[np.float64]) -> tuple[Any, Any]:
        """Mean and standard-deviation banks at each particle's property temperature (K).

        The standard-deviation bank is None for a table built without them.
        """
        from models.modal import ModalBank

        P = Tp.size
        rows = np.arange(P)
        if self.nodes.size == 1:
            j = np.zeros(P, dtype=np.intp)
            w = np.zeros(P)
        else:
            x = np.clip(Tp - ZERO_CELSIUS, self.nodes[0], self.nodes[-1])
            j = np.clip(np.searchsorted(self.nodes, x, side="right") - 1, 0, self.nodes.size - 2)
            w = (x - self.nodes[j]) / (self.nodes[j + 1] - self.nodes[j])
        jn = np.minimum(j + 1, self.nodes.size - 1)

        def mix(a: NDArray[np.float64]) -> NDArray[np.float64]:
            shape = (P,) + (1,) * (a.ndim - 2)
            return np.asarray(
                (1.0 - w).reshape(shape) * a[rows, j] + w.reshape(shape) * a[rows, jn]
            )

        m, s = self._mean, self._std
        mean = ModalBank(
            outputs=self.outputs,
            amplitudes=mix(m["amplitudes"]),
            time_constants=np.exp(mix(m["time_constants"])),
            direct=mix(m["direct"]),
            pressure_gain=mix(m["pressure_gain"]),
        )
        if not self.with_std:
            return mean, None
        std = ModalBank(
            outputs=self.outputs,
            amplitudes=mix(s["amplitudes"]),
            time_constants=mix(s["time_constants"]),
            direct=mix(s["direct"]),
            pressure_gain=mix(s["pressure_gain"]),
        )
        return mean, std

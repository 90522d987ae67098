"""A trained surrogate of one component: parameter space, outputs, GP and provenance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from surrogates.errors import InvalidInputError, MetadataMismatchError
from surrogates.space import ParameterSpace

if TYPE_CHECKING:
    from models.config import ComponentConfig
    from surrogates.gp import GPSurrogate

__all__ = ["ComponentSurrogate"]


@dataclass
class ComponentSurrogate:
    """GP surrogate of a component's FEM outputs over its parameter space.

    Attributes
    ----------
    space : ParameterSpace
        Inputs (column order of ``X``) and their trained ranges.
    outputs : tuple of str
        Output names (column order of predictions).
    units : dict
        Unit of each output (SI, CF style).
    gp : GPSurrogate
        The fitted GP (inputs in the space's edge units).
    relevant_hash : str
        :meth:`ParameterSpace.relevant_hash` of the config it was trained on.
    provenance : dict
        Config hash, package versions, campaign size, training diagnostics.
    kind : {"peak", "modes"}
        Steady/peak quantities over the full space, or unit-response mode parameters
        over its :meth:`~ParameterSpace.modal` sub-space.
    """

    space: ParameterSpace
    outputs: tuple[str, ...]
    units: dict[str, str]
    gp: GPSurrogate
    relevant_hash: str
    provenance: dict[str, Any] = field(default_factory=dict)
    kind: str = "peak"

    def as_matrix(self, X: ArrayLike | Mapping[str, ArrayLike]) -> NDArray[np.float64]:
        """Return inputs as ``(n, dim)``; a mapping is read by parameter name."""
        if isinstance(X, Mapping):
            missing = [n for n in self.space.names if n not in X]
            if missing:
                raise InvalidInputError(
                    f"X: missing parameters {missing}; give every one of {list(self.space.names)}"
                )
            cols = [np.atleast_1d(np.asarray(X[n], dtype=np.float64)) for n in self.space.names]
            return self.space.as_array(np.column_stack(np.broadcast_arrays(*cols)))
        return self.space.as_array(X)

    def predict(
        self,
        X: ArrayLike | Mapping[str, ArrayLike],
        *,
        extrapolation: str = "raise",
        return_flags: bool = False,
    ) -> Any:
        """Predict ``(mean, std[, flags])``, each ``(n, len(outputs))``.

        See :meth:`GPSurrogate.predict`; the range check uses the parameter space.
        """
        Xa = self.as_matrix(X)
        if extrapolation == "raise":
            self.space.check(Xa)
        mean, std, flags = self.gp.predict(Xa, extrapolation="flag", return_flags=True)
        mean = np.atleast_2d(mean.T).T
        std = np.atleast_2d(std.T).T
        return (mean, std, flags) if return_flags else (mean, std)

    def check_config(self, config: ComponentConfig) -> None:
        """Raise :class:`MetadataMismatchError` unless ``config`` is the one trained for."""
        try:
            space = ParameterSpace.from_config(config)
        except ValueError as err:
            raise MetadataMismatchError(
                f"surrogate: the config's [surrogate] section is unusable ({err}); this surrogate "
                f"was trained over {self.space.to_dict()}"
            ) from err
        if self.kind == "modes":
            space = ParameterSpace.modal_from_config(config)
        if space != self.space:
            raise MetadataMismatchError(
                f"surrogate.parameters: the config asks for {space.to_dict()} but the saved "
                "surrogate "
                f"was trained over {self.space.to_dict()}; retrain with `twin surrogate train`"
            )
        got = space.relevant_hash(config)
        if got != self.relevant_hash:
            raise MetadataMismatchError(
                "config hash: the FEM-relevant sections (material, geometry, mesh, thermal, "
                "mechanical, "
                f"loads, solver) hash to {got[:12]} but the surrogate was trained on "
                f"{self.relevant_hash[:12]}; "
                "the component changed since training: retrain with `twin surrogate train`"
            )

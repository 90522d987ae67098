r"""Creep-fatigue interaction: the bilinear damage envelope of elevated-temperature design rules.

The envelope of ASME BPVC III-5, Fig. HBB-T-1420-2, joins :math:`(D_f, D_c) = (0, 1)`,
the material's intersection point :math:`(d_f, d_c)` and :math:`(1, 0)`. A damage pair
is acceptable when it lies on or under that line. Intersection points per material are
in ``models/data/life/*.toml`` (Grade 91 (0.1, 0.01); 304/316 (0.3, 0.3); Alloy 617
(0.1, 0.1)).

The *margin* of a pair is the multiple :math:`s` of a damage increment direction
:math:`\mathbf{d}` that can still be added before the envelope is reached,
:math:`\mathbf{D} + s\,\mathbf{d}` on the envelope. By default the direction is the
current damage itself (the ray from the origin through the current point), so
:math:`1 + s` is the factor by which the accumulated damage can grow along its own path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.errors import LawInputError
from models.life._data import law_data
from models.life._validate import as_finite, check_sign

__all__ = ["BilinearEnvelope", "creep_fatigue_envelope"]


@dataclass(frozen=True)
class BilinearEnvelope:
    """Bilinear creep-fatigue damage envelope.

    Attributes
    ----------
    fatigue_intersection, creep_intersection : float
        Intersection point :math:`(d_f, d_c)`, both in (0, 1).
    source : str
        Citation.
    """

    fatigue_intersection: float
    creep_intersection: float
    source: str = ""

    def __post_init__(self) -> None:
        for name in ("fatigue_intersection", "creep_intersection"):
            v = getattr(self, name)
            if not (np.isfinite(v) and 0.0 < v < 1.0):
                raise LawInputError(f"{name}: must be in (0, 1); got {v!r}.")

    def _pairs(
        self, fatigue: ArrayLike, creep: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        f = check_sign("fatigue", as_finite("fatigue", fatigue))
        c = check_sign("creep", as_finite("creep", creep))
        f, c = np.broadcast_arrays(f, c)
        return f, c

    def creep_limit(self, fatigue: ArrayLike) -> NDArray[np.float64]:
        """Return the allowed creep damage at fatigue damage ``fatigue`` (0 beyond 1).

        The first segment serves ``fatigue < d_f`` and the second ``fatigue >= d_f``,
        evaluated as srlife's ``inside_envelope`` evaluates them: at the knee the second segment
        gives exactly ``d_c``, where the first can round below it (for (0.1, 0.1),
        ``1 - 0.9 * 0.1 / 0.1 = 0.09999999999999987``).
        """
        f = check_sign("fatigue", as_finite("fatigue", fatigue))
        df, dc = self.fatigue_intersection, self.creep_intersection
        # srlife's arithmetic, so that points on the line round the same way
        first = (dc - 1.0) / df * f + 1.0
        second = -dc / (1.0 - df) * (f - df) + dc
        return np.where(f < df, first, np.where(f <= 1.0, np.maximum(second, 0.0), 0.0))

    def is_inside(self, fatigue: ArrayLike, creep: ArrayLike) -> NDArray[np.bool_]:
        """Return whether each ``(fatigue, creep)`` pair is on or inside the envelope.

        The branch at the knee follows srlife's ``inside_envelope`` (see
        :meth:`creep_limit`): the intersection point itself is inside.
        """
        f, c = self._pairs(fatigue, creep)
        return (f <= 1.0) & (c <= self.creep_limit(f))

    def margin(
        self,
        fatigue: ArrayLike,
        creep: ArrayLike,
        *,
        direction: tuple[ArrayLike, ArrayLike] | None = None,
    ) -> NDArray[np.float64]:
        r"""Return the multiple of ``direction`` that still fits inside the envelope.

        Parameters
        ----------
        fatigue, creep : array_like
            Current damage pair(s), >= 0.
        direction : (array_like, array_like), optional
            Damage increment direction :math:`(\delta D_f, \delta D_c)`, >= 0 and not
            both zero. Defaults to the current point (the ray from the origin).

        Returns
        -------
        numpy.ndarray
            :math:`s \ge 0` for points on or inside the envelope. For points outside,
            ``lambda - 1 < 0`` whatever the direction, where ``lambda`` scales the current
            point onto the envelope along the origin ray.
        """
        f, c = self._pairs(fatigue, creep)
        df, dc = self.fatigue_intersection, self.creep_intersection
        if direction is None:
            uf, uc = f, c
        else:
            uf = check_sign("direction[0]", as_finite("direction[0]", direction[0]))
            uc = check_sign("direction[1]", as_finite("direction[1]", direction[1]))
            uf, uc = np.broadcast_arrays(uf, uc)
        uf, uc, f, c = np.broadcast_arrays(uf, uc, f, c)
        if ((uf == 0) & (uc == 0)).any():
            raise LawInputError(
                "direction: must not be (0, 0) (with the default direction, the damage pair "
                "must not be zero: the margin along a zero path is undefined)."
            )
        # Segment 1: Dc + k1 Df = 1 (Df in [0, df]); segment 2: dc Df + (1 - df) Dc = dc.
        k1 = (1.0 - dc) / df
        with np.errstate(divide="ignore", invalid="ignore"):
            s1 = (1.0 - (c + k1 * f)) / (uc + k1 * uf)
            s2 = (dc - (dc * f + (1.0 - df) * c)) / (dc * uf + (1.0 - df) * uc)
        f1 = f + s1 * uf
        f2 = f + s2 * uf
        ok1 = (f1 >= -1e-15) & (f1 <= df + 1e-15)
        ok2 = (f2 >= df - 1e-15) & (f2 <= 1.0 + 1e-15)
        s = np.where(ok1, s1, np.where(ok2, s2, np.nan))
        inside = self.is_inside(f, c)
        if (~inside).any():
            # Outside: report lambda - 1 along the origin ray (negative).
            with np.errstate(divide="ignore", invalid="ignore"):
                l1 = 1.0 / (c + k1 * f)
                l2 = dc / (dc * f + (1.0 - df) * c)
            lam = np.where(l1 * f <= df, l1, l2)
            s = np.where(inside, s, lam - 1.0)
        return np.asarray(s, dtype=np.float64)


def creep_fatigue_envelope(material: str) -> BilinearEnvelope:
    """Return the design-code bilinear envelope of a material (cited in its data file).

    Raises
    ------
    UnknownMaterialError
        If the material is unknown.
    """
    d = law_data(material, "creep_fatigue_envelope")
    return BilinearEnvelope(
        float(d["fatigue_intersection"]), float(d["creep_intersection"]), str(d["source"])
    )

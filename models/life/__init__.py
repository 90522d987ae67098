"""Damage and life laws: rainflow, strain-life, creep, interaction, oxidation, crack growth.

Pure NumPy (SciPy for the numerical cross-checks), vectorised over Monte Carlo samples,
SI units inside (Pa, K, s, m). Material constants live in ``models/data/life/*.toml``,
each with its citation; sections without a public source are marked missing there and
the corresponding loader raises :class:`~models.errors.UnknownMaterialError` with the
reason (pass explicit constants instead).

Material data on file:

============  ==============  ===========  ===========  ==========  =========
material      Larson-Miller   strain-life  envelope     creep rate  oxidation
============  ==============  ===========  ===========  ==========  =========
grade91       NEML (avg.)     fit, ASME    (0.1, 0.01)  NEML KM     SpallMap
316h          srlife          fit, ASME    (0.3, 0.3)   --          missing
a617          srlife          missing      (0.1, 0.1)   --          missing
============  ==============  ===========  ===========  ==========  =========

Grade 91: the strain-life constants cover the 540 C design curve only (other
temperatures need ``extrapolate=True``); the rupture curve is an average curve checked
against the ASME III-5 expected-minimum stress to rupture (see the data file).
"""

from models.life._data import available_materials
from models.life.crack import ParisLaw
from models.life.creep import (
    KachanovRabotnov,
    KocksMeckingCreep,
    LarsonMillerCurve,
    creep_rate_law,
    larson_miller,
    norton_rate,
    robinson_fraction,
)
from models.life.fatigue import (
    StrainLifeConstants,
    cycles_to_failure,
    miner_damage,
    strain_life,
)
from models.life.interaction import BilinearEnvelope, creep_fatigue_envelope
from models.life.oxidation import ParabolicOxidation, oxidation_law, pilling_bedworth_ratio
from models.life.rainflow import Cycles, RainflowCounter, count_cycles
from models.life.scatter import (
    fatigue_creep_damage,
    larson_miller_scatter_from_bounds,
    sample_larson_miller_constant,
    sample_life_factors,
)

__all__ = [
    "BilinearEnvelope",
    "Cycles",
    "KachanovRabotnov",
    "KocksMeckingCreep",
    "LarsonMillerCurve",
    "ParabolicOxidation",
    "ParisLaw",
    "RainflowCounter",
    "StrainLifeConstants",
    "available_materials",
    "count_cycles",
    "creep_fatigue_envelope",
    "creep_rate_law",
    "cycles_to_failure",
    "fatigue_creep_damage",
    "larson_miller",
    "larson_miller_scatter_from_bounds",
    "miner_damage",
    "norton_rate",
    "oxidation_law",
    "pilling_bedworth_ratio",
    "robinson_fraction",
    "sample_larson_miller_constant",
    "sample_life_factors",
    "strain_life",
]

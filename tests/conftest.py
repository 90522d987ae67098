"""Shared fixtures. Thread counts are pinned: the suite runs on 2 cores."""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("PYVISTA_OFF_SCREEN", "true")

from hypothesis import settings  # noqa: E402  (after the thread pins above)

# Timing is not what the property tests check: a loaded 2-core CI machine must not turn
# a slow example into a failure (hypothesis's default deadline is 200 ms).
settings.register_profile("twin", deadline=None)
settings.load_profile("twin")

"""Shared fixtures. Thread counts are pinned: the suite runs on 2 cores."""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("PYVISTA_OFF_SCREEN", "true")

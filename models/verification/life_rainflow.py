"""Verification cases (``twin verify``): rainflow counting (ASTM E1049, batch and streaming).

Each group checks the law against a published example, a closed form or an
independent numerical method, with its source in the case.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from models.verification import CaseResult, compare

__all__ = ["CASES"]

_ASTM = (
    "ASTM E1049-85 (reapproved 2017), 5.4.4 and Fig. 6/Table 4: history -2,1,-3,5,-1,3,-4,4,-2 "
    "counts ranges 3 (0.5), 4 (1.5), 6 (0.5), 8 (1.0), 9 (0.5)"
)


def _rainflow_astm() -> list[CaseResult]:
    from models.life.rainflow import Cycles, RainflowCounter, count_cycles

    history = [-2.0, 1.0, -3.0, 5.0, -1.0, 3.0, -4.0, 4.0, -2.0]
    expected = {3.0: 0.5, 4.0: 1.5, 6.0: 0.5, 8.0: 1.0, 9.0: 0.5}
    out: list[CaseResult] = []
    streamed = []
    for size in (1, 2, 4):
        counter = RainflowCounter()
        parts = [counter.update(history[i : i + size]) for i in range(0, len(history), size)]
        parts.append(counter.finish())
        streamed.append((f"streaming chunk {size}", Cycles.concatenate(parts)))
    for label, cyc in [("batch", count_cycles(history)), *streamed]:
        for rng, count in expected.items():
            got = float(cyc.counts[cyc.ranges == rng].sum())
            out.append(
                compare(
                    f"life/rainflow_astm/{label}",
                    f"cycles counted at range {rng:g} (load units)",
                    got,
                    count,
                    tolerance=0.0,
                    source=_ASTM,
                )
            )
    return out


def _rainflow_streaming() -> list[CaseResult]:
    from models.life.rainflow import Cycles, RainflowCounter, count_cycles

    rng = np.random.default_rng(20240601)
    out: list[CaseResult] = []
    for case in range(6):
        n = int(rng.integers(2_000, 20_000))
        x = np.round(rng.standard_normal(n).cumsum() * 4) if case % 2 else rng.standard_normal(n)
        ref = count_cycles(x).sorted()
        counter = RainflowCounter()
        parts, pos = [], 0
        while pos < n:
            size = int(rng.integers(1, 3_000))
            parts.append(counter.update(x[pos : pos + size]))
            pos += size
        parts.append(counter.finish())
        got = Cycles.concatenate(parts).sorted()
        same = len(got) == len(ref) and got.to_tuples() == ref.to_tuples()
        out.append(
            compare(
                f"life/rainflow_streaming/history{case}",
                "cycles differing from batch (range, mean, count, start, end)",
                0.0 if same else float(abs(len(got) - len(ref)) or 1),
                0.0,
                tolerance=0.0,
                scale=1.0,
                source="rainflow package 3.2 extract_cycles (ASTM E1049-85 5.4.4) on the "
                "same history",
            )
        )
    return out


CASES: dict[str, Callable[[], list[CaseResult]]] = {
    "life/rainflow_astm": _rainflow_astm,
    "life/rainflow_streaming": _rainflow_streaming,
}

"""Rainflow counting: ASTM E1049 example, streaming == batch, state round trip, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rainflow
from hypothesis import given, settings
from hypothesis import strategies as st

import models.life.rainflow as rf
from models.errors import LawInputError
from models.life import Cycles, RainflowCounter, count_cycles

# ASTM E1049-85 (reapproved 2017), Fig. 6 history and Table 4 rainflow counts.
ASTM_HISTORY = [-2.0, 1.0, -3.0, 5.0, -1.0, 3.0, -4.0, 4.0, -2.0]
ASTM_COUNTS = {3.0: 0.5, 4.0: 1.5, 6.0: 0.5, 8.0: 1.0, 9.0: 0.5}


def stream(x: np.ndarray, sizes: list[int]) -> Cycles:
    counter = RainflowCounter()
    parts, pos = [], 0
    for size in sizes:
        parts.append(counter.update(x[pos : pos + size]))
        pos += size
    parts.append(counter.update(x[pos:]))
    parts.append(counter.finish())
    return Cycles.concatenate(parts)


def test_astm_e1049_example_counts_match_the_standard_table() -> None:
    for cyc in (count_cycles(ASTM_HISTORY), stream(np.array(ASTM_HISTORY), [1] * 9)):
        got = {}
        for r, c in zip(cyc.ranges.tolist(), cyc.counts.tolist(), strict=True):
            got[r] = got.get(r, 0.0) + c
        assert got == ASTM_COUNTS


def test_batch_counting_is_the_rainflow_package_for_three_or_more_samples() -> None:
    x = np.random.default_rng(5).standard_normal(500)
    assert count_cycles(x).to_tuples() == [tuple(c) for c in rainflow.extract_cycles(x.tolist())]


def test_two_sample_history_is_one_half_cycle() -> None:
    # ASTM E1049 5.4.4: a single range holding the start is a half cycle. (The
    # rainflow package 3.2 counts nothing for two samples; documented deviation.)
    cyc = RainflowCounter()
    cyc.update([1.0])
    cyc.update([4.0])
    assert cyc.finish().to_tuples() == [(3.0, 2.5, 0.5, 0, 1)]
    assert count_cycles([1.0, 4.0]).to_tuples() == [(3.0, 2.5, 0.5, 0, 1)]


histories = st.one_of(
    st.lists(st.integers(-4, 4).map(float), min_size=0, max_size=120),
    # The reference detects reversals by the product of successive increments, which
    # underflows to 0 for increments below ~1e-154; keep magnitudes clear of that.
    st.lists(
        st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64).filter(
            lambda v: v == 0.0 or abs(v) > 1e-100
        ),
        min_size=0,
        max_size=120,
    ),
)


@settings(max_examples=500, deadline=None)
@given(history=histories, sizes=st.lists(st.integers(0, 12), max_size=30))
def test_streaming_rainflow_matches_batch_on_random_histories_and_chunkings(
    history: list[float], sizes: list[int]
) -> None:
    x = np.asarray(history, dtype=np.float64)
    ref = count_cycles(x).sorted().to_tuples()
    saved = rf._MIN_PAIRS_PER_ROUND, rf._ROUNDS_STACK_FACTOR, rf._SMALL_CHUNK
    try:
        # All code paths: plain-Python small chunks, plain stack loop, push onto a deep
        # residue, and vectorised rounds on every chunk and every reversal.
        for setting in (saved, (1, 4, 0), (1, 0, 0), (256, 4, 1000)):
            rf._MIN_PAIRS_PER_ROUND, rf._ROUNDS_STACK_FACTOR, rf._SMALL_CHUNK = setting
            assert stream(x, sizes).sorted().to_tuples() == ref
    finally:
        rf._MIN_PAIRS_PER_ROUND, rf._ROUNDS_STACK_FACTOR, rf._SMALL_CHUNK = saved


def test_streaming_matches_reference_package_on_long_random_walk_in_uneven_chunks() -> None:
    rng = np.random.default_rng(11)
    x = np.round(rng.standard_normal(200_000).cumsum(), 1)  # many ties and plateaus
    sizes = rng.integers(1, 20_000, 40).tolist()
    got = stream(x, sizes).sorted().to_tuples()
    ref = sorted(tuple(c) for c in rainflow.extract_cycles(x.tolist()))
    assert got == sorted(ref, key=lambda c: (c[3], c[4]))


def test_counter_state_round_trips_through_json_mid_history() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal(5_000)
    a = RainflowCounter()
    first = a.update(x[:2_345])
    state = json.loads(json.dumps(a.to_dict()))
    b = RainflowCounter.from_dict(state)
    assert b.samples_seen == 2_345
    rest = Cycles.concatenate([b.update(x[2_345:]), b.finish()])
    whole = Cycles.concatenate([first, rest]).sorted().to_tuples()
    assert whole == count_cycles(x).sorted().to_tuples()
    assert len(state["residue_values"]) < 40  # the open state stays small


def test_residue_cycles_preview_leaves_the_counter_unchanged() -> None:
    x = np.random.default_rng(3).standard_normal(1_000)
    c = RainflowCounter()
    closed = c.update(x)
    before = c.to_dict()
    preview = c.residue_cycles()
    assert c.to_dict() == before
    assert Cycles.concatenate([closed, preview]).sorted().to_tuples() == (
        count_cycles(x).sorted().to_tuples()
    )
    assert c.finish().to_tuples() == preview.to_tuples()


def test_nan_sample_is_refused_with_argument_and_value() -> None:
    c = RainflowCounter()
    with pytest.raises(LawInputError, match=r"chunk: must be finite; element 2 is nan"):
        c.update([0.0, 1.0, float("nan")])
    with pytest.raises(LawInputError, match=r"history: must be finite; element 0 is inf"):
        count_cycles([float("inf"), 1.0, 2.0])


def test_two_dimensional_chunk_and_update_after_finish_are_refused() -> None:
    c = RainflowCounter()
    with pytest.raises(LawInputError, match="one-dimensional"):
        c.update(np.zeros((2, 2)))
    c.update([0.0, 1.0])
    c.finish()
    with pytest.raises(LawInputError, match="closed by finish"):
        c.update([2.0])


def test_state_with_unknown_schema_version_is_refused() -> None:
    state = RainflowCounter().to_dict()
    state["schema_version"] = 99
    with pytest.raises(LawInputError, match="schema_version"):
        RainflowCounter.from_dict(state)

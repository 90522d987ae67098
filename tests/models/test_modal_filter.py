"""The stateful modal filter against ModalResponse.simulate, its own splits and its state."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.errors import ModelInputError
from models.modal import ModalBank, ModalFilter
from models.responses import ModalResponse, ModalSet

OUTPUTS = (("temperature", "outer"), ("sigma_theta", "bore"), ("eps_theta", "outer"))


def _bank(rng: np.random.Generator, P: int = 4, M: int = 3) -> ModalBank:
    n_out = len(OUTPUTS)
    return ModalBank(
        outputs=OUTPUTS,
        amplitudes=rng.normal(size=(P, n_out, M)),
        time_constants=10.0 ** rng.uniform(0.5, 3.5, size=(P, n_out, M)),
        direct=0.1 * rng.normal(size=(P, n_out)),
        pressure_gain=rng.normal(size=(P, n_out)),
    )


def _history(rng: np.random.Generator, n: int, *, uniform: bool) -> tuple[np.ndarray, ...]:
    # a start-up ramp, a hold and a fast drop (a trip), sampled after t0 = 100 s
    t = 100.0 + (np.arange(1, n + 1) * 7.0 if uniform else np.cumsum(rng.uniform(0.5, 14.0, n)))
    span = t[-1] - 100.0
    tf = np.interp(t, 100.0 + span * np.array([0, 0.4, 0.7, 0.75, 1.0]), [420, 830, 830, 600, 600])
    p = np.interp(t, 100.0 + span * np.array([0, 0.4, 1.0]), [1e6, 17e6, 17e6])
    return t, tf, p


def _reference(bank: ModalBank, t, tf, p, *, t0=100.0, tf0=420.0, p0=1e6) -> np.ndarray:
    # independent path: one ModalResponse.simulate per particle and output, with the
    # starting point prepended (the filter starts at rest in equilibrium with T_f(t0))
    T, U, Pr = np.r_[t0, t], np.r_[tf0, tf] - tf0, np.r_[p0, p]
    P, n_out, _ = bank.amplitudes.shape
    out = np.empty((P, n_out, t.size))
    for i in range(P):
        for j in range(n_out):
            r = ModalResponse(
                direct=float(bank.direct[i, j]),
                amplitudes=bank.amplitudes[i, j],
                time_constants=bank.time_constants[i, j],
            )
            out[i, j] = (r.simulate(T, U) + bank.pressure_gain[i, j] * Pr)[1:]
    return out


def _started(bank: ModalBank) -> ModalFilter:
    f = ModalFilter(bank)
    f.start(100.0, 420.0, 1e6)
    return f


@pytest.mark.parametrize("uniform", [True, False])
def test_filter_equals_modal_response_simulate_to_round_off(uniform: bool) -> None:
    rng = np.random.default_rng(3)
    bank = _bank(rng)
    t, tf, p = _history(rng, 400, uniform=uniform)
    y = _started(bank).advance(t, tf, p)
    ref = _reference(bank, t, tf, p)
    scale = np.abs(ref).max(axis=2, keepdims=True)
    assert y.shape == (4, 3, 400)
    np.testing.assert_array_less(np.abs(y - ref) / scale, 1e-12)


def test_filter_follows_a_first_order_lag_ramp_analytically() -> None:
    # one mode, u = r (t - t0): x = r (s - tau (1 - exp(-s/tau))), s = t - t0 (lag of a ramp)
    tau, rate, b = 60.0, 0.25, 2.0
    bank = ModalBank(
        outputs=(("temperature", "outer"),),
        amplitudes=[[[b]]],
        time_constants=[[[tau]]],
        direct=[[0.0]],
        pressure_gain=[[0.0]],
    )
    f = ModalFilter(bank)
    f.start(0.0, 300.0, 0.0)
    s = np.linspace(3.0, 900.0, 300)
    y = f.advance(s, 300.0 + rate * s, np.zeros_like(s))[0, 0]
    exact = b * rate * (s - tau * (1.0 - np.exp(-s / tau)))
    np.testing.assert_allclose(y, exact, rtol=1e-12, atol=1e-12)


def test_one_reading_at_a_time_equals_the_batch_bit_for_bit() -> None:
    rng = np.random.default_rng(5)
    bank = _bank(rng)
    t, tf, p = _history(rng, 200, uniform=False)
    batch = _started(bank).advance(t, tf, p)
    f = _started(bank)
    single = np.concatenate([f.advance(t[k], tf[k], p[k]) for k in range(t.size)], axis=2)
    np.testing.assert_array_equal(single, batch)


@settings(max_examples=40)
@given(
    cuts=st.lists(st.integers(min_value=1, max_value=299), max_size=12, unique=True),
    uniform=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_any_split_of_a_batch_gives_the_same_outputs(cuts, uniform, seed) -> None:
    rng = np.random.default_rng(seed)
    bank = _bank(rng, P=3)
    t, tf, p = _history(rng, 300, uniform=uniform)
    whole = _started(bank).advance(t, tf, p)
    f = _started(bank)
    edges = [0, *sorted(cuts), 300]
    parts = [f.advance(t[a:b], tf[a:b], p[a:b]) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    np.testing.assert_array_equal(np.concatenate(parts, axis=2), whole)


def test_many_irregular_steps_take_the_chunked_path_and_still_match() -> None:
    # more distinct step lengths than one compiled call takes (16): chunks of 64 steps
    rng = np.random.default_rng(11)
    bank = _bank(rng, P=2)
    t, tf, p = _history(rng, 500, uniform=False)
    y = _started(bank).advance(t, tf, p)
    ref = _reference(bank, t, tf, p)
    np.testing.assert_array_less(np.abs(y - ref) / np.abs(ref).max(axis=2, keepdims=True), 1e-12)


def test_state_dict_round_trip_through_json_and_npz_continues_identically(tmp_path) -> None:
    rng = np.random.default_rng(8)
    bank = _bank(rng)
    t, tf, p = _history(rng, 300, uniform=False)
    ref = _started(bank)
    ref.advance(t[:120], tf[:120], p[:120])
    d = ref.state_dict()
    arrays = {k: v for k, v in d.items() if isinstance(v, np.ndarray)}
    np.savez(tmp_path / "state.npz", **arrays)
    meta = {k: v for k, v in d.items() if k not in arrays}
    (tmp_path / "state.json").write_text(json.dumps(meta))
    with np.load(tmp_path / "state.npz", allow_pickle=False) as z:
        back = {**json.loads((tmp_path / "state.json").read_text()), **dict(z)}
    restored = ModalFilter.from_state_dict(back)
    np.testing.assert_array_equal(
        restored.advance(t[120:], tf[120:], p[120:]), ref.advance(t[120:], tf[120:], p[120:])
    )
    assert restored.state.t_last == ref.state.t_last == t[-1]


def test_state_reports_mode_states_of_a_steady_input() -> None:
    # after a long hold at u = 50 K every mode has settled: x = u, y = gain u + k p
    rng = np.random.default_rng(2)
    bank = _bank(rng, P=2)
    f = _started(bank)
    y = f.advance([1e7, 2e7], [470.0, 470.0], [2e6, 2e6])
    st_ = f.state
    np.testing.assert_allclose(st_.x, 50.0, rtol=1e-12)
    assert st_.u_last == 50.0 and st_.T_f0 == 420.0 and st_.t0 == 100.0 and st_.p_last == 2e6
    np.testing.assert_allclose(
        y[:, :, -1], bank.static_gain * 50.0 + bank.pressure_gain * 2e6, rtol=1e-12
    )


def test_take_resamples_states_and_parameters_together() -> None:
    rng = np.random.default_rng(4)
    bank = _bank(rng, P=5)
    t, tf, p = _history(rng, 200, uniform=True)
    f = _started(bank)
    f.advance(t[:80], tf[:80], p[:80])
    idx = np.array([3, 3, 0, 4, 1])
    x_before = f.state.x
    f.take(idx)
    np.testing.assert_array_equal(f.state.x, x_before[idx])
    np.testing.assert_array_equal(f.bank.time_constants, bank.time_constants[idx])
    after = f.advance(t[80:], tf[80:], p[80:])
    full = _started(bank).advance(t, tf, p)
    np.testing.assert_array_equal(after, full[idx, :, 80:])
    # resampling may change the particle count
    f.take([0, 1])
    assert f.n_particles == 2 and f.state.x.shape == (2, 3, 3)


def test_set_bank_keeps_the_mode_states() -> None:
    # switching to new amplitudes mid-run keeps x: the output after the switch uses
    # the new amplitudes on the same states (same time constants here)
    rng = np.random.default_rng(6)
    bank = _bank(rng, P=2)
    t, tf, p = _history(rng, 100, uniform=True)
    f = _started(bank)
    f.advance(t[:50], tf[:50], p[:50])
    x = f.state.x
    new = ModalBank(
        outputs=bank.outputs,
        amplitudes=2.0 * bank.amplitudes,
        time_constants=bank.time_constants,
        direct=bank.direct,
        pressure_gain=bank.pressure_gain,
    )
    f.set_bank(new)
    np.testing.assert_array_equal(f.state.x, x)
    y = f.advance(t[50:], tf[50:], p[50:])
    g = _started(bank)
    g.advance(t[:50], tf[:50], p[:50])
    y_old = g.advance(t[50:], tf[50:], p[50:])
    u = tf[50:] - 420.0
    # y = d u + sum b x + k p: doubling b doubles (y - d u - k p)
    rest_old = y_old - bank.direct[..., None] * u - bank.pressure_gain[..., None] * p[50:]
    rest_new = y - bank.direct[..., None] * u - bank.pressure_gain[..., None] * p[50:]
    np.testing.assert_allclose(rest_new, 2.0 * rest_old, rtol=1e-9, atol=1e-9 * abs(rest_old).max())


def test_bank_from_modal_set_pads_modes_and_takes_pressure_gains() -> None:
    ms = ModalSet(
        {
            ("temperature", "outer", "fluid_temperature"): ModalResponse(
                0.0, np.array([0.7, 0.3]), np.array([20.0, 400.0])
            ),
            ("temperature", "outer", "pressure"): ModalResponse(0.0),
            ("sigma_theta", "bore", "fluid_temperature"): ModalResponse(
                0.0, np.array([-2e6, 2e6, 0.5e6]), np.array([5.0, 50.0, 500.0])
            ),
            ("sigma_theta", "bore", "pressure"): ModalResponse(3.2),
        }
    )
    bank = ModalBank.from_modal_set(ms, [("temperature", "outer"), ("sigma_theta", "bore")])
    assert (bank.n_particles, bank.n_outputs, bank.n_modes) == (1, 2, 3)
    np.testing.assert_array_equal(bank.amplitudes[0, 0], [0.7, 0.3, 0.0])
    assert bank.time_constants[0, 0, 2] > 0.0
    np.testing.assert_array_equal(bank.pressure_gain, [[0.0, 3.2]])
    # the filter of the bank equals ModalSet.simulate on the same history
    rng = np.random.default_rng(1)
    t, tf, p = _history(rng, 150, uniform=False)
    f = ModalFilter(bank.take(np.zeros(3, dtype=int)))
    f.start(100.0, 420.0, 1e6)
    y = f.advance(t, tf, p)
    for j, (o, loc) in enumerate(bank.outputs):
        ref = ms.simulate(
            o, loc, np.r_[100.0, t], fluid_temperature=np.r_[420.0, tf], pressure=np.r_[1e6, p]
        )[1:]
        np.testing.assert_allclose(y[2, j], ref, rtol=1e-12, atol=1e-12 * abs(ref).max())
    with pytest.raises(ModelInputError, match="n_modes"):
        ModalBank.from_modal_set(ms, [("sigma_theta", "bore")], n_modes=2)


def test_bad_input_is_refused_naming_the_field_and_value() -> None:
    rng = np.random.default_rng(0)
    bank = _bank(rng, P=2)
    f = ModalFilter(bank)
    with pytest.raises(ModelInputError, match="start"):
        f.advance([1.0], [400.0], [0.0])
    f.start(100.0, 420.0, 1e6)
    with pytest.raises(ModelInputError, match=r"t\[0\]: 100.0"):
        f.advance([100.0], [420.0], [1e6])
    with pytest.raises(ModelInputError, match=r"t\[2\]: 105.0"):
        f.advance([101.0, 105.0, 105.0], [420.0] * 3, [1e6] * 3)
    with pytest.raises(ModelInputError, match=r"fluid_temperature\[1\]: must be finite, got nan"):
        f.advance([101.0, 102.0], [420.0, np.nan], [1e6, 1e6])
    with pytest.raises(ModelInputError, match=r"pressure: expected shape \(2,\)"):
        f.advance([101.0, 102.0], [420.0, 421.0], [1e6])
    # a refused call leaves the state untouched
    assert f.state.t_last == 100.0
    with pytest.raises(ModelInputError, match=r"idx\[1\]: 2 is not a particle index"):
        f.take([0, 2])
    with pytest.raises(ModelInputError, match="time_constants"):
        ModalBank(
            outputs=OUTPUTS[:1],
            amplitudes=[[[1.0]]],
            time_constants=[[[0.0]]],
            direct=[[0.0]],
            pressure_gain=[[0.0]],
        )
    with pytest.raises(ModelInputError, match="shape"):
        f.set_bank(bank.take([0]))
    with pytest.raises(ModelInputError, match="schema_version"):
        ModalFilter.from_state_dict({**f.state_dict(), "schema_version": 99})

"""Plots of a solve: the history panels and the titles of the 3-D pictures."""

from __future__ import annotations

import numpy as np
import xarray as xr


def _dataset() -> xr.Dataset:
    # The usual start-up: fluid temperature and pressure ramp together, so on twin axes
    # of one panel (each autoscaled) their curves lie exactly on top of each other.
    t = np.linspace(0.0, 3 * 3600.0, 31)
    ramp = np.clip(t / 7200.0, 0.0, 1.0)
    locs = ["bore", "mid_wall", "outer"]
    hist = np.outer(ramp, [1.0, 0.9, 0.8])
    profile = np.array([[0.0, 1.0, 3.0], [5.0, 2.0, 1.0], [2.0, 2.0, 2.0]]) * 1e7
    return xr.Dataset(
        {
            "fluid_temperature": ("time", 423.15 + 415.0 * ramp),
            "pressure": ("time", 1e6 + 16e6 * ramp),
            "temperature": (("time", "location"), 423.15 + 400.0 * hist),
            "sigma_theta": (("time", "location"), 1e8 * hist),
            "sigma_vm": (("time", "location"), 1e8 * hist),
            "sigma_theta_profile": (("time_field", "r"), profile, {"units": "Pa"}),
        },
        coords={
            "time": t,
            "location": locs,
            "time_field": [3600.0, 7200.0, 10800.0],
            "r": [0.15, 0.175, 0.2],
        },
        attrs={"component": "header-a", "material": "grade91"},
    )


def test_fluid_temperature_and_pressure_have_separate_panels() -> None:
    import matplotlib.pyplot as plt

    from models.export import history_figure

    fig = history_figure(_dataset())
    try:
        owner = {}
        for ax in fig.axes:
            for line in ax.lines:
                owner[line.get_label()] = ax
        tf_ax, p_ax = owner["fluid temperature"], owner["pressure"]
        assert tf_ax is not p_ax
        # not two y-axes of one panel: the panels do not overlap on the figure
        a, b = tf_ax.get_position(), p_ax.get_position()
        assert a.y0 >= b.y1 or b.y0 >= a.y1
        assert p_ax.get_ylabel() == "p [MPa]" and tf_ax.get_ylabel() == "T_f [degC]"
        np.testing.assert_allclose(p_ax.lines[0].get_ydata()[[0, -1]], [1.0, 17.0])
    finally:
        plt.close(fig)


def test_a_quarter_pipe_title_says_which_time_it_shows_and_why() -> None:
    from models.export import quarter_pipe_title

    ds = _dataset()
    # the second field time has the largest through-wall range (5e7 - 1e7 = 4e7 Pa)
    chosen = quarter_pipe_title(ds, variable="sigma_theta", time_index=1, chosen=True)
    assert chosen.splitlines()[0] == "header-a: hoop stress at t = 2.00 h"
    assert "field time 2 of 3: the largest through-wall range of the 3" in chosen
    asked = quarter_pipe_title(ds, variable="sigma_theta", time_index=0, chosen=False)
    assert "t = 1.00 h" in asked and "as requested" in asked

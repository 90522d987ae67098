"""Child process of :func:`models.export.render_quarter_pipe`: render one picture.

Run as ``python -m models._render SPEC_JSON``; the spec names an ``.npz`` file with the
radial profile (``r`` in m, ``values`` already scaled), the colour-bar label, the title,
the PNG path and the window size. The radial profile is revolved into a quarter pipe
(axisymmetric field) and rendered off-screen with pyvista.
"""

from __future__ import annotations

import json
import sys

import numpy as np


def _render(spec: dict[str, object]) -> None:
    import pyvista as pv

    pv.OFF_SCREEN = True
    with np.load(str(spec["data"])) as data:
        r = np.asarray(data["r"], dtype=float)
        values = np.asarray(data["values"], dtype=float)
    label = str(spec["label"])
    wall = float(r[-1] - r[0])
    theta = np.linspace(0.0, 0.5 * np.pi, 49)
    z = np.linspace(0.0, 3.0 * wall, 7)
    R, TH, Z = np.meshgrid(r, theta, z, indexing="ij")
    grid = pv.StructuredGrid(R * np.cos(TH), R * np.sin(TH), Z)
    field = np.broadcast_to(values[:, None, None], R.shape)
    grid.point_data[label] = field.ravel(order="F")
    width, height = (int(v) for v in spec["window_size"])  # type: ignore[attr-defined]
    plotter = pv.Plotter(off_screen=True, window_size=[width, height])
    plotter.add_mesh(
        grid,
        scalars=label,
        cmap="coolwarm",
        show_edges=False,
        scalar_bar_args={"fmt": "%.1f", "title": label},
    )
    plotter.add_text(str(spec["title"]), font_size=10)
    # look from inside the pipe, above the end face: bore, end section and outer edge
    plotter.view_vector((-1.0, -1.0, 1.4), viewup=(0.0, 0.0, 1.0))  # type: ignore[arg-type]
    plotter.camera.zoom(1.1)  # type: ignore[no-untyped-call]
    plotter.screenshot(str(spec["path"]))
    plotter.close()


if __name__ == "__main__":
    _render(json.loads(sys.argv[1]))

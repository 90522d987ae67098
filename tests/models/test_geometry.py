"""The wall mesh: boundary tags on large and finely meshed walls."""

from __future__ import annotations

import dolfinx_solver  # noqa: F401  (orders MPI before dolfinx)
import numpy as np
import pytest

from models.errors import ConfigError
from models.geometry import BORE, BOTTOM, OUTER, TOP, check_facet_counts, create_wall_mesh


@pytest.mark.parametrize(
    ("inner_radius", "wall", "radial_cells", "grading"),
    [
        (0.15, 0.05, 40, 1.0),  # the example header
        (10.0, 0.05, 2000, 1.0),  # a large vessel: radial cell 2.5e-6 of the radius
        (0.15, 0.05, 400, 8.0),  # a refinement study graded towards the bore
    ],
)
def test_each_surface_is_tagged_with_the_facets_the_mesh_implies(
    inner_radius: float, wall: float, radial_cells: int, grading: float
) -> None:
    # A structured n_r x n_z mesh of the rectangle has n_z facets on each of r = a and
    # r = b and n_r on each end face; np.isclose's relative tolerance (1e-5 of the radius)
    # tagged the end-face facets next to the corners as bore and outer too.
    axial = 3
    wall_mesh = create_wall_mesh(
        inner_radius=inner_radius,
        outer_radius=inner_radius + wall,
        length=0.01,
        radial_cells=radial_cells,
        axial_cells=axial,
        radial_grading=grading,
    )
    tags = wall_mesh.facet_tags
    counts = {tag: tags.find(tag).size for tag in (BORE, OUTER, BOTTOM, TOP)}
    assert counts == {BORE: axial, OUTER: axial, BOTTOM: radial_cells, TOP: radial_cells}
    # every bore facet lies on r = a, every outer facet on r = b (to round-off)
    msh = wall_mesh.mesh
    msh.topology.create_connectivity(1, 0)
    f2v = msh.topology.connectivity(1, 0)
    x = msh.geometry.x
    for tag, radius in ((BORE, inner_radius), (OUTER, inner_radius + wall)):
        nodes = np.concatenate([f2v.links(f) for f in tags.find(tag)])
        np.testing.assert_allclose(x[nodes, 0], radius, rtol=0.0, atol=1e-12 * radius)


def test_the_facet_count_check_names_the_surface_that_is_wrong() -> None:
    wall_mesh = create_wall_mesh(
        inner_radius=0.15, outer_radius=0.2, length=0.01, radial_cells=4, axial_cells=2
    )
    with pytest.raises(ConfigError, match="bore surface has 2 facets where the mesh implies 3"):
        check_facet_counts(wall_mesh.mesh, wall_mesh.facet_tags, {BORE: 3})

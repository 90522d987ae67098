r"""Axisymmetric r-z mesh of a slice of a thick-walled cylinder.

The wall section :math:`a \le r \le b`, :math:`0 \le z \le L` is meshed as a
structured rectangle of quadrilaterals (:func:`dolfinx.mesh.create_rectangle`);
the mesh coordinate ``x[0]`` is the radius ``r`` and ``x[1]`` the axial
coordinate ``z``. The four sides are tagged (:data:`BORE`, :data:`OUTER`,
:data:`BOTTOM`, :data:`TOP`) for boundary conditions and boundary integrals, with an
absolute tolerance below the smallest cell, and each tag is checked to hold the facet
count the mesh implies (:func:`check_facet_counts`).

Points are located once (:meth:`WallMesh.locate`) so that histories at fixed radii
can be evaluated cheaply at every time step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from models._bindings import ensure_bindings
from models.errors import ConfigError

__all__ = [
    "BORE",
    "BOTTOM",
    "OUTER",
    "TOP",
    "PointSet",
    "WallMesh",
    "check_facet_counts",
    "create_wall_mesh",
]

#: Facet tag of the inner (bore) surface r = a.
BORE: int = 1
#: Facet tag of the outer surface r = b.
OUTER: int = 2
#: Facet tag of the lower end z = 0 (axial symmetry plane).
BOTTOM: int = 3
#: Facet tag of the upper end z = L (generalised plane strain face).
TOP: int = 4


@dataclass(frozen=True)
class PointSet:
    """Points of the r-z section with the cells that contain them.

    Attributes
    ----------
    radius : numpy.ndarray, shape (n,)
        Radii in m.
    x : numpy.ndarray, shape (n, 3)
        Point coordinates ``(r, z, 0)`` in m.
    cells : numpy.ndarray of int32, shape (n,)
        Index of a (local) cell containing each point.
    """

    radius: np.ndarray
    x: np.ndarray
    cells: np.ndarray


@dataclass(frozen=True)
class WallMesh:
    """A meshed r-z wall slice with tagged boundaries.

    Attributes
    ----------
    mesh : dolfinx.mesh.Mesh
        Quadrilateral mesh, ``x[0] = r``, ``x[1] = z`` (m).
    facet_tags : dolfinx.mesh.MeshTags
        Exterior facets tagged :data:`BORE`, :data:`OUTER`, :data:`BOTTOM`, :data:`TOP`.
    inner_radius, outer_radius, length : float
        ``a``, ``b`` and ``L`` in m.
    """

    mesh: Any
    facet_tags: Any
    inner_radius: float
    outer_radius: float
    length: float

    @property
    def num_cells(self) -> int:
        """Number of cells owned by this process."""
        return int(self.mesh.topology.index_map(2).size_local)

    def locate(self, radius: np.ndarray | list[float], *, z: float | None = None) -> PointSet:
        """Locate points at the given radii (at height ``z``, mid-height by default).

        Parameters
        ----------
        radius : array_like, shape (n,)
            Radii in m, inside ``[a, b]`` (a relative tolerance of 1e-9 is allowed for round-off).
        z : float, optional
            Axial coordinate in m; defaults to ``L / 2``.

        Returns
        -------
        PointSet

        Raises
        ------
        ConfigError
            If a radius lies outside the wall.
        """
        ensure_bindings()
        from dolfinx import geometry

        r = np.atleast_1d(np.asarray(radius, dtype=float))
        a, b = self.inner_radius, self.outer_radius
        tol = 1e-9 * b
        bad = (r < a - tol) | (r > b + tol)
        if np.any(bad):
            raise ConfigError(
                f"radius {float(r[np.argmax(bad)])} m lies outside the wall [{a}, {b}] m; "
                "choose a radius between the inner and outer radius"
            )
        r = np.clip(r, a, b)
        zc = 0.5 * self.length if z is None else float(z)
        x = np.zeros((r.size, 3))
        x[:, 0] = r
        x[:, 1] = zc
        tree = geometry.bb_tree(self.mesh, self.mesh.topology.dim)
        candidates = geometry.compute_collisions_points(tree, x)
        colliding = geometry.compute_colliding_cells(self.mesh, candidates, x)
        cells = np.empty(r.size, dtype=np.int32)
        for i in range(r.size):
            links = colliding.links(i)
            if len(links) == 0:  # pragma: no cover - a point inside the rectangle always hits
                raise ConfigError(f"radius {r[i]} m: no cell of the mesh contains the point")
            cells[i] = links[0]
        return PointSet(radius=r, x=x, cells=cells)


def _smallest_spacing(x: np.ndarray) -> float:
    """Smallest distance between distinct node coordinates along r and z, in m."""
    gaps = []
    for j in (0, 1):
        values = np.unique(x[:, j])
        if values.size > 1:
            gaps.append(float(np.min(np.diff(values))))
    return min(gaps)


def check_facet_counts(msh: Any, tags: Any, expected: dict[int, int]) -> None:
    """Check that each boundary tag holds the number of facets the mesh implies.

    Parameters
    ----------
    msh : dolfinx.mesh.Mesh
        The mesh the tags belong to.
    tags : dolfinx.mesh.MeshTags
        Facet tags.
    expected : dict of int to int
        Facet count per tag, over all processes.

    Raises
    ------
    ConfigError
        If a tag holds more or fewer facets than expected, or a facet carries two
        tags (the boundary would receive its load twice).
    """
    fdim = msh.topology.dim - 1
    n_owned = msh.topology.index_map(fdim).size_local
    owned = tags.indices < n_owned
    if np.unique(tags.indices).size != tags.indices.size:
        raise ConfigError(
            "mesh: a boundary facet carries two tags (bore, outer or end faces overlap); "
            "the cells are too small for the geometry, use fewer radial_cells"
        )
    names = {BORE: "bore", OUTER: "outer", BOTTOM: "bottom end", TOP: "top end"}
    for tag, count in expected.items():
        local = int(np.count_nonzero(tags.values[owned] == tag))
        found = int(msh.comm.allreduce(local))
        if found != count:
            raise ConfigError(
                f"mesh: the {names.get(tag, tag)} surface has {found} facets where the mesh "
                f"implies {count}; the boundary conditions would act on the wrong facets. "
                "Fix: check geometry and mesh (radial_cells, axial_cells)"
            )


def create_wall_mesh(
    *,
    inner_radius: float,
    outer_radius: float,
    length: float,
    radial_cells: int,
    axial_cells: int,
    radial_grading: float = 1.0,
) -> WallMesh:
    """Mesh the r-z section of a thick-walled cylinder slice.

    Parameters
    ----------
    inner_radius, outer_radius : float
        ``a < b`` in m.
    length : float
        Axial length ``L`` of the slice in m.
    radial_cells, axial_cells : int
        Number of cells across the wall and along the axis.
    radial_grading : float, optional
        Ratio of the outermost to the innermost radial cell size (geometric
        grading; ``1`` is uniform, ``< 1`` refines towards the outer surface,
        ``> 1`` refines towards the bore).

    Returns
    -------
    WallMesh

    Raises
    ------
    ConfigError
        If the dimensions are nonphysical.
    """
    ensure_bindings()
    import dolfinx.mesh as dmesh
    from mpi4py import MPI

    if not 0.0 < inner_radius < outer_radius:
        raise ConfigError(
            f"geometry: need 0 < inner_radius < outer_radius, got {inner_radius} m and "
            f"{outer_radius} m; fix the radii"
        )
    if length <= 0.0:
        raise ConfigError(f"geometry.length: must be > 0, got {length} m")
    if radial_cells < 1 or axial_cells < 1:
        raise ConfigError(
            f"mesh: need at least one cell in each direction, got radial_cells={radial_cells}, "
            f"axial_cells={axial_cells}"
        )
    if radial_grading <= 0.0:
        raise ConfigError(f"radial_grading: must be > 0, got {radial_grading}")
    msh = dmesh.create_rectangle(
        MPI.COMM_WORLD,
        [np.array([inner_radius, 0.0]), np.array([outer_radius, length])],
        [radial_cells, axial_cells],
        cell_type=dmesh.CellType.quadrilateral,
    )
    if radial_grading != 1.0:
        # geometric progression of cell sizes, mapped node by node (mesh stays structured)
        q = radial_grading ** (-1.0 / max(radial_cells - 1, 1))
        s = (msh.geometry.x[:, 0] - inner_radius) / (outer_radius - inner_radius)
        mapped = (1.0 - q ** (s * radial_cells)) / (1.0 - q**radial_cells)
        msh.geometry.x[:, 0] = inner_radius + (outer_radius - inner_radius) * mapped

    tdim = msh.topology.dim
    fdim = tdim - 1
    msh.topology.create_connectivity(fdim, tdim)
    # An absolute tolerance, well below the smallest cell: np.isclose's default relative
    # tolerance (1e-5 of the radius) would tag end-face facets of thin radial cells too.
    tol = 1e-6 * _smallest_spacing(msh.geometry.x)
    markers = (
        (BORE, lambda x: np.abs(x[0] - inner_radius) <= tol),
        (OUTER, lambda x: np.abs(x[0] - outer_radius) <= tol),
        (BOTTOM, lambda x: np.abs(x[1]) <= tol),
        (TOP, lambda x: np.abs(x[1] - length) <= tol),
    )
    indices, values = [], []
    for tag, marker in markers:
        facets = dmesh.locate_entities_boundary(msh, fdim, marker)
        indices.append(facets)
        values.append(np.full(facets.size, tag, dtype=np.int32))
    idx = np.concatenate(indices).astype(np.int32)
    val = np.concatenate(values)
    order = np.argsort(idx, kind="stable")
    tags = dmesh.meshtags(msh, fdim, idx[order], val[order])
    check_facet_counts(
        msh,
        tags,
        {BORE: axial_cells, OUTER: axial_cells, BOTTOM: radial_cells, TOP: radial_cells},
    )
    return WallMesh(
        mesh=msh,
        facet_tags=tags,
        inner_radius=float(inner_radius),
        outer_radius=float(outer_radius),
        length=float(length),
    )

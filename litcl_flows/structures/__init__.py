"""Science core: build and order crystal structures (pymatgen in, pymatgen out)."""

from litcl_flows.structures.errors import StructureInputError
from litcl_flows.structures.ordering import (
    OrderedSupercell,
    SiteOccupancy,
    SiteOrbit,
    ordered_supercells,
    parse_occupancy_spec,
    site_orbits,
)
from litcl_flows.structures.supercells import (
    MDCell,
    best_supercell_matrix,
    md_cell,
    perpendicular_widths_A,
)

__all__ = [
    "MDCell",
    "OrderedSupercell",
    "SiteOccupancy",
    "SiteOrbit",
    "StructureInputError",
    "best_supercell_matrix",
    "md_cell",
    "ordered_supercells",
    "parse_occupancy_spec",
    "perpendicular_widths_A",
    "site_orbits",
]

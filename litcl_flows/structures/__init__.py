"""Science core: build and order crystal structures (pymatgen in, pymatgen out).

Names load on first use (PEP 562), so importing :mod:`litcl_flows.structures.library` does not
pay for pymatgen's symmetry and Ewald modules (about 0.7 s).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from litcl_flows.structures.disorder import (
        DisorderedCell,
        disordered_md_cell,
        parent_cell_lattice,
    )
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

#: public name → submodule defining it
_MODULES = {
    "DisorderedCell": "disorder",
    "disordered_md_cell": "disorder",
    "parent_cell_lattice": "disorder",
    "StructureInputError": "errors",
    "OrderedSupercell": "ordering",
    "SiteOccupancy": "ordering",
    "SiteOrbit": "ordering",
    "ordered_supercells": "ordering",
    "parse_occupancy_spec": "ordering",
    "site_orbits": "ordering",
    "MDCell": "supercells",
    "best_supercell_matrix": "supercells",
    "md_cell": "supercells",
    "perpendicular_widths_A": "supercells",
}

__all__ = [
    "DisorderedCell",
    "MDCell",
    "OrderedSupercell",
    "SiteOccupancy",
    "SiteOrbit",
    "StructureInputError",
    "best_supercell_matrix",
    "disordered_md_cell",
    "md_cell",
    "ordered_supercells",
    "parent_cell_lattice",
    "parse_occupancy_spec",
    "perpendicular_widths_A",
    "site_orbits",
]


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)

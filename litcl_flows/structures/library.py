"""Built-in structures shipped with the package, and loading a structure by name or path."""

from __future__ import annotations

import re
import warnings
from importlib.resources import files
from pathlib import Path

from pymatgen.core import Structure

from litcl_flows.structures.errors import StructureInputError

#: Built-in structure names → CIF files in ``litcl_flows/data/structures``.
BUILTIN_STRUCTURES: dict[str, str] = {"li3ticl6": "Li3TiCl6_C2m.cif"}


def builtin_structure_path(name: str) -> Path:
    """Path of the CIF of a built-in structure (see :data:`BUILTIN_STRUCTURES`)."""
    try:
        file_name = BUILTIN_STRUCTURES[name.lower()]
    except KeyError:
        known = ", ".join(sorted(BUILTIN_STRUCTURES))
        raise ValueError(f"unknown built-in structure {name!r} (known: {known})") from None
    return Path(str(files("litcl_flows") / "data" / "structures" / file_name))


def resolve_structure_source(name_or_path: str, base_dir: Path | None = None) -> Path:
    """Turn a built-in name or a (relative) file path into an existing file path.

    Raises ``FileNotFoundError`` naming the file when it does not exist.
    """
    if name_or_path.lower() in BUILTIN_STRUCTURES:
        return builtin_structure_path(name_or_path)
    path = Path(name_or_path).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        raise FileNotFoundError(f"structure file not found: {path}")
    return path


def load_structure(name_or_path: str, base_dir: Path | None = None) -> Structure:
    """Load a structure (CIF, POSCAR, any format pymatgen reads) by built-in name or path.

    Partial occupancies are kept; see :func:`order_by_majority_occupancy` or the supercell
    ordering for turning them into whole atoms.

    Raises ``StructureInputError`` (a ``ValueError``) in one line when pymatgen cannot read
    the file, e.g. a CIF whose occupancies sum above 1 on a site.
    """
    path = resolve_structure_source(name_or_path, base_dir)
    # pymatgen's CIF parser explains a rejected file only in warnings; keep the reason.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            structure = Structure.from_file(path)
        except ValueError as error:
            overfull = dict.fromkeys(
                match.group(1)
                for warning in caught
                if (
                    match := re.search(
                        r"occupancies \((\[.*?\])\) sum to > 1", str(warning.message)
                    )
                )
            )
            if overfull:
                reason = f"site occupancies sum to more than 1 ({', '.join(overfull)})"
            else:
                reason = " ".join(str(error).split())
            raise StructureInputError(f"cannot read {path}: {reason}") from error
    for warning in caught:  # a readable file keeps its parser warnings
        warnings.warn(warning.message, warning.category, stacklevel=2)
    return structure


def order_by_majority_occupancy(structure: Structure) -> Structure:
    """The simplest ordering: each site keeps its majority species if that exceeds 1/2.

    Sites whose total occupancy is at most 1/2 are left vacant. For Li3TiCl6 this puts Ti
    on 2a (0.851) and empties 4g (0.075), giving stoichiometric Li6Ti2Cl12 in one cell.
    Only for quick runs in the smallest cell: ordered supercells that reproduce the
    occupancies come from :mod:`litcl_flows.structures` supercell ordering.
    """
    species, coords = [], []
    for site in structure:
        element, occupancy = max(site.species.items(), key=lambda item: item[1])
        if occupancy > 0.5:
            species.append(element)
            coords.append(site.frac_coords)
    return Structure(structure.lattice, species, coords)

"""Supercell, endpoints and starting images of one hop.

Supercell: the smallest diagonal supercell whose shortest lattice vector — the distance
between a vacancy and its periodic images — is at least ``min_image_distance_A`` (default
9 Å), within ``max_atoms``. Written here rather than taken from pymatgen-analysis-diffusion's
``get_sc_fromstruct``, which has no size cap (it raises ``max_atoms`` until it succeeds) and
measures cell-vector lengths, not the periodic-image distance of a non-orthogonal cell.

Endpoints: both carry the migrating ion at the same index (the first site of its species),
at the start site and at the unwrapped end position; in a vacancy hop the ion that sat on
the end site is removed, as an ion: the cell carries the vacancy's charge (−1 for Li⁺, from
the ion's oxidation state in the cell), which VASP turns into NELECT = default + 1, so the
host keeps its oxidation states (no Ti³⁺ becomes Ti⁴⁺). Force fields (CHGNet, DeePMD) have
no electrons to count; the question does not arise for them. An interstitial hop moves an ion of a
stoichiometric cell to an empty site (a Frenkel pair at the end): neutral.

Images: linear interpolation without periodic wrapping (the hop may span half the supercell,
where a minimum-image interpolation is ambiguous), then pymatgen's ``IDPPSolver``
(Smidstrup et al., J. Chem. Phys. 140, 214106 (2014)).
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import numpy as np
from pymatgen.analysis.diffusion.neb.pathfinder import IDPPSolver
from pymatgen.core import Lattice, Structure

from litcl_flows.neb.hops import Hop, NebSetupError

#: Smallest distance between a vacancy and its periodic images, Å.
DEFAULT_MIN_IMAGE_DISTANCE_A = 9.0
#: Largest supercell (atoms before the vacancy is made).
DEFAULT_MAX_ATOMS = 400
#: A site of the supercell matches a hop end when it lies closer than this, Å.
SITE_MATCH_TOLERANCE_A = 0.1


def min_image_distance_A(lattice: Lattice) -> float:
    """Length of the shortest non-zero lattice vector, Å (LLL-reduced, combinations up to ±2)."""
    reduced = lattice.get_lll_reduced_lattice().matrix
    coefficients = np.array(
        [c for c in itertools.product(range(-2, 3), repeat=3) if any(c)], dtype=float
    )
    return float(np.min(np.linalg.norm(coefficients @ reduced, axis=1)))


def vacancy_supercell(
    structure: Structure,
    min_image_distance: float = DEFAULT_MIN_IMAGE_DISTANCE_A,
    max_atoms: int = DEFAULT_MAX_ATOMS,
) -> tuple[int, int, int]:
    """Smallest diagonal supercell keeping periodic images ``min_image_distance`` Å apart.

    Ties in size go to the larger image distance, then to the smaller multiple of a.

    Raises
    ------
    NebSetupError
        When every such supercell has more than ``max_atoms`` atoms.
    """
    # n_i d_i ≥ target (d_i: (100)/(010)/(001) plane spacing) already guarantees the distance,
    # since any lattice vector with a non-zero i-th coefficient is at least n_i d_i long.
    spacings = 1.0 / np.linalg.norm(
        structure.lattice.reciprocal_lattice_crystallographic.matrix, axis=1
    )
    upper = [max(1, math.ceil(min_image_distance / d - 1e-9)) for d in spacings]
    candidates = []
    for mult in itertools.product(*(range(1, n + 1) for n in upper)):
        lattice = Lattice(structure.lattice.matrix * np.asarray(mult)[:, None])
        distance = min_image_distance_A(lattice)
        if distance >= min_image_distance - 1e-6:
            candidates.append((len(structure) * math.prod(mult), -distance, mult))
    smallest = min(candidates)
    if smallest[0] > max_atoms:
        raise NebSetupError(
            f"no supercell of {structure.reduced_formula} with ≤ {max_atoms} atoms keeps "
            f"vacancy images ≥ {min_image_distance:g} Å apart (smallest: "
            f"{'×'.join(map(str, smallest[2]))}, {smallest[0]} atoms)"
        )
    return smallest[2]


def _site_index(structure: Structure, species: str, frac: np.ndarray) -> int:
    """Index of the ``species`` site at ``frac`` (periodic), or a one-line error."""
    distances = structure.lattice.get_all_distances(frac, structure.frac_coords)[0]
    for index in np.argsort(distances):
        if distances[index] > SITE_MATCH_TOLERANCE_A:
            break
        if structure[int(index)].specie.symbol == species:
            return int(index)
    raise NebSetupError(
        f"no {species} site at {np.round(frac, 4).tolist()} in {structure.reduced_formula}"
    )


def cell_charge_e(structure: Structure) -> float:
    """The structure's net charge, e, without pymatgen's warning that it differs from the sum
    of oxidation states (a charged-defect cell has no oxidation states: that is the point)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Structure charge", category=UserWarning)
        return float(structure.charge)


def ion_charge_e(structure: Structure, species: str) -> float:
    """Oxidation state of ``species`` in ``structure``, e: the sites' own oxidation states if
    they carry them, else pymatgen's first guess for the composition (Li3TiCl6: Li +1; a
    metal: 0, so a metal's vacancy stays neutral).

    Raises
    ------
    NebSetupError
        When the structure has no oxidation states and pymatgen cannot guess them.
    """
    for site in structure:
        oxi_state = getattr(site.specie, "oxi_state", None)
        if site.specie.symbol == species and oxi_state is not None:
            return float(oxi_state)
    guesses = structure.composition.element_composition.oxi_state_guesses()
    if not guesses:
        raise NebSetupError(
            f"cannot guess the oxidation state of {species} in {structure.reduced_formula}: "
            "give the structure oxidation states"
        )
    return float(guesses[0][species])


def hop_endpoints(
    structure: Structure, hop: Hop, supercell: tuple[int, int, int]
) -> tuple[Structure, Structure]:
    """Start and end structures of ``hop`` in the ``supercell`` of ``structure``.

    The migrating ion sits at the index of the first site of its species in both; the rest of
    the atoms are identical in both, in supercell order. A vacancy hop's endpoints carry the
    vacancy's charge (the cell's charge minus :func:`ion_charge_e`).
    """
    scale = np.asarray(supercell, dtype=float)
    host = structure * supercell
    start_sc = np.asarray(hop.start_frac) / scale
    end_sc = np.asarray(hop.end_frac) / scale
    moving = _site_index(host, hop.species, start_sc)
    remove = [moving]
    charge = cell_charge_e(host)
    if hop.mechanism == "vacancy":
        remove.append(_site_index(host, hop.species, end_sc))
        charge -= ion_charge_e(structure, hop.species)
    properties = dict(host[moving].properties)
    host.remove_sites(remove)
    host = Structure.from_sites(host.sites, charge=charge)
    # First remaining site of the species keeps the POSCAR species blocks contiguous.
    slot = next((i for i, site in enumerate(host) if site.specie.symbol == hop.species), 0)
    start, end = host.copy(), host.copy()
    start.insert(slot, hop.species, start_sc, properties=properties)
    end.insert(slot, hop.species, end_sc, properties=properties)
    return start, end


def neb_images(
    start: Structure,
    end: Structure,
    num_images: int,
    idpp: bool = True,
    **idpp_kwargs: Any,
) -> list[Structure]:
    """``num_images`` intermediate images between two endpoints, endpoints included.

    Parameters
    ----------
    start, end
        Endpoints with matching site order (as from :func:`hop_endpoints`); end coordinates
        may lie outside the cell (unwrapped). The images carry ``start``'s charge.
    num_images
        Intermediate images (≥ 1).
    idpp
        Refine the linear path by IDPP; False: linear path.
    **idpp_kwargs
        Passed to ``IDPPSolver.run`` (``maxiter``, ``tol``, ``gtol``, ``species``, …).
    """
    if num_images < 1:
        raise NebSetupError(f"an NEB needs at least one intermediate image, got {num_images}")
    if len(start) != len(end):
        raise NebSetupError(f"endpoints differ in size ({len(start)} vs {len(end)} sites)")
    images = start.interpolate(end, nimages=num_images + 1, pbc=False)
    if idpp:
        images = IDPPSolver(images).run(**idpp_kwargs)
    # IDPP drops the cell's charge; every image keeps the endpoints' (NELECT in VASP).
    charge = cell_charge_e(start)
    return [Structure.from_sites(image.sites, charge=charge) for image in images]

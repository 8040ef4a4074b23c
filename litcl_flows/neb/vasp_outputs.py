"""Image energies and structures of a finished VASP NEB folder (``00`` … ``NN``).

Read per image from OUTCAR, not from vasprun.xml: in an NEB every image writes its own files,
and a top-level vasprun.xml written by several images at once can be malformed (the VTST
NH3 example in the shared test data is). Final structures come from CONTCAR, whose VTST
velocity block of NaN is ignored by pymatgen's reader; folders with no OUTCAR (the fixed
endpoints ``00`` and ``NN``, which VASP never runs) have no energy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from emmet.core.neb import NebMethod, NebResult
from monty.os.path import zpath
from pymatgen.core import Structure
from pymatgen.io.vasp import Outcar

from litcl_flows.neb.hops import NebSetupError

#: Which OUTCAR energy to read: ``sigma0`` is ``energy(sigma->0)``, what pymatgen's and emmet's
#: VASP parsers report (and so what endpoint relaxations report); ``free`` is ``TOTEN``.
EnergyKind = Literal["sigma0", "free"]


@dataclass
class VaspNebImages:
    """Images of a VASP NEB that VASP ran (the intermediate ones).

    Parameters
    ----------
    image_indices
        Folder numbers of the images read (``01`` → 1).
    energies_eV
        Final energy of each image, eV.
    converged
        Whether each image's OUTCAR says ``reached required accuracy``.
    structures
        Final structure of each image (CONTCAR, else POSCAR).
    num_folders
        Number of ``NN`` folders, endpoints included.
    """

    image_indices: list[int]
    energies_eV: list[float]
    converged: list[bool]
    structures: list[Structure]
    num_folders: int


def read_vasp_neb(neb_dir: str | Path, energy: EnergyKind = "sigma0") -> VaspNebImages:
    """Read the intermediate images of the VASP NEB in ``neb_dir``.

    Raises
    ------
    NebSetupError
        When ``neb_dir`` has no ``NN`` folders or no image has an OUTCAR.
    """
    neb_dir = Path(neb_dir)
    folders = sorted(p for p in neb_dir.glob("[0-9][0-9]") if p.is_dir())
    if not folders:
        raise NebSetupError(f"no NEB image folders (00, 01, …) in {neb_dir}")
    images = VaspNebImages([], [], [], [], len(folders))
    for folder in folders:
        outcar_path = Path(zpath(str(folder / "OUTCAR")))
        if not outcar_path.is_file():
            continue
        outcar = Outcar(outcar_path)
        outcar.read_pattern({"done": r"reached required accuracy"}, terminate_on_match=True)
        structure_path = Path(zpath(str(folder / "CONTCAR")))
        if not structure_path.is_file() or structure_path.stat().st_size == 0:
            structure_path = Path(zpath(str(folder / "POSCAR")))
        images.image_indices.append(int(folder.name))
        images.energies_eV.append(
            float(outcar.final_energy if energy == "sigma0" else outcar.final_fr_energy)
        )
        images.converged.append(bool(outcar.data["done"]))
        images.structures.append(Structure.from_file(structure_path))
    if not images.image_indices:
        raise NebSetupError(f"no image of the NEB in {neb_dir} has an OUTCAR")
    return images


def vasp_neb_result(
    neb_dir: str | Path,
    endpoint_energies_eV: tuple[float, float] | None = None,
    endpoint_structures: tuple[Structure, Structure] | None = None,
    climbing_image: bool = True,
    energy: EnergyKind = "sigma0",
) -> NebResult:
    """emmet ``NebResult`` (spline barriers) of a VASP NEB folder.

    Parameters
    ----------
    neb_dir
        The folder holding ``00`` … ``NN``.
    endpoint_energies_eV
        Energies of the relaxed endpoints, eV (same energy kind). None: the barrier is taken
        along the computed images only, from the first one (what the folder alone gives).
    endpoint_structures
        Relaxed endpoints; default the ``00``/``NN`` POSCARs.
    climbing_image
        Whether the run used a climbing image (VTST ``LCLIMB``), recorded as the method.
    energy
        OUTCAR energy to read (:data:`EnergyKind`).
    """
    neb_dir = Path(neb_dir)
    images = read_vasp_neb(neb_dir, energy)
    method = NebMethod.CLIMBING_IMAGE if climbing_image else NebMethod.STANDARD
    state = "successful" if all(images.converged) else "failed"
    if endpoint_energies_eV is None:
        return NebResult(
            images=images.structures,
            energies=images.energies_eV,
            image_indices=images.image_indices,
            neb_method=method,
            state=state,
            dir_name=str(neb_dir),
        )
    last = images.num_folders - 1
    if endpoint_structures is None:
        endpoint_structures = (
            Structure.from_file(zpath(str(neb_dir / "00" / "POSCAR"))),
            Structure.from_file(zpath(str(neb_dir / f"{last:02d}" / "POSCAR"))),
        )
    return NebResult(
        images=[endpoint_structures[0], *images.structures, endpoint_structures[1]],
        energies=[endpoint_energies_eV[0], *images.energies_eV, endpoint_energies_eV[1]],
        image_indices=[0, *images.image_indices, last],
        neb_method=method,
        state=state,
        dir_name=str(neb_dir),
    )

"""VASP NEB input set with the relaxation's DFT+U settings; VTST climbing image or plain VASP.

atomate2's ``NebSetGenerator`` (``IMAGES``, ``SPRING = -5``, ``ISIF = 2``, ``NSW = 99``) with
``climbing_image=True`` writes ``LCLIMB = .TRUE., IOPT = 1, IBRION = 3, POTIM = 0``:
``LCLIMB`` and ``IOPT`` are VTST keywords, and ``IBRION = 3, POTIM = 0`` only hands the steps
to the VTST optimiser. A VASP built without VTST has the nudged elastic band itself
(``IMAGES``, ``SPRING``) but no climbing image, so with ``vtst=False`` the set writes a plain
NEB: no ``LCLIMB``/``IOPT``, and ``IBRION = 1`` (quasi-Newton; the VASP wiki advises it or
``IBRION = 3`` with ``POTIM > 0`` over conjugate gradients for NEB) with VASP's default
``POTIM = 0.5``. Its barrier comes from the spline through the images, not from a converged
saddle point, so it is an upper-bound estimate that improves with more images.

The functional, U, cutoff, spin, smearing, MAGMOM and k-point rule are the study's
(:mod:`litcl_flows.engines.vasp.sets`), as in the relaxation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from atomate2.vasp.sets.core import NebSetGenerator
from pymatgen.io.vasp import Kpoints

from litcl_flows.engines.vasp.sets import (
    STUDY_KPOINT_LENGTH_A,
    DEFAULT_MAGMOM_muB,
    STUDY_ENCUT_eV,
    STUDY_HUBBARD_U_eV,
    default_magmom,
    kpoint_mesh,
    magmom_list,
    study_incar_settings,
)

#: SCF convergence of NEB images, eV (atomate2's NEB default: NEB forces need a tight SCF).
NEB_EDIFF_eV = 1e-6
#: NEB force convergence, eV/Å (EDIFFG = −value).
NEB_FORCE_TOLERANCE_eV_A = 0.05
#: Optimiser of a plain-VASP (no VTST) NEB.
PLAIN_NEB_IBRION = 1


@dataclass
class StudyNebSetGenerator(NebSetGenerator):
    """atomate2's NEB set with per-site MAGMOM, the k-point length rule and a VTST switch.

    Parameters
    ----------
    vtst
        The cluster's VASP has VTST: climbing image with the VTST optimiser. False: plain
        VASP NEB (no climbing image, ``IBRION = 1``).
    kpoint_length_A
        R_k in Å for the Γ-centred mesh (as the relaxation).
    magmom_muB
        Starting moment per element, μB.
    """

    vtst: bool = True
    kpoint_length_A: float = STUDY_KPOINT_LENGTH_A
    magmom_muB: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MAGMOM_muB))

    def __post_init__(self) -> None:
        """Tie atomate2's climbing-image switch to ``vtst``."""
        super().__post_init__()
        self.climbing_image = self.vtst

    @property
    def incar_updates(self) -> dict[str, Any]:
        """atomate2's NEB updates, the plain-VASP optimiser when not VTST, and MAGMOM."""
        updates = {**super().incar_updates}
        if not self.vtst:
            updates["IBRION"] = PLAIN_NEB_IBRION
        updates["MAGMOM"] = magmom_list(self.structure, self.magmom_muB)
        return updates

    @property
    def kpoints_updates(self) -> Kpoints:
        """Γ-centred mesh of the current structure by the length rule."""
        return Kpoints.gamma_automatic(kpoint_mesh(self.structure, self.kpoint_length_A))


def neb_set_generator(
    vtst: bool = True,
    hubbard_u_eV: Mapping[str, float] = STUDY_HUBBARD_U_eV,
    encut_eV: float = STUDY_ENCUT_eV,
    ediff_eV: float = NEB_EDIFF_eV,
    force_tolerance_eV_A: float = NEB_FORCE_TOLERANCE_eV_A,
    kpoint_length_A: float = STUDY_KPOINT_LENGTH_A,
    magmom_muB: Mapping[str, float] | None = None,
    incar_overrides: Mapping[str, Any] | None = None,
) -> StudyNebSetGenerator:
    """NEB input set with the study's PBE+U settings.

    Parameters
    ----------
    vtst
        See :class:`StudyNebSetGenerator`.
    hubbard_u_eV, encut_eV
        U_eff per element and cutoff, eV (as the relaxation).
    ediff_eV
        SCF convergence, eV.
    force_tolerance_eV_A
        NEB force convergence, eV/Å.
    kpoint_length_A
        R_k for the Γ-centred mesh, Å.
    magmom_muB
        Starting moments per element, μB; default :func:`default_magmom`.
    incar_overrides
        INCAR keys applied last (NCORE, KPAR, …).
    """
    incar = study_incar_settings(hubbard_u_eV, encut_eV, ediff_eV)
    incar["EDIFFG"] = -abs(force_tolerance_eV_A)
    incar.update(incar_overrides or {})
    return StudyNebSetGenerator(
        user_incar_settings=incar,
        vtst=vtst,
        kpoint_length_A=kpoint_length_A,
        magmom_muB=dict(magmom_muB if magmom_muB is not None else default_magmom(hubbard_u_eV)),
    )

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

Endpoints and images share one set of electronic settings: with ``endpoint=True`` the same
generator writes the fixed-cell relaxation of one endpoint (PREC, EDIFF, ENCUT, k-mesh, U,
ISYM, NELECT as the images; only the band keys ``IMAGES``, ``SPRING``, ``LCLIMB``, ``IOPT``
and the optimiser ``IBRION``/``POTIM`` differ), so that a barrier never subtracts energies
computed with different precision. ``ISYM = 0``: the images of a hop have lower symmetry than
its endpoints, and VASP would otherwise reduce the k-points of each differently.

Charge: pymatgen's ``use_structure_charge`` writes ``NELECT = Σ ZVAL − charge``. A vacancy
hop's endpoints carry the charge of the removed ion's vacancy (−1 for Li⁺), so the cell keeps
the electron the neutral Li atom took with it and no Ti³⁺ is oxidised: a Li⁺ vacancy, not a
neutral vacancy with a hole. ZVAL comes from pymatgen's POTCAR summary data for the POTCAR
symbols and functional of the set (no POTCAR files needed, so the dry run writes it too).
"""

from __future__ import annotations

import bz2
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from atomate2.vasp.sets.core import NebSetGenerator
from pymatgen.io.vasp import Kpoints
from pymatgen.io.vasp.inputs import POTCAR_STATS_PATH

from litcl_flows.engines.vasp.sets import (
    STUDY_KPOINT_LENGTH_A,
    STUDY_ENCUT_eV,
    STUDY_HUBBARD_U_eV,
    default_magmom,
    kpoint_mesh,
    magmom_list,
    study_incar_settings,
)
from litcl_flows.neb.endpoints import cell_charge_e
from litcl_flows.neb.hops import NebSetupError

#: SCF convergence of NEB images, eV (atomate2's NEB default: NEB forces need a tight SCF).
NEB_EDIFF_eV = 1e-6
#: NEB force convergence, eV/Å (EDIFFG = −value).
NEB_FORCE_TOLERANCE_eV_A = 0.05
#: Optimiser of a plain-VASP (no VTST) NEB.
PLAIN_NEB_IBRION = 1
#: Optimiser of an endpoint relaxation (conjugate gradient, as the study's relaxations).
ENDPOINT_IBRION = 2
#: INCAR keys of the band and its optimiser, left out of an endpoint relaxation.
BAND_KEYS: tuple[str, ...] = ("IMAGES", "SPRING", "LCLIMB", "IOPT", "IBRION", "POTIM")


@functools.cache
def _potcar_valences(functional: str) -> dict[str, set[float]]:
    """POTCAR symbol → its ZVAL values in pymatgen's POTCAR summary data for ``functional``."""
    with bz2.open(POTCAR_STATS_PATH, "rt") as handle:
        stats = json.load(handle)
    valences: dict[str, set[float]] = {}
    for variants in stats.get(functional, {}).values():
        for variant in variants:
            valences.setdefault(variant["symbol"], set()).add(float(variant["ZVAL"]))
    return valences


def potcar_zval(symbols: Sequence[str], functional: str) -> list[float]:
    """Valence electrons (ZVAL) of each POTCAR symbol of ``functional`` (e.g. ``"PBE_54"``).

    Raises
    ------
    NebSetupError
        When pymatgen's POTCAR data lacks a symbol or gives it two valences.
    """
    valences = _potcar_valences(functional)
    zval = []
    for symbol in symbols:
        found = valences.get(symbol, set())
        if len(found) != 1:
            raise NebSetupError(
                f"no single ZVAL for POTCAR {symbol} ({functional}) in pymatgen's POTCAR data "
                f"(found {sorted(found)}); set NELECT in incar_overrides"
            )
        zval.append(next(iter(found)))
    return zval


@dataclass
class StudyNebSetGenerator(NebSetGenerator):
    """atomate2's NEB set with per-site MAGMOM, the k-point length rule and a VTST switch.

    Parameters
    ----------
    vtst
        The cluster's VASP has VTST: climbing image with the VTST optimiser. False: plain
        VASP NEB (no climbing image, ``IBRION = 1``).
    endpoint
        Write the fixed-cell relaxation of one endpoint with the images' electronic settings
        (no band keys, ``IBRION = 2``) instead of the NEB.
    kpoint_length_A
        R_k in Å for the Γ-centred mesh (as the relaxation).
    magmom_muB
        Starting moment per element, μB.
    """

    vtst: bool = True
    endpoint: bool = False
    kpoint_length_A: float = STUDY_KPOINT_LENGTH_A
    magmom_muB: dict[str, float] = field(default_factory=lambda: default_magmom(STUDY_HUBBARD_U_eV))
    use_structure_charge: bool = True

    def __post_init__(self) -> None:
        """Tie atomate2's climbing-image switch to ``vtst``."""
        super().__post_init__()
        self.climbing_image = self.vtst

    @property
    def incar_updates(self) -> dict[str, Any]:
        """atomate2's NEB updates, the plain-VASP optimiser when not VTST, ISYM 0 and MAGMOM;
        for an endpoint, the same without the band keys and with ``IBRION = 2``."""
        updates = {**super().incar_updates}
        if not self.vtst:
            updates["IBRION"] = PLAIN_NEB_IBRION
        if self.endpoint:
            updates = {k: v for k, v in updates.items() if k not in BAND_KEYS}
            updates["IBRION"] = ENDPOINT_IBRION
        updates["ISYM"] = 0
        updates["MAGMOM"] = magmom_list(self.structure, self.magmom_muB)
        return updates

    @property
    def nelect(self) -> float:
        """Σ ZVAL over the atoms (ZVAL from pymatgen's POTCAR data) minus the structure's
        charge: what pymatgen writes as NELECT with ``use_structure_charge``."""
        zval = potcar_zval(self.potcar_symbols, str(self.potcar_functional))
        electrons = sum(z * n for z, n in zip(zval, self.poscar.natoms, strict=True))
        return electrons - (cell_charge_e(self.structure) if self.use_structure_charge else 0)

    @property
    def kpoints_updates(self) -> Kpoints:
        """Γ-centred mesh of the current structure by the length rule."""
        return Kpoints.gamma_automatic(kpoint_mesh(self.structure, self.kpoint_length_A))


def neb_set_generator(
    vtst: bool = True,
    endpoint: bool = False,
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
    vtst, endpoint
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
        endpoint=endpoint,
        kpoint_length_A=kpoint_length_A,
        magmom_muB=dict(magmom_muB if magmom_muB is not None else default_magmom(hubbard_u_eV)),
    )

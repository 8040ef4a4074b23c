"""VASP input sets with the study's DFT+U settings over atomate2's generators.

The settings and why: docs/reference_engines.md.

atomate2's ``RelaxSetGenerator`` and ``MDSetGenerator`` do the work; what is added here are the
study's settings as documented defaults and the settings atomate2 gets wrong for this study:
its base set is PBEsol (→ ``GGA = PE``), ``LDAUU`` alone leaves ``LDAUL = 0``
(→ ``LDAUL``/``LDAUJ`` always written with it, ``LDAUL = -1``, VASP's "no on-site term", for
every species without U), ``LDAU = .TRUE.`` with U = 0 leaves a dangling ``LDAU``
(→ ``LDAU = .FALSE.``), ``EDIFF`` and ``MAGMOM`` must be explicit.

k-points: a Γ-centred mesh from a length rule, N_i = max(1, int(R_k |b_i| + 0.5)) with |b_i| the
reciprocal lattice vector length without 2π (VASP's "Auto" rule, written as an explicit mesh).
R_k = 50 Å gives the study's meshes: 4×2×4 for the 160-atom 2×2×2 cell and 4×2×2 for the
320-atom 2×2×4 cell of Li3TiCl6. The AIMD uses the relaxation's rule (or mesh) too, so the
training forces have the k-point convergence the study chose for that cell; Γ only is an
option, cheaper by the k-point count (:func:`n_kpoints_time_reversal`: 20 for 4×2×4).

Single points that label frames for a training set (:func:`static_set_generator`) are the AIMD
set with the dynamics taken out, so their labels have the electronic settings of the AIMD
frames they join.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from atomate2.vasp.sets.core import MDSetGenerator, RelaxSetGenerator
from pymatgen.core import Element, Structure
from pymatgen.io.vasp import Kpoints

from litcl_flows.engines.vasp.validation import check_hubbard_u, check_temperatures

#: U_eff (Dudarev, U − J) on Ti-3d for the study's production runs; it also runs U_eff = 0.
STUDY_HUBBARD_U_eV: dict[str, float] = {"Ti": 4.0}
#: Plane-wave cutoff, eV.
STUDY_ENCUT_eV = 450.0
#: Electronic convergence, eV (atomate2's MD set would otherwise inherit 1e-5 by luck).
STUDY_EDIFF_eV = 1e-5
#: Relaxation stops when every force is below this, eV/Å (written as EDIFFG = −value).
STUDY_FORCE_TOLERANCE_eV_A = 0.01
#: k-point length R_k, Å, that reproduces the study's 4×2×4 (160 atoms) and 4×2×2 (320 atoms).
STUDY_KPOINT_LENGTH_A = 50.0
#: AIMD time step, fs.
STUDY_TIME_STEP_fs = 1.0
#: Starting moment of each element given a U, μB: one unpaired d electron (Ti³⁺ of Li3TiCl6
#: is d¹); the U set names the elements, so no element is hard-coded here.
U_ELEMENT_MAGMOM_muB = 1.0
#: VASP's LDAUL for "no on-site (U) term on this species".
NO_U_LDAUL = -1
#: LDAUL of the d shell.
D_SHELL_LDAUL = 2


def kpoint_mesh(structure: Structure, kpoint_length_A: float) -> tuple[int, int, int]:
    """Γ-centred mesh by VASP's length rule N_i = max(1, int(R_k |b_i| + 0.5)).

    Parameters
    ----------
    structure
        The cell the mesh is for.
    kpoint_length_A
        R_k in Å (VASP's "Auto" length); 50 Å reproduces the study's meshes.
    """
    recip = structure.lattice.reciprocal_lattice_crystallographic.abc
    return tuple(max(1, int(kpoint_length_A * b + 0.5)) for b in recip)  # type: ignore[return-value]


def n_kpoints_time_reversal(mesh: tuple[int, int, int]) -> int:
    """k-points VASP computes for a Γ-centred mesh with ``ISYM = 0`` (the AIMD's).

    With the point group off VASP still pairs k with −k (time reversal). The points equal to
    their own inverse have every fractional coordinate 0 or ½: two per even N_i (0 and N_i/2),
    one per odd N_i. The count is (N + N_self) / 2; the cost of an SCF step grows with it.

    Parameters
    ----------
    mesh
        Γ-centred subdivisions (N_1, N_2, N_3), each ≥ 1.
    """
    if len(mesh) != 3 or any(int(n) < 1 for n in mesh):
        raise ValueError(f"k-mesh {tuple(mesh)}: need three subdivisions ≥ 1")
    total = self_inverse = 1
    for n in mesh:
        total *= int(n)
        self_inverse *= 2 if int(n) % 2 == 0 else 1
    return (total + self_inverse) // 2


def hubbard_incar_settings(hubbard_u_eV: Mapping[str, float]) -> dict[str, Any]:
    """INCAR keys for Dudarev DFT+U on the d shell of each element with U_eff > 0.

    U_eff = 0 everywhere gives ``{"LDAU": False}`` (plain GGA): with ``LDAU = True`` and zero
    U pymatgen drops the arrays but keeps ``LDAU``/``LDAUTYPE``.
    ``LDAUL`` is −1 (no on-site term) for every other species: pymatgen writes 0 (the s shell)
    for a species missing from the map, and the map is built before the structure is known,
    so it names every element.
    """
    check_hubbard_u(hubbard_u_eV)
    u_eV = {el: float(u) for el, u in hubbard_u_eV.items() if u > 0}
    if not u_eV:
        return {"LDAU": False}
    return {
        "LDAU": True,
        "LDAUTYPE": 2,
        "LDAUU": u_eV,
        "LDAUL": {el.symbol: D_SHELL_LDAUL if el.symbol in u_eV else NO_U_LDAUL for el in Element},
        "LDAUJ": dict.fromkeys(u_eV, 0.0),
        "LMAXMIX": 4,
    }


def study_incar_settings(
    hubbard_u_eV: Mapping[str, float],
    encut_eV: float = STUDY_ENCUT_eV,
    ediff_eV: float = STUDY_EDIFF_eV,
) -> dict[str, Any]:
    """INCAR settings shared by the relaxation and the AIMD (functional, U, cutoff, spin).

    Parameters
    ----------
    hubbard_u_eV
        U_eff per element, eV (0: no U).
    encut_eV
        Plane-wave cutoff, eV.
    ediff_eV
        SCF convergence, eV.
    """
    return {
        "GGA": "PE",  # PBE: atomate2's base set is PBEsol (GGA = PS)
        "ENCUT": encut_eV,
        "EDIFF": ediff_eV,
        "ISPIN": 2,  # MAGMOM comes from the generators' magmom_muB, per site
        "ISMEAR": 0,
        "SIGMA": 0.05,
        # Charge-density and potential files of 160–320-atom cells are large and unused.
        "LAECHG": False,
        "LVTOT": False,
        **hubbard_incar_settings(hubbard_u_eV),
    }


def magmom_list(structure: Structure, magmom_muB: Mapping[str, float]) -> list[float]:
    """Starting moment of each site, μB: ``magmom_muB`` per element, 0 for elements not listed.

    A site's own ``magmom`` property (moments of the previous run) wins, so an AIMD that starts
    from a VASP relaxation starts from its converged moments.
    """
    return [
        float(site.properties["magmom"])
        if site.properties.get("magmom") is not None
        else float(magmom_muB.get(site.specie.symbol, 0.0))
        for site in structure
    ]


def default_magmom(hubbard_u_eV: Mapping[str, float]) -> dict[str, float]:
    """:data:`U_ELEMENT_MAGMOM_muB` on each element of the U set, 0 elsewhere."""
    return dict.fromkeys(hubbard_u_eV, U_ELEMENT_MAGMOM_muB)


@dataclass
class StudyRelaxSetGenerator(RelaxSetGenerator):
    """atomate2's relaxation set with per-element MAGMOM and a k-point length rule.

    Parameters
    ----------
    kpoint_length_A
        R_k in Å for :func:`kpoint_mesh`; ``user_kpoints_settings`` still wins when given.
    magmom_muB
        Starting moment per element, μB; elements not listed start at 0 (not pymatgen's 0.6).
    """

    kpoint_length_A: float = STUDY_KPOINT_LENGTH_A
    magmom_muB: dict[str, float] = field(default_factory=lambda: default_magmom(STUDY_HUBBARD_U_eV))

    @property
    def incar_updates(self) -> dict[str, Any]:
        """atomate2's relaxation updates plus the per-site MAGMOM."""
        return {**super().incar_updates, "MAGMOM": magmom_list(self.structure, self.magmom_muB)}

    @property
    def kpoints_updates(self) -> Kpoints:
        """Γ-centred mesh of the current structure by the length rule."""
        return Kpoints.gamma_automatic(kpoint_mesh(self.structure, self.kpoint_length_A))


@dataclass
class StudyMDSetGenerator(MDSetGenerator):
    """atomate2's MD set with per-element MAGMOM and the relaxation's k-point length rule.

    Parameters
    ----------
    kpoint_length_A
        R_k in Å for :func:`kpoint_mesh`, the relaxation's by default; None writes the Γ
        point only (cheaper, with forces less k-converged than the relaxation's);
        ``user_kpoints_settings`` still wins when given.
    magmom_muB
        Starting moment per element, μB; elements not listed start at 0.
    """

    kpoint_length_A: float | None = STUDY_KPOINT_LENGTH_A
    magmom_muB: dict[str, float] = field(default_factory=lambda: default_magmom(STUDY_HUBBARD_U_eV))

    @property
    def incar_updates(self) -> dict[str, Any]:
        """atomate2's MD updates (ensemble, TEBEG/TEEND, NSW, POTIM, …) plus MAGMOM."""
        return {**super().incar_updates, "MAGMOM": magmom_list(self.structure, self.magmom_muB)}

    @property
    def kpoints_updates(self) -> Kpoints:
        """Γ only, or the length-rule mesh of the current structure."""
        if self.kpoint_length_A is None:
            return Kpoints.gamma_automatic((1, 1, 1))
        return Kpoints.gamma_automatic(kpoint_mesh(self.structure, self.kpoint_length_A))


#: INCAR keys of the MD set that describe the dynamics; a single point drops them.
MD_ONLY_INCAR_KEYS = frozenset(
    {"MDALGO", "SMASS", "ANDERSEN_PROB", "LANGEVIN_GAMMA", "LANGEVIN_GAMMA_L", "PMASS",
     "PSTRESS", "TEBEG", "TEEND", "POTIM", "KBLOCK", "MAXMIX"}
)  # fmt: skip


@dataclass
class StudyStaticSetGenerator(StudyMDSetGenerator):
    """The study's AIMD set as a single point: same electronic settings, no dynamics.

    Precision, smearing, mixing, symmetry (off), k-points, MAGMOM and POTCARs are the AIMD's,
    so a relabelled frame and the AIMD frames are labels of one potential-energy surface.
    Build it with :func:`static_set_generator`, which also writes IBRION and ISIF.
    """

    @property
    def incar_updates(self) -> dict[str, Any]:
        """The MD updates without :data:`MD_ONLY_INCAR_KEYS` and with NSW 0."""
        updates = {k: v for k, v in super().incar_updates.items() if k not in MD_ONLY_INCAR_KEYS}
        return {**updates, "NSW": 0, "IBRION": -1, "ISIF": 2}


def _kpoints_potcar_magmom(
    hubbard_u_eV: Mapping[str, float],
    kpoint_length_A: float | None,
    kpoint_mesh_override: tuple[int, int, int] | None,
    magmom_muB: Mapping[str, float] | None,
    potcar_settings: Mapping[str, str] | None,
) -> dict[str, Any]:
    """The relaxation's and the MD's shared set arguments: k-points (an explicit mesh wins over
    the length rule), POTCAR overrides and MAGMOM (default :func:`default_magmom`)."""
    return {
        "user_kpoints_settings": (
            Kpoints.gamma_automatic(kpoint_mesh_override) if kpoint_mesh_override else {}
        ),
        "user_potcar_settings": dict(potcar_settings or {}),
        "kpoint_length_A": kpoint_length_A,
        "magmom_muB": dict(magmom_muB if magmom_muB is not None else default_magmom(hubbard_u_eV)),
    }


def relax_set_generator(
    hubbard_u_eV: Mapping[str, float] = STUDY_HUBBARD_U_eV,
    encut_eV: float = STUDY_ENCUT_eV,
    ediff_eV: float = STUDY_EDIFF_eV,
    force_tolerance_eV_A: float = STUDY_FORCE_TOLERANCE_eV_A,
    kpoint_length_A: float = STUDY_KPOINT_LENGTH_A,
    kpoint_mesh_override: tuple[int, int, int] | None = None,
    magmom_muB: Mapping[str, float] | None = None,
    potcar_settings: Mapping[str, str] | None = None,
    incar_overrides: Mapping[str, Any] | None = None,
) -> StudyRelaxSetGenerator:
    """Full relaxation (ISIF 3, IBRION 2) with the study's PBE+U settings.

    Parameters
    ----------
    hubbard_u_eV
        U_eff per element, eV.
    encut_eV, ediff_eV
        Cutoff and SCF convergence, eV.
    force_tolerance_eV_A
        Force convergence, eV/Å (EDIFFG = −value).
    kpoint_length_A
        R_k for the Γ-centred mesh, Å.
    kpoint_mesh_override
        Explicit Γ-centred mesh instead of the length rule.
    magmom_muB
        Starting moments per element, μB; default :func:`default_magmom`.
    potcar_settings
        Element → POTCAR symbol overrides of atomate2's base set.
    incar_overrides
        INCAR keys applied last (e.g. NCORE, KPAR for a machine).
    """
    incar = study_incar_settings(hubbard_u_eV, encut_eV, ediff_eV)
    incar["EDIFFG"] = -abs(force_tolerance_eV_A)
    incar.update(incar_overrides or {})
    return StudyRelaxSetGenerator(
        user_incar_settings=incar,
        **_kpoints_potcar_magmom(
            hubbard_u_eV, kpoint_length_A, kpoint_mesh_override, magmom_muB, potcar_settings
        ),
    )


def md_set_generator(
    temperature_K: float,
    n_steps: int,
    time_step_fs: float = STUDY_TIME_STEP_fs,
    hubbard_u_eV: Mapping[str, float] = STUDY_HUBBARD_U_eV,
    encut_eV: float = STUDY_ENCUT_eV,
    ediff_eV: float = STUDY_EDIFF_eV,
    kpoint_length_A: float | None = STUDY_KPOINT_LENGTH_A,
    kpoint_mesh_override: tuple[int, int, int] | None = None,
    magmom_muB: Mapping[str, float] | None = None,
    potcar_settings: Mapping[str, str] | None = None,
    incar_overrides: Mapping[str, Any] | None = None,
) -> StudyMDSetGenerator:
    """NVT Nosé–Hoover AIMD (MDALGO 2) at one temperature with the relaxation's functional and U.

    Parameters
    ----------
    temperature_K
        Thermostat temperature (TEBEG = TEEND), K.
    n_steps
        MD steps (NSW).
    time_step_fs
        POTIM, fs.
    hubbard_u_eV, encut_eV, ediff_eV, magmom_muB, potcar_settings, incar_overrides
        As in :func:`relax_set_generator`.
    kpoint_length_A
        R_k for the Γ-centred mesh, Å: the relaxation's rule by default; None: Γ only.
    kpoint_mesh_override
        Explicit Γ-centred mesh instead of the length rule (the relaxation's explicit mesh).
    """
    check_temperatures([temperature_K])
    incar = study_incar_settings(hubbard_u_eV, encut_eV, ediff_eV)
    incar.update(incar_overrides or {})
    return StudyMDSetGenerator(
        ensemble="nvt",
        start_temp=temperature_K,
        end_temp=temperature_K,
        nsteps=n_steps,
        time_step=time_step_fs,
        user_incar_settings=incar,
        **_kpoints_potcar_magmom(
            hubbard_u_eV, kpoint_length_A, kpoint_mesh_override, magmom_muB, potcar_settings
        ),
    )


def static_set_generator(
    hubbard_u_eV: Mapping[str, float] = STUDY_HUBBARD_U_eV,
    encut_eV: float = STUDY_ENCUT_eV,
    ediff_eV: float = STUDY_EDIFF_eV,
    kpoint_length_A: float | None = STUDY_KPOINT_LENGTH_A,
    kpoint_mesh_override: tuple[int, int, int] | None = None,
    magmom_muB: Mapping[str, float] | None = None,
    potcar_settings: Mapping[str, str] | None = None,
    incar_overrides: Mapping[str, Any] | None = None,
) -> StudyStaticSetGenerator:
    """Single point (energy, forces, stress) with the AIMD's electronic settings.

    Parameters
    ----------
    hubbard_u_eV, encut_eV, ediff_eV, kpoint_length_A, kpoint_mesh_override, magmom_muB,
    potcar_settings, incar_overrides
        As in :func:`md_set_generator`; give the AIMD's values so the labels join its frames.
    """
    # pymatgen drops IBRION and ISIF from an NSW = 0 INCAR unless the user settings name them;
    # written out, the INCAR says what VASP does: no ionic step, stress tensor computed (ISIF 2).
    incar = {**study_incar_settings(hubbard_u_eV, encut_eV, ediff_eV), "IBRION": -1, "ISIF": 2}
    incar.update(incar_overrides or {})
    return StudyStaticSetGenerator(
        user_incar_settings=incar,
        **_kpoints_potcar_magmom(
            hubbard_u_eV, kpoint_length_A, kpoint_mesh_override, magmom_muB, potcar_settings
        ),
    )

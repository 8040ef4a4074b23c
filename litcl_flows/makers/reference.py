"""Reference-engine (DFT-level) relaxation, AIMD and single-point Makers: VASP DFT+U, or
CHGNet as stand-in.

The Makers are atomate2's (``RelaxMaker``/``DoubleRelaxMaker``, ``MDMaker``/``MultiMDMaker``,
``ForceFieldRelaxMaker``/``ForceFieldMDMaker``); each job's ``make`` runs atomate2's own body and
then adds to its document what the study needs (:mod:`litcl_flows.schemas.reference`): the
engine, the requested U and whether it was applied, and for VASP AIMD a per-frame SCF
convergence flag. Trajectories stay in the ``data`` additional store, where atomate2's job
decorators route them; jobs pass structures and references, never trajectories.

The engine is chosen once: :func:`get_reference_engine` maps a spec's ``reference_engine``
to a :class:`ReferenceEngine` (:data:`REFERENCE_ENGINES`), which builds that engine's Makers
and answers what the other steps need to know of it.

Settings: :mod:`litcl_flows.engines.vasp.sets` (VASP input sets with the study's defaults).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from atomate2.ase.md import MDEnsemble
from atomate2.ase.schemas import convert_stress_from_voigt_to_symm
from atomate2.forcefields.jobs import ForceFieldRelaxMaker, ForceFieldStaticMaker
from atomate2.forcefields.md import ForceFieldMDMaker
from atomate2.forcefields.utils import _FORCEFIELD_DATA_OBJECTS
from atomate2.vasp.flows.core import DoubleRelaxMaker
from atomate2.vasp.flows.md import MultiMDMaker
from atomate2.vasp.jobs.base import _DATA_OBJECTS, BaseVaspMaker
from atomate2.vasp.jobs.core import RelaxMaker, StaticMaker
from atomate2.vasp.jobs.md import MDMaker
from atomate2.vasp.sets.base import VaspInputGenerator
from emmet.core.types.enums import VaspObject
from jobflow import Flow, Job, Maker, Response, job

from litcl_flows.engines.vasp.outputs import electronic_steps_per_ionic_step, scf_converged
from litcl_flows.engines.vasp.sets import (
    STUDY_FORCE_TOLERANCE_eV_A,
    STUDY_HUBBARD_U_eV,
    STUDY_TIME_STEP_fs,
    md_set_generator,
    relax_set_generator,
    static_set_generator,
)
from litcl_flows.engines.vasp.validation import (
    ReferenceInputError,
    check_potcar_mapping,
    check_temperatures,
    validate_reference_request,
)
from litcl_flows.labels import u_label
from litcl_flows.schemas.base import package_versions
from litcl_flows.schemas.reference import (
    ML_STAND_IN_U_NOTE,
    SCF_CONVERGED_KEY,
    ForceFieldReferenceTaskDoc,
    VaspReferenceTaskDoc,
)

#: Job name of the reference-engine relaxation (queries select on it).
RELAX_JOB_NAME = "relax"

if TYPE_CHECKING:
    from emmet.core.tasks import TaskDoc
    from pymatgen.core import Structure

    from litcl_flows.makers.neb import HopNebMaker, MLHopNebMaker, VaspHopNebMaker

#: Names of the reference engines (:data:`REFERENCE_ENGINES`), as specs write them.
ReferenceEngineName = Literal["vasp", "chgnet"]

#: Job name of AIMD runs (queries select on it; mock VASP looks reference folders up by name).
AIMD_JOB_NAME = "aimd"
#: Job name of the single points that label frames for a training set.
LABEL_JOB_NAME = "label"
#: VASP settings that choose the k-points; the AIMD takes the relaxation's unless it sets one.
KPOINT_SETTINGS = frozenset({"kpoint_length_A", "kpoint_mesh_override"})
#: Nosé–Hoover thermostat time of the CHGNet stand-in, fs (the study's LAMMPS Tdamp).
CHGNET_THERMOSTAT_TIME_fs = 100.0


def _vasp_reference_doc(
    task_doc: TaskDoc, hubbard_u_eV: Mapping[str, float], md_generator: Any | None
) -> VaspReferenceTaskDoc:
    """Add the reference fields (and AIMD SCF flags) to atomate2's VASP ``TaskDoc``."""
    calc = task_doc.calcs_reversed[0]
    requested = {el: float(u) for el, u in hubbard_u_eV.items()}
    # emmet reads U − J per element from the vasprun INCAR (empty when LDAU is off).
    applied = {el: float(u) for el, u in (calc.input.hubbards or {}).items() if u > 0}
    wanted = {el: u for el, u in requested.items() if u > 0}
    honoured = applied == wanted
    note = f"VASP INCAR applied U_eff {applied or 'none (LDAU off)'}" + (
        "" if honoured else f", not the requested {wanted or 'none'}"
    )
    versions = package_versions("atomate2", "emmet-core")
    if calc.vasp_version:
        versions["vasp"] = calc.vasp_version
    meta: dict[str, Any] = {
        "versions": versions,
        "reference_engine": VASP.name,
        "is_stand_in": VASP.is_stand_in,
        "hubbard_u_requested_eV": requested,
        "hubbard_u_applied_eV": applied,
        "hubbard_u_applied": honoured,
        "hubbard_u_note": note,
    }
    trajectory = (task_doc.vasp_objects or {}).get(VaspObject.TRAJECTORY)
    if md_generator is not None and trajectory is not None:
        # The job runs in its directory; task_doc.dir_name carries a "host:" prefix.
        n_scf = electronic_steps_per_ionic_step(Path.cwd() / "vasprun.xml")
        if len(n_scf) != len(trajectory):
            raise ValueError(
                f"{task_doc.dir_name}: vasprun.xml has {len(n_scf)} ionic steps, "
                f"the trajectory {len(trajectory)} frames"
            )
        converged = scf_converged(n_scf, int(calc.input.parameters.get("NELM", 60)))
        for frame, flag in zip(trajectory.frame_properties, converged, strict=True):
            frame[SCF_CONVERGED_KEY] = flag
        meta.update(
            temperature_K=float(md_generator.start_temp),
            time_step_fs=float(md_generator.time_step),
            n_frames=len(trajectory),
            n_frames_scf_unconverged=converged.count(False),
        )
    else:
        meta["n_frames"] = len(calc.output.ionic_steps or [])
    run_stats = calc.output.run_stats
    meta["walltime_s"] = run_stats.elapsed_time if run_stats is not None else None
    return VaspReferenceTaskDoc(**dict(task_doc), **meta)


def _ml_reference_doc(
    doc: Any,
    engine: ReferenceEngine,
    hubbard_u_eV: Mapping[str, float],
    temperature_K: float | None = None,
    time_step_fs: float | None = None,
    walltime_s: float | None = None,
) -> ForceFieldReferenceTaskDoc:
    """Add the reference fields to atomate2's ``ForceFieldTaskDocument``; U never applied.

    Trajectory stresses become 3×3 kBar with VASP's sign (atomate2's conversion, already used
    for its ``ionic_steps``) instead of ASE's Voigt eV/Å³, so trajectories of both engines
    read the same way (``trajectories_to_deepmd(..., stress_unit="kBar")``).
    """
    trajectory = (doc.objects or {}).get("trajectory")
    for frame in trajectory.frame_properties if trajectory is not None else []:
        if frame.get("stress") is not None and np.size(frame["stress"]) == 6:
            frame["stress"] = convert_stress_from_voigt_to_symm(frame["stress"])
    n_frames = len(trajectory) if trajectory is not None else len(doc.output.ionic_steps or [])
    return ForceFieldReferenceTaskDoc(
        **dict(doc),
        versions=package_versions("atomate2", "emmet-core", engine.package),
        reference_engine=engine.name,
        is_stand_in=engine.is_stand_in,
        hubbard_u_requested_eV={el: float(u) for el, u in hubbard_u_eV.items()},
        hubbard_u_applied_eV={},
        hubbard_u_applied=False,
        hubbard_u_note=ML_STAND_IN_U_NOTE.format(engine=engine.display_name),
        temperature_K=temperature_K,
        time_step_fs=time_step_fs,
        n_frames=n_frames,
        walltime_s=walltime_s,
    )


@dataclass
class VaspReferenceRelaxMaker(RelaxMaker):
    """atomate2 ``RelaxMaker`` with the study's DFT+U set; output :class:`VaspReferenceTaskDoc`.

    Parameters
    ----------
    name
        Job name.
    input_set_generator
        VASP input set (:func:`~litcl_flows.engines.vasp.sets.relax_set_generator`).
    hubbard_u_eV
        U_eff requested per element, eV; recorded in the document and compared with the
        INCAR that ran. Build both with :func:`reference_relax_maker` to keep them equal.
    """

    name: str = RELAX_JOB_NAME
    input_set_generator: VaspInputGenerator = field(default_factory=relax_set_generator)
    hubbard_u_eV: dict[str, float] = field(default_factory=lambda: dict(STUDY_HUBBARD_U_eV))

    @job(data=_DATA_OBJECTS, output_schema=VaspReferenceTaskDoc)
    def make(self, structure: Structure, prev_dir: str | Path | None = None) -> Response:
        """Write inputs, run VASP under custodian, parse (atomate2), add the reference fields."""
        response = BaseVaspMaker.make.original(self, structure, prev_dir=prev_dir)
        response.output = _vasp_reference_doc(response.output, self.hubbard_u_eV, None)
        return response


@dataclass
class VaspReferenceMDMaker(MDMaker):
    """atomate2 ``MDMaker`` (NVT Nosé–Hoover) with the study's DFT+U set, one temperature.

    The trajectory (energies, forces, stresses, positions, temperature per frame, plus
    ``electronic_converged``) goes to the ``data`` store as a pymatgen ``Trajectory``.

    Parameters
    ----------
    name
        Job name.
    input_set_generator
        VASP MD input set (:func:`~litcl_flows.engines.vasp.sets.md_set_generator`;
        default 300 K and 1000 steps, atomate2's MD defaults).
    hubbard_u_eV
        U_eff requested per element, eV (see :class:`VaspReferenceRelaxMaker`).
    """

    #: Output field whose ``"trajectory"`` entry is the run's trajectory.
    trajectory_field: ClassVar[str] = "vasp_objects"

    name: str = AIMD_JOB_NAME
    input_set_generator: VaspInputGenerator = field(
        default_factory=lambda: md_set_generator(temperature_K=300.0, n_steps=1000)
    )
    hubbard_u_eV: dict[str, float] = field(default_factory=lambda: dict(STUDY_HUBBARD_U_eV))

    @job(data=_DATA_OBJECTS, output_schema=VaspReferenceTaskDoc)
    def make(self, structure: Structure, prev_dir: str | Path | None = None) -> Response:
        """Write inputs, run VASP MD under custodian, parse (atomate2), flag SCF per frame."""
        response = BaseVaspMaker.make.original(self, structure, prev_dir=prev_dir)
        response.output = _vasp_reference_doc(
            response.output, self.hubbard_u_eV, self.input_set_generator
        )
        return response


@dataclass
class ChgnetReferenceRelaxMaker(ForceFieldRelaxMaker):
    """atomate2 ``ForceFieldRelaxMaker`` with CHGNet (weights from the wheel), cell relaxed.

    Parameters
    ----------
    name
        Job name.
    force_field_name
        atomate2 force-field name.
    steps
        Optimiser step limit.
    relax_kwargs
        ``fmax`` in eV/Å: the study's 10 meV/Å by default.
    hubbard_u_eV
        U_eff requested, eV: recorded as requested and not applied (CHGNet cannot).
    """

    name: str = RELAX_JOB_NAME
    force_field_name: str = "CHGNet"
    steps: int = 500
    relax_kwargs: dict = field(default_factory=lambda: {"fmax": STUDY_FORCE_TOLERANCE_eV_A})
    hubbard_u_eV: dict[str, float] = field(default_factory=lambda: dict(STUDY_HUBBARD_U_eV))

    @job(data=_FORCEFIELD_DATA_OBJECTS, output_schema=ForceFieldReferenceTaskDoc)
    def make(
        self, structure: Structure, prev_dir: str | Path | None = None
    ) -> ForceFieldReferenceTaskDoc:
        """Relax with CHGNet (atomate2), then record engine and U in the document."""
        start = time.perf_counter()
        doc = ForceFieldRelaxMaker.make.original(self, structure, prev_dir=prev_dir)
        return _ml_reference_doc(
            doc, CHGNET, self.hubbard_u_eV, walltime_s=time.perf_counter() - start
        )


@dataclass
class ChgnetReferenceMDMaker(ForceFieldMDMaker):
    """atomate2 ``ForceFieldMDMaker`` with CHGNet: NVT Nosé–Hoover, 1 fs, like the AIMD.

    The trajectory (energy, forces, stress, velocities, temperature every ``traj_interval``
    steps) goes to the ``data`` store as a pymatgen ``Trajectory``.

    Parameters
    ----------
    name
        Job name.
    force_field_name
        atomate2 force-field name.
    ensemble, dynamics
        NVT with ASE's Nosé–Hoover (``ase.md.npt.NPT`` without barostat).
    time_step
        fs.
    n_steps
        MD steps.
    temperature
        K.
    ase_md_kwargs
        ``ttime``: thermostat time in ASE units (100 fs, the study's LAMMPS Tdamp).
    hubbard_u_eV
        U_eff requested, eV: recorded as requested and not applied (CHGNet cannot).
    """

    #: Output field whose ``"trajectory"`` entry is the run's trajectory.
    trajectory_field: ClassVar[str] = "objects"

    name: str = AIMD_JOB_NAME
    force_field_name: str = "CHGNet"
    ensemble: MDEnsemble = MDEnsemble.nvt
    dynamics: str = "nose-hoover"
    time_step: float = STUDY_TIME_STEP_fs
    n_steps: int = 1000
    temperature: float = 300.0
    ase_md_kwargs: dict = field(
        default_factory=lambda: {"ttime": CHGNET_THERMOSTAT_TIME_fs * _ase_fs()}
    )
    hubbard_u_eV: dict[str, float] = field(default_factory=lambda: dict(STUDY_HUBBARD_U_eV))

    @job(data=[*_FORCEFIELD_DATA_OBJECTS, "ionic_steps"], output_schema=ForceFieldReferenceTaskDoc)
    def make(
        self, structure: Structure, prev_dir: str | Path | None = None
    ) -> ForceFieldReferenceTaskDoc:
        """Run CHGNet MD (atomate2), then record engine, U and temperature in the document."""
        start = time.perf_counter()
        doc = ForceFieldMDMaker.make.original(self, structure, prev_dir=prev_dir)
        return _ml_reference_doc(
            doc,
            CHGNET,
            self.hubbard_u_eV,
            float(self.temperature),
            float(self.time_step),
            walltime_s=time.perf_counter() - start,
        )


#: The reference MD Makers, whose jobs hold a trajectory (``trajectory_field``).
REFERENCE_MD_MAKERS = (VaspReferenceMDMaker, ChgnetReferenceMDMaker)


def _ase_fs() -> float:
    """One femtosecond in ASE time units."""
    from ase import units

    return units.fs


def _vasp_run_kwargs(defaults: Mapping[str, Any], walltime_s: int | None) -> dict[str, Any]:
    """atomate2's custodian settings plus ``wall_time`` (adds custodian's ``WalltimeHandler``)."""
    kwargs = dict(defaults)
    if walltime_s is not None:
        kwargs["wall_time"] = int(walltime_s)
    return kwargs


class ReferenceEngine(ABC):
    """A reference engine: its Makers and what the study asks of it, answered once here.

    A spec names the engine (``reference_engine: vasp``); :func:`get_reference_engine` maps
    the name to its engine, and the steps built on it ask the engine (or its Makers), never
    the name.
    """

    #: Name in specs, documents and job metadata.
    name: ClassVar[ReferenceEngineName]
    #: How documents and notes spell it.
    display_name: ClassVar[str]
    #: Python package the jobs import where they run (and whose version documents record).
    package: ClassVar[str]
    #: An ML stand-in for the paper's DFT+U (its numbers are labelled so).
    is_stand_in: ClassVar[bool]
    #: Its jobs take VASP input sets (cut-off, k-points, POTCARs) and write VASP inputs.
    writes_vasp_inputs: ClassVar[bool]

    @abstractmethod
    def relax_maker(
        self,
        hubbard_u_eV: Mapping[str, float],
        double_relax: bool,
        walltime_s: int | None,
        fmax_eV_A: float,
        max_steps: int,
        relax_cell: bool,
        **vasp_settings: Any,
    ) -> Maker:
        """The relaxation Maker (parameters: :func:`reference_relax_maker`)."""

    @abstractmethod
    def aimd_maker(
        self,
        temperature_K: float,
        n_steps: int,
        time_step_fs: float,
        hubbard_u_eV: Mapping[str, float],
        n_segments: int,
        walltime_s: int | None,
        traj_interval: int,
        velocity_seed: int | None,
        **vasp_settings: Any,
    ) -> Maker:
        """The NVT MD Maker at one temperature (parameters: :func:`reference_aimd_maker`)."""

    @abstractmethod
    def static_maker(self, hubbard_u_eV: Mapping[str, float], **vasp_settings: Any) -> Maker:
        """The single-point Maker (energy, forces, stress of one structure) that labels frames.

        ``hubbard_u_eV`` and ``vasp_settings`` (those of
        :func:`~litcl_flows.engines.vasp.sets.static_set_generator`) should be the AIMD's, so
        the labels join its frames.
        """

    @abstractmethod
    def steps_per_frame(self, traj_interval: int) -> int:
        """MD steps between two stored trajectory frames."""

    @abstractmethod
    def hop_neb_maker(
        self,
        hubbard_u_eV: Mapping[str, float],
        encut_eV: float,
        num_images: int,
        fmax_eV_A: float,
        max_steps: int,
    ) -> HopNebMaker:
        """The per-hop NEB Maker (``max_steps``: ML optimiser limit; ``encut_eV``: VASP)."""

    def check_request(
        self,
        elements: Iterable[str],
        hubbard_u_eV: Mapping[str, float],
        temperatures_K: Iterable[float] = (),
        potcar_settings: Mapping[str, str] | None = None,
    ) -> None:
        """Refuse a U set or temperature that cannot run (:class:`ReferenceInputError`)."""
        validate_reference_request(elements, hubbard_u_eV, temperatures_K)

    @abstractmethod
    def check_runs_here(self, elements: Iterable[str]) -> None:
        """Refuse when this machine cannot run the engine's jobs, beyond lacking
        :attr:`package` (:class:`ReferenceInputError`)."""


class VaspReferenceEngine(ReferenceEngine):
    """VASP DFT+U (the paper's engine), through atomate2's VASP Makers and custodian."""

    name = "vasp"
    display_name = "VASP"
    package = "atomate2"
    is_stand_in = False
    writes_vasp_inputs = True

    def relax_maker(
        self,
        hubbard_u_eV: Mapping[str, float],
        double_relax: bool,
        walltime_s: int | None,
        fmax_eV_A: float,
        max_steps: int,
        relax_cell: bool,
        **vasp_settings: Any,
    ) -> Maker:
        """``DoubleRelaxMaker`` of two :class:`VaspReferenceRelaxMaker`, or one (ISIF 3)."""
        maker = VaspReferenceRelaxMaker(
            input_set_generator=relax_set_generator(
                hubbard_u_eV=hubbard_u_eV, force_tolerance_eV_A=fmax_eV_A, **vasp_settings
            ),
            hubbard_u_eV=dict(hubbard_u_eV),
            run_vasp_kwargs=_vasp_run_kwargs({}, walltime_s),
        )
        return DoubleRelaxMaker.from_relax_maker(maker) if double_relax else maker

    def aimd_maker(
        self,
        temperature_K: float,
        n_steps: int,
        time_step_fs: float,
        hubbard_u_eV: Mapping[str, float],
        n_segments: int,
        walltime_s: int | None,
        traj_interval: int,
        velocity_seed: int | None,
        **vasp_settings: Any,
    ) -> Maker:
        """:class:`VaspReferenceMDMaker`, or a ``MultiMDMaker`` of ``n_segments`` of them."""
        if n_segments < 1:
            raise ReferenceInputError(f"n_segments: {n_segments}; need ≥ 1")

        def segment() -> VaspReferenceMDMaker:
            maker = VaspReferenceMDMaker(
                input_set_generator=md_set_generator(
                    temperature_K=temperature_K,
                    n_steps=n_steps,
                    time_step_fs=time_step_fs,
                    hubbard_u_eV=hubbard_u_eV,
                    **vasp_settings,
                ),
                hubbard_u_eV=dict(hubbard_u_eV),
            )
            maker.run_vasp_kwargs = _vasp_run_kwargs(maker.run_vasp_kwargs, walltime_s)
            return maker

        if n_segments == 1:
            return segment()
        return MultiMDMaker(
            name=f"{AIMD_JOB_NAME} segments", md_makers=[segment() for _ in range(n_segments)]
        )

    def static_maker(self, hubbard_u_eV: Mapping[str, float], **vasp_settings: Any) -> StaticMaker:
        """atomate2 ``StaticMaker`` with the AIMD's electronic settings (no dynamics)."""
        return StaticMaker(
            name=LABEL_JOB_NAME,
            input_set_generator=static_set_generator(hubbard_u_eV=hubbard_u_eV, **vasp_settings),
        )

    def steps_per_frame(self, traj_interval: int) -> int:
        """1: VASP trajectories hold every ionic step."""
        return 1

    def hop_neb_maker(
        self,
        hubbard_u_eV: Mapping[str, float],
        encut_eV: float,
        num_images: int,
        fmax_eV_A: float,
        max_steps: int,
    ) -> VaspHopNebMaker:
        """VASP CI-NEB with the relaxation's U and cut-off; the endpoints relax with the NEB
        set itself (one set of electronic settings for every energy of the barrier)."""
        from atomate2.vasp.jobs.neb import NebFromImagesMaker

        from litcl_flows.makers.neb import VaspHopNebMaker
        from litcl_flows.neb.vasp_inputs import neb_set_generator

        generator = neb_set_generator(
            hubbard_u_eV=hubbard_u_eV, encut_eV=encut_eV, force_tolerance_eV_A=fmax_eV_A
        )
        return VaspHopNebMaker(
            neb_maker=NebFromImagesMaker(input_set_generator=generator), num_images=num_images
        )

    def check_request(
        self,
        elements: Iterable[str],
        hubbard_u_eV: Mapping[str, float],
        temperatures_K: Iterable[float] = (),
        potcar_settings: Mapping[str, str] | None = None,
    ) -> None:
        """U and temperatures, and a POTCAR mapping for every element."""
        elements = list(elements)
        super().check_request(elements, hubbard_u_eV, temperatures_K)
        check_potcar_mapping(elements, potcar_settings)

    def check_runs_here(self, elements: Iterable[str]) -> None:
        """A VASP command and the elements' POTCARs on this machine."""
        from litcl_flows.engines.vasp.validation import check_vasp_runs_here

        check_vasp_runs_here(elements)


class ChgnetReferenceEngine(ReferenceEngine):
    """CHGNet (weights from the wheel), the ML stand-in, through atomate2's force-field Makers."""

    name = "chgnet"
    display_name = "CHGNet"
    package = "chgnet"
    is_stand_in = True
    writes_vasp_inputs = False
    #: atomate2's force-field name.
    force_field_name = "CHGNet"

    def relax_maker(
        self,
        hubbard_u_eV: Mapping[str, float],
        double_relax: bool,
        walltime_s: int | None,
        fmax_eV_A: float,
        max_steps: int,
        relax_cell: bool,
        **vasp_settings: Any,
    ) -> ChgnetReferenceRelaxMaker:
        """:class:`ChgnetReferenceRelaxMaker` (``double_relax``, ``walltime_s``: VASP only)."""
        return ChgnetReferenceRelaxMaker(
            relax_cell=relax_cell,
            steps=max_steps,
            relax_kwargs={"fmax": fmax_eV_A},
            hubbard_u_eV=dict(hubbard_u_eV),
        )

    def aimd_maker(
        self,
        temperature_K: float,
        n_steps: int,
        time_step_fs: float,
        hubbard_u_eV: Mapping[str, float],
        n_segments: int,
        walltime_s: int | None,
        traj_interval: int,
        velocity_seed: int | None,
        **vasp_settings: Any,
    ) -> ChgnetReferenceMDMaker:
        """:class:`ChgnetReferenceMDMaker`, one run (``n_segments``, ``walltime_s``: VASP)."""
        return ChgnetReferenceMDMaker(
            temperature=temperature_K,
            n_steps=n_steps,
            time_step=time_step_fs,
            traj_interval=traj_interval,
            hubbard_u_eV=dict(hubbard_u_eV),
            mb_velocity_seed=velocity_seed,
        )

    def static_maker(
        self, hubbard_u_eV: Mapping[str, float], **vasp_settings: Any
    ) -> ForceFieldStaticMaker:
        """atomate2 ``ForceFieldStaticMaker`` with CHGNet; U is not applied (``vasp_settings``:
        VASP only)."""
        return ForceFieldStaticMaker(name=LABEL_JOB_NAME, force_field_name=self.force_field_name)

    def steps_per_frame(self, traj_interval: int) -> int:
        """``traj_interval``: the MD stores every this many steps."""
        return traj_interval

    def hop_neb_maker(
        self,
        hubbard_u_eV: Mapping[str, float],
        encut_eV: float,
        num_images: int,
        fmax_eV_A: float,
        max_steps: int,
    ) -> MLHopNebMaker:
        """CHGNet NEB through ASE; U is not applied (``encut_eV``: VASP only)."""
        from litcl_flows.makers.neb import MLHopNebMaker

        return MLHopNebMaker(
            force_field_name=self.force_field_name,
            num_images=num_images,
            fmax_eV_A=fmax_eV_A,
            max_steps=max_steps,
            endpoint_max_steps=max_steps,
        )

    def check_runs_here(self, elements: Iterable[str]) -> None:
        """Nothing beyond the chgnet package: its weights come with the wheel."""


#: The VASP engine.
VASP = VaspReferenceEngine()
#: The CHGNet stand-in.
CHGNET = ChgnetReferenceEngine()
#: Every reference engine by the name specs give it.
REFERENCE_ENGINES: dict[str, ReferenceEngine] = {engine.name: engine for engine in (VASP, CHGNET)}


def get_reference_engine(name: str) -> ReferenceEngine:
    """The engine a spec's ``reference_engine`` names; one-line error for an unknown one."""
    try:
        return REFERENCE_ENGINES[name]
    except KeyError:
        raise ReferenceInputError(
            f"reference_engine: {name!r} is not {' or '.join(REFERENCE_ENGINES)}"
        ) from None


def reference_relax_maker(
    reference_engine: ReferenceEngineName = "vasp",
    hubbard_u_eV: Mapping[str, float] = STUDY_HUBBARD_U_eV,
    double_relax: bool = True,
    walltime_s: int | None = None,
    fmax_eV_A: float = STUDY_FORCE_TOLERANCE_eV_A,
    max_steps: int = 500,
    relax_cell: bool = True,
    **vasp_settings: Any,
) -> Maker:
    """The relaxation Maker of a reference engine.

    Parameters
    ----------
    reference_engine
        ``"vasp"`` (DFT+U) or ``"chgnet"`` (ML stand-in).
    hubbard_u_eV
        U_eff per element, eV.
    double_relax
        VASP: two consecutive ISIF 3 runs (atomate2 ``DoubleRelaxMaker``), the second
        with the basis of the relaxed cell (Pulay stress).
    walltime_s
        VASP: job walltime, s; custodian's ``WalltimeHandler`` stops VASP cleanly before it.
    fmax_eV_A
        Force convergence, eV/Å (VASP EDIFFG = −value; CHGNet ``fmax``).
    max_steps
        CHGNet: optimiser step limit (VASP: NSW 99 per run, atomate2's default).
    relax_cell
        CHGNet: relax the lattice too (ASE ``FrechetCellFilter``), not only positions
        (VASP relaxes the cell: ISIF 3).
    **vasp_settings
        Passed to :func:`~litcl_flows.engines.vasp.sets.relax_set_generator` (``encut_eV``,
        ``kpoint_length_A``, ``kpoint_mesh_override``, ``potcar_settings``, …).

    Returns
    -------
    Maker
        ``DoubleRelaxMaker`` / :class:`VaspReferenceRelaxMaker` or
        :class:`ChgnetReferenceRelaxMaker`; ``make(structure)`` runs it.
    """
    return get_reference_engine(reference_engine).relax_maker(
        hubbard_u_eV, double_relax, walltime_s, fmax_eV_A, max_steps, relax_cell, **vasp_settings
    )


def reference_aimd_maker(
    reference_engine: ReferenceEngineName = "vasp",
    temperature_K: float = 300.0,
    n_steps: int = 1000,
    time_step_fs: float = STUDY_TIME_STEP_fs,
    hubbard_u_eV: Mapping[str, float] = STUDY_HUBBARD_U_eV,
    n_segments: int = 1,
    walltime_s: int | None = None,
    traj_interval: int = 1,
    velocity_seed: int | None = None,
    **vasp_settings: Any,
) -> Maker:
    """The NVT AIMD Maker of a reference engine at one temperature.

    Parameters
    ----------
    reference_engine
        ``"vasp"`` or ``"chgnet"``.
    temperature_K
        Thermostat temperature, K.
    n_steps
        MD steps per segment (VASP) or in total (CHGNet).
    time_step_fs
        Time step, fs.
    hubbard_u_eV
        U_eff per element, eV: the same as the relaxation it follows.
    n_segments
        VASP: chain this many walltime-sized runs (atomate2 ``MultiMDMaker``), each
        restarting from the previous one's directory.
    walltime_s
        VASP: walltime of each segment, s (custodian ``WalltimeHandler``).
    traj_interval
        CHGNet: store every this many steps.
    velocity_seed
        CHGNet: seed of the initial Maxwell–Boltzmann velocities (None: a new draw each run,
        atomate2's default). VASP draws its own.
    **vasp_settings
        Passed to :func:`~litcl_flows.engines.vasp.sets.md_set_generator`; without
        ``kpoint_length_A``/``kpoint_mesh_override`` the relaxation's length rule sets the
        k-points (``kpoint_length_A=None``: Γ only).

    Returns
    -------
    Maker
        :class:`VaspReferenceMDMaker`, ``MultiMDMaker`` of them, or
        :class:`ChgnetReferenceMDMaker`.
    """
    check_temperatures([temperature_K])
    return get_reference_engine(reference_engine).aimd_maker(
        temperature_K,
        n_steps,
        time_step_fs,
        hubbard_u_eV,
        n_segments,
        walltime_s,
        traj_interval,
        velocity_seed,
        **vasp_settings,
    )


def _trajectory_refs(node: Job | Flow) -> list[Any]:
    """References to the stored trajectories of an AIMD job, or of each segment of a flow."""
    jobs = node.jobs if isinstance(node, Flow) else [node]
    # MultiMDMaker ends with an output-collector job that holds no trajectory.
    return [
        getattr(j.output, j.maker.trajectory_field)["trajectory"]
        for j in jobs
        if isinstance(j.maker, REFERENCE_MD_MAKERS)
    ]


@dataclass
class AimdTemperaturesMaker(Maker):
    """NVT AIMD of one structure at several temperatures, one independent job (chain) per T.

    The jobs have no dependencies between them, so a FireWorks launcher runs them in parallel.
    Flow output: ``{"temperatures_K": [...], "trajectories": [[ref, ...] per T]}``, the
    references pointing at the trajectories in the ``data`` store (one per segment).

    Parameters
    ----------
    name
        Flow name.
    reference_engine
        ``"vasp"`` or ``"chgnet"`` (:data:`REFERENCE_ENGINES`).
    temperatures_K
        Temperatures, K.
    n_steps, time_step_fs, n_segments, walltime_s, traj_interval, velocity_seed
        As in :func:`reference_aimd_maker`.
    hubbard_u_eV
        U_eff per element, eV (default: the Li3TiCl6 paper's Ti 4 eV).
    vasp_settings
        Keyword arguments of :func:`~litcl_flows.engines.vasp.sets.md_set_generator`.
    """

    name: str = "aimd temperatures"
    reference_engine: ReferenceEngineName = "vasp"
    temperatures_K: Sequence[float] = (600.0, 800.0, 1000.0)
    n_steps: int = 1000
    time_step_fs: float = STUDY_TIME_STEP_fs
    n_segments: int = 1
    walltime_s: int | None = None
    traj_interval: int = 1
    velocity_seed: int | None = None
    hubbard_u_eV: dict[str, float] = field(default_factory=lambda: dict(STUDY_HUBBARD_U_eV))
    vasp_settings: dict[str, Any] = field(default_factory=dict)

    @property
    def engine(self) -> ReferenceEngine:
        """The engine ``reference_engine`` names."""
        return get_reference_engine(self.reference_engine)

    @property
    def frame_interval_fs(self) -> float:
        """Time between two stored trajectory frames, fs."""
        return self.time_step_fs * self.engine.steps_per_frame(self.traj_interval)

    def md_maker(self, temperature_K: float) -> Maker:
        """The Maker of the run at one temperature (the dry run writes its inputs)."""
        return reference_aimd_maker(
            self.reference_engine,
            temperature_K=temperature_K,
            n_steps=self.n_steps,
            time_step_fs=self.time_step_fs,
            hubbard_u_eV=self.hubbard_u_eV,
            n_segments=self.n_segments,
            walltime_s=self.walltime_s,
            traj_interval=self.traj_interval,
            velocity_seed=self.velocity_seed,
            **self.vasp_settings,
        )

    def make(self, structure: Structure) -> Flow:
        """One AIMD job (or segment chain) per temperature, all starting from ``structure``."""
        check_temperatures(self.temperatures_K)
        nodes, trajectories = [], []
        for temperature_K in self.temperatures_K:
            node = self.md_maker(temperature_K).make(structure)
            node.append_name(f" {temperature_K:g} K {u_label(self.hubbard_u_eV)}")
            nodes.append(node)
            trajectories.append(_trajectory_refs(node))
        output = {"temperatures_K": list(self.temperatures_K), "trajectories": trajectories}
        return Flow(nodes, output=output, name=self.name)


@dataclass
class ReferenceDataMaker(Maker):
    """For each U: relax → AIMD at each temperature (the reference data of a study).

    The relaxed structure reaches the AIMD jobs as a reference (``relax.output.structure``),
    resolved when they start. Flow output: one entry per U set, in order, with the
    requested ``hubbard_u_eV``, the relaxation's ``relax_uuid`` and the AIMD flow output.

    Parameters
    ----------
    name
        Flow name.
    reference_engine
        ``"vasp"`` or ``"chgnet"`` (:data:`REFERENCE_ENGINES`), of the relaxation and the AIMD.
    hubbard_u_sets_eV
        One U_eff mapping per branch, eV; default: the Li3TiCl6 paper's Ti U_eff 0 and 4
        (another conductor gives its own).
    double_relax, relax_walltime_s, fmax_eV_A, max_relax_steps, relax_cell
        As in :func:`reference_relax_maker`.
    relax_settings
        Extra VASP keyword arguments of the relaxation input set (``encut_eV``,
        ``potcar_settings``, … must agree with the AIMD's).
    aimd_maker
        The AIMD of each branch, with the branch's U and this Maker's engine (its own are
        replaced); None: relaxations only. It takes the relaxation's k-point settings
        (``kpoint_length_A``, ``kpoint_mesh_override``) unless its ``vasp_settings`` name
        one of them (``{"kpoint_length_A": None}``: Γ only).
    """

    name: str = "reference data"
    reference_engine: ReferenceEngineName = "vasp"
    hubbard_u_sets_eV: Sequence[dict[str, float]] = ({"Ti": 0.0}, {"Ti": 4.0})
    double_relax: bool = True
    relax_walltime_s: int | None = None
    fmax_eV_A: float = STUDY_FORCE_TOLERANCE_eV_A
    max_relax_steps: int = 500
    relax_cell: bool = True
    relax_settings: dict[str, Any] = field(default_factory=dict)
    aimd_maker: AimdTemperaturesMaker | None = field(default_factory=AimdTemperaturesMaker)

    @property
    def engine(self) -> ReferenceEngine:
        """The engine ``reference_engine`` names."""
        return get_reference_engine(self.reference_engine)

    def relax_maker(self, hubbard_u_eV: Mapping[str, float]) -> Maker:
        """The relaxation Maker of one U set."""
        return reference_relax_maker(
            self.reference_engine,
            hubbard_u_eV=hubbard_u_eV,
            double_relax=self.double_relax,
            walltime_s=self.relax_walltime_s,
            fmax_eV_A=self.fmax_eV_A,
            max_steps=self.max_relax_steps,
            relax_cell=self.relax_cell,
            **self.relax_settings,
        )

    def branch_aimd_maker(self, hubbard_u_eV: Mapping[str, float]) -> AimdTemperaturesMaker:
        """``aimd_maker`` for one U set: its U, this Maker's engine and k-point settings."""
        if self.aimd_maker is None:
            raise ValueError(f"{self.name}: no aimd_maker")
        settings = dict(self.aimd_maker.vasp_settings)
        if not KPOINT_SETTINGS & set(settings):
            settings |= {k: v for k, v in self.relax_settings.items() if k in KPOINT_SETTINGS}
        return replace(
            self.aimd_maker,
            name=f"{self.aimd_maker.name} {u_label(hubbard_u_eV)}",
            reference_engine=self.reference_engine,
            hubbard_u_eV=dict(hubbard_u_eV),
            vasp_settings=settings,
        )

    def check(self, structure: Structure) -> None:
        """Refuse a U set, temperature or POTCAR mapping that cannot run on ``structure``."""
        elements = [el.symbol for el in structure.composition.elements]
        potcars = self.relax_settings.get("potcar_settings")
        temperatures = self.aimd_maker.temperatures_K if self.aimd_maker is not None else ()
        for hubbard_u_eV in self.hubbard_u_sets_eV:
            self.engine.check_request(elements, hubbard_u_eV, temperatures, potcars)

    def branches(self, structure: Structure) -> list[tuple[Job | Flow, Flow | None]]:
        """Per U set: the relaxation and its AIMD flow (None without ``aimd_maker``)."""
        self.check(structure)
        branches: list[tuple[Job | Flow, Flow | None]] = []
        for hubbard_u_eV in self.hubbard_u_sets_eV:
            relax = self.relax_maker(hubbard_u_eV).make(structure)
            relax.append_name(f" {u_label(hubbard_u_eV)}")
            aimd = None
            if self.aimd_maker is not None:
                aimd = self.branch_aimd_maker(hubbard_u_eV).make(relax.output.structure)
            branches.append((relax, aimd))
        return branches

    def make(self, structure: Structure) -> Flow:
        """Validate the request against ``structure``, then build the per-U branches."""
        nodes: list[Job | Flow] = []
        outputs = []
        for hubbard_u_eV, (relax, aimd) in zip(
            self.hubbard_u_sets_eV, self.branches(structure), strict=True
        ):
            nodes.append(relax)
            output = {"hubbard_u_eV": dict(hubbard_u_eV), "relax_uuid": relax.output.uuid}
            if aimd is not None:
                nodes.append(aimd)
                output["aimd"] = aimd.output
            outputs.append(output)
        return Flow(nodes, output=outputs, name=self.name)

"""The study's Maker and the Makers of its steps, configured from its spec.

:func:`study_maker` (``StudySpec.to_maker()``) is the one Maker both the submitted flow
(:mod:`litcl_flows.flows.study`) and the dry run (:mod:`litcl_flows.flows.inputs`) use, so the
inputs a user reads are the inputs that run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litcl_flows.flows.spec import StudySpec

if TYPE_CHECKING:
    from litcl_flows.engines.deepmd.trust import TrustLevels
    from litcl_flows.flows.study import TransportStudyMaker
    from litcl_flows.makers.deepmd import DeepmdDatasetMaker, DeepmdTrainMaker
    from litcl_flows.makers.lammps import LammpsDeepmdMDMaker, RunLengthControl
    from litcl_flows.makers.learning import ConcurrentLearningMaker
    from litcl_flows.makers.neb import HopNebMaker, NebBarriersMaker
    from litcl_flows.makers.reference import ReferenceDataMaker


def vasp_settings(spec: StudySpec) -> dict[str, Any]:
    """VASP keyword arguments of the relaxation input set (none for an ML engine)."""
    if not spec.engine.writes_vasp_inputs:
        return {}
    settings: dict[str, Any] = {"encut_eV": spec.relax.encut_eV}
    if spec.relax.kpoint_mesh is not None:
        settings["kpoint_mesh_override"] = tuple(spec.relax.kpoint_mesh)
    return settings


def aimd_vasp_settings(spec: StudySpec) -> dict[str, Any]:
    """VASP keyword arguments of the AIMD input sets: the relaxation's cut-off and k-points.

    ``aimd.kpoint_mesh``: ``relax`` names no k-points, so the AIMD takes the relaxation's
    (:class:`~litcl_flows.makers.reference.ReferenceDataMaker`): its explicit mesh, or the
    length rule; ``gamma`` is Γ only.
    """
    if not spec.engine.writes_vasp_inputs:
        return {}
    settings: dict[str, Any] = {"encut_eV": spec.relax.encut_eV}
    mesh = spec.aimd.kpoint_mesh
    if mesh == "gamma":
        settings["kpoint_length_A"] = None
    elif mesh != "relax":
        settings["kpoint_mesh_override"] = tuple(mesh)
    return settings


def reference_maker(spec: StudySpec) -> ReferenceDataMaker:
    """Relaxation per U set and, unless the study stops after it, AIMD per temperature."""
    from litcl_flows.makers.reference import AimdTemperaturesMaker, ReferenceDataMaker

    res = spec.resources
    aimd = spec.aimd
    return ReferenceDataMaker(
        reference_engine=spec.reference_engine,
        hubbard_u_sets_eV=spec.hubbard_u_eV,
        double_relax=spec.relax.double_relax,
        relax_walltime_s=res.relax.walltime_s,
        fmax_eV_A=spec.relax.fmax_eV_A,
        max_relax_steps=spec.relax.max_steps,
        relax_cell=spec.relax.relax_cell,
        relax_settings=vasp_settings(spec),
        aimd_maker=AimdTemperaturesMaker(
            temperatures_K=aimd.temperatures_K,
            n_steps=aimd.n_steps,
            time_step_fs=aimd.time_step_fs,
            n_segments=aimd.n_segments,
            walltime_s=res.aimd.walltime_s,
            traj_interval=aimd.traj_interval,
            velocity_seed=aimd.velocity_seed,
            vasp_settings=aimd_vasp_settings(spec),
        )
        if spec.runs("aimd")
        else None,
    )


def run_length_control(spec: StudySpec) -> RunLengthControl | None:
    """The run-length rule of ``mlmd.run_length`` with the analysis's fit window and blocks,
    so each verdict analyses the run as the study's analysis will; None: fixed length."""
    from litcl_flows.analysis.run_length import RunLengthTarget
    from litcl_flows.makers.lammps import RunLengthControl

    rule = spec.mlmd.run_length
    if rule is None:
        return None
    analysis = spec.analysis
    assert analysis.fit_window_ps is not None  # the spec refuses run_length without one
    deviation = rule.max_exponent_deviation
    if deviation is None:
        deviation = analysis.max_msd_exponent_deviation
    return RunLengthControl(
        fit_window_ps=analysis.fit_window_ps,
        n_blocks=analysis.n_blocks,
        target=RunLengthTarget(
            rel_stderr_D_self=rule.rel_stderr_D_self,
            rel_stderr_conductivity=rule.rel_stderr_conductivity,
            max_exponent_deviation=deviation,
            min_hops_per_ion=rule.min_hops_per_ion,
        ),
        check_every_steps=rule.check_every_steps,
    )


def mlmd_maker(
    spec: StudySpec, lmp_cmd: str | None = None, name: str = "lammps deepmd nvt"
) -> LammpsDeepmdMDMaker:
    """LAMMPS NVT with the DeePMD model, as the spec's ``mlmd`` section sizes it.

    With ``mlmd.cell: disordered`` the MD cell is built from ``material.structure`` at the
    ``material.supercell`` occupancies (the parent's own when there is no supercell section).
    With ``mlmd.run_length`` each run stops once D is known (:func:`run_length_control`),
    ``n_steps`` being its maximum.
    """
    from litcl_flows.makers.lammps import LammpsDeepmdMDMaker
    from litcl_flows.structures.library import load_structure

    md = spec.mlmd
    supercell = spec.material.supercell
    disordered = md.cell == "disordered"
    return LammpsDeepmdMDMaker(
        name=name,
        n_atoms=md.n_atoms,
        cell=md.cell,
        cell_seed=md.cell_seed,
        # The parent and targets of the ordered cell, so the MD cell has the same occupancies.
        parent_structure=load_structure(spec.material.structure) if disordered else None,
        site_occupancies=supercell.site_occupancies if disordered and supercell else None,
        n_steps=md.n_steps,
        time_step_fs=md.time_step_fs,
        tdamp_fs=md.tdamp_fs,
        seed=md.seed,
        minimize=md.minimize,
        equilibration_steps=md.equilibration_steps,
        thermo_every=md.thermo_every,
        dump_mobile_every=md.dump_mobile_every,
        dump_all_every=md.dump_all_every,
        restart_every=md.restart_every,
        mobile_species=(spec.material.mobile_species,),
        lmp_cmd=lmp_cmd,
        walltime_s=spec.resources.mlmd.walltime_s,
        run_length=run_length_control(spec),
        trust_levels=trust_levels(spec),
    )


def trust_levels(spec: StudySpec) -> TrustLevels:
    """The force trust levels of ``learning``: the loop's and each production run's."""
    from litcl_flows.engines.deepmd.trust import TrustLevels

    learning = spec.learning
    return TrustLevels(
        level_f_lo_eV_A=learning.level_f_lo_eV_A,
        level_f_hi_eV_A=learning.level_f_hi_eV_A,
        adaptive_min_frames=learning.adaptive_min_frames,
        adaptive_rate=learning.adaptive_rate,
    )


def learning_maker(
    spec: StudySpec, dataset_maker: DeepmdDatasetMaker, train_maker: DeepmdTrainMaker
) -> ConcurrentLearningMaker:
    """The concurrent-learning loop of ``learning``: ensembles of ``train_maker``'s model
    on ``dataset_maker``'s sets, explored with the ML-MD's thermostat and time step in the
    relaxed reference cell, frames labelled by the reference engine's static Maker."""
    from litcl_flows.makers.deepmd import DeepmdEnsembleMaker
    from litcl_flows.makers.labelling import LabelFramesMaker
    from litcl_flows.makers.learning import ConcurrentLearningMaker, exploration_maker

    learning, md = spec.learning, spec.mlmd
    temperatures = learning.temperatures_K or sorted(
        {min(md.temperatures_K), max(md.temperatures_K)}
    )
    return ConcurrentLearningMaker(
        # the U of each branch is set by TransportStudyMaker
        label_maker=LabelFramesMaker(
            reference_engine=spec.reference_engine, vasp_settings=aimd_vasp_settings(spec)
        ),
        dataset_maker=dataset_maker,
        ensemble_maker=DeepmdEnsembleMaker(train_maker=train_maker, n_models=learning.n_models),
        explore_maker=exploration_maker(
            learning.n_steps,
            learning.every_steps,
            time_step_fs=md.time_step_fs,
            tdamp_fs=md.tdamp_fs,
            seed=md.seed,
            minimize=False,
            mobile_species=(spec.material.mobile_species,),
            walltime_s=spec.resources.mlmd.walltime_s,
        ),
        temperatures_K=tuple(temperatures),
        trust_levels=trust_levels(spec),
        max_labelled=learning.max_labelled,
        converged_fraction=learning.converged_fraction,
        max_iterations=learning.max_iterations,
        seed=learning.seed,
    )


def hop_neb_maker(spec: StudySpec) -> HopNebMaker:
    """The per-hop NEB Maker of the reference engine: VASP CI-NEB or CHGNet.

    VASP runs with the first U set and the relaxation's cut-off; the NEB supercell takes its
    k-points from the density rule (the relaxation's mesh is for the ordered cell).
    """
    neb = spec.neb
    return spec.engine.hop_neb_maker(
        hubbard_u_eV=spec.hubbard_u_eV[0],
        encut_eV=spec.relax.encut_eV,
        num_images=neb.num_images,
        fmax_eV_A=neb.fmax_eV_A,
        max_steps=neb.max_steps,
    )


def neb_barriers_maker(spec: StudySpec, hop_maker: HopNebMaker) -> NebBarriersMaker:
    """The NEB step over hops: the spec's directions, labelled in material.structure's cell."""
    from litcl_flows.makers.neb import NebBarriersMaker
    from litcl_flows.structures.library import load_structure

    neb = spec.neb
    return NebBarriersMaker(
        hop_maker=hop_maker,
        directions=tuple(neb.directions),
        species=spec.material.mobile_species,
        max_hop_length_A=neb.max_hop_length_A,
        parent=load_structure(spec.material.structure),
        vacant_site_hops=neb.vacant_site_hops,
        max_atoms=neb.max_atoms,
        min_image_distance_A=neb.min_image_distance_A,
    )


def study_maker(spec: StudySpec) -> TransportStudyMaker:
    """The study's Maker: the steps up to ``spec.stop_after``, routed as ``spec.resources``."""
    from litcl_flows.flows.study import TransportStudyMaker
    from litcl_flows.makers.deepmd import DeepmdDatasetMaker, DeepmdTrainMaker
    from litcl_flows.makers.lammps import LammpsTemperatureSweepMaker

    routing = {}
    for step in type(spec.resources).model_fields:
        resources = getattr(spec.resources, step)
        manager_config = {"_category": resources.category}
        if resources.fworker:
            manager_config["_fworker"] = resources.fworker
        routing[step] = manager_config
    maker = TransportStudyMaker(
        name=spec.name,
        reference_maker=reference_maker(spec),
        mobile_species=spec.material.mobile_species,
        analysis=spec.analysis.model_dump(mode="json"),
        routing=routing,
    )
    if spec.runs("train"):
        aimd = maker.reference_maker.aimd_maker
        assert aimd is not None  # the AIMD runs before training
        maker.dataset_maker = DeepmdDatasetMaker(
            **spec.deepmd.dataset_settings(aimd.frame_interval_fs), stress_unit="kBar"
        )
        maker.train_maker = DeepmdTrainMaker(
            training_input=spec.deepmd.training_input(spec.profile),
            compress=spec.deepmd.compress,
            threads=spec.deepmd.threads,
            walltime_s=spec.resources.train.walltime_s,
        )
        if spec.learning.enabled:
            maker.learning_maker = learning_maker(spec, maker.dataset_maker, maker.train_maker)
            maker.learning_maker.routing = routing
    if spec.runs("mlmd"):
        maker.mlmd_maker = LammpsTemperatureSweepMaker(
            md_maker=mlmd_maker(spec), temperatures_K=tuple(spec.mlmd.temperatures_K)
        )
    if spec.runs("study"):
        maker.spec = spec.model_dump(mode="json")
        if spec.neb.enabled:
            maker.neb_maker = neb_barriers_maker(spec, hop_neb_maker(spec))
    return maker

"""The Makers of a study's steps, configured from its spec.

One place for both the submitted flow (:mod:`litcl_flows.flows.study`) and the dry run
(:mod:`litcl_flows.flows.inputs`), so the inputs a user reads are the inputs that run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litcl_flows.flows.spec import StudySpec

if TYPE_CHECKING:
    from jobflow import Maker

    from litcl_flows.makers.lammps import LammpsDeepmdMDMaker
    from litcl_flows.makers.neb import HopNebMaker


def vasp_settings(spec: StudySpec) -> dict[str, Any]:
    """VASP keyword arguments of the relaxation input set (none for an ML engine)."""
    if spec.reference_engine != "vasp":
        return {}
    settings: dict[str, Any] = {"encut_eV": spec.relax.encut_eV}
    if spec.relax.kpoint_mesh is not None:
        settings["kpoint_mesh_override"] = tuple(spec.relax.kpoint_mesh)
    return settings


def relax_maker(spec: StudySpec, hubbard_u_eV: dict[str, float]) -> Maker:
    """The reference engine's relaxation of the ordered cell with one U set."""
    from litcl_flows.makers.reference import reference_relax_maker

    return reference_relax_maker(
        spec.reference_engine,
        hubbard_u_eV=hubbard_u_eV,
        double_relax=spec.relax.double_relax,
        walltime_s=spec.resources.relax.walltime_s,
        fmax_eV_A=spec.relax.fmax_eV_A,
        max_steps=spec.relax.max_steps,
        relax_cell=spec.relax.relax_cell,
        **vasp_settings(spec),
    )


def mlmd_maker(
    spec: StudySpec, lmp_cmd: str = "lmp", name: str = "lammps deepmd nvt"
) -> LammpsDeepmdMDMaker:
    """LAMMPS NVT with the DeePMD model, as the spec's ``mlmd`` section sizes it."""
    from litcl_flows.makers.lammps import LammpsDeepmdMDMaker

    md = spec.mlmd
    return LammpsDeepmdMDMaker(
        name=name,
        n_atoms=md.n_atoms,
        n_steps=md.n_steps,
        timestep_fs=md.timestep_fs,
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
    )


def hop_neb_maker(spec: StudySpec, model_path: Any = None) -> HopNebMaker:
    """The per-hop NEB Maker: the trained DeePMD model, VASP CI-NEB or CHGNet.

    VASP runs with the first U set and the relaxation's cut-off; the NEB supercell takes its
    k-points from the density rule (the relaxation's mesh is for the ordered cell).
    ``model_path`` (a path or a reference to one) is needed for ``engine: deepmd``.
    """
    from litcl_flows.makers.neb import MLHopNebMaker, VaspHopNebMaker

    neb = spec.neb
    hop_maker: HopNebMaker
    if neb.engine == "deepmd":
        hop_maker = MLHopNebMaker(
            force_field_name="DeepMD", calculator_kwargs={"model": model_path}
        )
    elif spec.reference_engine == "vasp":
        from atomate2.vasp.jobs.core import RelaxMaker
        from atomate2.vasp.jobs.neb import NebFromImagesMaker

        from litcl_flows.engines.vasp.sets import relax_set_generator
        from litcl_flows.neb.vasp_inputs import neb_set_generator

        hubbard_u_eV = spec.hubbard_u_eV[0]
        hop_maker = VaspHopNebMaker(
            neb_maker=NebFromImagesMaker(
                input_set_generator=neb_set_generator(
                    hubbard_u_eV=hubbard_u_eV,
                    encut_eV=spec.relax.encut_eV,
                    force_tolerance_eV_A=neb.fmax_eV_A,
                )
            ),
            relax_maker=RelaxMaker(
                input_set_generator=relax_set_generator(
                    hubbard_u_eV=hubbard_u_eV,
                    encut_eV=spec.relax.encut_eV,
                    force_tolerance_eV_A=spec.relax.fmax_eV_A,
                    incar_overrides={"ISIF": 2},
                )
            ),
        )
    else:
        hop_maker = MLHopNebMaker(force_field_name="CHGNet")
    hop_maker.num_images = neb.num_images
    if isinstance(hop_maker, MLHopNebMaker):
        hop_maker.fmax_eV_A = neb.fmax_eV_A
        hop_maker.max_steps = neb.max_steps
        hop_maker.endpoint_max_steps = neb.max_steps
    return hop_maker

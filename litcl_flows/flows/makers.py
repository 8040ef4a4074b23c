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
    from litcl_flows.makers.neb import HopNebMaker, NebBarriersMaker


def vasp_settings(spec: StudySpec) -> dict[str, Any]:
    """VASP keyword arguments of the relaxation input set (none for an ML engine)."""
    if spec.reference_engine != "vasp":
        return {}
    settings: dict[str, Any] = {"encut_eV": spec.relax.encut_eV}
    if spec.relax.kpoint_mesh is not None:
        settings["kpoint_mesh_override"] = tuple(spec.relax.kpoint_mesh)
    return settings


def aimd_vasp_settings(spec: StudySpec) -> dict[str, Any]:
    """VASP keyword arguments of the AIMD input sets: the relaxation's cut-off and k-points.

    ``aimd.kpoint_mesh``: ``relax`` takes the relaxation's explicit mesh, or leaves the
    AIMD set its default, the relaxation's length rule; ``gamma`` is Γ only.
    """
    if spec.reference_engine != "vasp":
        return {}
    settings: dict[str, Any] = {"encut_eV": spec.relax.encut_eV}
    mesh = spec.aimd.kpoint_mesh
    if mesh == "gamma":
        settings["kpoint_length_A"] = None
    elif mesh == "relax":
        if spec.relax.kpoint_mesh is not None:
            settings["kpoint_mesh_override"] = tuple(spec.relax.kpoint_mesh)
    else:
        settings["kpoint_mesh_override"] = tuple(mesh)
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
    spec: StudySpec, lmp_cmd: str | None = None, name: str = "lammps deepmd nvt"
) -> LammpsDeepmdMDMaker:
    """LAMMPS NVT with the DeePMD model, as the spec's ``mlmd`` section sizes it.

    With ``mlmd.cell: disordered`` the MD cell is built from ``material.structure`` at the
    ``material.supercell`` occupancies (the parent's own when there is no supercell section).
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
        from atomate2.vasp.jobs.neb import NebFromImagesMaker

        from litcl_flows.neb.vasp_inputs import neb_set_generator

        # The endpoints relax with the NEB set itself (VaspHopNebMaker's default): one set of
        # electronic settings for every energy of the barrier.
        hop_maker = VaspHopNebMaker(
            neb_maker=NebFromImagesMaker(
                input_set_generator=neb_set_generator(
                    hubbard_u_eV=spec.hubbard_u_eV[0],
                    encut_eV=spec.relax.encut_eV,
                    force_tolerance_eV_A=neb.fmax_eV_A,
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

"""Build the Flow of a study from its validated spec.

supercell (at build time) → per U: relax → AIMD per T → dataset → DeePMD training → ML-MD per T
→ analysis per run → Arrhenius; NEB per direction; then one ``TransportStudy`` document. Each
step is routed to its workers (``resources``) and every job carries ``metadata.study``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litcl_flows.flows.spec import StepResources, StudySpec
from litcl_flows.makers.reference import _u_label as hubbard_label
from litcl_flows.structures.library import load_structure, order_by_majority_occupancy

if TYPE_CHECKING:
    from jobflow import Flow, Job
    from pymatgen.core import Structure


def ordered_cell(spec: StudySpec) -> tuple[Structure, dict[str, Any] | None]:
    """The ordered cell the reference engine computes, and its summary (None: majority).

    Deterministic for a spec (the ordering search is seeded), so a dry run (`litcl inputs`)
    and the submitted flow start from the same cell.
    """
    structure = load_structure(spec.material.structure)
    cell = spec.material.supercell
    if cell is None:
        return order_by_majority_occupancy(structure), None
    from litcl_flows.structures import ordered_supercells

    best = ordered_supercells(
        structure,
        cell.n_atoms,
        cell.site_occupancies,
        n_structures=1,
        seed=cell.seed,
        n_samples=cell.n_samples,
        mobile_species=spec.material.mobile_species,
    )[0]
    return best.structure, best.summary()


def _route(node: Job | Flow, resources: StepResources) -> None:
    """Send a job (or every job of a flow) to a worker class through its manager config.

    FireWorks reads ``_category`` / ``_fworker`` from the Firework spec; jobflow passes the
    manager config on to the jobs a job replaces itself with (walltime chunks, NEB hops).
    """
    manager_config = {"_category": resources.category}
    if resources.fworker:
        manager_config["_fworker"] = resources.fworker
    node.update_config({"manager_config": manager_config})


def build_study_flow(spec: StudySpec) -> Flow:
    """The study's jobflow Flow.

    No launch command is frozen into it: ``dp``, ``lmp`` and VASP are taken from the
    settings of the worker that runs each job (``dp_cmd``, ``lmp_cmd``, atomate2's
    ``VASP_CMD``), so GPU nodes can use their own builds.

    Parameters
    ----------
    spec
        Validated study spec.
    """
    from jobflow import Flow, OnMissing

    from litcl_flows.engines.vasp.validation import validate_reference_request
    from litcl_flows.flows.makers import aimd_vasp_settings, relax_maker
    from litcl_flows.makers.reference import AimdTemperaturesMaker

    structure, cell_summary = ordered_cell(spec)
    elements = [el.symbol for el in structure.composition.elements]
    for hubbard_u_eV in spec.hubbard_u_eV:
        validate_reference_request(
            elements, hubbard_u_eV, spec.aimd.temperatures_K, spec.reference_engine, None
        )
    res = spec.resources

    nodes: list[Job | Flow] = []
    branches: list[dict[str, Any]] = []
    for hubbard_u_eV in spec.hubbard_u_eV:
        label = hubbard_label(hubbard_u_eV)
        relax = relax_maker(spec, hubbard_u_eV).make(structure)
        relax.append_name(f" {label}")
        _route(relax, res.relax)
        nodes.append(relax)
        branch: dict[str, Any] = {"hubbard_u_eV": hubbard_u_eV, "relax": relax}
        branches.append(branch)
        if not spec.runs("aimd"):
            continue
        aimd = AimdTemperaturesMaker(
            name=f"aimd temperatures {label}",
            reference_engine=spec.reference_engine,
            temperatures_K=spec.aimd.temperatures_K,
            n_steps=spec.aimd.n_steps,
            time_step_fs=spec.aimd.time_step_fs,
            n_segments=spec.aimd.n_segments,
            walltime_s=res.aimd.walltime_s,
            traj_interval=spec.aimd.traj_interval,
            hubbard_u_eV=dict(hubbard_u_eV),
            vasp_settings=aimd_vasp_settings(spec),
        ).make(relax.output.structure)
        _route(aimd, res.aimd)
        nodes.append(aimd)
        branch["aimd"] = aimd
        if spec.runs("train"):
            _add_potential(spec, branch, nodes, label)
        if spec.runs("mlmd"):
            _add_mlmd(spec, branch, nodes, label)

    if spec.runs("study"):
        from litcl_flows.makers.study import study_document

        neb = _add_neb(spec, branches[0], nodes) if spec.neb.enabled else None
        document = study_document(
            spec.model_dump(mode="json"),
            cell_summary,
            structure.composition.reduced_formula,
            [_branch_inputs(branch) for branch in branches],
            neb.output if neb is not None else None,
            neb.uuid if neb is not None else None,
        )
        document.name = "transport study"
        document.update_config({"on_missing_references": OnMissing.NONE})
        _route(document, res.analysis)
        nodes.append(document)
    output = nodes[-1].output
    flow = Flow(nodes, output=output, name=spec.name)
    flow.update_metadata(
        {
            "study": spec.name,
            "material": structure.composition.reduced_formula,
            "reference_engine": spec.reference_engine,
        }
    )
    return flow


def _add_potential(spec: StudySpec, branch: dict[str, Any], nodes: list, label: str) -> None:
    """Dataset from every AIMD trajectory of the branch, then one DeePMD model."""
    from litcl_flows.makers.deepmd import DeepmdDatasetMaker, DeepmdTrainMaker

    trajectories = branch["aimd"].output["trajectories"]  # per T: its segments, one run
    dataset = DeepmdDatasetMaker(
        name=f"deepmd dataset {label}",
        **spec.deepmd.dataset_settings(spec.aimd, spec.reference_engine),
        stress_unit="kBar",
    ).make(trajectories)
    train = DeepmdTrainMaker(
        name=f"deepmd train {label}",
        training_input=spec.deepmd.training_input(spec.profile),
        compress=spec.deepmd.compress,
        threads=spec.deepmd.threads,
        walltime_s=spec.resources.train.walltime_s,
    ).make(dataset.output)
    _route(dataset, spec.resources.analysis)
    _route(train, spec.resources.train)
    nodes += [dataset, train]
    branch.update(dataset=dataset, train=train)


def _add_mlmd(spec: StudySpec, branch: dict[str, Any], nodes: list, label: str) -> None:
    """LAMMPS at each temperature with the branch's model, each run analysed on its own."""
    from jobflow import OnMissing

    from litcl_flows.flows.makers import mlmd_maker
    from litcl_flows.makers.study import analyze_run, fit_branch_arrhenius

    md = spec.mlmd
    maker = mlmd_maker(spec, name=f"lammps deepmd nvt {label}")
    train = branch["train"]
    aimd_temperatures = list(spec.aimd.temperatures_K)
    aimd_trajectories = branch["aimd"].output["trajectories"]
    runs, analyses = [], []
    for temperature_K in md.temperatures_K:
        run = maker.make(
            branch["relax"].output.structure,
            train.output.model_path,
            temperature_K,
            train.output.type_map,
        )
        run.name = f"{maker.name} {temperature_K:g}K"
        _route(run, spec.resources.mlmd)
        # The RDF is compared with the AIMD run nearest in temperature (SCIENCE.md §6).
        nearest = min(
            range(len(aimd_temperatures)), key=lambda i: abs(aimd_temperatures[i] - temperature_K)
        )
        analysis = analyze_run(
            run.output,
            run.uuid,
            spec.name,
            branch["hubbard_u_eV"],
            temperature_K,
            aimd_trajectories[nearest][0],
            aimd_temperatures[nearest],
            spec.material.mobile_species,
            spec.analysis.model_dump(mode="json"),
        )
        analysis.name = f"transport analysis {label} {temperature_K:g}K"
        # A failed or unfinished MD run still gets a document saying so.
        analysis.update_config({"on_missing_references": OnMissing.NONE})
        _route(analysis, spec.resources.analysis)
        runs.append(run)
        analyses.append(analysis)
    arrhenius = fit_branch_arrhenius(
        [a.output for a in analyses],
        [r.uuid for r in runs],
        list(md.temperatures_K),
        spec.name,
        branch["hubbard_u_eV"],
        spec.analysis.arrhenius_form,
        spec.analysis.extrapolation_K,
        spec.analysis.arrhenius_conductivity,
    )
    arrhenius.name = f"arrhenius {label}"
    arrhenius.update_config({"on_missing_references": OnMissing.NONE})
    _route(arrhenius, spec.resources.analysis)
    nodes += [*runs, *analyses, arrhenius]
    branch.update(runs=runs, analyses=analyses, arrhenius=arrhenius)


def _add_neb(spec: StudySpec, branch: dict[str, Any], nodes: list) -> Job:
    """Barriers along the spec's directions in the first branch's relaxed cell."""
    from litcl_flows.flows.makers import hop_neb_maker, neb_barriers_maker

    neb = spec.neb
    if neb.engine == "deepmd" and "train" not in branch:
        raise ValueError("neb.engine 'deepmd' needs the training step (stop_after)")
    model_path = branch["train"].output.model_path if neb.engine == "deepmd" else None
    hop_maker = hop_neb_maker(spec, model_path)
    planner = neb_barriers_maker(spec, hop_maker).make(branch["relax"].output.structure)
    _route(planner, spec.resources.neb)
    nodes.append(planner)
    return planner


def _branch_inputs(branch: dict[str, Any]) -> dict[str, Any]:
    """What the study document reads of a branch: references and uuids."""
    from jobflow import Flow

    relax = branch["relax"]
    inputs: dict[str, Any] = {
        "hubbard_u_eV": branch["hubbard_u_eV"],
        "relax_uuid": relax.jobs[-1].uuid if isinstance(relax, Flow) else relax.uuid,
        "relax": {
            "structure": relax.output.structure,
            "energy_per_atom": relax.output.output.energy_per_atom,
            "hubbard_u_applied": relax.output.hubbard_u_applied,
        },
    }
    if "aimd" in branch:
        inputs["aimd"] = [
            {
                "uuid": job.uuid,
                "wall_time_s": job.output.wall_time_s,
                "n_atoms": job.output.nsites,
                "n_frames": job.output.n_frames,
            }
            for job in _aimd_jobs(branch["aimd"].jobs)
        ]
    if "train" in branch:
        train = branch["train"]
        inputs["train_uuid"] = train.uuid
        inputs["train"] = {
            "validation": train.output.validation,
            "numb_steps": train.output.numb_steps,
            "n_frames": {
                "train": branch["dataset"].output.n_frames_train,
                "valid": branch["dataset"].output.n_frames_valid,
            },
        }
    if "runs" in branch:
        inputs["analyses"] = [a.output for a in branch["analyses"]]
        inputs["analysis_uuids"] = [a.uuid for a in branch["analyses"]]
        inputs["arrhenius"] = branch["arrhenius"].output
        inputs["arrhenius_uuid"] = branch["arrhenius"].uuid
    return inputs


def _aimd_jobs(nodes: list) -> list:
    """The MD jobs of an AIMD flow, in order: VASP segments are a sub-flow that ends with
    an output-collector job, which ran no MD."""
    from jobflow import Flow

    from litcl_flows.makers.reference import ChgnetReferenceMDMaker, VaspReferenceMDMaker

    jobs = []
    for node in nodes:
        if isinstance(node, Flow):
            jobs.extend(_aimd_jobs(node.jobs))
        elif isinstance(node.maker, VaspReferenceMDMaker | ChgnetReferenceMDMaker):
            jobs.append(node)
    return jobs


def build_study_workflow(spec: StudySpec):  # -> fireworks.Workflow (imported lazily)
    """The study as a FireWorks Workflow, with no JobStore serialised into it.

    ``store=None`` keeps credentials out of the launchpad: workers find the JobStore
    through their own ``JOBFLOW_CONFIG_FILE`` (STACK.md §8.2).
    """
    from jobflow.managers.fireworks import flow_to_workflow

    workflow = flow_to_workflow(build_study_flow(spec), store=None)
    workflow.metadata.update({"study": spec.name})
    return workflow

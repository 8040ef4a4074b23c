"""The study as one Maker of nested Makers, built from its validated spec.

supercell (at build time) → per U: relax → AIMD per T → dataset → DeePMD training → ML-MD per T
→ analysis per run → Arrhenius; NEB per direction; then one ``TransportStudy`` document. Each
step is routed to its workers (``resources``) and every job carries ``metadata.study``.
:meth:`StudySpec.to_maker() <litcl_flows.flows.spec.StudySpec.to_maker>` builds the
:class:`TransportStudyMaker`; its nested Makers can be adjusted before ``make`` with jobflow's
``update_kwargs`` (atomate2's ``DoubleRelaxMaker`` holds its Makers the same way).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from jobflow import Maker

from litcl_flows.flows.spec import AnalysisSpec, StudySpec
from litcl_flows.structures.library import load_structure, order_by_majority_occupancy

if TYPE_CHECKING:
    from jobflow import Flow, Job
    from pymatgen.core import Structure

    from litcl_flows.makers.deepmd import DeepmdDatasetMaker, DeepmdTrainMaker
    from litcl_flows.makers.lammps import LammpsTemperatureSweepMaker
    from litcl_flows.makers.learning import ConcurrentLearningMaker
    from litcl_flows.makers.neb import NebBarriersMaker
    from litcl_flows.makers.reference import ReferenceDataMaker


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


@dataclass(frozen=True)
class _Branch:
    """The jobs of one U set that the study document reads."""

    hubbard_u_eV: dict[str, float]
    relax: Job | Flow
    aimd: Flow | None = None
    dataset: Job | None = None
    train: Job | None = None
    learning: Flow | None = None
    analyses: list[Job] = field(default_factory=list)
    arrhenius: Job | None = None

    def inputs(self) -> dict[str, Any]:
        """What the study document reads of the branch: references and uuids (read there as
        :class:`~litcl_flows.makers.study.StudyBranchInputs`)."""
        from jobflow import Flow

        relax = self.relax
        inputs: dict[str, Any] = {
            "hubbard_u_eV": self.hubbard_u_eV,
            "relax_uuid": relax.jobs[-1].uuid if isinstance(relax, Flow) else relax.uuid,
            "relax": {
                "structure": relax.output.structure,
                "energy_per_atom": relax.output.output.energy_per_atom,
                "hubbard_u_applied": relax.output.hubbard_u_applied,
            },
        }
        if self.aimd is not None:
            inputs["aimd"] = [
                {
                    "uuid": job.uuid,
                    "walltime_s": job.output.walltime_s,
                    "n_atoms": job.output.nsites,
                    "n_frames": job.output.n_frames,
                }
                for job in _aimd_jobs(self.aimd.jobs)
            ]
        if self.learning is not None:
            loop = self.learning.output
            inputs["learning_uuid"] = self.learning.jobs[0].uuid
            inputs["train_uuid"] = loop.training_uuid  # the deployed model's training job
            inputs["train"] = {
                "validation": loop.validation,
                "numb_steps": loop.numb_steps,
                "n_frames": {"train": loop.n_frames_train, "valid": loop.n_frames_valid},
            }
            inputs["learning"] = loop
        elif self.train is not None and self.dataset is not None:
            inputs["train_uuid"] = self.train.uuid
            inputs["train"] = {
                "validation": self.train.output.validation,
                "numb_steps": self.train.output.numb_steps,
                "n_frames": {
                    "train": self.dataset.output.n_frames_train,
                    "valid": self.dataset.output.n_frames_valid,
                },
            }
        if self.arrhenius is not None:
            inputs["analyses"] = [a.output for a in self.analyses]
            inputs["analysis_uuids"] = [a.uuid for a in self.analyses]
            inputs["arrhenius"] = self.arrhenius.output
            inputs["arrhenius_uuid"] = self.arrhenius.uuid
        return inputs


@dataclass
class TransportStudyMaker(Maker):
    """The whole study: per U set relax → AIMD → DeePMD → ML-MD → analysis, NEB, document.

    A step whose Maker is None is left out, with every step after it (``stop_after``).
    Nested Makers are adjusted with ``update_kwargs``, e.g.
    ``maker.update_kwargs({"n_steps": 10_000}, class_filter=LammpsDeepmdMDMaker)``.

    Parameters
    ----------
    name
        Study name: the Flow's name, ``metadata.study`` of every job and ``study`` of every
        analysis document.
    reference_maker
        Relaxation and AIMD per U set (its ``hubbard_u_sets_eV`` are the study's branches).
    dataset_maker, train_maker
        DeePMD training set from a branch's AIMD trajectories, and its model.
    learning_maker
        Concurrent learning in place of the one training (its ensemble's first model drives
        the ML-MD, the others give each run's model deviation); None: one model.
    mlmd_maker
        LAMMPS with a branch's model at each temperature; each run is analysed and the
        branch's runs fitted (Arrhenius).
    neb_maker
        Barriers in the first branch's relaxed cell.
    mobile_species
        Element whose transport is analysed.
    analysis
        Settings of the analysis jobs (``AnalysisSpec`` fields).
    spec
        The spec the study document records (``StudySpec.model_dump(mode="json")``); None:
        no study document.
    routing
        Step (``relax``, ``aimd``, ``train``, ``label``, ``mlmd``, ``analysis``, ``neb``) →
        FireWorks ``manager_config`` of its jobs (``_category``, ``_fworker``); the loop's
        jobs take theirs from ``learning_maker.routing``.
    """

    name: str = "transport study"
    reference_maker: ReferenceDataMaker | None = None
    dataset_maker: DeepmdDatasetMaker | None = None
    train_maker: DeepmdTrainMaker | None = None
    learning_maker: ConcurrentLearningMaker | None = None
    mlmd_maker: LammpsTemperatureSweepMaker | None = None
    neb_maker: NebBarriersMaker | None = None
    mobile_species: str = "Li"
    analysis: dict[str, Any] = field(default_factory=lambda: AnalysisSpec().model_dump(mode="json"))
    spec: dict[str, Any] | None = None
    routing: dict[str, dict[str, str]] = field(default_factory=dict)

    def make(self, structure: Structure, cell_summary: dict[str, Any] | None = None) -> Flow:
        """The study's Flow from its ordered cell (``cell_summary``: how it was ordered).

        No launch command is frozen into it: ``dp``, ``lmp`` and VASP are taken from the
        settings of the worker that runs each job (``dp_cmd``, ``lmp_cmd``, atomate2's
        ``VASP_CMD``), so GPU nodes can use their own builds.
        """
        from jobflow import Flow, OnMissing

        if self.reference_maker is None:
            raise ValueError(f"{self.name}: no reference_maker")
        if self.mlmd_maker is not None and self.train_maker is None:
            raise ValueError(f"{self.name}: mlmd_maker needs train_maker")
        if (self.train_maker is not None or self.learning_maker is not None) and (
            self.dataset_maker is None or self.reference_maker.aimd_maker is None
        ):
            raise ValueError(f"{self.name}: train_maker needs dataset_maker and AIMD")
        reference = self.reference_maker
        nodes: list[Job | Flow] = []
        branches: list[_Branch] = []
        for hubbard_u_eV, (relax, aimd) in zip(
            reference.hubbard_u_sets_eV, reference.branches(structure), strict=True
        ):
            branch_nodes, branch = self._branch(hubbard_u_eV, relax, aimd)
            nodes += branch_nodes
            branches.append(branch)

        material = structure.composition.reduced_formula
        neb = None
        if self.neb_maker is not None:
            neb = self.neb_maker.make(branches[0].relax.output.structure)
            self._route(neb, "neb")
            nodes.append(neb)
        if self.spec is not None:
            from litcl_flows.makers.study import study_document

            document = study_document(
                self.spec,
                cell_summary,
                material,
                [branch.inputs() for branch in branches],
                neb.output if neb is not None else None,
                neb.uuid if neb is not None else None,
            )
            document.name = "transport study"
            document.update_config({"on_missing_references": OnMissing.NONE})
            self._route(document, "analysis")
            nodes.append(document)
        flow = Flow(nodes, output=nodes[-1].output, name=self.name)
        flow.update_metadata(
            {
                "study": self.name,
                "material": material,
                "reference_engine": reference.reference_engine,
            }
        )
        return flow

    def _route(self, node: Job | Flow, step: str) -> None:
        """Send a job (or every job of a flow) to the workers of its step.

        FireWorks reads ``_category`` / ``_fworker`` from the Firework spec; jobflow passes
        the manager config on to the jobs a job replaces itself with (walltime chunks, NEB
        hops).
        """
        if step in self.routing:
            node.update_config({"manager_config": dict(self.routing[step])})

    def _branch(
        self, hubbard_u_eV: dict[str, float], relax: Job | Flow, aimd: Flow | None
    ) -> tuple[list[Job | Flow], _Branch]:
        """One U set's jobs in order, and what the study document reads of them."""
        from litcl_flows.labels import u_label

        self._route(relax, "relax")
        if aimd is None:
            return [relax], _Branch(hubbard_u_eV, relax)
        self._route(aimd, "aimd")
        nodes: list[Job | Flow] = [relax, aimd]
        label = u_label(hubbard_u_eV)
        dataset = train = learning = arrhenius = None
        analyses: list[Job] = []
        if self.learning_maker is not None:
            learning = self._learning(hubbard_u_eV, relax, aimd, label)
            nodes.append(learning)
            models = learning.output
            deviation_models = models.deviation_model_paths
        elif self.train_maker is not None:
            dataset, train = self._potential(aimd, label)
            nodes += [dataset, train]
            models, deviation_models = train.output, None
        if self.mlmd_maker is not None and (train or learning) is not None:
            runs, analyses, arrhenius = self._mlmd(
                hubbard_u_eV, label, relax, aimd, models, deviation_models
            )
            nodes += [*runs, *analyses, arrhenius]
        branch = _Branch(hubbard_u_eV, relax, aimd, dataset, train, learning, analyses, arrhenius)
        return nodes, branch

    def _learning(
        self, hubbard_u_eV: dict[str, float], relax: Job | Flow, aimd: Flow, label: str
    ) -> Flow:
        """Concurrent learning from the branch's AIMD, exploring its relaxed cell; the
        frames are labelled with the branch's U."""
        assert self.learning_maker is not None
        loop = self.learning_maker
        loop = replace(
            loop,
            name=f"{loop.name} {label}",
            label_maker=loop.label_maker
            and replace(loop.label_maker, hubbard_u_eV=dict(hubbard_u_eV)),
        )
        return loop.make(relax.output.structure, aimd.output["trajectories"])

    def _potential(self, aimd: Flow, label: str) -> tuple[Job, Job]:
        """Dataset from every AIMD trajectory of a branch, then one DeePMD model."""
        assert self.dataset_maker is not None and self.train_maker is not None
        trajectories = aimd.output["trajectories"]  # per T: its segments, one run
        dataset = _labelled(self.dataset_maker, label).make(trajectories)
        train = _labelled(self.train_maker, label).make(dataset.output)
        self._route(dataset, "analysis")
        self._route(train, "train")
        return dataset, train

    def _mlmd(
        self,
        hubbard_u_eV: dict[str, float],
        label: str,
        relax: Job | Flow,
        aimd: Flow,
        models: Any,
        deviation_models: Any,
    ) -> tuple[list[Job], list[Job], Job]:
        """LAMMPS at each temperature with the branch's model (``models``: the output of its
        training or of its loop; ``deviation_models``: the loop's further models), each run
        analysed on its own, then the branch's Arrhenius fit."""
        from jobflow import OnMissing

        from litcl_flows.makers.study import analyze_run, fit_branch_arrhenius

        assert self.mlmd_maker is not None and self.reference_maker is not None
        assert self.reference_maker.aimd_maker is not None
        sweep = replace(self.mlmd_maker, md_maker=_labelled(self.mlmd_maker.md_maker, label))
        runs = sweep.runs(
            relax.output.structure, models.model_path, models.type_map, deviation_models
        )
        aimd_temperatures = list(self.reference_maker.aimd_maker.temperatures_K)
        aimd_trajectories = aimd.output["trajectories"]
        settings = self.analysis
        analyses = []
        for run, temperature_K in zip(runs, sweep.temperatures_K, strict=True):
            self._route(run, "mlmd")
            # The RDF is compared with the AIMD run nearest in temperature.
            nearest = min(
                range(len(aimd_temperatures)),
                key=lambda i: abs(aimd_temperatures[i] - temperature_K),
            )
            analysis = analyze_run(
                run.output,
                run.uuid,
                self.name,
                hubbard_u_eV,
                temperature_K,
                aimd_trajectories[nearest][0],
                aimd_temperatures[nearest],
                self.mobile_species,
                settings,
            )
            analysis.name = f"transport analysis {label} {temperature_K:g}K"
            # A failed or unfinished MD run still gets a document saying so.
            analysis.update_config({"on_missing_references": OnMissing.NONE})
            self._route(analysis, "analysis")
            analyses.append(analysis)
        arrhenius = fit_branch_arrhenius(
            [a.output for a in analyses],
            [r.uuid for r in runs],
            list(sweep.temperatures_K),
            self.name,
            hubbard_u_eV,
            settings["arrhenius_form"],
            settings["extrapolation_K"],
            settings["arrhenius_conductivity"],
        )
        arrhenius.name = f"arrhenius {label}"
        arrhenius.update_config({"on_missing_references": OnMissing.NONE})
        self._route(arrhenius, "analysis")
        return runs, analyses, arrhenius


def _labelled(maker: Any, label: str) -> Any:
    """A copy of ``maker`` whose name ends with a branch's U label."""
    return replace(maker, name=f"{maker.name} {label}")


def build_study_flow(spec: StudySpec) -> Flow:
    """The study's jobflow Flow: ``spec.to_maker()`` made from the spec's ordered cell.

    Parameters
    ----------
    spec
        Validated study spec.
    """
    structure, cell_summary = ordered_cell(spec)
    return spec.to_maker().make(structure, cell_summary)


def _aimd_jobs(nodes: list) -> list:
    """The MD jobs of an AIMD flow, in order: VASP segments are a sub-flow that ends with
    an output-collector job, which ran no MD."""
    from jobflow import Flow

    from litcl_flows.makers.reference import REFERENCE_MD_MAKERS

    jobs = []
    for node in nodes:
        if isinstance(node, Flow):
            jobs.extend(_aimd_jobs(node.jobs))
        elif isinstance(node.maker, REFERENCE_MD_MAKERS):
            jobs.append(node)
    return jobs


def build_study_workflow(spec: StudySpec):  # -> fireworks.Workflow (imported lazily)
    """The study as a FireWorks Workflow, with no JobStore serialised into it.

    ``store=None`` keeps credentials out of the launchpad: workers find the JobStore
    through their own ``JOBFLOW_CONFIG_FILE`` (docs/configuration.md).
    """
    from jobflow.managers.fireworks import flow_to_workflow

    workflow = flow_to_workflow(build_study_flow(spec), store=None)
    workflow.metadata.update({"study": spec.name})
    return workflow

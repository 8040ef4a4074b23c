"""Concurrent learning (DP-GEN's loop) on the study's engines.

Each iteration trains an ensemble on the reference runs plus every frame labelled so far,
explores with LAMMPS driven by the first model while the others give the force deviation
(``model_devi.out``), sorts the explored frames by trust level
(:mod:`litcl_flows.engines.deepmd.trust`), and either stops or sends the least trusted frames
to the reference engine (VASP on clusters, CHGNet on the embedded default) and goes on. The
loop stops when the fraction of explored frames at or above the lower trust level (candidates
and failed frames alike: an ensemble whose exploration blows up has few candidates but is not
converged) is at most ``converged_fraction``, or after ``max_iterations``.

The validation set stays the reference runs' own (labelled frames join training only), so
the validation errors stored for successive iterations compare.

The reference trajectories and the labelled frames go from job to job as addresses in the
JobStore (:mod:`litcl_flows.makers.stored`), fetched by the dataset job alone: the launchpad
holds no copy of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from jobflow import CURRENT_JOB, Flow, Job, JobConfig, Maker, Response, job
from jobflow.core.reference import find_and_resolve_references
from pymatgen.core import Lattice, Structure

from litcl_flows.defaults import (
    LEARNING_CONVERGED_FRACTION,
    LEARNING_EXPLORATION_EVERY,
    LEARNING_EXPLORATION_STEPS,
    LEARNING_MAX_ITERATIONS,
    LEARNING_MAX_LABELLED,
)
from litcl_flows.engines.deepmd.trust import TrustLevels, read_model_deviation, select_frames
from litcl_flows.makers.deepmd import DeepmdDatasetMaker, DeepmdEnsembleMaker
from litcl_flows.makers.lammps import LammpsDeepmdMDMaker
from litcl_flows.makers.stored import detach
from litcl_flows.schemas.base import package_versions
from litcl_flows.schemas.deepmd import DeepmdDatasetDocument, DeepmdTrainingDocument
from litcl_flows.schemas.lammps import LammpsMDDocument
from litcl_flows.schemas.learning import ConcurrentLearningDocument, LearningIteration


def exploration_maker(
    n_steps: int = LEARNING_EXPLORATION_STEPS,
    every_steps: int = LEARNING_EXPLORATION_EVERY,
    **settings: Any,
) -> LammpsDeepmdMDMaker:
    """Short NVT runs of the cell as given (no equilibration left out), every evaluated frame
    dumped whole so that it can be labelled; ``settings``: further Maker fields."""
    return LammpsDeepmdMDMaker(
        name="exploration",
        n_atoms=None,
        n_steps=n_steps,
        equilibration_steps=0,
        dump_mobile_every=every_steps,
        dump_all_every=every_steps,
        thermo_every=every_steps,
        restart_every=n_steps,
        **settings,
    )


@dataclass
class ConcurrentLearningMaker(Maker):
    """Train, explore, label and retrain until the ensemble trusts what it explores.

    Parameters
    ----------
    name
        Name of the loop's flow.
    label_maker
        Labels a list of structures with the reference engine; its ``make(structures)``
        output is accepted by ``DeepmdDatasetMaker.make(labelled=...)``
        (:class:`litcl_flows.makers.labelling.LabelFramesMaker`).
    dataset_maker, ensemble_maker
        Build the training set and train the ensemble (at least two models) each iteration.
    explore_maker
        One exploration run per temperature; its all-atom dump must hold every frame the
        deviation is evaluated at (``deviation_every`` None or equal to ``dump_all_every``).
    temperatures_K
        Exploration temperatures.
    trust_levels
        Force trust levels and the adaptive lower level (:class:`TrustLevels`).
    max_labelled
        Most frames labelled per iteration (a seeded random subset of the candidates).
    converged_fraction
        The loop stops when at most this fraction of explored frames is at or above the lower
        trust level.
    max_iterations
        Most iterations (ensembles trained).
    seed
        Seed of the subset of candidates picked.
    routing
        Step → FireWorks ``manager_config`` of the loop's jobs: ``train`` (the ensemble),
        ``mlmd`` (exploration), ``label`` (the reference engine), ``analysis`` (dataset,
        iteration and decision jobs). Set on each job the loop makes, since jobflow would pass
        one job's manager config on to every job it replaces itself with.
    """

    name: str = "concurrent learning"
    label_maker: Maker | None = None
    dataset_maker: DeepmdDatasetMaker = field(default_factory=DeepmdDatasetMaker)
    ensemble_maker: DeepmdEnsembleMaker = field(default_factory=DeepmdEnsembleMaker)
    explore_maker: LammpsDeepmdMDMaker = field(default_factory=exploration_maker)
    temperatures_K: tuple[float, ...] = (600.0,)
    trust_levels: TrustLevels = field(default_factory=TrustLevels)
    max_labelled: int = LEARNING_MAX_LABELLED
    converged_fraction: float = LEARNING_CONVERGED_FRACTION
    max_iterations: int = LEARNING_MAX_ITERATIONS
    seed: int = 0
    routing: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ensemble_maker.n_models < 2:
            raise ValueError("ensemble_maker: a model deviation needs at least 2 models")
        if not 0 <= self.converged_fraction < 1 or self.max_iterations < 1 or self.max_labelled < 1:
            raise ValueError(
                "converged_fraction must be in [0, 1), max_iterations and max_labelled ≥ 1; got "
                f"{self.converged_fraction}, {self.max_iterations}, {self.max_labelled}"
            )
        every = self.explore_maker.deviation_every
        if every is not None and every % self.explore_maker.dump_all_every:
            raise ValueError(
                "explore_maker: deviation_every must be a multiple of dump_all_every, so that "
                "every evaluated frame is dumped whole and can be labelled"
            )

    def make(self, structure: Structure, trajectories: list[Any]) -> Flow:
        """The loop on ``structure`` (explored) from the reference ``trajectories``."""
        if self.label_maker is None:
            raise ValueError("label_maker: the loop needs a reference engine to label frames")
        first = self.iteration(structure, trajectories, [], [], 0)
        self._route(first, "analysis", own=True)
        return Flow([first], output=first.output, name=self.name)

    # unresolved inputs: the trajectories and labels are handed on by address, not read here
    @job(config=JobConfig(resolve_references=False, expose_store=True))
    def iteration(
        self,
        structure: Structure,
        trajectories: list[Any],
        labelled: list[Any],
        history: list[LearningIteration],
        index: int,
    ) -> Response:
        """Train the ensemble, explore with it, and hand the outcome to :meth:`decide`."""
        structure = find_and_resolve_references(structure, CURRENT_JOB.store)
        trajectories, labelled = detach(trajectories), detach(labelled)
        dataset = self.dataset_maker.make(trajectories, labelled)
        dataset.name = f"{self.dataset_maker.name} {index}"
        self._route(dataset, "analysis")
        ensemble = self.ensemble_maker.make(dataset.output)
        self._route(ensemble, "train")
        models = [training.model_path for training in ensemble.output]
        explorations = []
        for temperature_K in self.temperatures_K:
            run = self.explore_maker.make(
                structure,
                models[0],
                temperature_K,
                dataset.output.type_map,
                deviation_models=models[1:],
            )
            run.name = f"{self.explore_maker.name} {index} {temperature_K:g}K"
            self._route(run, "mlmd")
            explorations.append(run)
        decide = self.decide(
            structure,
            trajectories,
            labelled,
            history,
            index,
            dataset.output,
            ensemble.output,
            [run.output for run in explorations],
            [training.uuid for training in ensemble.jobs],
        )
        base = self.name.removesuffix(f" {index}") if index else self.name
        decide.name = f"{base} {index} decide"
        self._route(decide, "analysis", own=True)
        flow = Flow([dataset, ensemble, *explorations, decide], output=decide.output)
        return Response(replace=flow)

    # no output_schema: a decision to go on returns a reference to the next iteration's
    @job
    def decide(
        self,
        structure: Structure,
        trajectories: list[Any],
        labelled: list[Any],
        history: list[LearningIteration],
        index: int,
        dataset: DeepmdDatasetDocument,
        trainings: list[DeepmdTrainingDocument],
        explorations: list[LammpsMDDocument],
        training_uuids: list[str],
    ) -> Response | ConcurrentLearningDocument:
        """Sort the explored frames; stop, or label the least trusted and iterate."""
        deviations = [
            read_model_deviation(run.model_deviation.files if run.model_deviation else [])
            for run in explorations
        ]
        all_devi = np.concatenate([d.max_devi_f_eV_A for d in deviations])
        selection = select_frames(all_devi, self.trust_levels, self.max_labelled, self.seed + index)
        converged = selection.out_of_domain_fraction <= self.converged_fraction
        last = index + 1 >= self.max_iterations
        decision = "converged" if converged else "max_iterations" if last else "label and retrain"
        record = LearningIteration(
            iteration=index,
            n_models=len(trainings),
            model_paths=[t.model_path for t in trainings],
            training_uuids=training_uuids,
            n_training_frames=dataset.n_frames_train,
            n_labelled_frames=dataset.n_frames_labelled,
            validation_energy_rmse_eV_per_atom=float(
                np.mean([t.validation.energy_rmse_eV_per_atom for t in trainings])
            ),
            validation_force_rmse_eV_A=float(
                np.mean([t.validation.force_rmse_eV_A for t in trainings])
            ),
            exploration_temperatures_K=list(self.temperatures_K),
            n_frames_explored=selection.n_frames,
            accurate_fraction=selection.accurate_fraction,
            candidate_fraction=selection.candidate_fraction,
            failed_fraction=selection.failed_fraction,
            level_f_lo_eV_A=self.trust_levels.level_f_lo_eV_A,
            level_f_hi_eV_A=self.trust_levels.level_f_hi_eV_A,
            level_f_lo_used_eV_A=selection.level_f_lo_used_eV_A,
            max_devi_f_mean_eV_A=float(all_devi.mean()) if all_devi.size else 0.0,
            n_picked=0 if converged or last else len(selection.picked_indices),
            decision=decision,
        )
        history = [*history, record]
        if converged or last or not len(selection.picked_indices):
            return self._result(history, trainings, dataset, converged)
        # picked indices run over the runs' frames in order: split them back per run
        run_of = np.concatenate([np.full(len(d.steps), k) for k, d in enumerate(deviations)])
        steps = np.concatenate([d.steps for d in deviations])
        structures = []
        for k, run in enumerate(explorations):
            picked = selection.picked_indices[run_of[selection.picked_indices] == k]
            structures += frames_at_steps(run, set(steps[picked].tolist()))
        label = self.label_maker.make(structures)
        # jobflow renames a job's Maker after the job: take this job's suffix off
        base = self.name.removesuffix(f" {index} decide")
        label.name = f"{base} {index} label"
        self._route(label, "label")
        follow = self.iteration(
            structure, trajectories, [*labelled, label.output], history, index + 1
        )
        follow.name = f"{base} {index + 1}"
        self._route(follow, "analysis", own=True)
        return Response(replace=Flow([label, follow], output=follow.output))

    def _route(self, node: Job | Flow, step: str, own: bool = False) -> None:
        """Send ``node``'s jobs to the workers of ``step``; ``own``: a job that makes jobs,
        which keep their own routing rather than inheriting its."""
        if step in self.routing:
            node.update_config({"manager_config": dict(self.routing[step])}, dynamic=False)
        if own:
            assert isinstance(node, Job)
            node.config.pass_manager_config = False

    def _result(
        self,
        history: list[LearningIteration],
        trainings: list[DeepmdTrainingDocument],
        dataset: DeepmdDatasetDocument,
        converged: bool,
    ) -> ConcurrentLearningDocument:
        last = history[-1]
        untrusted = 1 - last.accurate_fraction
        if converged:
            reason = (
                f"converged after {len(history)} iteration(s): {100 * untrusted:.1f} % of "
                f"explored frames at or above {last.level_f_lo_eV_A:g} eV/Å "
                f"(≤ {100 * self.converged_fraction:g} %)"
            )
        else:
            reason = (
                f"not converged after {len(history)} iteration(s) (max_iterations): "
                f"{100 * untrusted:.1f} % of explored frames at or above "
                f"{last.level_f_lo_eV_A:g} eV/Å (> {100 * self.converged_fraction:g} %)"
            )
        return ConcurrentLearningDocument(
            formula_pretty=dataset.formula_pretty,
            chemsys=dataset.chemsys,
            versions=package_versions("deepmd-kit", "lammps"),
            converged=converged,
            stop_reason=reason,
            converged_fraction=self.converged_fraction,
            type_map=dataset.type_map,
            model_paths=[t.model_path for t in trainings],
            model_path=trainings[0].model_path,
            training_uuid=history[-1].training_uuids[0],
            deviation_model_paths=[t.model_path for t in trainings[1:]],
            validation=trainings[0].validation,
            numb_steps=trainings[0].numb_steps,
            n_frames_train=dataset.n_frames_train,
            n_frames_valid=dataset.n_frames_valid,
            iterations=history,
        )


def frames_at_steps(run: LammpsMDDocument, steps: set[int]) -> list[Structure]:
    """The whole-cell frames of ``run``'s all-atom dumps at ``steps``, as structures."""
    from litcl_flows.io import iter_frames

    paths = [f.path for f in run.dump_files if f.kind == "all"]
    found: dict[int, Structure] = {}
    for frame in iter_frames(paths, "lammps-dump", run.elements):
        if frame.step in steps and frame.step not in found:
            found[frame.step] = Structure(
                Lattice(frame.cell_A),
                list(frame.symbols),
                frame.positions_A,
                coords_are_cartesian=True,
            )
    missing = sorted(steps - set(found))
    if missing:
        raise ValueError(f"{paths[0]}: no all-atom frame at step(s) {missing[:5]}")
    return [found[step] for step in sorted(found)]

"""jobflow Makers for DeePMD-kit: build a training set, train (an ensemble of) models."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from jobflow import Flow, JobConfig, Maker, Response, job

from litcl_flows.engines.deepmd.dataset import trajectories_to_deepmd
from litcl_flows.engines.deepmd.inputs import DeepmdTrainingInput
from litcl_flows.engines.deepmd.outputs import error_metrics, read_lcurve, read_test_details
from litcl_flows.engines.deepmd.run import run_deepmd_training
from litcl_flows.makers.stored import fetch
from litcl_flows.schemas.base import material_fields, package_versions
from litcl_flows.schemas.deepmd import (
    DeepmdDatasetDocument,
    DeepmdErrorMetrics,
    DeepmdTrainingDocument,
    FileBlob,
)
from litcl_flows.settings import load_settings

DATASET_FOLDER = "deepmd_data"


def _trajectory_of(item: Any) -> Any:
    """The trajectory inside a task document (atomate2 ``objects["trajectory"]``), or the item.

    A list (the segments of one run) gives the list of their trajectories.
    """
    if isinstance(item, list | tuple):
        return [_trajectory_of(segment) for segment in item]
    objects = item.get("objects") if isinstance(item, dict) else getattr(item, "objects", None)
    if objects and objects.get("trajectory") is not None:
        return objects["trajectory"]
    return item


def _stress_unit_of(labelled: list[Any]) -> Literal["eV/A3", "kBar"]:
    """The one stress convention of labelled-frame documents (``stress_unit``; kBar if unset)."""
    units = {
        (item.get("stress_unit") if isinstance(item, dict) else getattr(item, "stress_unit", None))
        or "kBar"
        for item in labelled
    }
    if len(units) > 1:
        raise ValueError(f"labelled frames in several stress units {sorted(units)}")
    return units.pop() if units else "kBar"


@dataclass
class DeepmdDatasetMaker(Maker):
    """Convert labelled trajectories into a deepmd/npy training and validation set.

    Parameters
    ----------
    name
        Job name.
    type_map
        Element order of the model; None: the elements present, ordered as in a pymatgen
        formula (Li3TiCl6 → Li, Ti, Cl). Give it explicitly to share one map across studies.
    valid_fraction
        Fraction of each trajectory's kept frames (``split="blocks"``) or of whole
        trajectories (``split="trajectories"``) held out for validation.
    seed
        Seed of the choice of held-out trajectories (``split="trajectories"``).
    split
        ``"blocks"``: the last block in time of every trajectory, ``gap_fs`` after the last
        training frame; ``"trajectories"``: hold out whole runs.
    frame_interval_fs
        Time between consecutive stored frames (AIMD time step × output interval), fs; None:
        each pymatgen ``Trajectory``'s ``time_step``.
    frame_stride_fs
        Keep one frame every this many fs: MD frames 1 fs apart are near copies, and
        random ones of them in the validation set measure memory, not accuracy.
    gap_fs
        Least time between a trajectory's last training frame and its first validation
        frame.
    stress_unit
        ``"eV/A3"`` (ASE/atomate2 force fields) or ``"kBar"`` (VASP) for pymatgen ``stress``.
    """

    name: str = "deepmd dataset"
    type_map: list[str] | None = None
    valid_fraction: float = 0.1
    seed: int = 0
    split: Literal["blocks", "trajectories"] = "blocks"
    frame_interval_fs: float | None = None
    frame_stride_fs: float = 10.0
    gap_fs: float = 100.0
    stress_unit: Literal["eV/A3", "kBar"] = "eV/A3"

    @job(
        data=["dataset_blob"],
        output_schema=DeepmdDatasetDocument,
        config=JobConfig(expose_store=True),  # to fetch StoredOutput items
    )
    def make(
        self, trajectories: list[Any], labelled: list[Any] | None = None
    ) -> DeepmdDatasetDocument:
        """Build the dataset in the job folder; the folder goes to the ``data`` store.

        Parameters
        ----------
        trajectories
            One item per MD run: a pymatgen ``Trajectory`` (energy/forces/stress in
            ``frame_properties``), a task document holding one in ``objects["trajectory"]``,
            a dpdata ``LabeledSystem``, or a list of these (consecutive segments of one run)
            — or references to any of these, or their
            :class:`~litcl_flows.makers.stored.StoredOutput` addresses.
        labelled
            Frames labelled one by one (concurrent learning), the same kinds of item: they
            join the training set only (``trajectories_to_deepmd``'s ``labelled``).
        """
        trajectories, labelled = fetch(trajectories), fetch(labelled)
        folder = Path.cwd() / DATASET_FOLDER
        report = trajectories_to_deepmd(
            [_trajectory_of(item) for item in trajectories],
            folder,
            type_map=self.type_map,
            valid_fraction=self.valid_fraction,
            seed=self.seed,
            split=self.split,
            frame_interval_fs=self.frame_interval_fs,
            frame_stride_fs=self.frame_stride_fs,
            gap_fs=self.gap_fs,
            stress_unit=self.stress_unit,
            labelled=[_trajectory_of(item) for item in labelled or []],
            labelled_stress_unit=_stress_unit_of(labelled or []),
        )
        return DeepmdDatasetDocument(
            dir_name=str(folder),
            n_trajectories=len(trajectories),
            dataset_blob=FileBlob.from_path(folder),
            **report.as_dict(),
            **dataset_material(folder, [*report.train_systems, *report.valid_systems]),
            versions=package_versions("dpdata"),
        )


def dataset_material(folder: Path, systems: list[str]) -> dict[str, str | None]:
    """``formula_pretty`` (None unless every system has the same reduced formula) and
    ``chemsys`` (every element present) of deepmd/npy systems, from their ``type.raw`` and
    ``type_map.raw``."""
    formulas: set[str | None] = set()
    elements: set[str] = set()
    for system in systems:
        names = (folder / system / "type_map.raw").read_text().split()
        types = np.loadtxt(folder / system / "type.raw", dtype=int, ndmin=1)
        counts = Counter(names[t] for t in types)
        formulas.add(material_fields(dict(counts))["formula_pretty"])
        elements.update(counts)
    if not elements:
        return material_fields(None)
    return {
        "formula_pretty": formulas.pop() if len(formulas) == 1 else None,
        "chemsys": material_fields(dict.fromkeys(elements, 1))["chemsys"],
    }


@dataclass
class DeepmdTrainMaker(Maker):
    """Train, freeze, compress and test one DeePMD-kit model under custodian.

    Parameters
    ----------
    name
        Job name.
    training_input
        Model and training settings; the default is the study's model,
        ``DeepmdTrainingInput.demo()`` a small one.
    dp_cmd
        ``dp`` executable, optionally with a launch prefix (``"srun -n 1 dp"``). None: the
        ``dp_cmd`` setting of the worker that runs the job (its ``litcl.yaml`` or
        ``LITCL_DP_CMD``), so that a GPU node uses its own build.
    compress
        Compress the frozen model (falls back to the frozen model, reason recorded).
    threads
        OpenMP/TensorFlow threads per ``dp`` process (None: the environment decides).
    walltime_s
        Batch wall time: training stops before it and a new job resumes from the checkpoint.
    max_restarts
        Most follow-up jobs after walltime stops.
    run_kwargs
        Further keyword arguments of :func:`~litcl_flows.engines.deepmd.run.run_deepmd_training`
        (``handlers``, ``max_errors``, ``polling_time_step_s``, ``monitor_freq``).
    """

    name: str = "deepmd train"
    training_input: DeepmdTrainingInput = field(default_factory=DeepmdTrainingInput)
    dp_cmd: str | None = None
    compress: bool = True
    threads: int | None = None
    walltime_s: float | None = None
    max_restarts: int = 3
    run_kwargs: dict[str, Any] = field(default_factory=dict)

    @job(
        data=["learning_curve", "parity", "frozen_model_blob", "compressed_model_blob"],
        output_schema=DeepmdTrainingDocument,
    )
    def make(
        self,
        dataset: DeepmdDatasetDocument | dict,
        restart_dir: str | None = None,
        n_restarts: int = 0,
    ) -> Response | DeepmdTrainingDocument:
        """Train on ``dataset``; resume from ``restart_dir`` (a walltime-stopped run) if given.

        Returns the training document, or a ``Response`` replacing this job with a follow-up
        that runs ``dp train --restart`` when the wall time stopped training early.
        """
        if isinstance(dataset, dict):
            dataset = DeepmdDatasetDocument(**dataset)
        root = Path.cwd()
        if dataset.dataset_blob is not None:
            data_dir = dataset.dataset_blob.restore(root)
        elif restart_dir is not None:
            data_dir = root / DATASET_FOLDER
            shutil.copytree(Path(restart_dir) / DATASET_FOLDER, data_dir)
        else:
            raise ValueError("dataset: no dataset_blob and no restart_dir to copy the data from")
        run = run_deepmd_training(
            root,
            self.training_input,
            dataset.type_map,
            [str(data_dir.relative_to(root) / s) for s in dataset.train_systems],
            [str(data_dir.relative_to(root) / s) for s in dataset.valid_systems],
            dp_cmd=self.dp_cmd or load_settings().dp_cmd,
            compress=self.compress,
            threads=self.threads,
            walltime_s=self.walltime_s,
            restart_from=restart_dir,
            **self.run_kwargs,
        )
        if not run.completed:
            if n_restarts >= self.max_restarts:
                raise RuntimeError(
                    f"{root}: training stopped at step {run.last_step} of {run.numb_steps} "
                    f"after {n_restarts} restarts (max_restarts)"
                )
            # The follow-up runs where this folder is readable and copies the data from it, so
            # the dataset blob is not passed inline through the launchpad.
            light = dataset.model_dump(exclude={"dataset_blob"}) | {"dataset_blob": None}
            follow_up = self.make(light, restart_dir=str(root), n_restarts=n_restarts + 1)
            follow_up.name = f"{self.name} restart {n_restarts + 1}"
            return Response(replace=follow_up)
        document = build_training_document(
            root, run, dataset.type_map, self.training_input, n_restarts
        )
        document.validation_set = dataset.held_out()
        document.formula_pretty, document.chemsys = dataset.formula_pretty, dataset.chemsys
        return document


def build_training_document(
    root: Path,
    run: Any,
    type_map: list[str],
    training_input: DeepmdTrainingInput,
    n_restarts: int,
) -> DeepmdTrainingDocument:
    """Parse a finished run folder into a :class:`DeepmdTrainingDocument`."""
    details = read_test_details(root / run.detail_prefix, root=root)
    metrics = error_metrics(details, type_map)
    types = details.force_atom_type
    curve = read_lcurve(root / "lcurve.out")
    return DeepmdTrainingDocument(
        versions=package_versions("deepmd-kit"),
        dir_name=str(root),
        type_map=type_map,
        training_input=asdict(training_input),
        seed=training_input.seed,
        numb_steps=run.numb_steps,
        last_step=run.last_step,
        n_restarts=n_restarts,
        corrections=run.corrections,
        compressed=run.compressed_model is not None,
        compress_fallback_reason=run.compress_fallback_reason,
        tested_model=run.tested_model,
        model_path=str(root / run.tested_model),
        validation=DeepmdErrorMetrics(**metrics),
        learning_rate=asdict(training_input.learning_rate()),
        learning_rate_problem=training_input.schedule_problem(),
        training_walltime_s=run.training_walltime_s,
        steps_per_s=run.steps_per_s,
        learning_curve={k: v.tolist() for k, v in curve.items()},
        parity={
            "energy_data_eV_per_atom": (details.energy_data_eV / details.natoms).tolist(),
            "energy_pred_eV_per_atom": (details.energy_pred_eV / details.natoms).tolist(),
            "force_data_eV_A": details.force_data_eV_A.ravel().tolist(),
            "force_pred_eV_A": details.force_pred_eV_A.ravel().tolist(),
            "force_element": (
                [type_map[t] for t in np.repeat(types, 3)] if types is not None else []
            ),
        },
        frozen_model_blob=FileBlob.from_path(root / run.frozen_model),
        compressed_model_blob=(
            FileBlob.from_path(root / run.compressed_model) if run.compressed_model else None
        ),
    )


@dataclass
class DeepmdEnsembleMaker(Maker):
    """Train ``n_models`` models that differ only in their seed (for model deviation).

    Parameters
    ----------
    name
        Flow name.
    train_maker
        Maker of each member; its ``training_input.seed`` is replaced by ``seeds``.
    n_models
        Ensemble size (DP-GEN uses 4).
    seeds
        One seed per model; None: ``1, 2, ..., n_models``.
    """

    name: str = "deepmd ensemble"
    train_maker: DeepmdTrainMaker = field(default_factory=DeepmdTrainMaker)
    n_models: int = 4
    seeds: list[int] | None = None

    def make(self, dataset: DeepmdDatasetDocument | dict) -> Flow:
        """A Flow of training jobs; its output is the list of their documents."""
        seeds = self.seeds or list(range(1, self.n_models + 1))
        if len(seeds) != self.n_models or len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds: need {self.n_models} distinct values, got {seeds}")
        jobs = []
        for i, seed in enumerate(seeds):
            maker = DeepmdTrainMaker(
                name=f"{self.train_maker.name} {i}",
                training_input=self.train_maker.training_input.with_updates(seed=seed),
                dp_cmd=self.train_maker.dp_cmd,
                compress=self.train_maker.compress,
                threads=self.train_maker.threads,
                walltime_s=self.train_maker.walltime_s,
                max_restarts=self.train_maker.max_restarts,
                run_kwargs=dict(self.train_maker.run_kwargs),
            )
            jobs.append(maker.make(dataset))
        return Flow(jobs, output=[j.output for j in jobs], name=self.name)

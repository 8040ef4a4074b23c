"""Output documents of the DeePMD-kit dataset and training jobs (units in the field names)."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from pathlib import Path

from pydantic import BaseModel, Field

from litcl_flows.schemas.base import DocumentMeta, MaterialMeta

#: The reference study's validation errors (its Table I; workflows/li3ticl6_paper.yaml).
STUDY_TABLE_I = {
    "energy_mae_eV_per_atom": 6.723e-4,
    "energy_rmse_eV_per_atom": 8.389e-4,
    "force_mae_eV_A": 5.959e-3,
    "force_rmse_eV_A": 7.827e-3,
}


class FileBlob(BaseModel):
    """A file or folder (gzipped tar) carried in the ``data`` store as base64 text."""

    name: str = Field(description="File or folder name it is restored under.")
    is_folder: bool = Field(description="True: content is a gzipped tar of a folder.")
    sha256: str = Field(description="SHA-256 of the raw file bytes (or of the tar.gz).")
    size_bytes: int = Field(description="Size of the raw bytes (file, or tar.gz of a folder).")
    content_b64: str = Field(description="The bytes, base64-encoded.")

    @classmethod
    def from_path(cls, path: str | Path) -> FileBlob:
        """Pack a file, or a folder as tar.gz."""
        path = Path(path)
        if path.is_dir():
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
                tar.add(path, arcname=".")
            raw = buffer.getvalue()
        else:
            raw = path.read_bytes()
        return cls(
            name=path.name,
            is_folder=path.is_dir(),
            sha256=hashlib.sha256(raw).hexdigest(),
            size_bytes=len(raw),
            content_b64=base64.b64encode(raw).decode("ascii"),
        )

    def restore(self, directory: str | Path) -> Path:
        """Write the file (or unpack the folder) into ``directory``; return its path."""
        raw = base64.b64decode(self.content_b64)
        if hashlib.sha256(raw).hexdigest() != self.sha256:
            raise ValueError(f"{self.name}: sha256 mismatch, blob corrupted")
        target = Path(directory) / self.name
        if self.is_folder:
            target.mkdir(parents=True, exist_ok=True)
            with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
                tar.extractall(target, filter="data")
        else:
            target.write_bytes(raw)
        return target


class DeepmdDatasetDocument(MaterialMeta, DocumentMeta):
    """A deepmd/npy training set built from labelled trajectories.

    ``formula_pretty``: the frames' reduced formula when every system has the same one;
    ``chemsys``: the elements of all frames. ``versions`` adds dpdata, which converted them.
    """

    dir_name: str = Field(description="Folder the dataset was written to (job folder).")
    type_map: list[str] = Field(description="Element order of the model (type index → element).")
    train_systems: list[str] = Field(description="Training systems, relative to the dataset.")
    valid_systems: list[str] = Field(description="Validation systems, relative to the dataset.")
    n_trajectories: int = Field(description="MD runs given (one may join several segments).")
    n_frames_in: int = Field(description="Frames given, before dropping.")
    n_frames_train: int = Field(description="Training frames written.")
    n_frames_valid: int = Field(description="Validation frames written.")
    n_frames_labelled: int = Field(
        0, description="Training frames labelled one by one (concurrent learning), of the total."
    )
    n_dropped_unconverged: int = Field(description="Frames dropped: electronic SCF unconverged.")
    n_dropped_nonfinite: int = Field(description="Frames dropped: NaN/inf energy, force, coords.")
    n_dropped_duplicate: int = Field(description="Frames dropped: same cell and coordinates.")
    energy_per_atom_min_eV: float = Field(description="Lowest energy per atom kept (eV/atom).")
    energy_per_atom_max_eV: float = Field(description="Highest energy per atom kept (eV/atom).")
    force_norm_max_eV_A: dict[str, float] = Field(description="Largest |F| per element (eV/Å).")
    force_norm_mean_eV_A: dict[str, float] = Field(description="Mean |F| per element (eV/Å).")
    split: str = Field(
        description="'blocks' (the last block in time of every run) or 'trajectories' "
        "(held-out runs)."
    )
    seed: int = Field(description="Seed of the choice of held-out runs ('trajectories').")
    valid_fraction: float = Field(description="Fraction of each run (or of the runs) held out.")
    frame_interval_fs: float | None = Field(
        description="Time between consecutive input frames, fs (None: not known)."
    )
    frame_stride_frames: int = Field(description="One input frame in this many was kept.")
    frame_stride_fs: float | None = Field(description="Time between kept frames, fs.")
    gap_fs: float = Field(
        description="Least time asked between a run's last training and first validation frame."
    )
    n_dropped_stride: int = Field(description="Frames left out by the stride.")
    n_dropped_gap: int = Field(description="Frames left out to make the gap ('blocks').")
    min_valid_train_separation_fs: float | None = Field(
        description="Smallest time between a validation frame and a training frame of the "
        "same run, fs, as measured on the written sets (None: 'trajectories' or time unknown)."
    )
    has_virials: bool = Field(description="True when every frame carries a virial.")
    dataset_blob: FileBlob | None = Field(
        description="The dataset folder (tar.gz) in the data store; None in the copy handed to "
        "a restart job, which takes the folder from the previous run instead."
    )

    def held_out(self) -> dict[str, float | int | str | None]:
        """How the validation frames were held out: what the model's errors are measured on."""
        keys = (
            "split",
            "valid_fraction",
            "frame_stride_fs",
            "gap_fs",
            "min_valid_train_separation_fs",
            "n_frames_train",
            "n_frames_valid",
        )
        return {key: getattr(self, key) for key in keys}


class DeepmdErrorMetrics(BaseModel):
    """Validation errors of a model, as ``dp test`` defines them."""

    n_frames: int = Field(description="Frames tested.")
    energy_mae_eV_per_atom: float = Field(description="MAE of energy per atom (eV/atom).")
    energy_rmse_eV_per_atom: float = Field(description="RMSE of energy per atom (eV/atom).")
    force_mae_eV_A: float = Field(description="MAE over force components (eV/Å).")
    force_rmse_eV_A: float = Field(description="RMSE over force components (eV/Å).")
    force_mae_per_element_eV_A: dict[str, float] = Field(description="Force MAE per element.")
    force_rmse_per_element_eV_A: dict[str, float] = Field(description="Force RMSE per element.")


class DeepmdTrainingDocument(MaterialMeta, DocumentMeta):
    """One trained, frozen, (compressed) and tested DeePMD-kit model.

    ``formula_pretty`` and ``chemsys`` are its training set's; ``versions`` adds deepmd-kit.
    """

    dir_name: str = Field(description="Folder of the final training run.")
    type_map: list[str] = Field(description="Element order of the model.")
    training_input: dict = Field(description="DeepmdTrainingInput fields used.")
    seed: int = Field(description="Seed of nets and batches (differs between ensemble members).")
    numb_steps: int = Field(description="Requested training steps.")
    last_step: int = Field(description="Last step in lcurve.out.")
    n_restarts: int = Field(description="Jobs this training was resumed in (walltime stops).")
    corrections: list[dict] = Field(description="custodian corrections: errors and actions.")
    compressed: bool = Field(description="True when the compressed model is the deployed one.")
    compress_fallback_reason: str | None = Field(
        None, description="Why compression failed and the frozen model is deployed instead."
    )
    tested_model: str = Field(description="File name of the model dp test evaluated.")
    model_path: str = Field(
        description="Absolute path of the deployed model (the tested one) on the worker's file "
        "system: what LAMMPS and NEB jobs load."
    )
    validation: DeepmdErrorMetrics = Field(description="dp test errors on the validation set.")
    validation_set: dict[str, float | int | str | None] | None = Field(
        None,
        description="How that set was held out (DeepmdDatasetDocument.held_out): split, "
        "frame_stride_fs, gap_fs, min_valid_train_separation_fs, frame counts.",
    )
    learning_rate: dict[str, float | int] | None = Field(
        None,
        description="The schedule dp train ran (LearningRateSummary): decay_steps, "
        "decay_rate, steps_at_start_lr, stair_drop, last_lr.",
    )
    learning_rate_problem: str | None = Field(
        None, description="Why that schedule underfits (one line); None: it does not."
    )
    study_table_I: dict[str, float] = Field(
        default_factory=lambda: dict(STUDY_TABLE_I),
        description="The reference study's validation errors, for side-by-side reporting.",
    )
    training_walltime_s: float | None = Field(description="dp train wall time, all restarts.")
    steps_per_s: float | None = Field(description="Training speed of the last dp train run.")
    learning_curve: dict[str, list[float]] = Field(description="lcurve.out columns (data store).")
    parity: dict[str, list[float] | list[str]] = Field(
        description="Validation labels and predictions: energy_*_eV_per_atom per frame and "
        "force_*_eV_A per component, force_element per component (data store)."
    )
    frozen_model_blob: FileBlob = Field(description="frozen_model.pb (data store).")
    compressed_model_blob: FileBlob | None = Field(description="compressed_model.pb (data store).")

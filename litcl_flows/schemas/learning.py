"""Documents of the concurrent-learning loop (:mod:`litcl_flows.makers.learning`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from litcl_flows.schemas.base import DocumentMeta, MaterialMeta
from litcl_flows.schemas.deepmd import DeepmdErrorMetrics


class LearningIteration(BaseModel):
    """One iteration: the ensemble trained, its exploration sorted by trust level, the pick."""

    iteration: int = Field(description="Index of the iteration, 0 first.")
    n_models: int = Field(description="Models in the ensemble.")
    model_paths: list[str] = Field(
        description="Deployed models of this iteration's ensemble (the first drives its "
        "exploration)."
    )
    training_uuids: list[str] = Field(description="Training jobs of those models, same order.")
    n_training_frames: int = Field(description="Training frames of the ensemble.")
    n_labelled_frames: int = Field(
        description="Of them, frames labelled in earlier iterations of this loop."
    )
    validation_energy_rmse_eV_per_atom: float = Field(
        description="Energy RMSE on the validation set (the reference runs' own, the same every "
        "iteration), mean over the ensemble, eV/atom."
    )
    validation_force_rmse_eV_A: float = Field(
        description="Force RMSE on the validation set, mean over the ensemble, eV/Å."
    )
    exploration_temperatures_K: list[float] = Field(description="Temperatures explored.")
    n_frames_explored: int = Field(description="Frames whose model deviation was evaluated.")
    accurate_fraction: float = Field(description="Fraction below the lower trust level.")
    candidate_fraction: float = Field(description="Fraction between the two levels.")
    failed_fraction: float = Field(description="Fraction at or above the upper level.")
    level_f_lo_eV_A: float = Field(description="Lower force trust level, eV/Å.")
    level_f_hi_eV_A: float = Field(description="Upper force trust level, eV/Å.")
    level_f_lo_used_eV_A: float = Field(
        description="Lower level the picked frames came from (the adapted one when adaptive), eV/Å."
    )
    max_devi_f_mean_eV_A: float = Field(description="Mean max_devi_f of the explored frames.")
    n_picked: int = Field(description="Frames sent to the reference engine to be labelled.")
    decision: str = Field(
        description="'label and retrain', 'converged' or 'max_iterations' (the loop ended)."
    )


class ConcurrentLearningDocument(MaterialMeta, DocumentMeta):
    """The loop's result: the last ensemble and every iteration."""

    converged: bool = Field(
        description="Whether the fraction of untrusted frames fell to the threshold."
    )
    stop_reason: str = Field(description="One line: why the loop ended.")
    converged_fraction: float = Field(
        description="Threshold on the fraction of explored frames at or above the lower level."
    )
    type_map: list[str] = Field(description="Element order of the models.")
    model_paths: list[str] = Field(
        description="Deployed models of the last ensemble; the first drives production MD, "
        "the others give its model deviation."
    )
    model_path: str = Field(description="The first of model_paths: the model that drives MD.")
    training_uuid: str = Field(description="Training job of model_path (its parity, lcurve).")
    deviation_model_paths: list[str] = Field(
        description="The others: LAMMPS evaluates their force deviation from model_path."
    )
    validation: DeepmdErrorMetrics = Field(
        description="dp test errors of model_path on the validation set (the reference runs')."
    )
    numb_steps: int = Field(description="Training steps of each model.")
    n_frames_train: int = Field(description="Training frames of the last ensemble.")
    n_frames_valid: int = Field(description="Validation frames (the reference runs').")
    iterations: list[LearningIteration] = Field(description="Every iteration, in order.")

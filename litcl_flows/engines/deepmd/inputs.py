"""DeePMD-kit training input (``input.json``) as a dataclass; defaults: the study's model."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from monty.json import MSONable

INPUT_FILE = "input.json"
#: A schedule underfits when it holds ``start_lr`` for at least this fraction of the steps ...
MAX_FRACTION_AT_START_LR = 0.5
#: ... or divides the learning rate by more than this in one stair.
MAX_STAIR_DROP = 100.0


class LearningRateWarning(UserWarning):
    """A learning-rate schedule that underfits (:meth:`DeepmdTrainingInput.schedule_problem`)."""


@dataclass(frozen=True)
class LearningRateSummary:
    """DeePMD-kit's stepped exponential decay as ``dp train`` will run it.

    Parameters
    ----------
    decay_steps
        Steps per stair after DeePMD-kit's own adjustment (it replaces a ``decay_steps`` of
        at least ``numb_steps``).
    decay_rate
        Factor applied at each stair, ``(stop_lr / start_lr) ** (decay_steps / numb_steps)``.
    steps_at_start_lr
        Training steps run at ``start_lr`` (the first stair).
    stair_drop
        ``1 / decay_rate``: how many times smaller the learning rate gets at each stair.
    last_lr
        Learning rate of the last training step (``numb_steps - 1``).
    """

    decay_steps: int
    decay_rate: float
    steps_at_start_lr: int
    stair_drop: float
    last_lr: float


@dataclass
class DeepmdTrainingInput(MSONable):
    """Settings of one ``dp --tf train`` run: a DeepPot-SE (``se_e2_a``) energy model.

    Defaults reproduce the reference study (SCIENCE.md §4) except ``decay_steps`` (500, not
    the study's 5000, which leaves the rate at its start value for half the run and then drops
    it 316-fold in one stair; the paper spec keeps 5000 and warns); :meth:`demo` is a preset
    small enough to train in a couple of minutes on two CPU cores.

    Parameters
    ----------
    rcut_A
        Cut-off radius of the descriptor (study: 7.0 Å).
    rcut_smth_A
        Radius where the 1/r weights start to go smoothly to zero at ``rcut_A``; 0.5 Å is the
        value of DeePMD-kit's own examples (the study does not give one).
    sel
        Maximum number of neighbours per type inside ``rcut_A``: ``"auto"`` lets ``dp train``
        compute it from the data (with a 10 % margin), or one integer per type.
    embedding_neurons
        Embedding-net widths (study: [32, 64, 128]).
    axis_neuron
        Size of the sub-matrix of the embedding output (DeePMD-kit default 16; not in the study).
    fitting_neurons
        Fitting-net widths (study: [256, 256, 256]).
    activation
        Activation function of both nets (study: tanh).
    start_lr, stop_lr, decay_steps
        Adam learning rate, decayed in stairs of ``decay_steps`` steps from ``start_lr``
        towards ``stop_lr`` at ``numb_steps`` (study: 1e-3 → 1e-8, 5000). The study's values
        give two stairs: 1e-3 for 5000 steps, then 3.2e-6 (see :meth:`schedule_problem`); the
        default 500 gives 20 stairs of ÷1.78.
    numb_steps
        Training steps (study: 1e4).
    start_pref_e, limit_pref_e, start_pref_f, limit_pref_f, start_pref_v, limit_pref_v
        Loss prefactors, interpolated from start to limit as the learning rate decays. The
        study trains on energy and force MSE only: DeePMD-kit's recommended 0.02 → 1 (energy),
        1000 → 1 (force), virial off (0 → 0).
    batch_size
        Frames per step, ``"auto"`` (≥ 32 atoms per batch) or an integer.
    valid_numb_batch
        Validation batches evaluated at each display step.
    disp_freq, save_freq
        Steps between ``lcurve.out`` rows and between checkpoints.
    seed
        Seed of the descriptor, fitting net and data shuffling (ensembles vary it).
    """

    rcut_A: float = 7.0
    rcut_smth_A: float = 0.5
    sel: str | list[int] = "auto"
    embedding_neurons: list[int] = field(default_factory=lambda: [32, 64, 128])
    axis_neuron: int = 16
    fitting_neurons: list[int] = field(default_factory=lambda: [256, 256, 256])
    activation: str = "tanh"
    start_lr: float = 1.0e-3
    stop_lr: float = 1.0e-8
    decay_steps: int = 500
    numb_steps: int = 10000
    start_pref_e: float = 0.02
    limit_pref_e: float = 1.0
    start_pref_f: float = 1000.0
    limit_pref_f: float = 1.0
    start_pref_v: float = 0.0
    limit_pref_v: float = 0.0
    batch_size: str | int = "auto"
    valid_numb_batch: int = 1
    disp_freq: int = 100
    save_freq: int = 1000
    seed: int = 1

    @classmethod
    def demo(cls, **overrides: Any) -> DeepmdTrainingInput:
        """A small model (rcut 5 Å, nets [8, 16] / [16, 16], 500 steps) for laptops and CI."""
        settings: dict[str, Any] = {
            "rcut_A": 5.0,
            "embedding_neurons": [8, 16],
            "axis_neuron": 4,
            "fitting_neurons": [16, 16],
            "stop_lr": 1.0e-5,
            "decay_steps": 100,
            "numb_steps": 500,
            "start_pref_e": 1.0,
            "disp_freq": 50,
            "save_freq": 100,
        }
        settings.update(overrides)
        return cls(**settings)

    def learning_rate(self) -> LearningRateSummary:
        """The learning-rate schedule, from DeePMD-kit's own ``LearningRateExp``."""
        from deepmd.dpmodel.utils.learning_rate import LearningRateExp

        schedule = LearningRateExp(
            start_lr=self.start_lr,
            stop_lr=self.stop_lr,
            decay_steps=self.decay_steps,
            num_steps=self.numb_steps,
        )
        return LearningRateSummary(
            decay_steps=int(schedule.decay_steps),
            decay_rate=float(schedule.decay_rate),
            steps_at_start_lr=min(int(schedule.decay_steps), self.numb_steps),
            stair_drop=1.0 / float(schedule.decay_rate),
            last_lr=float(schedule.value(self.numb_steps - 1)),
        )

    def schedule_problem(self) -> str | None:
        """One line saying why the learning-rate schedule underfits, or None when it does not.

        It underfits when the rate stays at ``start_lr`` for at least half of the steps or
        falls by more than 100× in one stair: most steps then run at a rate too small to
        move the weights (the study's 1e-3 → 1e-8 with ``decay_steps`` 5000 of 1e4 steps
        does both: 5000 steps at 1e-3, then 5000 at 3.2e-6).
        """
        lr = self.learning_rate()
        long_hold = lr.steps_at_start_lr >= MAX_FRACTION_AT_START_LR * self.numb_steps
        steep = lr.stair_drop > MAX_STAIR_DROP
        if not (long_hold or steep):
            return None
        suggested = max(1, self.numb_steps // 20)
        return (
            f"learning rate {self.start_lr:g} for {lr.steps_at_start_lr} of {self.numb_steps} "
            f"steps, then ÷{lr.stair_drop:.3g} per stair of {lr.decay_steps} steps "
            f"(last {lr.last_lr:.3g}): underfits; use decay_steps ≤ {suggested} "
            "(≥ 20 stairs)"
        )

    def with_updates(self, **changes: Any) -> DeepmdTrainingInput:
        """A copy with some fields changed (e.g. another ``seed`` for an ensemble member)."""
        return replace(self, **changes)

    def to_input_dict(
        self, type_map: list[str], train_systems: list[str], valid_systems: list[str]
    ) -> dict[str, Any]:
        """The ``input.json`` content for DeePMD-kit 3.x (schema: ``dp doc-train-input``)."""
        return {
            "model": {
                "type_map": list(type_map),
                "descriptor": {
                    "type": "se_e2_a",
                    "sel": self.sel,
                    "rcut": self.rcut_A,
                    "rcut_smth": self.rcut_smth_A,
                    "neuron": list(self.embedding_neurons),
                    "axis_neuron": self.axis_neuron,
                    "activation_function": self.activation,
                    "seed": self.seed,
                },
                "fitting_net": {
                    "neuron": list(self.fitting_neurons),
                    "activation_function": self.activation,
                    "seed": self.seed,
                },
            },
            "learning_rate": {
                "type": "exp",
                "start_lr": self.start_lr,
                "stop_lr": self.stop_lr,
                "decay_steps": self.decay_steps,
            },
            "loss": {
                "type": "ener",
                "start_pref_e": self.start_pref_e,
                "limit_pref_e": self.limit_pref_e,
                "start_pref_f": self.start_pref_f,
                "limit_pref_f": self.limit_pref_f,
                "start_pref_v": self.start_pref_v,
                "limit_pref_v": self.limit_pref_v,
            },
            "training": {
                "training_data": {"systems": list(train_systems), "batch_size": self.batch_size},
                "validation_data": {
                    "systems": list(valid_systems),
                    "batch_size": 1,
                    "numb_btch": self.valid_numb_batch,
                },
                "numb_steps": self.numb_steps,
                "seed": self.seed,
                "disp_file": "lcurve.out",
                "disp_freq": self.disp_freq,
                "save_freq": self.save_freq,
            },
        }


def warn_on_schedule(training_input: DeepmdTrainingInput, label: str) -> str | None:
    """Warn (:class:`LearningRateWarning`, one line prefixed by ``label``) if it underfits.

    Returns the problem, or None.
    """
    problem = training_input.schedule_problem()
    if problem is not None:
        warnings.warn(f"{label}: {problem}", LearningRateWarning, stacklevel=2)
    return problem


def write_input_json(
    directory: str | Path,
    training_input: DeepmdTrainingInput,
    type_map: list[str],
    train_systems: list[str],
    valid_systems: list[str],
) -> Path:
    """Write ``input.json`` into ``directory`` and return its path."""
    path = Path(directory) / INPUT_FILE
    content = training_input.to_input_dict(type_map, train_systems, valid_systems)
    path.write_text(json.dumps(content, indent=2))
    return path

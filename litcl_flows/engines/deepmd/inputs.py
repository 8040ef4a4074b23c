"""DeePMD-kit training input (``input.json``) as a dataclass; defaults: the study's model."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from monty.json import MSONable

INPUT_FILE = "input.json"


@dataclass
class DeepmdTrainingInput(MSONable):
    """Settings of one ``dp --tf train`` run: a DeepPot-SE (``se_e2_a``) energy model.

    Defaults reproduce the reference study (SCIENCE.md §4); :meth:`demo` is a preset small
    enough to train in a couple of minutes on two CPU cores.

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
        Exponentially decaying Adam learning rate (study: 1e-3 → 1e-8 every 5000 steps).
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
    decay_steps: int = 5000
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

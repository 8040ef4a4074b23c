"""Model deviation of a DeePMD ensemble (DP-GEN's criterion for frames far from the data)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import dpdata


def predict_forces(model: str | Path, system: dpdata.System) -> np.ndarray:
    """Forces (eV/Å) of every frame of ``system`` predicted by one frozen model.

    Shape ``(n_frames, n_atoms, 3)``; atom types are mapped by element name onto the model's
    own type map, so the system's element order does not matter.
    """
    from deepmd.infer import DeepPot

    pot = DeepPot(str(model))
    model_types = pot.get_type_map()
    names = system["atom_names"]
    missing = sorted({names[t] for t in system["atom_types"]} - set(model_types))
    if missing:
        raise ValueError(f"{model}: element(s) {missing} not in the model's type map")
    atype = np.array([model_types.index(names[t]) for t in system["atom_types"]])
    n_frames = system.get_nframes()
    cells = None if system.nopbc else system["cells"].reshape(n_frames, 9)
    _, forces, _ = pot.eval(system["coords"].reshape(n_frames, -1), cells, atype)
    return forces.reshape(n_frames, -1, 3)


def max_force_deviation(models: list[str | Path], system: dpdata.System) -> np.ndarray:
    """Maximum over atoms of the ensemble's force standard deviation (eV/Å), per frame.

    σ_i = ‖ sqrt(⟨F_i²⟩ − ⟨F_i⟩²) ‖ over the models, max over atoms i — DP-GEN's
    ``max_devi_f`` (computed by ``deepmd.infer.model_devi.calc_model_devi_f``).
    """
    from deepmd.infer.model_devi import calc_model_devi_f

    if len(models) < 2:
        raise ValueError(f"models: an ensemble needs at least 2, got {len(models)}")
    forces = np.stack([predict_forces(model, system) for model in models])
    return calc_model_devi_f(forces)[0]

"""Parity and learning-curve plots of a trained model (matplotlib, imported when called)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_parity(parity: dict[str, list], path: str | Path) -> Path:
    """Energy-per-atom and force-component parity plots, forces coloured by element.

    ``parity`` is ``DeepmdTrainingDocument.parity``; the figure is written to ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_e, ax_f) = plt.subplots(1, 2, figsize=(9, 4.2))
    e_ref = np.asarray(parity["energy_data_eV_per_atom"])
    e_pred = np.asarray(parity["energy_pred_eV_per_atom"])
    ax_e.scatter(e_ref, e_pred, s=10)
    ax_e.set_xlabel("DFT energy (eV/atom)")
    ax_e.set_ylabel("DP energy (eV/atom)")
    f_ref = np.asarray(parity["force_data_eV_A"])
    f_pred = np.asarray(parity["force_pred_eV_A"])
    elements = np.asarray(parity.get("force_element") or ["all"] * f_ref.size)
    for element in dict.fromkeys(elements.tolist()):
        mask = elements == element
        ax_f.scatter(f_ref[mask], f_pred[mask], s=4, label=element)
    ax_f.set_xlabel("DFT force component (eV/Å)")
    ax_f.set_ylabel("DP force component (eV/Å)")
    ax_f.legend()
    for ax, ref, pred in ((ax_e, e_ref, e_pred), (ax_f, f_ref, f_pred)):
        low, high = min(ref.min(), pred.min()), max(ref.max(), pred.max())
        ax.plot([low, high], [low, high], "k--", lw=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_learning_curve(curve: dict[str, list], path: str | Path) -> Path:
    """Energy and force RMSE (training and validation) and learning rate against step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    step = np.asarray(curve["step"])
    fig, ax = plt.subplots(figsize=(6, 4.2))
    labels = {
        "rmse_e_trn": "energy, train (eV/atom)",
        "rmse_e_val": "energy, validation (eV/atom)",
        "rmse_f_trn": "force, train (eV/Å)",
        "rmse_f_val": "force, validation (eV/Å)",
    }
    for key, label in labels.items():
        if key in curve:
            ax.semilogy(step, curve[key], label=label)
    ax.set_xlabel("training step")
    ax.set_ylabel("RMSE")
    if "lr" in curve:
        ax_lr = ax.twinx()
        ax_lr.semilogy(step, curve["lr"], "k:", label="learning rate")
        ax_lr.set_ylabel("learning rate")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)

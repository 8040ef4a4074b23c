"""Energy profiles of NEB hops: images as points, emmet's clamped cubic spline as a line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline


def plot_energy_profiles(
    profiles: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    path: str | Path,
    title: str | None = None,
) -> Path:
    """Write one figure with the energy profile of each hop.

    Parameters
    ----------
    profiles
        Label → (reaction coordinate in [0, 1], energy relative to the start, eV).
    path
        Output image file (format from the suffix).
    title
        Figure title.

    Returns
    -------
    The written path.
    """
    import matplotlib

    matplotlib.use("Agg")  # jobs run without a display
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.0, 3.6))
    for label, (coordinate, energy_eV) in profiles.items():
        x = np.asarray(coordinate, dtype=float)
        y = np.asarray(energy_eV, dtype=float)
        # The same spline emmet's BarrierAnalysis takes the barrier from (zero slope at the ends).
        fine = np.linspace(x[0], x[-1], 200)
        line = ax.plot(fine, CubicSpline(x, y, bc_type="clamped")(fine), label=label)[0]
        ax.plot(x, y, "o", color=line.get_color())
    ax.set_xlabel("reaction coordinate (image index / last)")
    ax.set_ylabel("E − E(start) (eV)")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path

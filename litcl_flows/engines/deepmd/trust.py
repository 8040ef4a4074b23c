"""Trust levels of a DeePMD ensemble: read ``model_devi.out``, sort frames, pick some to label.

The file is what LAMMPS writes with several models (``pair_style deepmd m0.pb m1.pb …
out_freq N out_file model_devi.out``) and what ``dp model-devi`` writes
(``deepmd.infer.model_devi.write_model_devi_out``): a comment line naming the columns
(``step``, ``max_devi_v`` … ``max_devi_f`` … and, in recent versions, ``devi_e``), then one
row per evaluated step. ``max_devi_f`` (eV/Å) is the largest, over atoms, standard deviation
of the models' force predictions.

The rule (DP-GEN; Zhang et al., Phys. Rev. Mater. 3, 023804 (2019)) sorts each frame by
ε = ``max_devi_f``: **accurate** ε < lo, **candidate** lo ≤ ε < hi, **failed** ε ≥ hi
(too far from the data for the reference to be worth computing; usually unphysical).
With an adaptive lower level (dpgen2's ``ExplorationReportAdaptiveLower``) the candidates are
instead the max(n, rate × frames) non-failed frames of largest ε, and lo becomes the smallest
ε among them; the fixed lo still defines the fraction that decides convergence, so the loop
stops on the same criterion whichever frames it labels. Written here because dpgen2 ships
this rule inside dflow operators (a workflow engine litcl does not use); it is a few lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from litcl_flows.defaults import DEFAULT_LEVEL_F_HI_EV_A, DEFAULT_LEVEL_F_LO_EV_A


@dataclass(frozen=True)
class ModelDeviation:
    """Steps and force deviation of the frames of one or more ``model_devi.out`` files."""

    steps: np.ndarray
    max_devi_f_eV_A: np.ndarray


def read_model_deviation(paths: Sequence[str | Path]) -> ModelDeviation:
    """Steps and ``max_devi_f`` of the files in order; a step already read is skipped.

    A run continued from a restart evaluates its first step again; the earlier row is kept.
    LAMMPS writes the header only when a run starts at step 0: a continued chunk's file has
    none and takes the columns of the file before it.
    """
    steps: list[np.ndarray] = []
    devi: list[np.ndarray] = []
    columns: list[str] = []
    for path in paths:
        columns = _header(Path(path)) or columns
        if "step" not in columns or "max_devi_f" not in columns:
            raise ValueError(f"{path}: no 'step' and 'max_devi_f' columns in its header")
        table = np.loadtxt(path, ndmin=2)
        if table.size == 0:
            continue
        if table.shape[1] < len(columns):
            raise ValueError(f"{path}: {table.shape[1]} columns, the header names {len(columns)}")
        steps.append(table[:, columns.index("step")].astype(np.int64))
        devi.append(table[:, columns.index("max_devi_f")])
    all_steps = np.concatenate(steps) if steps else np.empty(0, np.int64)
    all_devi = np.concatenate(devi) if devi else np.empty(0)
    _, first = np.unique(all_steps, return_index=True)
    keep = np.sort(first)
    return ModelDeviation(all_steps[keep], all_devi[keep])


def _header(path: Path) -> list[str]:
    """Column names: the last comment line before the first row."""
    names: list[str] = []
    with path.open() as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            words = line.lstrip("#").split()
            if words:
                names = words
    return names


@dataclass(frozen=True)
class TrustLevels:
    """Force trust levels of the selection (module docstring).

    Parameters
    ----------
    level_f_lo_eV_A, level_f_hi_eV_A
        Lower and upper trust levels of ``max_devi_f``.
    adaptive_min_frames, adaptive_rate
        Adaptive lower level: label the max(``adaptive_min_frames``, ``adaptive_rate`` ×
        frames) non-failed frames of largest deviation. Both 0: fixed levels.
    """

    level_f_lo_eV_A: float = DEFAULT_LEVEL_F_LO_EV_A
    level_f_hi_eV_A: float = DEFAULT_LEVEL_F_HI_EV_A
    adaptive_min_frames: int = 0
    adaptive_rate: float = 0.0

    def __post_init__(self) -> None:
        if not 0 < self.level_f_lo_eV_A < self.level_f_hi_eV_A:
            raise ValueError(
                f"trust levels: need 0 < lo < hi, got lo {self.level_f_lo_eV_A} "
                f"and hi {self.level_f_hi_eV_A} eV/Å"
            )
        if self.adaptive_min_frames < 0 or not 0 <= self.adaptive_rate <= 1:
            raise ValueError(
                "adaptive lower level: adaptive_min_frames must be ≥ 0 and adaptive_rate in "
                f"[0, 1], got {self.adaptive_min_frames} and {self.adaptive_rate}"
            )

    @property
    def adaptive(self) -> bool:
        return self.adaptive_min_frames > 0 or self.adaptive_rate > 0


@dataclass(frozen=True)
class TrustSelection:
    """Frames sorted by trust level, and those picked for labelling.

    Attributes
    ----------
    n_frames
        Frames evaluated.
    n_accurate, n_candidate, n_failed
        Counts against the fixed levels (``levels``).
    level_f_lo_used_eV_A
        The lower level the picked candidates came from (the adapted one when adaptive).
    candidate_indices
        Indices of the candidates at the level used, in frame order.
    picked_indices
        Candidates chosen for labelling (all, or ``max_picked`` at random), in frame order.
    """

    n_frames: int
    n_accurate: int
    n_candidate: int
    n_failed: int
    level_f_lo_used_eV_A: float
    candidate_indices: np.ndarray
    picked_indices: np.ndarray

    @property
    def candidate_fraction(self) -> float:
        """Fraction of frames between the fixed levels (the convergence measure)."""
        return self.n_candidate / self.n_frames if self.n_frames else 0.0

    @property
    def accurate_fraction(self) -> float:
        return self.n_accurate / self.n_frames if self.n_frames else 0.0

    @property
    def failed_fraction(self) -> float:
        return self.n_failed / self.n_frames if self.n_frames else 0.0

    @property
    def out_of_domain_fraction(self) -> float:
        """Fraction at or above the lower level: frames the ensemble does not trust."""
        return (self.n_candidate + self.n_failed) / self.n_frames if self.n_frames else 0.0


def select_frames(
    max_devi_f_eV_A: np.ndarray,
    levels: TrustLevels,
    max_picked: int | None = None,
    seed: int = 0,
) -> TrustSelection:
    """Sort frames by trust level and pick candidates to label (rule: module docstring).

    Parameters
    ----------
    max_devi_f_eV_A
        ``max_devi_f`` of every frame.
    levels
        Trust levels.
    max_picked
        Most frames to label; a seeded random subset of the candidates beyond it.
    seed
        Seed of that subset.
    """
    devi = np.asarray(max_devi_f_eV_A, dtype=float)
    if not np.all(np.isfinite(devi)):
        raise ValueError("max_devi_f has non-finite values: the MD behind it blew up")
    lo, hi = levels.level_f_lo_eV_A, levels.level_f_hi_eV_A
    failed = devi >= hi
    accurate = devi < lo
    lo_used = lo
    if levels.adaptive:
        trusted = np.flatnonzero(~failed)
        n_wanted = max(levels.adaptive_min_frames, int(levels.adaptive_rate * len(trusted)))
        n_wanted = min(n_wanted, len(trusted))
        # stable sort: equal deviations keep frame order, so the choice is reproducible
        ranked = trusted[np.argsort(-devi[trusted], kind="stable")][:n_wanted]
        candidates = np.sort(ranked)
        lo_used = float(devi[ranked].min()) if n_wanted else hi
    else:
        candidates = np.flatnonzero(~accurate & ~failed)
    picked = candidates
    if max_picked is not None and len(candidates) > max_picked:
        rng = np.random.default_rng(seed)
        picked = np.sort(rng.choice(candidates, size=max_picked, replace=False))
    return TrustSelection(
        n_frames=len(devi),
        n_accurate=int(accurate.sum()),
        n_candidate=int((~accurate & ~failed).sum()),
        n_failed=int(failed.sum()),
        level_f_lo_used_eV_A=lo_used,
        candidate_indices=candidates,
        picked_indices=picked,
    )

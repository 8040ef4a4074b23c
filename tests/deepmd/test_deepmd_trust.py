"""Trust levels: model_devi.out as deepmd-kit and LAMMPS write it, and DP-GEN's frame sorting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from litcl_flows.engines.deepmd.trust import TrustLevels, read_model_deviation, select_frames

#: Deviations around the default levels 0.05 / 0.15 eV/Å; by hand: accurate < 0.05 ≤ candidate
#: < 0.15 ≤ failed.
DEVIATIONS = np.array([0.01, 0.05, 0.10, 0.149, 0.15, 0.30, 0.02, 0.12])
ACCURATE, CANDIDATE, FAILED = [0, 6], [1, 2, 3, 7], [4, 5]

#: The header LAMMPS's pair_style deepmd writes (no devi_e column).
LAMMPS_HEADER = (
    "#       step         max_devi_v         min_devi_v         avg_devi_v"
    "         max_devi_f         min_devi_f         avg_devi_f\n"
)


def lammps_file(path: Path, steps: list[int], devi_f: list[float], header: bool = True) -> Path:
    rows = "".join(
        f"{step:12d} {0.0:18.6e} {0.0:18.6e} {0.0:18.6e} {f:18.6e} {f / 10:18.6e} {f / 2:18.6e}\n"
        for step, f in zip(steps, devi_f, strict=True)
    )
    path.write_text(LAMMPS_HEADER * header + rows)
    return path


def test_reads_what_deepmd_kit_writes(tmp_path: Path) -> None:
    from deepmd.infer.model_devi import write_model_devi_out

    table = np.zeros((len(DEVIATIONS), 8))
    table[:, 0] = np.arange(len(DEVIATIONS)) * 10
    table[:, 1] = 9.0  # max_devi_v: a column that must not be read as the force
    table[:, 4] = DEVIATIONS
    write_model_devi_out(table, str(tmp_path / "model_devi.out"))
    read = read_model_deviation([tmp_path / "model_devi.out"])
    assert read.steps.tolist() == list(range(0, 80, 10))
    np.testing.assert_allclose(read.max_devi_f_eV_A, DEVIATIONS, rtol=1e-6)


def test_chunks_of_a_restarted_run_join_without_the_repeated_step(tmp_path: Path) -> None:
    first = lammps_file(tmp_path / "a.out", [0, 100, 200], [0.01, 0.02, 0.03])
    # LAMMPS writes no header in a run that starts from a restart (LAMMPS 22 Jul 2025)
    second = lammps_file(tmp_path / "b.out", [200, 300], [0.99, 0.04], header=False)
    read = read_model_deviation([first, second])
    assert read.steps.tolist() == [0, 100, 200, 300]
    np.testing.assert_allclose(read.max_devi_f_eV_A, [0.01, 0.02, 0.03, 0.04])
    with pytest.raises(ValueError, match="max_devi_f"):
        read_model_deviation([second, first])


def test_a_file_without_the_force_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.out"
    path.write_text("# step energy\n0 1.0\n")
    with pytest.raises(ValueError, match="max_devi_f"):
        read_model_deviation([path])


def test_fixed_levels_sort_as_dp_gen_does() -> None:
    selection = select_frames(DEVIATIONS, TrustLevels())
    assert (selection.n_accurate, selection.n_candidate, selection.n_failed) == (2, 4, 2)
    assert selection.candidate_indices.tolist() == CANDIDATE
    assert selection.picked_indices.tolist() == CANDIDATE
    assert selection.candidate_fraction == pytest.approx(4 / 8)
    assert selection.out_of_domain_fraction == pytest.approx(6 / 8)
    assert selection.level_f_lo_used_eV_A == 0.05


@pytest.mark.parametrize(
    "min_frames, rate, expected",
    [
        # non-failed frames: 0.01 0.05 0.10 0.149 0.02 0.12 (six); the largest first
        (0, 0.5, [2, 3, 7]),  # int(0.5 × 6) = 3: 0.149, 0.12, 0.10
        (5, 0.1, [1, 2, 3, 6, 7]),  # max(5, 0) = 5: all but 0.01
        (9, 0.0, [0, 1, 2, 3, 6, 7]),  # more than there are: every non-failed frame
    ],
)
def test_adaptive_lower_level_takes_the_least_trusted_frames(min_frames, rate, expected) -> None:
    levels = TrustLevels(adaptive_min_frames=min_frames, adaptive_rate=rate)
    selection = select_frames(DEVIATIONS, levels)
    assert selection.candidate_indices.tolist() == expected
    assert selection.level_f_lo_used_eV_A == pytest.approx(DEVIATIONS[expected].min())
    # the convergence measure is still the fixed levels'
    assert selection.n_candidate == len(CANDIDATE)


def test_picked_subset_is_seeded_and_within_the_candidates() -> None:
    first = select_frames(DEVIATIONS, TrustLevels(), max_picked=2, seed=3)
    again = select_frames(DEVIATIONS, TrustLevels(), max_picked=2, seed=3)
    assert len(first.picked_indices) == 2
    assert set(first.picked_indices) <= set(CANDIDATE)
    assert first.picked_indices.tolist() == again.picked_indices.tolist()


@pytest.mark.parametrize(
    "kwargs", [{"level_f_lo_eV_A": 0.2}, {"level_f_lo_eV_A": 0.0}, {"adaptive_rate": 1.5}]
)
def test_impossible_levels_are_refused(kwargs) -> None:
    with pytest.raises(ValueError, match=r"trust levels|adaptive"):
        TrustLevels(**kwargs)


def test_non_finite_deviation_is_refused() -> None:
    with pytest.raises(ValueError, match="non-finite"):
        select_frames(np.array([0.1, np.nan]), TrustLevels())

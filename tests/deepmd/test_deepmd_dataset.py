"""Dataset conversion and the one-line checks that run before training (real VASP MD frames)."""

from __future__ import annotations

import numpy as np
import pytest

from litcl_flows.engines.deepmd.dataset import (
    DeepmdDataError,
    check_deepmd_system,
    default_type_map,
    system_from_trajectory,
    trajectories_to_deepmd,
)


@pytest.fixture
def h2o_system(third_party_dir):
    import dpdata

    outcar = third_party_dir / "vasp_aimd/H2O_nve_10steps_dpdata/OUTCAR"
    return dpdata.LabeledSystem(str(outcar), fmt="vasp/outcar")


def _trajectory(system, **extra):
    """pymatgen Trajectory of a dpdata system, labels in frame_properties (stress in eV/Å³)."""
    from pymatgen.core import Lattice, Structure
    from pymatgen.core.trajectory import Trajectory

    species = [system["atom_names"][t] for t in system["atom_types"]]
    structures, props = [], []
    for i in range(system.get_nframes()):
        cell = system["cells"][i]
        structures.append(
            Structure(Lattice(cell), species, system["coords"][i], coords_are_cartesian=True)
        )
        props.append(
            {
                "energy": system["energies"][i],
                "forces": system["forces"][i],
                "stress": -system["virials"][i] / abs(np.linalg.det(cell)),
                **{k: v[i] for k, v in extra.items()},
            }
        )
    return Trajectory.from_structures(structures, frame_properties=props, constant_lattice=False)


def test_trajectory_round_trip_matches_dpdata(h2o_system):
    converted, converged = system_from_trajectory(_trajectory(h2o_system))
    assert converged.all()
    for key in ("coords", "cells", "energies", "forces", "virials"):
        np.testing.assert_allclose(converted[key], h2o_system[key], rtol=1e-10, atol=1e-10)


def test_vasp_kbar_stress_convention(h2o_system):
    """A VASP-signed kBar stress gives dpdata's own OUTCAR virial."""
    volume = abs(np.linalg.det(h2o_system["cells"][0]))
    kbar = h2o_system["virials"] / volume * 1602.1766208
    traj = _trajectory(h2o_system)
    for i, frame in enumerate(traj.frame_properties):
        frame["stress"] = kbar[i]
    converted, _ = system_from_trajectory(traj, stress_unit="kBar")
    np.testing.assert_allclose(converted["virials"], h2o_system["virials"], rtol=1e-9)


def test_drops_unconverged_nonfinite_duplicate_and_splits(h2o_system, tmp_path):
    import dpdata

    flags = np.ones(10, dtype=bool)
    flags[3] = False
    traj = _trajectory(h2o_system, electronic_converged=flags)
    traj.frame_properties[5]["forces"] = np.full((6, 3), np.nan)
    duplicate = h2o_system.sub_system([0, 1])  # repeats frames 0 and 1 of the trajectory
    report = trajectories_to_deepmd([traj, duplicate], tmp_path, valid_fraction=0.25, seed=3)
    assert (report.n_frames_in, report.n_dropped_unconverged) == (12, 1)
    assert (report.n_dropped_nonfinite, report.n_dropped_duplicate) == (1, 2)
    assert report.n_frames_train + report.n_frames_valid == 8
    assert report.n_frames_valid == 2  # round(0.25 * 8)
    (valid_dir,) = report.valid_systems  # the duplicate system kept no frame
    valid = dpdata.LabeledSystem(str(tmp_path / valid_dir), fmt="deepmd/npy")
    np.testing.assert_allclose(valid["energies"], h2o_system["energies"][8:])  # the last two
    assert report.type_map == ["H", "O"]  # electronegativity order
    written = [
        dpdata.LabeledSystem(str(tmp_path / p), fmt="deepmd/npy")
        for p in report.train_systems + report.valid_systems
    ]
    assert sum(s.get_nframes() for s in written) == 8
    energies = np.sort(np.concatenate([s["energies"] for s in written]))
    expected = np.sort(np.delete(h2o_system["energies"], [3, 5]))
    np.testing.assert_allclose(energies, expected)
    assert report.energy_per_atom_min_eV == pytest.approx(expected.min() / 6)
    o_forces = np.linalg.norm(np.delete(h2o_system["forces"], [3, 5], 0)[:, :2], axis=-1)
    assert report.force_norm_max_eV_A["O"] == pytest.approx(o_forces.max())
    again = trajectories_to_deepmd([traj, duplicate], tmp_path / "b", valid_fraction=0.25, seed=3)
    assert again.as_dict() == report.as_dict()  # the split is reproducible


def test_holdout_whole_trajectories(h2o_system, tmp_path):
    parts = [h2o_system.sub_system(range(i, i + 5)) for i in (0, 5)]
    report = trajectories_to_deepmd(parts, tmp_path, split="trajectories", valid_fraction=0.5)
    assert (report.n_frames_train, report.n_frames_valid) == (5, 5)
    assert len(report.train_systems) == len(report.valid_systems) == 1


def test_default_type_map_of_the_study():
    assert default_type_map({"Cl", "Ti", "Li"}) == ["Li", "Ti", "Cl"]


def _one_line(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_element_missing_from_type_map(h2o_system, tmp_path):
    with pytest.raises(DeepmdDataError) as excinfo:
        trajectories_to_deepmd([h2o_system], tmp_path, type_map=["O"])
    assert "['H']" in _one_line(excinfo)
    trajectories_to_deepmd([h2o_system], tmp_path, type_map=["H", "O"])
    with pytest.raises(DeepmdDataError) as excinfo:
        check_deepmd_system(tmp_path / "train/sys_000", ["O"])
    assert "type_map.raw" in _one_line(excinfo)


def test_empty_set_and_empty_input(h2o_system, tmp_path):
    with pytest.raises(DeepmdDataError) as excinfo:
        trajectories_to_deepmd([], tmp_path)
    _one_line(excinfo)
    h2o_system.to("deepmd/npy", str(tmp_path / "sys"))
    for set_dir in (tmp_path / "sys").glob("set.*"):
        for f in set_dir.iterdir():
            f.unlink()
        set_dir.rmdir()
    with pytest.raises(DeepmdDataError) as excinfo:
        check_deepmd_system(tmp_path / "sys", ["H", "O"])
    assert "no set.*" in _one_line(excinfo)
    traj = _trajectory(h2o_system, electronic_converged=np.zeros(10, dtype=bool))
    with pytest.raises(DeepmdDataError) as excinfo:
        trajectories_to_deepmd([traj], tmp_path / "none")
    assert "no frames left of 10" in _one_line(excinfo)


def test_frames_without_forces(h2o_system, tmp_path):
    traj = _trajectory(h2o_system)
    del traj.frame_properties[4]["forces"]
    with pytest.raises(DeepmdDataError) as excinfo:
        trajectories_to_deepmd([traj], tmp_path)
    assert _one_line(excinfo) == "trajectory 0: frame 4 has no forces"
    h2o_system.to("deepmd/npy", str(tmp_path / "sys"))
    next((tmp_path / "sys").glob("set.*/force.npy")).unlink()
    with pytest.raises(DeepmdDataError) as excinfo:
        check_deepmd_system(tmp_path / "sys", ["H", "O"])
    assert "force.npy: missing" in _one_line(excinfo)


def test_bad_data_fails_before_training(h2o_system, tmp_path):
    """run_deepmd_training checks the systems before any dp process starts."""
    from litcl_flows.engines.deepmd.inputs import DeepmdTrainingInput
    from litcl_flows.engines.deepmd.run import run_deepmd_training

    h2o_system.to("deepmd/npy", str(tmp_path / "sys"))
    with pytest.raises(DeepmdDataError):
        run_deepmd_training(tmp_path, DeepmdTrainingInput.demo(), ["O"], ["sys"], ["sys"])
    assert not (tmp_path / "train.log").exists() and not (tmp_path / "input.json").exists()


def _indexed_trajectory(n_frames: int, first: int = 0, time_step_fs: float | None = None):
    """A 4-atom MD stand-in whose frame i has energy ``first + i`` eV (its index in time)."""
    from pymatgen.core import Lattice, Structure
    from pymatgen.core.trajectory import Trajectory

    rng = np.random.default_rng(first)
    base = rng.uniform(0, 5, (4, 3))
    structures, props = [], []
    for i in range(first, first + n_frames):
        coords = base + 1e-3 * i  # every frame distinct: none is dropped as a duplicate
        structures.append(
            Structure(
                Lattice.cubic(6.0), ["Li", "Li", "Cl", "Cl"], coords, coords_are_cartesian=True
            )
        )
        props.append({"energy": float(i), "forces": rng.normal(size=(4, 3))})
    return Trajectory.from_structures(
        structures, frame_properties=props, constant_lattice=False, time_step=time_step_fs
    )


def _frame_indices(root, paths):
    """Frame indices (= energies) of the written systems, read back with numpy."""
    return [
        np.load(next((root / p).glob("set.*")) / "energy.npy").round().astype(int).ravel().tolist()
        for p in paths
    ]


def test_block_split_stride_and_gap_by_hand(tmp_path):
    """301 frames 1 fs apart, stride 10 fs, 10 % held out, gap 50 fs, worked out by hand.

    Kept: 0, 10, ..., 300 (31 frames); validation: the last round(3.1) = 3 (280, 290, 300);
    training: frames at most 280 - 50 = 230 fs (0 ... 230, 24 frames); 240-270 dropped.
    """
    report = trajectories_to_deepmd(
        [_indexed_trajectory(301)],
        tmp_path,
        frame_interval_fs=1.0,
        frame_stride_fs=10.0,
        gap_fs=50.0,
    )
    (train,) = _frame_indices(tmp_path, report.train_systems)
    (valid,) = _frame_indices(tmp_path, report.valid_systems)
    assert valid == [280, 290, 300]
    assert train == list(range(0, 231, 10))
    assert (report.n_frames_train, report.n_frames_valid) == (24, 3)
    assert (report.n_dropped_stride, report.n_dropped_gap) == (270, 4)
    assert (report.frame_stride_frames, report.frame_stride_fs) == (10, 10.0)
    assert report.min_valid_train_separation_fs == 50.0
    assert report.split == "blocks" and report.gap_fs == 50.0
    distance = np.abs(np.subtract.outer(valid, train))
    assert distance.min() >= 50  # no validation frame within the gap of a training frame


def test_labelled_frames_join_training_only(tmp_path):
    """The by-hand case above plus five labelled frames and a copy of reference frame 10:
    the five join training whole, the copy is dropped, validation is unchanged."""
    reference = _indexed_trajectory(301)
    report = trajectories_to_deepmd(
        [reference],
        tmp_path,
        frame_interval_fs=1.0,
        frame_stride_fs=10.0,
        gap_fs=50.0,
        labelled=[_indexed_trajectory(5, first=1000), reference[10:11]],
    )
    train = sorted(i for part in _frame_indices(tmp_path, report.train_systems) for i in part)
    (valid,) = _frame_indices(tmp_path, report.valid_systems)
    assert valid == [280, 290, 300]
    assert train == [*range(0, 231, 10), *range(1000, 1005)]
    assert report.n_frames_labelled == 5 and report.n_frames_train == 24 + 5
    assert report.n_frames_in == 301 + 6 and report.n_dropped_duplicate == 1


def test_stride_rounds_up_to_whole_frames_and_reads_time_step(tmp_path):
    """Frames 3 fs apart (pymatgen time_step): a 10 fs stride keeps every 4th (12 fs)."""
    report = trajectories_to_deepmd(
        [_indexed_trajectory(40, time_step_fs=3.0)], tmp_path, frame_stride_fs=10.0, gap_fs=20.0
    )
    assert report.frame_interval_fs == 3.0
    assert (report.frame_stride_frames, report.frame_stride_fs) == (4, 12.0)
    (train,) = _frame_indices(tmp_path, report.train_systems)
    (valid,) = _frame_indices(tmp_path, report.valid_systems)
    # kept 0, 4, ..., 36 (10 frames); valid: the last one, frame 36 at 108 fs; training up
    # to 108 - 20 = 88 fs: frames 0 ... 28 (84 fs); frame 32 (96 fs) dropped for the gap.
    assert valid == [36]
    assert train == list(range(0, 29, 4))
    assert report.min_valid_train_separation_fs == pytest.approx(24.0)


def test_segments_of_one_run_are_joined(tmp_path):
    """Two walltime segments of one run: only the end of the run is validation.

    Split per segment, the end of segment 0 (validation) would sit 1 fs before the start of
    segment 1 (training).
    """
    segments = [_indexed_trajectory(100), _indexed_trajectory(100, first=100)]
    report = trajectories_to_deepmd(
        [segments], tmp_path, frame_interval_fs=1.0, frame_stride_fs=10.0, gap_fs=30.0
    )
    (train,) = _frame_indices(tmp_path, report.train_systems)
    (valid,) = _frame_indices(tmp_path, report.valid_systems)
    assert valid == [180, 190]  # round(0.1 * 20) = 2 of 0, 10, ..., 190
    assert train == list(range(0, 151, 10))
    assert report.min_valid_train_separation_fs == 30.0


def test_time_needed_but_unknown(tmp_path):
    with pytest.raises(DeepmdDataError) as excinfo:
        trajectories_to_deepmd([_indexed_trajectory(50)], tmp_path, frame_stride_fs=10.0)
    assert "give frame_interval_fs" in _one_line(excinfo)
    with pytest.raises(DeepmdDataError) as excinfo:
        trajectories_to_deepmd(
            [_indexed_trajectory(50)], tmp_path / "b", frame_interval_fs=1.0, gap_fs=100.0
        )
    assert "no training frames left" in _one_line(excinfo)


def test_dataset_maker_defaults_hold_out_a_distant_block(tmp_path, monkeypatch):
    """The study's dataset job: stride 10 fs, gap 100 fs; the document says so."""
    from litcl_flows.makers.deepmd import DeepmdDatasetMaker

    monkeypatch.chdir(tmp_path)
    maker = DeepmdDatasetMaker(frame_interval_fs=1.0)
    doc = maker.make.original(maker, [_indexed_trajectory(251), _indexed_trajectory(251, 1000)])
    # per run: 0, 10, ..., 250 (26 frames); validation round(2.6) = 3: 230-250;
    # training up to 230 - 100 = 130 fs: 14 frames; 140-220 dropped (9).
    assert (doc.n_frames_train, doc.n_frames_valid, doc.n_dropped_gap) == (28, 6, 18)
    assert doc.held_out() == {
        "split": "blocks",
        "valid_fraction": 0.1,
        "frame_stride_fs": 10.0,
        "gap_fs": 100.0,
        "min_valid_train_separation_fs": 100.0,
        "n_frames_train": 28,
        "n_frames_valid": 6,
    }

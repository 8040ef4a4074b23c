"""Same real trajectory, same numbers as pymatgen DiffusionAnalyzer and MDAnalysis EinsteinMSD."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from litcl_flows.analysis.msd import msd_self_and_total
from litcl_flows.analysis.trajectory import collect_mobile
from litcl_flows.io import iter_lammps_dump

CHAIN = "lammps/bead_chain_xu_mdanalysis/chain_dump_1.lammpstrj"


def test_self_and_charge_msd_match_diffusion_analyzer(third_party_dir: Path) -> None:
    from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer
    from pymatgen.core import Lattice, Structure

    # Type 2 (20 beads) as the "mobile ion", type 1 (2 beads) as the framework.
    frames = list(iter_lammps_dump(third_party_dir / CHAIN, type_map=["Cl", "Li"]))
    structures = [
        Structure(Lattice(f.cell_A), f.symbols, f.positions_A, coords_are_cartesian=True)
        for f in frames
    ]
    # time_step 1000 fs so that DiffusionAnalyzer's first lag (1000 fs / time_step) is 1 frame.
    analyzer = DiffusionAnalyzer.from_structures(structures, "Li", 300, 1000, 1, min_obs=1)
    msd_self, msd_total = msd_self_and_total(collect_mobile(iter(frames), "Li").positions_A)
    lags = (analyzer.dt // 1000).astype(int)
    assert np.allclose(msd_self.sum(axis=1)[lags], analyzer.msd, rtol=1e-10)
    assert np.allclose(msd_total.sum(axis=1)[lags], analyzer.mscd, rtol=1e-10)


def test_self_msd_matches_mdanalysis_einstein_msd(third_party_dir: Path) -> None:
    mda = pytest.importorskip("MDAnalysis")
    from MDAnalysis.analysis.msd import EinsteinMSD

    path = third_party_dir / CHAIN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        universe = mda.Universe(
            str(path), format="LAMMPSDUMP", lammps_coordinate_convention="unwrapped"
        )
        # fft=True needs the optional tidynamics package; the windowed average is the same MSD.
        reference = EinsteinMSD(universe, select="type 2", fft=False).run().results.timeseries
    frames = iter_lammps_dump(path, type_map=["Cl", "Li"])
    # EinsteinMSD applies no drift correction.
    ours = collect_mobile(frames, "Li", drift_correction=False).positions_A
    assert np.allclose(msd_self_and_total(ours)[0].sum(axis=1), reference, rtol=1e-6)

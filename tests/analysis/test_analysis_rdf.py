"""Partial RDFs: ideal gas, perfect fcc shells, cell-description invariance, MDAnalysis."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from litcl_flows.analysis.rdf import (
    RDF,
    RDFAccumulator,
    compute_rdf,
    max_rdf_radius_A,
    parse_pairs,
    rdf_similarity,
)
from litcl_flows.io import Frame, iter_frames

CHAIN = "lammps/bead_chain_xu_mdanalysis"


def _frame(cell: np.ndarray, positions: np.ndarray, symbols: list[str], step: int = 0) -> Frame:
    return Frame(
        step, np.asarray(cell, float), np.asarray(positions, float), np.array(symbols), False
    )


def test_uniform_random_points_give_one_within_noise() -> None:
    rng = np.random.default_rng(0)
    n, length = 600, 15.0
    frames = [
        _frame(length * np.eye(3), rng.uniform(0, length, (n, 3)), ["Li"] * 400 + ["Cl"] * 200, t)
        for t in range(10)
    ]
    rdfs = compute_rdf(frames, [("Li", "Li"), ("Li", "Cl")], r_max_A=7.5, n_bins=30)
    for (a, b), rdf in rdfs.items():
        n_a, n_b = 400, 400 - 1 if a == b else 200
        # Poisson counts: expected pairs per bin = frames × N_A × N_B' × shell / V.
        shells = 4 / 3 * np.pi * np.diff(rdf.r_edges_A**3)
        expected = 10 * n_a * n_b * shells / length**3
        # Same-species pairs are counted twice (i→j and j→i): the variance doubles.
        sigma = np.sqrt((2 if a == b else 1) / expected)
        outer = rdf.r_A > 2.0
        assert np.all(np.abs(rdf.g[outer] - 1.0) < 5 * sigma[outer])
        assert abs(rdf.g[outer].mean() - 1.0) < 0.01
        assert rdf.pair_density_A3 == pytest.approx(n_b / length**3)


def _fcc_primitive(a: float, repeat: int) -> tuple[np.ndarray, np.ndarray]:
    """A repeat³ block of fcc primitive cells: a triclinic (60°) cell, one atom per primitive."""
    primitive = 0.5 * a * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], dtype=float)
    grid = np.array(np.meshgrid(*[np.arange(repeat)] * 3, indexing="ij")).reshape(3, -1).T
    return repeat * primitive, grid @ primitive


def test_perfect_fcc_shells_and_coordination() -> None:
    a = 4.0
    cell, positions = _fcc_primitive(a, 6)
    rdf = compute_rdf(
        [_frame(cell, positions, ["Cu"] * len(positions))], [("Cu", "Cu")], None, 500
    )[("Cu", "Cu")]
    # The primitive fcc cell is (111)-bounded: width d(111) = a/√3, so r_max = 6 · a/√3 / 2.
    assert rdf.r_edges_A[-1] == pytest.approx(3 * a / np.sqrt(3))
    width = rdf.r_edges_A[1]
    occupied = rdf.r_A[rdf.g > 0]
    shells = np.array([a / np.sqrt(2), a, a * np.sqrt(1.5), a * np.sqrt(2)])
    assert np.allclose(np.unique(np.round(occupied / width))[:4] * width, shells, atol=width)
    running = rdf.running_coordination()
    between = (shells[:-1] + shells[1:]) / 2
    assert np.interp(between, rdf.r_edges_A[1:], running) == pytest.approx([12, 18, 42])
    shell = rdf.first_shell()
    assert shell.peak_r_A == pytest.approx(a / np.sqrt(2), abs=width)
    assert shell.coordination_number == pytest.approx(12.0)
    assert shell.minimum_r_A < a


def test_triclinic_cell_equals_orthogonal_supercell() -> None:
    """A hexagonal cell (γ = 120°) and its orthogonal 2× supercell are one periodic system."""
    rng = np.random.default_rng(1)
    a, c = 14.0, 13.0
    hexagonal = np.array([[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]])
    frac = rng.random((150, 3))
    positions = frac @ hexagonal
    symbols = ["Li"] * 100 + ["Cl"] * 50
    # Orthogonal cell with rows a1, a1 + 2 a2, a3 (area doubled): the atoms plus copies by a2.
    orthogonal = np.array([hexagonal[0], hexagonal[0] + 2 * hexagonal[1], hexagonal[2]])
    assert np.allclose(orthogonal, np.diag([a, a * np.sqrt(3), c]), atol=1e-12)
    doubled = np.concatenate([positions, positions + hexagonal[1]])
    r_max = max_rdf_radius_A(hexagonal)
    assert r_max == pytest.approx(min(a * np.sqrt(3) / 2, c) / 2)
    pairs = [("Li", "Li"), ("Li", "Cl"), ("Cl", "Li"), ("Cl", "Cl")]
    tri = compute_rdf([_frame(hexagonal, positions, symbols)], pairs, r_max, 60)
    ortho = compute_rdf([_frame(orthogonal, doubled, symbols * 2)], pairs, r_max, 60)
    for pair in pairs:
        # Neighbours per centre are the same in both descriptions.
        assert np.allclose(tri[pair].running_coordination(), ortho[pair].running_coordination())
        assert tri[pair].running_coordination()[-1] > 5
    for pair in [("Li", "Cl"), ("Cl", "Li")]:
        assert np.allclose(tri[pair].g, ortho[pair].g, rtol=1e-12, atol=1e-12)
    # Same species: g = V·c(r)/((N − 1)·shell) with c the per-centre count, so doubling the
    # cell (V → 2V, N → 2N) scales g by 2(N − 1)/(2N − 1): the N(N−1) convention.
    for pair, n in [(("Li", "Li"), 100), (("Cl", "Cl"), 50)]:
        assert np.allclose(ortho[pair].g, tri[pair].g * 2 * (n - 1) / (2 * n - 1), rtol=1e-12)
    # g_AB = g_BA for the cross pairs.
    assert np.allclose(tri[("Li", "Cl")].g, tri[("Cl", "Li")].g)


def test_r_max_beyond_half_the_cell_is_refused() -> None:
    frame = _frame(10 * np.eye(3), np.zeros((2, 3)), ["Li", "Li"])
    accumulator = RDFAccumulator([("Li", "Li")], r_max_A=5.5, n_bins=10)
    with pytest.raises(ValueError, match="exceeds half the smallest cell width"):
        accumulator.add(frame)
    with pytest.raises(ValueError, match="no Li-Cl pairs"):
        RDFAccumulator([("Li", "Cl")], 4.0).add(frame)


def test_matches_mdanalysis_interrdf_on_chained_lammps_dump(third_party_dir: Path) -> None:
    mda = pytest.importorskip("MDAnalysis")
    from MDAnalysis.analysis.rdf import InterRDF

    paths = [third_party_dir / CHAIN / f"chain_dump_{k}.lammpstrj" for k in (1, 2)]
    frames = list(iter_frames(paths))
    ours = compute_rdf(frames, [("2", "2"), ("1", "2")], r_max_A=5.0, n_bins=25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        universe = mda.Universe(
            str(paths[0]),
            [str(p) for p in paths],
            topology_format="LAMMPSDUMP",
            format="LAMMPSDUMP",
            lammps_coordinate_convention="unwrapped",
            continuous=True,
        )
        assert len(universe.trajectory) == 11
        beads, ends = universe.select_atoms("type 2"), universe.select_atoms("type 1")
        same = InterRDF(beads, beads, nbins=25, range=(0.0, 5.0), exclusion_block=(1, 1)).run()
        cross = InterRDF(ends, beads, nbins=25, range=(0.0, 5.0)).run()
    assert np.allclose(ours[("2", "2")].r_A, same.results.bins)
    assert np.allclose(ours[("2", "2")].g, same.results.rdf, rtol=1e-6, atol=1e-9)
    assert np.allclose(ours[("1", "2")].g, cross.results.rdf, rtol=1e-6, atol=1e-9)
    assert ours[("2", "2")].g.max() > 1.5


def _step_rdf(values: list[float], r_max: float = 4.0) -> RDF:
    edges = np.linspace(0.0, r_max, len(values) + 1)
    return RDF(("A", "B"), edges, np.array(values, float), 0.1, 1)


def test_similarity_by_hand() -> None:
    first = _step_rdf([0, 2, 1, 1])
    assert rdf_similarity(first, first) == pytest.approx(1.0)
    # |g1 − g2| sums to 0+1+0+0 = 1, g1 + g2 to 0+3+2+2 = 7: 1 − 1/7.
    assert rdf_similarity(first, _step_rdf([0, 1, 1, 1])) == pytest.approx(6 / 7)
    assert rdf_similarity(_step_rdf([1, 0, 0, 0]), _step_rdf([0, 0, 0, 1])) == pytest.approx(0.0)
    # Only the common range counts: the extra bins of a longer RDF are ignored.
    longer = _step_rdf([0, 2, 1, 1, 5, 5], r_max=6.0)
    assert rdf_similarity(first, longer) == pytest.approx(1.0)


def test_parse_pairs() -> None:
    assert parse_pairs("Li-Li, Cl-Li") == [("Li", "Li"), ("Cl", "Li")]
    assert parse_pairs("all", ["Li", "Ti", "Cl", "Li"]) == [
        ("Cl", "Cl"),
        ("Cl", "Li"),
        ("Cl", "Ti"),
        ("Li", "Li"),
        ("Li", "Ti"),
        ("Ti", "Ti"),
    ]
    with pytest.raises(ValueError, match="bad RDF pair 'LiCl'"):
        parse_pairs("LiCl")

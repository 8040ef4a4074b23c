"""RDF overlays and hop traces are written as valid PNG and SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from litcl_flows.analysis.hops import count_hops
from litcl_flows.analysis.plots import plot_hops, plot_rdf
from litcl_flows.analysis.rdf import RDF

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _check(paths: list[Path], stem: Path) -> None:
    assert paths == [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    assert paths[0].read_bytes()[:8] == PNG_MAGIC
    assert ET.parse(paths[1]).getroot().tag == "{http://www.w3.org/2000/svg}svg"


def test_rdf_overlay(tmp_path: Path) -> None:
    edges = np.linspace(0, 6, 61)
    r = 0.5 * (edges[1:] + edges[:-1])

    def rdf(pair: tuple[str, str], peak: float) -> RDF:
        return RDF(pair, edges, 1 + 2 * np.exp(-((r - peak) ** 2) / 0.05), 0.02, 10)

    sources = {
        "AIMD": {("Cl", "Ti"): rdf(("Cl", "Ti"), 2.53), ("Li", "Li"): rdf(("Li", "Li"), 3.5)},
        "ML-MD": {("Cl", "Ti"): rdf(("Cl", "Ti"), 2.55)},
    }
    stem = tmp_path / "out" / "rdf"
    _check(plot_rdf(sources, stem), stem)


def test_hop_traces(tmp_path: Path) -> None:
    cell = np.diag([6.0, 6.0, 8.0])
    sites = np.array([[1.5, 1.5, 1.0], [4.5, 1.5, 1.0], [1.5, 1.5, 5.0], [4.5, 4.5, 5.0]])
    positions = np.repeat(sites[None, [0, 3]], 40, axis=0)
    positions[20:, 0] = sites[2]
    result = count_hops(
        positions, np.repeat(cell[None], 40, axis=0), (0, 0, 2), sites_frac=sites / [6, 6, 8]
    )
    assert (result.n_hops, result.n_inter_layer) == (1, 1)
    stem = tmp_path / "hops"
    _check(plot_hops(result, np.arange(40) * 0.1, stem, positions), stem)
    _check(plot_hops(result, np.arange(40) * 0.1, stem, ions=[1]), stem)

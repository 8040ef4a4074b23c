"""NEB Makers end to end: EMT against a hand-set-up ASE NEB; CHGNet on Li3TiCl6."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ase.calculators.emt import EMT
from ase.mep import NEB
from ase.optimize import FIRE
from emmet.core.neb import BarrierAnalysis
from jobflow import run_locally
from pymatgen.core import Lattice, Structure
from pymatgen.io.ase import AseAtomsAdaptor

from litcl_flows.makers.neb import (
    CLIMBING_NEB_KWARGS,
    MLHopNebMaker,
    NebBarriersMaker,
)
from litcl_flows.neb.hops import LI3TICL6_HOP_DIRECTIONS, NebSetupError
from litcl_flows.report.figures import neb_figure
from litcl_flows.schemas.neb import HopBarrierDoc, NebBarrierTable
from litcl_flows.store.report_data import NebProfile
from litcl_flows.structures.library import load_structure, order_by_majority_occupancy

EMT_CALCULATOR = {"@module": "ase.calculators.emt", "@callable": "EMT"}
FMAX_eV_A = 0.05


def _run(maker: NebBarriersMaker, structure: Structure, store, tmp_path: Path):
    run_locally(
        maker.make(structure),
        store=store,
        create_folders=True,
        root_dir=tmp_path,
        ensure_success=True,
        log=False,
    )
    hops = [
        HopBarrierDoc(**d["output"])
        for d in store.query({"name": {"$regex": " barrier$"}, "output.engine": {"$exists": True}})
    ]
    table = NebBarrierTable(**store.query_one({"output.rows": {"$exists": True}})["output"])
    return hops, table


@pytest.mark.slow
def test_emt_vacancy_hop_matches_hand_ase_neb(memory_job_store, tmp_path: Path) -> None:
    cu = Structure.from_spacegroup("Fm-3m", Lattice.cubic(3.61), ["Cu"], [[0, 0, 0]])
    maker = NebBarriersMaker(
        hop_maker=MLHopNebMaker(force_field_name=EMT_CALCULATOR, num_images=3),
        directions=("[110]",),
        species="Cu",
        max_hop_length_A=3.0,
        min_image_distance_A=7.0,
    )
    (doc,), table = _run(maker, cu, memory_job_store, tmp_path)
    assert doc.engine == "emt" and doc.climbing_image and doc.converged
    assert doc.direction_label == "[110]" and doc.hop_length_A == pytest.approx(3.61 / 2**0.5)
    assert doc.num_sites == 31 and doc.supercell == [2, 2, 2]

    # The same images, by hand: ASE NEB, EMT, climbing image, improved tangent, k = 5, FIRE.
    images = [AseAtomsAdaptor.get_atoms(s) for s in doc.neb_result.initial_images]
    for atoms in images:
        atoms.calc = EMT()
    band = NEB(images, climb=True, method="improvedtangent", k=5.0)
    assert FIRE(band, logfile=None).run(fmax=FMAX_eV_A, steps=500)
    energies = [atoms.get_potential_energy() for atoms in images]
    by_hand = BarrierAnalysis.from_energies(energies)
    assert doc.forward_barrier_eV == pytest.approx(by_hand.forward_barrier, abs=0.01)
    assert doc.forward_barrier_eV == pytest.approx(max(energies) - energies[0], abs=0.01)

    # A symmetric hop: forward = reverse; the climbing image (middle) is the maximum.
    assert doc.forward_barrier_eV == pytest.approx(doc.reverse_barrier_eV, abs=1e-3)
    assert doc.highest_image_index == 2
    assert doc.neb_result.barrier_analysis.ts_frame_index == pytest.approx(0.5, abs=0.02)
    assert CLIMBING_NEB_KWARGS == {"climb": True, "method": "improvedtangent", "k": 5.0}

    assert [row.direction_label for row in table.rows] == ["[110]"]
    assert (table.rows[0].mechanism, table.rows[0].end_site) == ("vacancy", "Cu")
    assert table.rows[0].study_label is None  # an in-plane hop of fcc Cu is no study hop
    assert table.rows[0].forward_barrier_eV == doc.forward_barrier_eV
    # The job stores no figure; the report draws the profile from the hop's document.
    profile = NebProfile(
        doc.direction_label,
        doc.hop_length_A,
        doc.neb_result.barrier_analysis.frame_index,
        doc.relative_energies_eV,
    )
    assert all(p.is_file() for p in neb_figure([profile], table.formula, tmp_path / "neb"))
    assert "[110]" in table.as_text()


@pytest.mark.slow
def test_chgnet_neb_on_li3ticl6_stores_its_document(memory_job_store, tmp_path: Path) -> None:
    cell = order_by_majority_occupancy(load_structure("li3ticl6"))
    maker = NebBarriersMaker(
        hop_maker=MLHopNebMaker(
            num_images=1,
            fmax_eV_A=0.5,  # loose: CI checks the plumbing, not the barrier
            max_steps=15,
            endpoint_fmax_eV_A=0.5,
            endpoint_max_steps=15,
            idpp=False,
        ),
        directions=("[010]",),
        min_image_distance_A=6.3,  # the 20-atom cell itself: CI time, not converged physics
    )
    (doc,), table = _run(maker, cell, memory_job_store, tmp_path)
    assert doc.engine == "chgnet" and doc.direction_label == "[010]"
    assert not doc.crosses_layers
    assert doc.supercell == [1, 1, 1] and doc.num_sites == 19 and doc.num_images == 1
    assert doc.charge_model.startswith("chgnet: no electrons are counted")
    assert np.isfinite(doc.forward_barrier_eV) and np.isfinite(doc.reverse_barrier_eV)
    assert len(doc.neb_result.energies) == 3
    assert table.rows[0].engine == "chgnet"


def test_plan_labels_hops_in_the_parent_cell_and_hops_to_its_empty_sites() -> None:
    parent = load_structure("li3ticl6")
    cell = order_by_majority_occupancy(parent) * (2, 1, 1)  # labels must not follow this cell
    hops, supercell = NebBarriersMaker(
        directions=LI3TICL6_HOP_DIRECTIONS, parent=parent, min_image_distance_A=8.0
    ).plan(cell)
    assert [h.direction_label for h in hops] == ["[010]", "[310]", "[101]", "[013]"]
    assert [h.mechanism for h in hops] == ["vacancy", "vacancy", "interstitial", "interstitial"]
    assert [h.study_label for h in hops] == ["[010]", None, "[101]", None]
    assert all(h.length_A < 4.0 for h in hops)
    assert supercell == (1, 1, 2)
    with pytest.raises(NebSetupError) as error:  # without the parent: no empty Ti sites
        NebBarriersMaker(directions=("[101]",)).plan(cell)
    assert "\n" not in str(error.value)


def test_impossible_request_fails_in_one_line() -> None:
    cell = order_by_majority_occupancy(load_structure("li3ticl6"))
    with pytest.raises(NebSetupError) as error:
        NebBarriersMaker(directions=("[010]",), max_atoms=40).plan(cell)
    assert "\n" not in str(error.value)

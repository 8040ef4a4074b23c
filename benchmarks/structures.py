"""Wall time of ordered Li3TiCl6 supercells (160 and 320 atoms) and of the 20,000-atom MD cell.

Usage: ``python benchmarks/structures.py [--samples 5000] [--seeds 0 1]``.
Targets (issue 4), 2 cores: 160-atom candidates < 1 min, 320-atom candidates < 5 min.
Each row is one ``ordered_supercells`` call returning 5 structures; the spread of the lowest
energies over seeds shows whether the sampling is converged.
"""

from __future__ import annotations

import argparse
import time

from litcl_flows.structures import md_cell, ordered_supercells
from litcl_flows.structures.library import load_structure

CASES = [
    (160, "annealed 0.754/0.123", {"2a": {"Ti": 0.754}, "4g": {"Ti": 0.123}}, 60.0),
    (160, "as made 0.851/0.075", {"2a": {"Ti": 0.851}, "4g": {"Ti": 0.075}}, 60.0),
    (320, "as made 0.851/0.075", {"2a": {"Ti": 0.851}, "4g": {"Ti": 0.075}}, 300.0),
    (320, "annealed 0.754/0.123", {"2a": {"Ti": 0.754}, "4g": {"Ti": 0.123}}, 300.0),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5000, help="random starts per call")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    structure = load_structure("li3ticl6")

    header = f"{'atoms':>5}  {'occupancies':<22} {'seed':>4}  {'time s':>7}  {'target s':>8}"
    print(f"{header}  Ewald eV/atom of the 5 results")
    for n_atoms, label, occupancies, target_s in CASES:
        for seed in args.seeds:
            start = time.perf_counter()
            results = ordered_supercells(
                structure, n_atoms, occupancies, seed=seed, n_samples=args.samples
            )
            elapsed = time.perf_counter() - start
            energies = " ".join(f"{r.ewald_energy_eV_per_atom:.5f}" for r in results)
            row = f"{n_atoms:>5}  {label:<22} {seed:>4}  {elapsed:>7.2f}  {target_s:>8.0f}"
            print(f"{row}  {energies}")

    cell = ordered_supercells(structure, 160, CASES[0][2], n_structures=1)[0].structure
    start = time.perf_counter()
    md = md_cell(cell, n_atoms=20000)
    elapsed = time.perf_counter() - start
    widths = ", ".join(f"{w:.2f}" for w in md.widths_A)
    print(
        f"md_cell: {md.n_atoms} atoms from the 160-atom cell in {elapsed:.2f} s, "
        f"matrix {md.supercell_matrix}, widths {widths} Å"
    )


if __name__ == "__main__":
    main()

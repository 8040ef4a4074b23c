"""``litcl structures``: ordered supercells of a cation-disordered structure, as files.

pymatgen is imported inside the command so that ``litcl --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import click

from litcl_flows.cli.output import one_line_errors, print_json, print_table, stderr_console

#: Above this many atoms the ordering takes minutes (1,280 atoms: about 2 min with the default
#: 5,000 samples on 2 cores), so a note on stderr says so before it starts.
SLOW_ATOMS = 640


def _parse_oxidation_states(text: str | None) -> dict[str, float]:
    """``"Li=1,Ti=3,Cl=-1"`` → ``{"Li": 1.0, "Ti": 3.0, "Cl": -1.0}``."""
    parsed = {}
    for item in filter(None, (part.strip() for part in (text or "").split(","))):
        element, _, charge = item.partition("=")
        try:
            parsed[element.strip()] = float(charge)
        except ValueError:
            raise click.BadParameter(
                f"{item!r}: expected ELEMENT=CHARGE, e.g. Ti=3", param_hint="--oxidation-states"
            ) from None
    return parsed


@click.command("structures")
@click.argument("cif")
@click.option(
    "--atoms",
    "n_atoms",
    type=click.IntRange(min=1),
    required=True,
    help="Atoms in each supercell (a whole number of cells, e.g. 160 or 320; at most 2560).",
)
@click.option(
    "--occupancy",
    default=None,
    help="Target occupancies SPECIES:SITE=VALUE,… (SITE: Wyckoff symbol or CIF label), "
    "e.g. Ti:2a=0.754,Ti:4g=0.123. Default: the file's own.",
)
@click.option(
    "--n",
    "n_structures",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Distinct structures to write.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sampling.")
@click.option(
    "--samples",
    "n_samples",
    type=click.IntRange(min=1),
    default=5000,
    show_default=True,
    help="Random starts (or enumerate when there are fewer arrangements).",
)
@click.option(
    "--oxidation-states",
    default=None,
    help="ELEMENT=CHARGE,… for the Ewald energy, e.g. Li=1,Ti=3,Cl=-1. Default: guessed.",
)
@click.option("--mobile", default="Li", show_default=True, help="The conducting ion.")
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder for the POSCAR (.vasp) and CIF files.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list instead of a table.")
@one_line_errors
def structures(
    cif: str,
    n_atoms: int,
    occupancy: str | None,
    n_structures: int,
    seed: int,
    n_samples: int,
    oxidation_states: str | None,
    mobile: str,
    output_dir: Path,
    as_json: bool,
) -> None:
    """Ordered supercells of CIF (a file, or a built-in name such as li3ticl6).

    Whole atoms replace the partial occupancies; the lowest-Ewald-energy, symmetry-distinct
    arrangements are written as POSCAR and CIF files, lowest first.
    """
    from litcl_flows.structures import ordered_supercells, parse_occupancy_spec
    from litcl_flows.structures.library import load_structure
    from litcl_flows.structures.ordering import check_ordered_size

    check_ordered_size(n_atoms, "--atoms")  # before loading anything; ordered_supercells checks too
    structure = load_structure(cif)
    if n_atoms > SLOW_ATOMS:
        stderr_console().print(
            f"Ordering {n_atoms} atoms from {n_samples} samples: this can take many minutes "
            "(the time grows as atoms³ × samples; --samples lowers it)."
        )
    results = ordered_supercells(
        structure,
        n_atoms,
        parse_occupancy_spec(occupancy) if occupancy else None,
        n_structures=n_structures,
        seed=seed,
        n_samples=n_samples,
        oxidation_states=_parse_oxidation_states(oxidation_states),
        mobile_species=mobile,
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for result in results:
        formula = result.structure.composition.reduced_formula
        stem = f"{formula}_{n_atoms}at_seed{seed}_{result.rank:02d}"
        files = {"poscar": output_dir / f"{stem}.vasp", "cif": output_dir / f"{stem}.cif"}
        for path in files.values():
            result.structure.to(filename=str(path))
        records.append(result.summary() | {key: str(path) for key, path in files.items()})
    if as_json:
        print_json(records)
        return
    rows = []
    for record in records:
        row = {
            "rank": record["rank"],
            "Ewald eV/atom": f"{record['ewald_energy_eV_per_atom']:.5f}",
            "space group": record["space_group"],
        }
        for o in record["occupancies"]:
            if o["target_occupancy"] < 1:  # the partially occupied sites: achieved (target)
                row[f"{o['species']} {o['orbit']}"] = (
                    f"{o['n_atoms']}/{o['n_sites']} = {o['achieved_occupancy']:.3f} "
                    f"({o['target_occupancy']:.3f})"
                )
        row["files"] = Path(record["poscar"]).stem + ".{vasp,cif}"
        rows.append(row)
    matrix = records[0]["supercell_matrix"]
    print_table(f"{records[0]['formula']}, supercell {matrix}, in {output_dir}", rows)

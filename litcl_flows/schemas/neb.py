"""Output documents of the NEB jobs: one per hop (emmet ``NebResult`` plus labels), and a table.

Barriers are emmet's: the maximum of a clamped cubic spline through the image energies
(``BarrierAnalysis``), minus the start (forward) or end (reverse) energy.
"""

from __future__ import annotations

from emmet.core.neb import NebResult
from pydantic import Field, model_validator

from litcl_flows.schemas.barriers import BarrierTableRow
from litcl_flows.schemas.base import DocumentMeta, MaterialMeta, fill_material


class HopBarrierDoc(MaterialMeta, DocumentMeta):
    """One hop's NEB: where it goes, which engine ran it, and its barriers.

    ``formula_pretty`` and ``chemsys`` are the host cell's (before the vacancy is made);
    ``versions`` adds atomate2, emmet-core (the barrier analysis) and the engine's package.
    """

    species: str = Field(description="Migrating species, e.g. 'Li'.")
    mechanism: str = Field(
        description="'vacancy' (to a vacant site of the same species) or 'interstitial'."
    )
    direction_label: str = Field(
        description="Smallest-integer [uvw] of the hop in the input cell's basis, e.g. '[010]'."
    )
    direction: list[int] = Field(description="[u, v, w] of the label.")
    direction_angle_deg: float = Field(description="Angle between the hop and its label, °.")
    equivalent_directions: list[str] = Field(
        description="Labels of the symmetry-equivalent copies of the hop."
    )
    hop_length_A: float = Field(description="Straight start–end distance of the hop, Å.")
    crosses_layers: bool = Field(
        description="True when the hop leaves its layer (between layers), False in-layer."
    )
    stacking_offset_A: float = Field(
        description="|displacement| along the stacking normal (normal to the layer planes), Å."
    )
    end_site: str = Field(
        "",
        description="What the ion hops to: its own species' vacant site (e.g. 'Li') or the "
        "empty site's name (e.g. '4g (Ti2)': an empty Ti site of the parent structure).",
    )
    path_clearance_A: dict[str, float] = Field(
        default_factory=dict,
        description="Element → closest approach of the straight start–end path to its atoms, "
        "Å (the migrating ion and a vacancy hop's removed end ion left out).",
    )
    cell_setting: str = Field(
        "", description="The cell whose basis the direction label uses, with its a, b, c."
    )
    study_label: str | None = Field(
        None,
        description="The reference study's label whose geometry (direction, layers, mechanism) "
        "this hop has; None: no study barrier is this hop.",
    )
    charge_model: str = Field(
        "",
        description="How the defect's charge is modelled: for VASP a vacancy hop's cell carries "
        "the removed ion's charge (Li⁺: −1, NELECT = ΣZVAL + 1, no host cation oxidised); a hop "
        "to an empty site keeps a neutral stoichiometric cell; force fields count no electrons.",
    )
    start_frac_coords: list[float] = Field(description="Start site, fractional (input cell).")
    end_frac_coords: list[float] = Field(
        description="End position, fractional (input cell), unwrapped: start + hop vector."
    )
    engine: str = Field(description="Engine of the NEB: 'vasp', 'chgnet', 'deepmd', …")
    supercell: list[int] = Field(description="Diagonal supercell multiples of the input cell.")
    num_sites: int = Field(description="Atoms in each NEB image.")
    num_images: int = Field(description="Intermediate images (endpoints not counted).")
    climbing_image: bool = Field(description="True when the NEB used a climbing image.")
    converged: bool = Field(description="True when the NEB reached its force tolerance.")
    forward_barrier_eV: float | None = Field(
        None, description="Spline maximum minus the start energy, eV."
    )
    reverse_barrier_eV: float | None = Field(
        None, description="Spline maximum minus the end energy, eV."
    )
    highest_image_index: int | None = Field(
        None, description="Index (endpoints included) of the highest-energy image."
    )
    relative_energies_eV: list[float] | None = Field(
        None, description="Image energies minus the start energy, eV, endpoints included."
    )
    neb_result: NebResult = Field(description="emmet's NEB document (images, energies, spline).")


class NebBarrierTable(MaterialMeta, DocumentMeta):
    """Barriers of the hops of one cell, one row per hop, in the order requested.

    ``formula_pretty`` and ``chemsys`` are read from ``formula`` when not given.
    """

    formula: str = Field(description="Reduced formula of the cell.")
    rows: list[BarrierTableRow] = Field(description="One row per hop.")

    @model_validator(mode="after")
    def _material_from_formula(self) -> NebBarrierTable:
        if self.formula_pretty is None and self.chemsys is None:
            fill_material(self, self.formula)
        return self

    def as_text(self) -> str:
        """Plain-text table (direction, end site, length, layers, study label, barriers)."""
        lines = [
            f"{'direction':<10} {'to':<10} {'length_A':>8} {'layers':<8} {'study':<6} "
            f"{'fwd_eV':>7} {'rev_eV':>7} engine"
        ]
        for row in self.rows:
            fwd = "n/a" if row.forward_barrier_eV is None else f"{row.forward_barrier_eV:.3f}"
            rev = "n/a" if row.reverse_barrier_eV is None else f"{row.reverse_barrier_eV:.3f}"
            layers = "between" if row.crosses_layers else "in"
            lines.append(
                f"{row.direction_label:<10} {row.end_site:<10} {row.hop_length_A:>8.3f} "
                f"{layers:<8} {row.study_label or '-':<6} {fwd:>7} {rev:>7} {row.engine}"
                f"{'' if row.converged else ' (not converged)'}"
            )
        return "\n".join(lines)

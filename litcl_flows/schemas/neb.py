"""Output documents of the NEB jobs: one per hop (emmet ``NebResult`` plus labels), and a table.

Barriers are emmet's: the maximum of a clamped cubic spline through the image energies
(``BarrierAnalysis``), minus the start (forward) or end (reverse) energy.
"""

from __future__ import annotations

from emmet.core.neb import NebResult
from pydantic import BaseModel, Field


class HopBarrierDoc(BaseModel):
    """One hop's NEB: where it goes, which engine ran it, and its barriers."""

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


class BarrierTableRow(BaseModel):
    """One line of the table over directions."""

    direction_label: str = Field(description="Hop direction [uvw].")
    hop_length_A: float = Field(description="Hop length, Å.")
    crosses_layers: bool = Field(description="True: between layers; False: in-layer.")
    forward_barrier_eV: float | None = Field(None, description="Forward barrier, eV.")
    reverse_barrier_eV: float | None = Field(None, description="Reverse barrier, eV.")
    engine: str = Field(description="Engine of the NEB.")
    converged: bool = Field(description="True when the NEB reached its force tolerance.")


class NebBarrierTable(BaseModel):
    """Barriers of the hops of one cell, one row per hop, in the order requested."""

    formula: str = Field(description="Reduced formula of the cell.")
    rows: list[BarrierTableRow] = Field(description="One row per hop.")
    plot_file: str | None = Field(
        None, description="Energy-profile figure written in the table job's directory."
    )

    def as_text(self) -> str:
        """Plain-text table (direction, length, layers, barriers, engine)."""
        lines = [
            f"{'direction':<10} {'length_A':>8} {'layers':<8} {'fwd_eV':>7} {'rev_eV':>7} engine"
        ]
        for row in self.rows:
            fwd = "n/a" if row.forward_barrier_eV is None else f"{row.forward_barrier_eV:.3f}"
            rev = "n/a" if row.reverse_barrier_eV is None else f"{row.reverse_barrier_eV:.3f}"
            layers = "between" if row.crosses_layers else "in"
            lines.append(
                f"{row.direction_label:<10} {row.hop_length_A:>8.3f} {layers:<8} {fwd:>7} "
                f"{rev:>7} {row.engine}{'' if row.converged else ' (not converged)'}"
            )
        return "\n".join(lines)

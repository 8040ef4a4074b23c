"""One row of a table of NEB barriers, apart from :mod:`litcl_flows.schemas.neb` so that the
study document (:mod:`litcl_flows.schemas.study`) holds it without importing emmet's NEB
schemas (``litcl query`` and ``litcl report`` stay light)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class BarrierTableRow(BaseModel):
    """One line of the table over directions."""

    direction_label: str = Field(description="Hop direction [uvw].")
    mechanism: str = Field("vacancy", description="'vacancy' or 'interstitial'.")
    end_site: str = Field("", description="The site the ion hops to (see HopBarrierDoc).")
    study_label: str | None = Field(
        None, description="The study's label of the same geometry; None: none."
    )
    hop_length_A: float = Field(description="Hop length, Å.")
    crosses_layers: bool = Field(description="True: between layers; False: in-layer.")
    forward_barrier_eV: float | None = Field(None, description="Forward barrier, eV.")
    reverse_barrier_eV: float | None = Field(None, description="Reverse barrier, eV.")
    engine: str = Field(description="Engine of the NEB.")
    converged: bool = Field(description="True when the NEB reached its force tolerance.")

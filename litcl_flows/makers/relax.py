"""Relaxation of an ordered cell by the reference engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from litcl_flows.makers.reference import ChgnetReferenceRelaxMaker

#: Job name of the reference-engine relaxation (queries select on it).
RELAX_JOB_NAME = "relax"


def chgnet_relax_maker(
    fmax_eV_A: float = 0.05,
    max_steps: int = 200,
    relax_cell: bool = True,
    hubbard_u_eV: Mapping[str, float] | None = None,
) -> ChgnetReferenceRelaxMaker:
    """atomate2's force-field relaxation with CHGNet (weights ship in the wheel: no download).

    The output document records ``reference_engine="chgnet"`` and that no Hubbard U was
    applied (see :class:`~litcl_flows.makers.reference.ChgnetReferenceRelaxMaker`).

    Parameters
    ----------
    fmax_eV_A
        Largest residual force at convergence, eV/Å.
    max_steps
        Optimiser step limit (FIRE via ASE).
    relax_cell
        Relax the lattice too (ASE ``FrechetCellFilter``), not only positions.
    hubbard_u_eV
        U_eff the study asked for, eV, recorded as requested (CHGNet cannot apply it);
        None: none requested.
    """
    from litcl_flows.makers.reference import ChgnetReferenceRelaxMaker

    return ChgnetReferenceRelaxMaker(
        name=RELAX_JOB_NAME,
        relax_cell=relax_cell,
        steps=max_steps,
        relax_kwargs={"fmax": fmax_eV_A},
        hubbard_u_eV=dict(hubbard_u_eV or {}),
    )

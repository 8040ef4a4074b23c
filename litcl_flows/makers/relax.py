"""Relaxation of an ordered cell by the reference engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atomate2.forcefields.jobs import ForceFieldRelaxMaker

#: Job name of the reference-engine relaxation (queries select on it).
RELAX_JOB_NAME = "relax"


def chgnet_relax_maker(
    fmax_eV_A: float = 0.05, max_steps: int = 200, relax_cell: bool = True
) -> ForceFieldRelaxMaker:
    """atomate2's force-field relaxation with CHGNet (weights ship in the wheel: no download).

    Parameters
    ----------
    fmax_eV_A
        Largest residual force at convergence, eV/Å.
    max_steps
        Optimiser step limit (FIRE via ASE).
    relax_cell
        Relax the lattice too (ASE ``FrechetCellFilter``), not only positions.
    """
    from atomate2.forcefields.jobs import ForceFieldRelaxMaker

    return ForceFieldRelaxMaker(
        name=RELAX_JOB_NAME,
        force_field_name="CHGNet",
        relax_cell=relax_cell,
        steps=max_steps,
        relax_kwargs={"fmax": fmax_eV_A},
    )

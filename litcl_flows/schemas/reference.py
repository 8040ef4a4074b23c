"""Output documents of the reference-engine (DFT-level) relaxation and AIMD jobs.

They are atomate2's own documents (VASP ``TaskDoc``, force-field ``ForceFieldTaskDocument``)
with the fields every reference document of a study must carry: which engine produced it,
which Hubbard U was asked for and whether the engine applied it. Trajectories stay where
atomate2 routes them, in the ``data`` additional store.
"""

from __future__ import annotations

from typing import Literal

from atomate2.forcefields.schemas import ForceFieldTaskDocument
from emmet.core.tasks import TaskDoc
from pydantic import Field

from litcl_flows.schemas.base import DocumentMeta

#: Where a trajectory frame records whether its electronic SCF converged (read by dataset export).
SCF_CONVERGED_KEY = "electronic_converged"

#: Note stored by the ML stand-in, which cannot apply a Hubbard U.
ML_STAND_IN_U_NOTE = (
    "{engine} is a universal ML potential (a stand-in for DFT+U) trained on Materials Project "
    "GGA/GGA+U data; it cannot apply a Hubbard U. The requested U_eff is recorded, not applied."
)


class ReferenceEngineMeta(DocumentMeta):
    """Fields every reference-engine document carries.

    ``formula_pretty`` and ``chemsys`` come with atomate2's documents, and so does VASP's
    ``last_updated`` (emmet's); ``versions`` adds atomate2, emmet-core and the engine: VASP's
    version as its output reports it, or the chgnet package.
    """

    reference_engine: Literal["vasp", "chgnet"] | None = Field(
        None, description="Engine that produced the document: 'vasp' (DFT+U) or 'chgnet' (ML)."
    )
    is_stand_in: bool | None = Field(
        None, description="True when the engine stands in for DFT+U (an ML potential)."
    )
    hubbard_u_requested_eV: dict[str, float] | None = Field(
        None, description="U_eff = U − J (Dudarev) requested per element, eV (0: none)."
    )
    hubbard_u_applied_eV: dict[str, float] | None = Field(
        None,
        description="U_eff the engine actually ran with per element, eV, read back from its "
        "input (VASP INCAR); empty when no U was applied.",
    )
    hubbard_u_applied: bool | None = Field(
        None,
        description="True when the run used exactly the requested U_eff (U_eff = 0 means "
        "LDAU off). Always False for an ML stand-in, which cannot apply U.",
    )
    hubbard_u_note: str | None = Field(None, description="How U was or was not applied.")
    temperature_K: float | None = Field(
        None, description="Thermostat temperature of an AIMD run, K (None: relaxation)."
    )
    time_step_fs: float | None = Field(None, description="MD time step, fs (None: relaxation).")
    n_frames: int | None = Field(
        None, description="Frames in the stored trajectory (AIMD) or ionic steps (relaxation)."
    )
    walltime_s: float | None = Field(
        None,
        description="Wall time of the engine run, s (VASP: OUTCAR elapsed time; CHGNet: the "
        "atomate2 job body); with n_frames and nsites it gives the cost per atom-step.",
    )
    n_frames_scf_unconverged: int | None = Field(
        None,
        description="AIMD frames whose electronic SCF hit NELM (not converged); their "
        f"trajectory frames carry {SCF_CONVERGED_KEY}=False. None for an ML engine.",
    )


class VaspReferenceTaskDoc(TaskDoc, ReferenceEngineMeta):
    """atomate2/emmet VASP ``TaskDoc`` of a reference relaxation or AIMD segment."""


class ForceFieldReferenceTaskDoc(ForceFieldTaskDocument, ReferenceEngineMeta):
    """atomate2 ``ForceFieldTaskDocument`` of an ML stand-in relaxation or MD run."""

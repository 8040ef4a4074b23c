"""How long an ML-MD run must be: the stopping rule of runs whose length is set by D's error.

A run goes on in chunks. After each chunk the transport analysis of everything run so far
(`litcl_flows.analysis.transport.analyze_transport`) and a hop count
(`litcl_flows.analysis.hops.count_hops`) go to `run_length_verdict`, which says whether to
stop and why. The run stops as **converged** when all of these hold at once:

- the relative standard error of D_self is at most the target (and that of σ, when a
  target for σ is set);
- the self MSD is diffusive over the fit window: its exponent d ln MSD / d ln t lies within
  ``max_exponent_deviation`` of 1;
- the mobile ions have hopped at least ``min_hops_per_ion`` times each on average.

The last two guard against a lucky early estimate. A block standard error from B blocks has
B − 1 degrees of freedom, so its own relative error is about 1/√(2(B − 1)) (35 % for the
default five blocks): early on, the blocks can agree by chance. An MSD still dominated by
vibration in the cages has an exponent well below 1 and gives a D biased low however small
its scatter. And with fewer hops than blocks, most blocks see no hop of a given ion, and the
spread between blocks does not yet sample the hopping it is meant to measure.

Otherwise the run stops at its maximum length (**max_length**) or goes on (**continue**).
The verdict projects the length the target needs from the 1/√t law of a block error.

The fit window must stay the same, in ps, from chunk to chunk. A window that is a fraction of
the block grows with the run, and the error then does not fall. For lattice hoppers
(tests/analysis/test_analysis_run_length.py's model, 0.05 hops/ps), the relative error of
D_self stayed at 2–5 % from 200 ps to 4,000 ps with the default window (64 ions, one run),
and fell from 13 % to 3 % between 100 ps and 1,600 ps with a fixed 1–5 ps window (16 ions,
mean of 8 runs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from litcl_flows.defaults import DEFAULT_MAX_EXPONENT_DEVIATION

if TYPE_CHECKING:
    from litcl_flows.analysis.transport import TransportResult

StopReason = Literal["converged", "max_length", "continue"]

#: Relative standard error of D_self at which a run stops. 10 %: an error of 0.1 in ln D at
#: each of the study's six temperatures (298–373 K) gives Ea an error of k_B·0.1/√Σ(1/T − ⟨1/T⟩)²
#: = 0.015 eV.
DEFAULT_TARGET_REL_STDERR: float = 0.10
#: Hops per mobile ion required before a run may stop: one per block of the default five.
DEFAULT_MIN_HOPS_PER_ION: float = 5.0


@dataclass(frozen=True)
class RunLengthTarget:
    """When a run has run long enough (module docstring).

    Parameters
    ----------
    rel_stderr_D_self
        Largest relative standard error of D_self at which the run stops.
    rel_stderr_conductivity
        Same for the Nernst–Einstein σ from D_total; None: not required.
    max_exponent_deviation
        Largest |MSD exponent − 1| over the fit window that counts as diffusive.
    min_hops_per_ion
        Hops each mobile ion must have made on average.
    max_length_ps
        Length at which the run stops whatever its error.
    """

    rel_stderr_D_self: float = DEFAULT_TARGET_REL_STDERR
    rel_stderr_conductivity: float | None = None
    max_exponent_deviation: float = DEFAULT_MAX_EXPONENT_DEVIATION
    min_hops_per_ion: float = DEFAULT_MIN_HOPS_PER_ION
    max_length_ps: float = math.inf

    def __post_init__(self) -> None:
        for name in ("rel_stderr_D_self", "max_exponent_deviation", "max_length_ps"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.rel_stderr_conductivity is not None and not self.rel_stderr_conductivity > 0:
            raise ValueError(
                f"rel_stderr_conductivity must be > 0, got {self.rel_stderr_conductivity}"
            )
        if not self.min_hops_per_ion >= 0:
            raise ValueError(f"min_hops_per_ion must be ≥ 0, got {self.min_hops_per_ion}")


@dataclass(frozen=True)
class RunLengthVerdict:
    """Whether a run stops after a chunk, and why.

    Attributes
    ----------
    reason
        ``"converged"``, ``"max_length"`` or ``"continue"``.
    explanation
        One line: the criteria met or missed, with their values.
    length_ps
        Length of the analysed run (equilibration excluded).
    rel_stderr_D_self, rel_stderr_conductivity
        Relative standard errors (inf when the value is not positive).
    msd_exponent_self
        Exponent of the self MSD over the fit window.
    hops_per_ion
        Mean hops per mobile ion.
    projected_length_ps
        Length at which the D_self (and σ) targets would be met if the errors fall as 1/√t
        (inf when they cannot be projected).
    """

    reason: StopReason
    explanation: str
    length_ps: float
    rel_stderr_D_self: float
    rel_stderr_conductivity: float
    msd_exponent_self: float
    hops_per_ion: float
    projected_length_ps: float

    @property
    def stop(self) -> bool:
        return self.reason != "continue"


def relative_stderr(value: float, stderr: float) -> float:
    """stderr / value; inf when the value is not positive or either is not finite."""
    if not (math.isfinite(value) and math.isfinite(stderr)) or value <= 0:
        return math.inf
    return stderr / value


def run_length_verdict(
    transport: TransportResult, hops_per_ion: float, length_ps: float, target: RunLengthTarget
) -> RunLengthVerdict:
    """Stop or go on after a chunk (rule: module docstring).

    Parameters
    ----------
    transport
        Analysis of the whole run so far.
    hops_per_ion
        Site-to-site hops per mobile ion in the same frames (NaN: not counted, which keeps
        the run going).
    length_ps
        Length of the analysed frames.
    target
        The stopping rule's thresholds.
    """
    rel_D = relative_stderr(transport.D_self_cm2_s, transport.D_self_stderr_cm2_s)
    rel_sigma = relative_stderr(transport.conductivity_mS_cm, transport.conductivity_stderr_mS_cm)
    exponent = transport.msd_exponent_self
    checks = [(f"D_self error {_percent(rel_D)}", target.rel_stderr_D_self, rel_D)]
    if target.rel_stderr_conductivity is not None:
        checks.append((f"σ error {_percent(rel_sigma)}", target.rel_stderr_conductivity, rel_sigma))
    projected = length_ps * max((rel / goal) ** 2 for _, goal, rel in checks)
    missed = [f"{label} > {_percent(goal)}" for label, goal, rel in checks if not rel <= goal]
    deviation = abs(exponent - 1.0) if math.isfinite(exponent) else math.inf
    if not deviation <= target.max_exponent_deviation:
        missed.append(
            f"MSD exponent {exponent:.2f} not within {target.max_exponent_deviation:g} of 1"
        )
    if math.isnan(hops_per_ion):
        missed.append("hops not counted (no sites or layers found)")
    elif not hops_per_ion >= target.min_hops_per_ion:
        missed.append(f"{hops_per_ion:.1f} hops per ion < {target.min_hops_per_ion:g}")
    if not missed:
        reason: StopReason = "converged"
        explanation = (
            f"converged at {length_ps:g} ps: "
            + ", ".join(f"{label} ≤ {_percent(goal)}" for label, goal, _ in checks)
            + f", MSD exponent {exponent:.2f}, {hops_per_ion:.1f} hops per ion"
        )
    elif length_ps >= target.max_length_ps:
        reason = "max_length"
        explanation = f"stopped at the maximum length {target.max_length_ps:g} ps: " + "; ".join(
            missed
        )
    else:
        reason = "continue"
        explanation = f"continue after {length_ps:g} ps: " + "; ".join(missed)
    return RunLengthVerdict(
        reason=reason,
        explanation=explanation,
        length_ps=length_ps,
        rel_stderr_D_self=rel_D,
        rel_stderr_conductivity=rel_sigma,
        msd_exponent_self=exponent,
        hops_per_ion=hops_per_ion,
        projected_length_ps=projected if math.isfinite(projected) else math.inf,
    )


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.1f} %" if math.isfinite(fraction) else "undefined"

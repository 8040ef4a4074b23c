"""The numbers a transport analysis reports for one run, each named and described once.

``litcl analyze --json`` prints them (:data:`JSON_KEYS`); the stored ``TransportRunDocument``
has one field per number, with the description given here (:mod:`litcl_flows.schemas.study`
builds those fields from :class:`TransportNumbers`). Standard library only: the schemas import
this module, and ``litcl query`` loads no numpy for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


def _reported(description: str, *, in_json: bool = True, **kwargs: Any) -> Any:
    """A field of :class:`TransportNumbers`: its description (the stored document's too) and
    whether ``litcl analyze --json`` prints it."""
    return field(metadata={"description": description, "in_json": in_json}, **kwargs)


@dataclass(frozen=True, kw_only=True)
class TransportNumbers:
    """D, H_R and σ of one run with their error bars, fit settings and diffusion checks.

    Standard errors come from ``n_blocks`` time blocks and have ``stderr_dof`` = n_blocks − 1
    degrees of freedom; the ``*_interval_*`` pairs are 95 % Student-t intervals.
    """

    D_self_cm2_s: float = _reported(
        "Self (tracer) diffusion coefficient of the mobile ion, cm²/s: slope of its mean "
        "squared displacement over the fit window / 6."
    )
    D_self_stderr_cm2_s: float = _reported(
        "Standard error of D_self over n_blocks blocks in time, cm²/s."
    )
    D_total_cm2_s: float = _reported(
        "Collective (charge) diffusion coefficient, cm²/s: slope of the MSD of the mobile ions' "
        "summed displacement, divided by their number, / 6 (ion–ion cross-correlations "
        "included)."
    )
    D_total_stderr_cm2_s: float = _reported(
        "Standard error of D_total over n_blocks blocks in time, cm²/s."
    )
    haven_ratio: float = _reported("Haven ratio H_R = D_self / D_total (None: D_total ≤ 0).")
    haven_ratio_stderr: float = _reported("Standard error of H_R (delete-one-block jackknife).")
    conductivity_mS_cm: float = _reported("Nernst–Einstein σ from D_total (correlated), mS/cm.")
    conductivity_stderr_mS_cm: float = _reported("Standard error of σ from D_total, mS/cm.")
    # The uncorrelated σ is stored and printed as text; the --json keys predate it.
    conductivity_self_mS_cm: float = _reported(
        "σ from D_self (uncorrelated, H_R = 1), mS/cm.", in_json=False
    )
    conductivity_self_stderr_mS_cm: float = _reported(
        "Standard error of σ from D_self, mS/cm.", in_json=False
    )
    n_mobile: int = _reported("Mobile ions in the cell.")
    mobile_density_cm3: float = _reported("Mobile-ion number density.")
    temperature_K: float = _reported("Temperature of the run, K.")
    fit_window_ps: tuple[float, float] = _reported("Lag window of the fits, ps.")
    n_frames: int = _reported("Frames analysed.")
    n_blocks: int = _reported("Blocks of the error bars.")
    stderr_dof: int = _reported("Degrees of freedom of every standard error (n_blocks − 1).")
    D_self_interval_cm2_s: tuple[float, float] = _reported(
        "95 % Student-t interval of D_self (stderr_dof degrees of freedom)."
    )
    D_total_interval_cm2_s: tuple[float, float] = _reported("95 % Student-t interval of D_total.")
    conductivity_interval_mS_cm: tuple[float, float] = _reported(
        "95 % Student-t interval of σ (from D_total)."
    )
    msd_exponent_self: float = _reported(
        "d ln MSD_self / d ln t over the fit window (1: diffusive)."
    )
    msd_exponent_total: float = _reported(
        "d ln MSD_total / d ln t over the fit window (1: diffusive)."
    )
    diffusive: bool = _reported(
        "Whether both exponents lie within analysis.max_msd_exponent_deviation of 1; False: D "
        "of this run is not reliable (the window is still sub- or super-diffusive)."
    )
    reference_frame: str = _reported(
        "Frame of the displacements: 'host centre of mass' (drift removed) or 'simulation box'.",
        default="host centre of mass",
    )

    def reported(self) -> dict[str, object]:
        """Every number above by name, pairs as lists of floats (JSON-ready)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(TransportNumbers)}

    def to_json_dict(self) -> dict[str, object]:
        """The ``litcl analyze --json`` object: exactly :data:`JSON_KEYS`."""
        return {key: _plain(getattr(self, key)) for key in JSON_KEYS}


def _plain(value: object) -> object:
    return [float(v) for v in value] if isinstance(value, tuple) else value


#: The keys of ``litcl analyze --json``, in order.
JSON_KEYS: tuple[str, ...] = tuple(
    f.name for f in fields(TransportNumbers) if f.metadata["in_json"]
)

"""Checks of a reference-engine request that fail before anything is queued, in one line each.

Written here because atomate2 only finds these problems deep inside a running job (a missing
POTCAR mapping raises a ``KeyError`` while writing inputs on the compute node) or never (a
negative U is written to the INCAR as is; ``TEBEG = 0`` starts VASP).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


class ReferenceInputError(ValueError):
    """A reference-engine request that cannot run; the message is one line."""


def potcar_mapping(potcar_settings: Mapping[str, str] | None = None) -> dict[str, str]:
    """Element → POTCAR symbol used by the VASP Makers: atomate2's base set plus overrides."""
    from atomate2.vasp.sets.base import _BASE_VASP_SET

    return {**_BASE_VASP_SET["POTCAR"], **(potcar_settings or {})}


def check_potcar_mapping(
    elements: Iterable[str], potcar_settings: Mapping[str, str] | None = None
) -> None:
    """Fail when an element has no POTCAR symbol (atomate2 base set or ``potcar_settings``)."""
    mapping = potcar_mapping(potcar_settings)
    missing = sorted(set(elements) - set(mapping))
    if missing:
        raise ReferenceInputError(
            f"no POTCAR mapping for element(s) {', '.join(missing)}: "
            "add them to potcar_settings, e.g. {'" + missing[0] + "': '" + missing[0] + "_pv'}"
        )


def check_hubbard_u(hubbard_u_eV: Mapping[str, float]) -> None:
    """Fail on a negative or non-finite U_eff, or a key that is not an element symbol."""
    from pymatgen.core.periodic_table import Element

    for element, u_eV in hubbard_u_eV.items():
        if not Element.is_valid_symbol(element):
            raise ReferenceInputError(f"hubbard_u_eV: {element!r} is not an element symbol")
        if not u_eV >= 0.0 or u_eV == float("inf"):
            raise ReferenceInputError(f"hubbard_u_eV: U_eff for {element} is {u_eV} eV; need ≥ 0")


def check_temperatures(temperatures_K: Iterable[float]) -> None:
    """Fail on an empty list or a temperature that is not a finite number > 0 K."""
    values = list(temperatures_K)
    if not values:
        raise ReferenceInputError("temperatures_K: empty; give at least one temperature")
    for value in values:
        if not 0.0 < value < float("inf"):
            raise ReferenceInputError(f"temperatures_K: {value} K; every temperature must be > 0")


def check_hubbard_elements_present(
    elements: Iterable[str], hubbard_u_eV: Mapping[str, float]
) -> None:
    """Fail when U_eff > 0 is asked for an element the structure lacks.

    pymatgen then drops the U arrays but keeps ``LDAU = .TRUE.``,
    so the run would silently be plain GGA.
    """
    absent = sorted(el for el, u in hubbard_u_eV.items() if u > 0 and el not in set(elements))
    if absent:
        raise ReferenceInputError(
            f"hubbard_u_eV: U_eff > 0 for {', '.join(absent)}, not in the structure"
        )


def validate_reference_request(
    elements: Iterable[str],
    hubbard_u_eV: Mapping[str, float],
    temperatures_K: Iterable[float] = (),
) -> None:
    """The U and temperature checks above for one study request, any engine; raises
    :class:`ReferenceInputError`. The VASP engine adds :func:`check_potcar_mapping`
    (:meth:`~litcl_flows.makers.reference.ReferenceEngine.check_request`).

    Parameters
    ----------
    elements
        Element symbols of the structure.
    hubbard_u_eV
        Requested U_eff (Dudarev U − J) per element, eV.
    temperatures_K
        AIMD temperatures, K (empty: relaxation only).
    """
    check_hubbard_u(hubbard_u_eV)
    check_hubbard_elements_present(elements, hubbard_u_eV)
    temperatures_K = list(temperatures_K)
    if temperatures_K:
        check_temperatures(temperatures_K)


def check_vasp_runs_here(
    elements: Iterable[str], potcar_settings: Mapping[str, str] | None = None
) -> None:
    """Fail when this machine cannot run the VASP jobs: no VASP command or no POTCARs.

    For workers on this machine (embedded mode), so that a VASP study is refused at submit
    instead of fizzling in its first job. Checks what atomate2 will use: its ``VASP_CMD``
    (``ATOMATE2_VASP_CMD`` or ``~/.atomate2.yaml``) and pymatgen's ``PMG_VASP_PSP_DIR``
    holding each element's POTCAR for atomate2's functional.
    """
    import shlex
    import shutil

    from atomate2 import SETTINGS
    from atomate2.vasp.sets.base import _BASE_VASP_SET
    from pymatgen.io.vasp.inputs import PotcarSingle

    missing = []
    # "srun -n 4 vasp_std": both the launcher and the program must be found.
    words = [word for word in shlex.split(SETTINGS.VASP_CMD) if not word.startswith("-")]
    absent = [word for word in dict.fromkeys(words[:1] + words[-1:]) if not shutil.which(word)]
    if absent:
        missing.append(
            f"VASP command {SETTINGS.VASP_CMD!r} ({', '.join(absent)} not on PATH; set "
            "ATOMATE2_VASP_CMD)"
        )
    functional = _BASE_VASP_SET["POTCAR_FUNCTIONAL"]
    mapping = potcar_mapping(potcar_settings)
    for element in sorted(set(elements)):
        try:
            PotcarSingle.from_symbol_and_functional(mapping[element], functional)
        except (OSError, ValueError, RuntimeError) as error:  # pymatgen's PSP-dir errors
            missing.append(
                f"POTCAR {mapping[element]} ({functional}): {str(error).splitlines()[0]}"
            )
            break
    if missing:
        raise ReferenceInputError(
            f"reference_engine vasp cannot run on this machine: {'; '.join(missing)} "
            "(or use reference_engine: chgnet, or MongoDB mode with VASP workers)"
        )

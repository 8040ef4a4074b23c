"""Host-framework displacement: the melt / out-of-domain check of each ML-MD run."""

from __future__ import annotations

import numpy as np
import pytest

from litcl_flows.analysis.md_run import host_msd_A2
from litcl_flows.io import Frame

CELL = np.diag([10.0, 12.0, 8.0])
SYMBOLS = np.array(["Li", "Ti", "Cl", "Cl"])


def _frame(positions_A: list[list[float]]) -> Frame:
    return Frame(
        step=0, cell_A=CELL, positions_A=np.array(positions_A), symbols=SYMBOLS, unwrapped=False
    )


def test_host_msd_ignores_the_mobile_ion_drift_and_periodic_wrapping() -> None:
    first = _frame([[1, 1, 1], [2, 2, 2], [5, 5, 5], [9.9, 6, 4]])
    # Li moved 5 Å (ignored); every host atom drifted +0.5 Å in x (removed); Ti moved a further
    # +0.3 Å in y, Cl #2 crossed the x boundary (9.9 + 0.5 → 0.4, minimum image).
    last = _frame([[6, 1, 1], [2.5, 2.3, 2], [5.5, 5, 5], [0.4, 6, 4]])
    # By hand: host displacements after the common 0.5 Å x drift: (0, 0.3, 0), 0, 0; their mean
    # (0, 0.1, 0) is removed too → y: 0.2, -0.1, -0.1 → MSD = (0.04 + 0.01 + 0.01) / 3.
    assert host_msd_A2(first, last, "Li") == pytest.approx(0.06 / 3)


def test_a_still_host_has_no_displacement() -> None:
    frame = _frame([[1, 1, 1], [2, 2, 2], [5, 5, 5], [9, 6, 4]])
    assert host_msd_A2(frame, frame, "Li") == 0.0


def test_unwrapped_positions_keep_a_displacement_beyond_half_the_cell() -> None:
    first, last = (
        Frame(step=0, cell_A=CELL, positions_A=np.array(p, float), symbols=SYMBOLS, unwrapped=True)
        for p in (
            [[1, 1, 1], [2, 2, 2], [5, 5, 5], [8, 6, 4]],
            [[1, 1, 1], [8, 2, 2], [5, 5, 5], [8, 6, 4]],
        )
    )
    # Ti moved +6 Å in x (more than half the 10 Å cell: minimum image would say −4 Å). Drift
    # (2, 0, 0) removed → x: 4, −2, −2 → MSD = (16 + 4 + 4) / 3 = 8 Å².
    assert host_msd_A2(first, last, "Li") == pytest.approx(8.0)

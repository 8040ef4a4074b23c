"""The one place unit conversions live: formulas run in SI, inputs and outputs convert here."""

from __future__ import annotations

# Exact by definition of the SI since 2019 (the values scipy.constants gives); written out
# because importing scipy.constants costs ~20–90 ms of a `litcl analyze` run.
ELEMENTARY_CHARGE_C: float = 1.602176634e-19
BOLTZMANN_J_K: float = 1.380649e-23
BOLTZMANN_EV_K: float = BOLTZMANN_J_K / ELEMENTARY_CHARGE_C

M_PER_A: float = 1e-10
S_PER_PS: float = 1e-12
S_PER_FS: float = 1e-15
CM2_PER_M2: float = 1e4
M3_PER_CM3: float = 1e-6
# 1 S/m = 0.01 S/cm = 10 mS/cm
MS_CM_PER_S_M: float = 10.0

#: Å²/ps → m²/s (1e-20 / 1e-12)
M2_S_PER_A2_PS: float = M_PER_A**2 / S_PER_PS

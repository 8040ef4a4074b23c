"""The one place unit conversions live: formulas run in SI, inputs and outputs convert here."""

from __future__ import annotations

from scipy import constants

ELEMENTARY_CHARGE_C: float = constants.e
BOLTZMANN_J_K: float = constants.k
BOLTZMANN_EV_K: float = constants.k / constants.e

M_PER_A: float = 1e-10
S_PER_PS: float = 1e-12
S_PER_FS: float = 1e-15
CM2_PER_M2: float = 1e4
M3_PER_CM3: float = 1e-6
# 1 S/m = 0.01 S/cm = 10 mS/cm
MS_CM_PER_S_M: float = 10.0

#: Å²/ps → m²/s (1e-20 / 1e-12)
M2_S_PER_A2_PS: float = M_PER_A**2 / S_PER_PS

"""Defaults that several layers share, defined once: the spec (:mod:`litcl_flows.flows.spec`),
the Makers and the engine inputs refer to these. Imports nothing, so the spec stays light."""

#: ML-MD output intervals, steps (at 1 fs: thermo rows and mobile-ion positions every ps, all
#: atoms every 10 ps, a restart file every 100 ps; walltime chunks resume from the last one).
MD_THERMO_EVERY = 1000
MD_DUMP_MOBILE_EVERY = 1000
MD_DUMP_ALL_EVERY = 10_000
MD_RESTART_EVERY = 100_000
#: ML-MD steps between two verdicts of the run-length rule (0.5 ns at 1 fs: eleven verdicts
#: at most in the study's 5.5 ns, each analysing the whole run so far).
RUN_LENGTH_CHECK_EVERY_STEPS = 500_000

#: Time blocks of the transport error bars (analysis/transport.py).
DEFAULT_N_BLOCKS = 5
#: A fit window whose MSD exponent d ln MSD / d ln t lies further than this from 1 is flagged
#: as not diffusive (0.25: the vibrational offset is still over a quarter of the MSD).
DEFAULT_MAX_EXPONENT_DEVIATION = 0.25

#: Force trust levels of a DeePMD ensemble's max_devi_f, eV/Å (DP-GEN's examples use these).
DEFAULT_LEVEL_F_LO_EV_A = 0.05
DEFAULT_LEVEL_F_HI_EV_A = 0.15
#: Concurrent learning (makers/learning.py): exploration steps per temperature and the
#: interval at which frames are evaluated and dumped whole; frames labelled per iteration, the
#: fraction of untrusted frames at which the loop stops, most iterations, ensemble size.
LEARNING_EXPLORATION_STEPS = 5_000
LEARNING_EXPLORATION_EVERY = 50
LEARNING_MAX_LABELLED = 50
LEARNING_CONVERGED_FRACTION = 0.05
LEARNING_MAX_ITERATIONS = 3
LEARNING_N_MODELS = 4

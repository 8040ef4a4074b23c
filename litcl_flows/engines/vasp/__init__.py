"""VASP for the reference (DFT+U) engine: input sets with the study's settings, checks, outputs.

No jobflow here: the Makers that use these live in :mod:`litcl_flows.makers.reference`.
"""

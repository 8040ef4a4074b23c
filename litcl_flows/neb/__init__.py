"""NEB science: Li hops and their labels, supercells, endpoints, images, VASP NEB outputs.

No jobflow or FireWorks here; the Makers are in :mod:`litcl_flows.makers.neb`.
"""

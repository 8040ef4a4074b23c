"""jobflow Makers, one per step of a study; thin wrappers over the core and the engines."""

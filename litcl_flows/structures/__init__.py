"""Science core: build and order crystal structures (pymatgen in, pymatgen out)."""

"""Science core: transport analysis on numpy arrays (MSD, D, Haven ratio, RDF, Arrhenius)."""

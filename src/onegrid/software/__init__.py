"""onegrid.software."""

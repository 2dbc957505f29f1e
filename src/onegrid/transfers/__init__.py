"""onegrid.transfers."""

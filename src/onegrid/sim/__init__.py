"""onegrid.sim."""

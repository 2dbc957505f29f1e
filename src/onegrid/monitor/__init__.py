"""onegrid.monitor."""

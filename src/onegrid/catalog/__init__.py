"""onegrid.catalog."""
